"""Snoozing a ticket from its page (support.desk.snooze): POST forms with CSRF tokens."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app
from flask_babel import gettext as _

from support.auth import login_required, visible_ticket_or_404
from support.auth import signed_in_user as _user
from support.core.db import db_session, utcnow
from support.desk import snooze
from support.desk.actions import ActionError
from support.desk.models import Ticket
from support.staff.blueprints import bp
from support.staff.forms import ActionForm, SnoozeForm
from support.staff.ticket_return import back_to_ticket


def snooze_form() -> SnoozeForm:
    """The ticket page's snooze form (the route reads the same prefix)."""
    return SnoozeForm(prefix="snooze")


def _back(ticket: Ticket, message: str, category: str) -> Any:
    return back_to_ticket(ticket.id, message, category)


@bp.post("/tickets/<int:ticket_id>/snooze")
@login_required
def snooze_ticket(ticket_id: int):
    session, user = db_session(), _user()
    ticket = visible_ticket_or_404(session, user, ticket_id)
    form = snooze_form()
    if not form.validate_on_submit():
        abort(400)
    now = utcnow()
    if form.preset.data == "custom":
        until = snooze.local_time(form.until.data or "", current_app.config)
        if until is None:
            return _back(ticket, _("Give the date and time to snooze until."), "error")
    else:
        until = snooze.preset_time(form.preset.data or "", now, current_app.config)
    try:
        snooze.snooze(session, ticket, user, until, now=now)
    except ActionError as error:
        session.rollback()
        return _back(ticket, str(error), "error")
    return _back(
        ticket,
        _("Snoozed: the ticket is back in the queue then, or when the customer writes."),
        "info",
    )


@bp.post("/tickets/<int:ticket_id>/unsnooze")
@login_required
def unsnooze_ticket(ticket_id: int):
    session, user = db_session(), _user()
    ticket = visible_ticket_or_404(session, user, ticket_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        snooze.unsnooze(session, ticket, user)
    except ActionError as error:
        session.rollback()
        return _back(ticket, str(error), "error")
    return _back(ticket, _("Back in the queue."), "info")
