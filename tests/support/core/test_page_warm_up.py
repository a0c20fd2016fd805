"""The web server's warm-up: the first staff page after "ready" compiles nothing."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from faq import index_sync
from faq.index_sync import get_index
from faq.search import load_embedder
from support.app import web_services
from support.core.db import get_db
from support.core.runner import WebService
from support.core.web import PageWarmUp
from tests.factories import make_ticket, make_user
from tests.faq.conftest import sign_in


def _compiled(app: Flask) -> set[str]:
    """The templates in the app's template cache (keys are (loader, name))."""
    return {key[1] for key in app.jinja_env.cache.keys()}  # type: ignore[union-attr]


def test_the_web_server_warms_the_pages_up_before_it_listens(app: Flask) -> None:
    app.config["HTTP_PORT"] = 0  # any free port: the web service binds it when made
    services = web_services(app)
    for service in services:
        if isinstance(service, WebService):
            service.server.close()
    kinds = [type(service) for service in services]
    assert PageWarmUp in kinds
    assert kinds.index(PageWarmUp) < kinds.index(WebService)


def test_the_first_ticket_page_after_the_warm_up_compiles_no_template(
    app: Flask, session: Session
) -> None:
    user = make_user(session, role="admin")
    ticket = make_ticket(session)
    session.commit()
    client = app.test_client()
    sign_in(client, user)

    PageWarmUp(app).start()
    warmed = _compiled(app)
    assert {"staff/ticket.html", "staff/layout.html", "base.html"} <= warmed

    page = client.get(f"/staff/tickets/{ticket.id}")
    assert page.status_code == 200
    assert ticket.subject in page.get_data(as_text=True)
    assert _compiled(app) == warmed  # every template the page used was compiled already
    assert client.get("/staff/faq/").status_code == 200
    assert _compiled(app) == warmed


def test_a_wsgi_server_process_loads_the_models_and_pages_as_it_imports_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # gunicorn or waitress-serve start no services: before, the first article saved there
    # loaded the search models, the first ticket page compiled its templates.
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.toml").write_text('secret_key = "wsgi-warm-up"\n', encoding="utf-8")
    monkeypatch.setenv("SUPPORT_INSTANCE_PATH", str(instance))
    monkeypatch.delitem(sys.modules, "wsgi", raising=False)
    module = importlib.import_module("wsgi")
    try:
        assert {"staff/ticket.html", "faq/editor/article_form.html"} <= _compiled(module.app)
        assert index_sync._EXTENSION_KEY in module.app.extensions  # the index state, models in
        index = get_index(module.app, ensure=False)
        assert index.embedder is not None and index.embedder is load_embedder()
    finally:
        get_db(module.app).dispose()
        sys.modules.pop("wsgi", None)
