"""`decide_mail`: what routing decides for a mail with the real bootstrap model and a test app's
settings, for the modules that check `decide` on mail written for them."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Protocol

import pytest

from mailrouter.routing import decisions as routing
from mailrouter.routing import model_store
from support.app import create_app
from tests.conftest import SQLITE, test_settings

#: Every department of the reference data open to mail.
ACTIVE = frozenset({"service", "sales", "finance", "hr", "pr"})


class DecideMail(Protocol):
    """``decide_mail(subject, body)``: the routing decision for that mail; ``active``: the
    departments open to mail (all by default), ``settings``: changes to the app's settings."""

    def __call__(
        self,
        subject: str,
        body: str,
        *,
        active: Collection[str] = ACTIVE,
        settings: Mapping[str, object] | None = None,
    ) -> routing.RoutingDecision: ...


@pytest.fixture(scope="module")
def bootstrap_config(bundle_file: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A test app's settings with the bootstrap model (`bundle_file`), made once a module.

    `decide` reads no database (nor does `current_model` outside an app context), so these
    tests need no app on a clean database of each backend: one made from the same settings,
    whose database is never opened, gives the same configuration."""
    instance = tmp_path_factory.mktemp("routing-instance")
    settings = test_settings(f"{SQLITE}:///{instance / 'never-opened.db'}", instance)
    app = create_app(
        {**settings, "CLASSIFIER_MODEL_PATH": str(bundle_file)}, instance_path=instance
    )
    app.extensions["support_db"].dispose()
    return dict(app.config)


@pytest.fixture
def decide_mail(bootstrap_config: dict) -> DecideMail:
    """Route a mail as the worker decides a new one (among the ACTIVE departments unless the
    test names others)."""

    def decided(
        subject: str,
        body: str,
        *,
        active: Collection[str] = ACTIVE,
        settings: Mapping[str, object] | None = None,
    ) -> routing.RoutingDecision:
        bundle = model_store.current_model(bootstrap_config)
        config = {**bootstrap_config, **(settings or {})}
        return routing.decide(subject, body, config=config, bundle=bundle, active_codes=active)

    return decided
