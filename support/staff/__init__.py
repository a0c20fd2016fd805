"""Staff pages: inboxes, tickets, reports, administration, the JSON API and the rating page.

`init_app(app)` imports the view modules, which adds their routes, and registers the blueprints
(a staff command such as `support report` imports this package, not the pages). The work
itself (replies, assignment, response targets, notifications) is the desk's: `support.desk`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from support.auth import current_user
from support.core.db import db_session
from support.core.web import csrf, reader_pages
from support.core.zones import utc_offset_name
from support.desk.access import has_role
from support.desk.models import UrgencyLevel
from support.desk.staff_names import staff_name
from support.staff.blueprints import api_bp, bp, public_bp


def _local_time(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if moment is None:
        return "—"
    return moment.astimezone(ZoneInfo(current_app.config["COMPANY_TIMEZONE"])).strftime(fmt)


def _local_time_zoned(moment: datetime | None) -> Markup:
    """A conversation's time with its offset, ``2026-12-07 18:00 UTC+8``: only the side column
    named the zone, so a colleague abroad read the time as their own. The offset, not a name
    ("CST" is three zones), and short enough for a 390 px phone; the same in every language."""
    if moment is None:
        return Markup("—")
    local = moment.astimezone(ZoneInfo(current_app.config["COMPANY_TIMEZONE"]))
    return Markup('{} <span class="muted time-zone">{}</span>').format(
        local.strftime("%Y-%m-%d %H:%M"), utc_offset_name(local)
    )


def _time_left(moment: datetime | None, now: datetime) -> str:
    """ "3 h 20 min left" / "2 d 4 h overdue": how far a due time is (`time_left_text`)."""
    if moment is None:
        return ""
    from support.staff.inbox import time_left_text

    return time_left_text(int((moment - now).total_seconds()))


def _staff_nav() -> dict[str, Any]:
    """Inbox links and open counts for the navigation (indexed grouped counts)."""

    from support.staff.inbox import available_views, nav_counts

    user = current_user()
    if user is None:
        return {"user": None, "views": [], "counts": {}}
    if "staff_nav" in g:  # the header and the navigation both ask
        return g.staff_nav
    session = db_session()
    g.staff_nav = {
        "user": user,
        "views": available_views(session, user),
        "counts": nav_counts(session, user),
        "is_lead": has_role(user, "lead"),
        "is_admin": user.role == "admin",
        "lang": g.get("lang", "en"),
    }
    return g.staff_nav


def _urgency_title(level: int) -> str:
    """An urgency badge's tooltip, the level with its name: "Urgency 5 · Emergency", "级别 5 ·
    紧急" (not 紧急程度 5 · 紧急). The levels are read and labelled once per request."""
    if "urgency_titles" not in g:
        lang = g.get("lang", "en")
        levels = db_session().scalars(select(UrgencyLevel))
        g.urgency_titles = {
            u.level: _("Urgency %(level)s", level=u.numbered_label(lang)) for u in levels
        }
    return str(g.urgency_titles.get(level, level))


def init_app(app: Flask) -> None:
    from support.staff import (  # noqa: F401 - importing registers the routes
        admin,
        api,
        composer,
        customers,
        getting_started,
        inbox,
        merges,
        password_links,
        presence,
        rating,
        reports,
        saved_replies,
        saved_views,
        search,
        snoozes,
        tags,
        tickets,
    )

    csrf.exempt(api_bp)
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(public_bp)
    reader_pages(app, public_bp)  # the customer's rating page
    app.jinja_env.filters["staff_time"] = _local_time
    app.jinja_env.filters["staff_time_zoned"] = _local_time_zoned
    app.jinja_env.filters["time_left"] = _time_left
    app.jinja_env.filters["staff_name"] = staff_name
    app.jinja_env.globals["staff_nav"] = _staff_nav
    app.jinja_env.globals["urgency_title"] = _urgency_title
