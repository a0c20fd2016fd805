"""Saved replies: the management page, and one reply filled for a ticket (JSON, for the reply box).

The filled text comes from the server so placeholders follow the same access rule as the ticket
page: a ticket the user cannot see answers 404, and so does another agent's personal reply.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, g, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from support.auth import login_required, visible_ticket_or_404
from support.auth import signed_in_user as _user
from support.core.db import db_session, utcnow
from support.desk import saved_replies
from support.desk.access import has_role, visible_department_ids
from support.desk.models import Department, SavedReply, Ticket, User
from support.staff.blueprints import bp
from support.staff.forms import ActionForm, SavedReplyForm, options


def filled_text(reply: SavedReply, ticket: Ticket, user: User) -> str:
    """The reply's text with this ticket's placeholders filled (plain text)."""
    timezone = str(current_app.config["COMPANY_TIMEZONE"])
    return saved_replies.fill(reply.body, saved_replies.placeholder_values(ticket, user, timezone))


@bp.get("/tickets/<int:ticket_id>/saved-replies/<int:reply_id>")
@login_required
def saved_reply_for_ticket(ticket_id: int, reply_id: int):
    """{"title", "text"} for the reply box; 404 for a ticket or reply the user may not use."""
    session, user = db_session(), _user()
    ticket = visible_ticket_or_404(session, user, ticket_id)
    reply = saved_replies.usable_reply(session, user, reply_id, ticket)
    if reply is None:
        abort(404)
    response = jsonify(
        {"id": reply.id, "title": reply.title, "text": filled_text(reply, ticket, user)}
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _scope_labels() -> dict[str, str]:
    return {
        "personal": _("Only me"),
        "department": _("My department's team"),
        "everyone": _("Everyone"),
    }


def _form(user: User, reply: SavedReply | None = None) -> SavedReplyForm:
    form = SavedReplyForm(obj=reply)
    labels = _scope_labels()
    scopes = ["personal"]
    if has_role(user, "lead"):
        scopes.append("department")
    if user.role == "admin":
        scopes.append("everyone")
    form.scope.choices = options((s, labels[s]) for s in scopes)
    session = db_session()
    departments = session.scalars(
        select(Department)
        .where(Department.id.in_(sorted(visible_department_ids(user))))
        .order_by(Department.name)
    )
    language = g.get("lang", "en")  # 客户服务部 on a Chinese page, not "Customer Service"
    form.department_id.choices = options(
        [(0, "—")] + [(d.id, d.label(language)) for d in departments]
    )
    if form.department_id.data is None:
        form.department_id.data = 0
    return form


def _save(form: SavedReplyForm, reply: SavedReply, user: User) -> bool:
    scope = form.scope.data or "personal"
    department_id = form.department_id.data or None if scope == "department" else None
    if scope == "department" and department_id is None:
        form.department_id.errors = [_("Choose the department.")]
        return False
    if not saved_replies.may_create(user, scope, department_id):
        abort(403)
    reply.scope = scope
    reply.department_id = department_id
    reply.owner_id = user.id if scope == "personal" else (reply.owner_id or user.id)
    reply.title = (form.title.data or "").strip()
    reply.body = form.body.data or ""
    reply.updated_at = utcnow()
    return True


@bp.route("/saved-replies", methods=["GET", "POST"])
@login_required
def saved_replies_page():
    """The user's usable replies, with edit links where they may edit; a form for a new one."""
    session, user = db_session(), _user()
    form = _form(user)
    if form.validate_on_submit():
        reply = SavedReply(created_at=utcnow())
        if _save(form, reply, user):
            session.add(reply)
            flash(_("Saved reply “%(title)s” created.", title=reply.title), "info")
            return redirect(url_for("staff.saved_replies_page"))
    replies = saved_replies.usable_replies(session, user)
    return render_template(
        "staff/saved_replies.html",
        replies=replies,
        editable={r.id for r in replies if saved_replies.may_edit(user, r)},
        scope_labels=_scope_labels(),
        placeholders=saved_replies.PLACEHOLDERS,
        form=form,
        action_form=ActionForm(),
        active_view="saved_replies",
    ), (400 if form.is_submitted() and form.errors else 200)


def _editable_or_403(reply_id: int) -> SavedReply:
    reply = db_session().get(SavedReply, reply_id)
    user = _user()
    if reply is None or saved_replies.usable_reply(db_session(), user, reply_id) is None:
        abort(404)
    if not saved_replies.may_edit(user, reply):
        abort(403)
    return reply


@bp.route("/saved-replies/<int:reply_id>/edit", methods=["GET", "POST"])
@login_required
def saved_reply_edit(reply_id: int) -> Any:
    reply = _editable_or_403(reply_id)
    user = _user()
    form = _form(user, reply)
    if form.validate_on_submit() and _save(form, reply, user):
        flash(_("Saved reply “%(title)s” updated.", title=reply.title), "info")
        return redirect(url_for("staff.saved_replies_page"))
    return render_template(
        "staff/saved_reply_form.html",
        reply=reply,
        form=form,
        placeholders=saved_replies.PLACEHOLDERS,
        active_view="saved_replies",
    ), (400 if form.is_submitted() and form.errors else 200)


@bp.post("/saved-replies/<int:reply_id>/delete")
@login_required
def saved_reply_delete(reply_id: int) -> Any:
    reply = _editable_or_403(reply_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    title = reply.title
    db_session().delete(reply)
    flash(_("Saved reply “%(title)s” deleted.", title=title), "info")
    return redirect(url_for("staff.saved_replies_page"))
