"""Merging a ticket from its page: a confirmation step first, and an undo for a while after
(support.desk.merging). Both are plain POST forms with CSRF tokens; no JavaScript needed."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request
from flask_babel import gettext as _

from support.auth import login_required, visible_ticket_or_404
from support.auth import signed_in_user as _user
from support.core.db import db_session, utcnow
from support.core.web import id_or_none
from support.desk import merging, tags
from support.desk.access import can_see_ticket
from support.desk.actions import ActionError
from support.desk.models import Ticket
from support.desk.search import ticket_by_reference
from support.staff.blueprints import bp
from support.staff.forms import ActionForm, MergeForm
from support.staff.ticket_return import back_to_ticket, queue_arg, ticket_url
from support.staff.tickets import conversation


def _back(ticket: Ticket, message: str) -> Any:
    db_session().rollback()
    return back_to_ticket(ticket.id, message, "error")


def _asked_from(ticket: Ticket, other: Ticket) -> Ticket:
    """The page the merge was asked from (the form's ``from``): the duplicate's own page, or
    the older ticket's, whose offer merges the newer one into it. Either of the two only."""
    return other if id_or_none(request.form.get("from", "")) == other.id else ticket


def _find(reference: str) -> Ticket | None:
    """As the header's search reads references: "SUP-00001", "sup-1", "#SUP-1", or an id."""
    session, user = db_session(), _user()
    reference = reference.strip().lstrip("#")
    target = ticket_by_reference(session, user, reference)
    target_id = id_or_none(reference)
    if target is None and target_id is not None:
        target = session.get(Ticket, target_id)
    return target if can_see_ticket(user, target) else None


@bp.post("/tickets/<int:ticket_id>/merge")
@login_required
def merge(ticket_id: int):
    """First post: the confirmation page (what moves where). With ``confirm=1``: the merge."""
    session, user = db_session(), _user()
    ticket = visible_ticket_or_404(session, user, ticket_id)
    form = MergeForm(prefix="merge")
    if not form.validate_on_submit():
        return _back(ticket, _("Give the reference of the ticket to merge into."))
    found = _find(form.target.data or "")
    if found is None:
        return _back(ticket, _("No ticket with that reference."))
    asked_from = _asked_from(ticket, found)
    try:
        target = merging.mergeable_target(session, ticket, user, found)
        if form.confirm.data != "1":
            form.target.data = target.reference or str(target.id)
            tags_added, tags_left_out = tags.carried_by_merge(session, ticket, target)
            return render_template(
                "staff/merge_confirm.html",
                ticket=ticket,
                target=target,
                form=form,
                # As the page shows them: not our notices to staff about the ticket.
                moving=len(conversation(session, ticket)),
                minutes=merging.UNDO_SECONDS // 60,
                queue=queue_arg(),
                asked_from=asked_from,
                tags_added=tags_added,
                tags_left_out=tags_left_out,
                max_tags=tags.MAX_TAGS,
            )
        target = merging.merge(session, ticket, user, target, current_app.config)
    except ActionError as error:
        return _back(asked_from, str(error))
    flash(
        _(
            "Merged into %(ref)s. You can undo this here for %(minutes)s minutes.",
            ref=target.reference,
            minutes=merging.UNDO_SECONDS // 60,
        ),
        "info",
    )
    return redirect(ticket_url(target.id))


@bp.post("/tickets/<int:ticket_id>/unmerge")
@login_required
def undo_merge(ticket_id: int):
    """Take a merged ticket back out (the banner on the ticket it was merged into)."""
    session, user = db_session(), _user()
    source = visible_ticket_or_404(session, user, ticket_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        target = merging.undo_merge(session, source, user, now=utcnow())
    except ActionError as error:
        session.rollback()
        return back_to_ticket(source.merged_into_id or source.id, str(error), "error")
    flash(
        _(
            "Merge undone: %(ref)s is a ticket of its own again, as it was; %(target)s is as"
            " it was before the merge.",
            ref=source.reference,
            target=target.reference,
        ),
        "info",
    )
    return redirect(ticket_url(source.id))
