"""The application factory, and the one visible list of what the system is made of.

Each feature owns its blueprint (``init_app``), its templates (a folder under ``templates/``),
its settings, its click commands and its background services; they are registered here and
nowhere else. Nothing here touches the network or migrates the schema.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click
from flask import Flask

from faq import cli as faq_cli
from faq import demand, editor, index_sync, phrasings, portal
from faq import privacy as faq_privacy
from faq import settings as faq_settings
from mailrouter import settings as mail_settings
from mailrouter.intake import cli as intake_cli
from mailrouter.intake import privacy as mail_privacy
from mailrouter.intake import queue, spam_views, web_reply
from mailrouter.intake import views as intake_views
from mailrouter.outbound import cli as outbound_cli
from mailrouter.outbound import customer_links, sender
from mailrouter.outbound import views as outbound_views
from mailrouter.routing import cli as routing_cli
from mailrouter.routing import training
from mailrouter.routing import views as routing_views
from mailrouter.spam import cli as spam_cli
from mailrouter.spam import learning as spam_learning
from support import auth, health, staff
from support.core import config, db, logs, rate_limits, web
from support.core import settings as core_settings
from support.core.leases import JobLease
from support.core.resources import static_dir, templates_dir
from support.core.runner import PeriodicTask, Service, WebService
from support.desk import presence, privacy, retention, sla, snooze
from support.desk import settings as desk_settings
from support.staff import cli as staff_cli

#: Every setting of every area, in the order of the README's table.
SETTINGS: list[config.Setting] = [
    *core_settings.SETTINGS,
    *desk_settings.SETTINGS,
    *faq_settings.SETTINGS,
    *mail_settings.SETTINGS,
]

#: Wiring, in order: the database and page plumbing first, then each feature's pages.
INITIALISERS: list[Callable[[Flask], None]] = [
    db.init_app,
    web.init_app,
    health.init_app,
    # Each room's share of customers' data, for export, erasure and retention.
    functools.partial(
        privacy.init_app, parts=[mail_privacy.MailPrivacy(), faq_privacy.FaqPrivacy()]
    ),
    functools.partial(portal.init_app, contact_intake=queue.WebIntake()),
    editor.init_app,
    auth.init_app,
    staff.init_app,
    customer_links.init_app,
    outbound_views.init_app,
    intake_views.init_app,
    web_reply.init_app,
    spam_views.init_app,
    routing_views.init_app,
]

#: The `support` command's feature commands (the shell's own are in `support.cli`).
COMMANDS: list[click.Command] = [
    *faq_cli.COMMANDS,
    *intake_cli.COMMANDS,
    *outbound_cli.COMMANDS,
    *routing_cli.COMMANDS,
    *spam_cli.COMMANDS,
    *staff_cli.COMMANDS,
]


def periodic_services(app: Flask) -> list[Service]:
    """Background jobs. The outbox sender runs in every process (its rows are claimed, so
    senders on several hosts share the queue); the others hold a lease each, so every host may
    run them and each still runs once per deployment (support.core.leases)."""
    once = [
        *sla.services(app),
        *rate_limits.services(app),
        *training.services(app),
        *spam_learning.services(app),
        *retention.services(app),
        *presence.services(app),
        *snooze.services(app),
        phrasings.learning_service(app),
        demand.demand_service(app),
    ]
    seconds = float(app.config["PERIODIC_LEASE_SECONDS"])
    for task in once:
        if isinstance(task, PeriodicTask):
            task.lease = JobLease(db.get_db(app), task.name, seconds=seconds)
    return [*sender.services(app), *once]


def web_services(app: Flask) -> list[Service]:
    """The portal and staff pages (`support web`), with this host's search index kept current."""
    return [index_sync.IndexCheck(app), web.PageWarmUp(app), WebService(app)]


def services(app: Flask) -> list[Service]:
    """What `support run` starts, in start order (stopped in reverse): the worker and
    background senders first, then the listeners that take new work."""
    return [*periodic_services(app), *intake_cli.services(app), *web_services(app)]


def create_app(
    test_config: Mapping[str, Any] | None = None, *, instance_path: str | Path | None = None
) -> Flask:
    """Wire the application together from the lists above."""
    instance = Path(instance_path or config.default_instance_path()).resolve()
    app = Flask(
        __name__,
        instance_path=str(instance),
        instance_relative_config=True,
        template_folder=str(templates_dir()),
        static_folder=str(static_dir()),
        static_url_path="/static",
    )
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config.update(config.load_config(instance, declared=SETTINGS, overrides=test_config))
    # Any form's request; room for a staff reply's files (REPLY_MAX_TOTAL_BYTES) and its text.
    app.config["MAX_CONTENT_LENGTH"] = max(
        16 * 1024 * 1024, int(app.config["REPLY_MAX_TOTAL_BYTES"]) + 1024 * 1024
    )
    instance.mkdir(parents=True, exist_ok=True)
    logs.apply_log_levels(app.config)
    # A process that needs an app like this one (the worker's prepare process) builds it so.
    app.extensions["support_app_factory"] = create_app
    for initialise in INITIALISERS:
        initialise(app)
    # Behind HTTP_TRUSTED_PROXIES reverse proxies, the client's address is in X-Forwarded-For.
    web.trust_proxies(app)
    return app
