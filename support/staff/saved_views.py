"""Saved inbox views (support.desk.saved_views): listed above the inbox with their counts,
saved, renamed and deleted by POST forms with CSRF tokens. A view is its owner's alone: any
other id is a 404. Its counts and its page go through the inbox's own access check, so a view
on a department the agent has left shows nothing of it."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from support.auth import login_required
from support.auth import signed_in_user as _user
from support.core.db import db_session
from support.core.web import local_path
from support.desk import saved_views
from support.desk.actions import ActionError
from support.desk.models import SavedView, User
from support.staff.blueprints import bp
from support.staff.forms import ActionForm, SavedViewForm
from support.staff.inbox import InboxFilters, find_view


def _own_or_404(session: Session, user: User, view_id: int) -> SavedView:
    view = saved_views.own_view(session, user, view_id)
    if view is None:
        abort(404)
    return view


def _back() -> Any:
    """Back to the inbox page the form was on (the form sends its own path)."""
    back = local_path(request.form.get("next"))
    return redirect(back if back and back.startswith("/staff/inbox/") else url_for("staff.inbox"))


@bp.post("/inbox/<key>/views")
@login_required
def save_inbox_view(key: str):
    session, user = db_session(), _user()
    inbox = find_view(session, user, key)
    if inbox is None:
        abort(404)
    form = SavedViewForm(prefix="view")
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        flash(_("Give the view a name."), "error")
        return _back()
    filters = InboxFilters.from_args(request.form)
    try:
        view = saved_views.save_view(
            session, user, form.name.data or "", inbox.key, filters.as_args()
        )
    except ActionError as error:
        session.rollback()
        flash(str(error), "error")
        return _back()
    flash(_("View “%(name)s” saved.", name=view.name), "success")
    args: dict[str, Any] = filters.as_args()
    return redirect(url_for("staff.inbox_view", key=inbox.key, **args))


@bp.post("/views/<int:view_id>/rename")
@login_required
def rename_inbox_view(view_id: int):
    session, user = db_session(), _user()
    view = _own_or_404(session, user, view_id)
    form = SavedViewForm(prefix=f"rename-{view_id}")
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        flash(_("Give the view a name."), "error")
        return _back()
    try:
        saved_views.rename_view(session, user, view, form.name.data or "")
    except ActionError as error:
        session.rollback()
        flash(str(error), "error")
        return _back()
    flash(_("View renamed to “%(name)s”.", name=view.name), "success")
    return _back()


@bp.post("/views/<int:view_id>/delete")
@login_required
def delete_inbox_view(view_id: int):
    session, user = db_session(), _user()
    view = _own_or_404(session, user, view_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    name = view.name
    saved_views.delete_view(session, user, view)
    flash(_("View “%(name)s” deleted.", name=name), "success")
    return _back()
