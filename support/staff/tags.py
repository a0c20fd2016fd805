"""Tags on the ticket page (support.desk.tags): POST forms with CSRF tokens; the ticket's own
access rule (404 for a ticket of another department)."""

from __future__ import annotations

from typing import Any

from flask import abort, request
from flask_babel import gettext as _

from support.auth import login_required, visible_ticket_or_404
from support.auth import signed_in_user as _user
from support.core.db import db_session
from support.desk import tags
from support.desk.actions import ActionError
from support.desk.models import Ticket
from support.staff.blueprints import bp
from support.staff.forms import ActionForm, TagForm
from support.staff.ticket_return import back_to_ticket


def tag_form() -> TagForm:
    """The ticket page's tag form (the route reads the same prefix)."""
    return TagForm(prefix="tag")


def _back(ticket: Ticket, message: str, category: str) -> Any:
    return back_to_ticket(ticket.id, message, category)


@bp.post("/tickets/<int:ticket_id>/tags")
@login_required
def add_ticket_tag(ticket_id: int):
    session, user = db_session(), _user()
    ticket = visible_ticket_or_404(session, user, ticket_id)
    form = tag_form()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return _back(ticket, _("Write a tag first."), "error")
    try:
        added = tags.add_tag(session, ticket, user, form.tag.data or "")
    except ActionError as error:
        session.rollback()
        return _back(ticket, str(error), "error")
    if added is None:
        return _back(ticket, _("The ticket has that tag already."), "info")
    return _back(ticket, _("Tag “%(tag)s” added.", tag=added), "success")


@bp.post("/tickets/<int:ticket_id>/tags/remove")
@login_required
def remove_ticket_tag(ticket_id: int):
    session, user = db_session(), _user()
    ticket = visible_ticket_or_404(session, user, ticket_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    tag = request.form.get("tag", "")
    try:
        removed = tags.remove_tag(session, ticket, user, tag)
    except ActionError as error:
        session.rollback()
        return _back(ticket, str(error), "error")
    if not removed:
        return _back(ticket, _("The ticket has no such tag."), "info")
    return _back(ticket, _("Tag “%(tag)s” removed.", tag=tags.normalise(tag)), "success")
