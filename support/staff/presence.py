"""The ticket page's heartbeat: who else has the ticket open and what came in meanwhile.

A POST (it writes the sender's presence, so it carries the CSRF token like every other form),
answered with JSON in the agent's page language; the page shows it in a polite live region.
Without JavaScript nothing calls it and the reply's own check (support.staff.tickets) holds a
reply written while something came in.
"""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _

from support.auth import current_user, login_required, visible_ticket_or_404
from support.core.db import db_session, utcnow
from support.desk import presence
from support.desk.staff_names import staff_name
from support.staff.blueprints import bp


def _count(text: str | None) -> int | None:
    """The page's count of messages of others (the reply form's ``seen``); None if unreadable."""
    if not text or not text.isdigit() or len(text) > 9:
        return None
    return int(text)


def _arrival_text(arrivals: list[presence.Arrival]) -> str:
    if len(arrivals) > 1:
        shown = f"{len(arrivals)}+" if len(arrivals) >= presence.SHOWN else str(len(arrivals))
        return _("%(n)s new messages", n=shown)
    first = arrivals[0]
    if first.direction == "in":
        return _("New message from the customer")
    if first.direction == "note":
        return _("New internal note from %(name)s", name=staff_name(first.name))
    return _("New reply from %(name)s", name=staff_name(first.name))


@bp.post("/tickets/<int:ticket_id>/presence")
@login_required
def ticket_presence(ticket_id: int):
    user = current_user()
    assert user is not None
    session = db_session()
    ticket = visible_ticket_or_404(session, user, ticket_id)
    state = request.form.get("state", "")
    now = utcnow()
    presence.beat(session, ticket.id, user.id, state, now)
    seen = _count(request.form.get("seen"))
    arrivals = [] if seen is None else presence.arrivals(session, ticket.id, user.id, seen)
    people = presence.colleagues(session, ticket.id, user.id, now)
    return jsonify(
        {
            "interval": presence.HEARTBEAT_SECONDS,
            # The names hold this long without a newer answer (app.js takes them off then).
            "expires": presence.EXPIRES_SECONDS,
            "arrived": len(arrivals),
            "notice": _arrival_text(arrivals) if arrivals else "",
            "show": (_("show them") if len(arrivals) > 1 else _("show it")) if arrivals else "",
            "people": [
                {
                    "name": staff_name(p.name),
                    "state": p.state,
                    "text": _("%(name)s is replying", name=staff_name(p.name))
                    if p.state == "replying"
                    else _("%(name)s is viewing", name=staff_name(p.name)),
                }
                for p in people
            ],
        }
    )
