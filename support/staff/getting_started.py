"""Getting started: what a new admin still has to do before customers can be answered for real.

A fresh `./start.sh` runs on the demo's names, the demo's example.com addresses and no outgoing
relay (replies only land in instance/outbox/): seen from a fresh install, a new admin found the
"set your name" notice and nothing else. The inbox lists these steps for admins, each done or
not as the configuration and the database say (nothing to tick by hand), until all are done or
the admin hides the list (a cookie: one browser's choice, nothing stored).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import redirect, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from support.auth import login_required
from support.core.config import company_name, mail_domains, relay_host
from support.core.settings import SETTINGS
from support.desk.access import has_role
from support.desk.models import Department, User
from support.staff.blueprints import bp

#: The cookie that hides the list in this browser.
HIDDEN_COOKIE = "getting_started_hidden"
HIDDEN_SECONDS = 365 * 24 * 3600
#: The demo's company name (`COMPANY_NAME`'s default, which `support init` also writes).
DEMO_COMPANY_NAME = next(s.default for s in SETTINGS if s.name == "COMPANY_NAME")
#: Domains reserved for examples (RFC 2606): no customer's mail reaches them.
EXAMPLE_DOMAINS = frozenset({"example.com", "example.net", "example.org"})


@dataclass(frozen=True)
class SetupStep:
    """One thing to do, where to do it and whether it is done."""

    title: str
    href: str
    done: bool


def setup_steps(session: Session, user: User, config: Mapping[str, Any]) -> list[SetupStep]:
    """The steps for an admin (none for anyone else), in the order they are best done."""
    if not has_role(user, "admin"):
        return []
    colleagues = session.scalar(
        select(func.count(User.id)).where(User.is_active.is_(True), User.id != user.id)
    )
    domains = mail_domains(config)
    # Done once mail comes to the admin's own domain and every active department's address is
    # there too (the departments page lists those still outside): with MAIL_DOMAINS changed
    # alone, auto-replies still left from the demo's example.com addresses.
    addresses = session.scalars(
        select(Department.email_address).where(Department.is_active.is_(True))
    ).all()
    own_domain = (
        bool(domains)
        and not EXAMPLE_DOMAINS.intersection(domains)
        and all(address.rpartition("@")[2] in domains for address in addresses)
    )
    return [
        SetupStep(
            _("Set your name: it signs your replies"),
            url_for("staff.account") + "#name-name",
            not user.needs_name,
        ),
        # `support init` makes admin@example.com: new-ticket notices, password resets and
        # colleagues' @mentions went to an address no mail reaches.
        SetupStep(
            _("Use your own mail address: your notices and password resets go to it"),
            url_for("staff.user_form", user_id=user.id) + "#email",
            user.email.rpartition("@")[2].lower() not in EXAMPLE_DOMAINS,
        ),
        SetupStep(
            _("Put your company's name in place of the demo's"),
            url_for("staff.departments"),
            company_name(config, "en") != DEMO_COMPANY_NAME,
        ),
        SetupStep(
            _("Receive mail at your own domain (the departments' addresses)"),
            url_for("staff.departments") + "#mail-domain",
            own_domain,
        ),
        SetupStep(
            _(
                "Set up outgoing mail, so replies reach customers (until then they wait in "
                "instance/outbox/)"
            ),
            url_for("outbox_views.sent_mail"),
            bool(relay_host(config)),
        ),
        SetupStep(
            _("Add your colleagues"),
            url_for("staff.users"),
            bool(colleagues),
        ),
    ]


def steps_to_show(
    session: Session, user: User, config: Mapping[str, Any], cookies: Mapping[str, str]
) -> list[SetupStep]:
    """The list for the inbox: empty once every step is done or this browser hid it."""
    if cookies.get(HIDDEN_COOKIE):
        return []
    steps = setup_steps(session, user, config)
    return [] if all(step.done for step in steps) else steps


@bp.post("/getting-started/hide")
@login_required
def hide_getting_started() -> Response:
    response = redirect(url_for("staff.inbox"))
    response.set_cookie(
        HIDDEN_COOKIE,
        "1",
        max_age=HIDDEN_SECONDS,
        path="/staff/",
        httponly=True,
        samesite="Lax",
    )
    return response
