"""Saved views: an agent's own named inbox filters ("My refunds", "紧急未分配").

A view names an inbox (a department's code, "triage" or "mine") and its filters as the
inbox's query string keeps them (status, urgency, response target, assignee, tag, words).
A view is its owner's alone: every lookup is by owner, so another agent's view is a 404, never
a page. Opening one goes through the inbox's own access check, so a view saved on a department
the agent has since left shows nothing of it (support.staff.saved_views lists it as
unavailable, with no count).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from support.core.concurrency import serialise_on
from support.core.db import utcnow
from support.desk.actions import ActionError
from support.desk.models import SavedView, User

#: Views per agent at most (they all show, with counts, above the inbox).
MAX_VIEWS = 20
#: Characters of a view's name at most.
NAME_MAX_CHARS = 60
#: The query-string keys a view keeps (the inbox's filters and sort; never a page cursor).
FILTER_KEYS = ("status", "urgency", "sla", "assignee", "tag", "q", "sort")
#: Characters of one kept filter value at most (the inbox reads 200 of its word search).
VALUE_MAX_CHARS = 200


def clean_name(text: str | None) -> str:
    name = " ".join((text or "").split())
    if not name:
        raise ActionError(_("Give the view a name."))
    if len(name) > NAME_MAX_CHARS:
        raise ActionError(_("A view's name has at most %(n)s characters.", n=NAME_MAX_CHARS))
    return name


def clean_filters(args: Mapping[str, Any]) -> dict[str, str]:
    """The filters worth keeping from a query string: known keys, non-empty, bounded."""
    kept = {}
    for key in FILTER_KEYS:
        value = args.get(key)
        if isinstance(value, str) and value.strip():
            kept[key] = value.strip()[:VALUE_MAX_CHARS]
    return kept


def views_of(session: Session, user: User) -> list[SavedView]:
    return list(
        session.scalars(
            select(SavedView).where(SavedView.user_id == user.id).order_by(SavedView.name)
        )
    )


def own_view(session: Session, user: User, view_id: int | None) -> SavedView | None:
    """The user's view of that id; None for a view that is not theirs (or none at all)."""
    if view_id is None:
        return None
    return session.scalar(
        select(SavedView).where(SavedView.id == view_id, SavedView.user_id == user.id)
    )


def _take_turns_on_views(session: Session, user: User) -> None:
    """One change to a user's views at a time (two tabs saving at once each counted the views
    and read the names without the other's: a 21st view, "Refunds" beside "REFUNDS")."""
    serialise_on(session, f"saved-views:{user.id}")


def _name_taken(session: Session, user: User, name: str, but: int | None = None) -> bool:
    query = select(SavedView.id).where(
        SavedView.user_id == user.id, func.lower(SavedView.name) == name.lower()
    )
    if but is not None:
        query = query.where(SavedView.id != but)
    return session.scalar(query.limit(1)) is not None


def save_view(
    session: Session,
    user: User,
    name: str,
    inbox_key: str,
    args: Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> SavedView:
    """Save the inbox filter under a name; the caller checks the inbox is the user's and
    commits."""
    name = clean_name(name)
    _take_turns_on_views(session, user)
    if _name_taken(session, user, name):
        raise ActionError(_("You have a view called “%(name)s” already.", name=name))
    count = session.scalar(select(func.count()).where(SavedView.user_id == user.id)) or 0
    if count >= MAX_VIEWS:
        raise ActionError(_("You can keep at most %(n)s views.", n=MAX_VIEWS))
    view = SavedView(
        user_id=user.id,
        name=name,
        inbox_key=inbox_key[:40],
        filters=clean_filters(args),
        created_at=now or utcnow(),
    )
    session.add(view)
    session.flush()
    return view


def rename_view(session: Session, user: User, view: SavedView, name: str) -> None:
    if view.user_id != user.id:
        raise ActionError(_("No such view."))
    name = clean_name(name)
    _take_turns_on_views(session, user)
    if _name_taken(session, user, name, but=view.id):
        raise ActionError(_("You have a view called “%(name)s” already.", name=name))
    view.name = name
    session.flush()


def delete_view(session: Session, user: User, view: SavedView) -> None:
    if view.user_id != user.id:
        raise ActionError(_("No such view."))
    session.delete(view)
    session.flush()
