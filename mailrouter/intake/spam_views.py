"""The Spam page: mail held as spam, with its score and reasons, and staff's decisions.

Leads and admins see the held spam of their departments (the quarantine page's access rule;
anything else is a 404). "Not spam" makes a mail a ticket and teaches the filter; "spam"
keeps it hidden until purged and teaches the filter. Certain spam is hidden unless asked
for. Any member of staff who may see a ticket can mark it spam from its page.
"""

from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from mailrouter.intake import held_spam, spam_reasons
from mailrouter.spam.verdict import CERTAIN, SUSPECTED
from support.auth import current_user, login_required, role_required
from support.core.db import db_session
from support.core.web import id_or_none, local_path
from support.desk.access import can_see_ticket
from support.desk.models import Ticket, User
from support.staff.ticket_return import back_to_ticket

bp = Blueprint("spam", __name__, url_prefix="/staff/spam")

#: Mails one bulk action takes at most.
MAX_BULK = 500


def _user() -> User:
    user = current_user()
    assert user is not None  # behind role_required / login_required
    return user


@bp.get("/")
@role_required("lead")
def index():
    show_certain = request.args.get("certain") == "1"
    levels = (SUSPECTED, CERTAIN) if show_certain else (SUSPECTED,)
    session = db_session()
    held = held_spam.held_spam(session, _user(), levels=levels)
    # "Nothing held" must not hide the certain spam this view leaves out.
    hidden = 0 if held or show_certain else held_spam.count_held(session, _user(), CERTAIN)
    return render_template(
        "mail/spam.html",
        held=held,
        hidden_certain=hidden,
        show_certain=show_certain,
        active_view="spam",
    )


@bp.post("/decide")
@role_required("lead")
def decide():
    """Bulk (or one): "not spam" releases the ticked mails, "spam" confirms them."""
    session = db_session()
    user = _user()
    ids = [i for i in map(id_or_none, request.form.getlist("inbound_id")[:MAX_BULK]) if i]
    mails = held_spam.held_for(session, user, ids)
    if ids and not mails:
        abort(404)
    decision = request.form.get("decision")
    if decision not in ("not_spam", "spam"):
        abort(400)
    back = redirect(url_for("spam.index", certain=request.args.get("certain")))
    if not mails:
        # Nothing ticked: say so rather than "0 messages confirmed".
        flash(_("Select one or more messages first."), "error")
        return back
    if decision == "not_spam":
        count = held_spam.release(session, mails, user)
        flash(
            ngettext(
                "%(num)s message is queued again as a ticket.",
                "%(num)s messages are queued again as tickets.",
                count,
            ),
            "success",
        )
    elif decision == "spam":
        count = held_spam.confirm(session, mails, user)
        flash(
            ngettext(
                "%(num)s message confirmed as spam.", "%(num)s messages confirmed as spam.", count
            ),
            "success",
        )
    return back


@bp.post("/ticket/<int:ticket_id>")
@login_required
def mark_ticket(ticket_id: int):
    """The ticket page's "spam" button."""
    session = db_session()
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or not can_see_ticket(_user(), ticket):
        abort(404)
    held_spam.mark_ticket_spam(session, ticket, _user())
    return back_to_ticket(
        ticket.id,
        _("Ticket %(ref)s was marked as spam and left the inbox.", ref=ticket.reference),
    )


@bp.post("/tickets")
@login_required
def mark_tickets():
    """The inbox's bulk "spam" button: each selected ticket the user may see."""
    session = db_session()
    user = _user()
    ids = sorted({i for i in map(id_or_none, request.form.getlist("ticket_id")[:MAX_BULK]) if i})
    tickets = [t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ids)))]
    marked = [t for t in tickets if can_see_ticket(user, t) and t.status != "spam"]
    for ticket in marked:
        held_spam.mark_ticket_spam(session, ticket, user)
    if not ids:
        flash(_("Select one or more tickets first."), "error")
    else:
        flash(
            ngettext(
                "%(num)s ticket marked as spam.", "%(num)s tickets marked as spam.", len(marked)
            ),
            "info",
        )
    back = local_path(request.form.get("next"))
    return redirect(back if back and back.startswith("/staff/") else url_for("staff.inbox"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    # The spam page and the quarantine page say why a mail was held in the same words.
    app.jinja_env.globals["spam_explained"] = spam_reasons.explained
