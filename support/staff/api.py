"""JSON API under /api/v1 for integrations: `Authorization: Bearer <token>` per staff member.

The access rules are the pages' own (`can_see_ticket`, the same actions), so a ticket of another
department is a 404 here too. Cookies are ignored: without a token every call is a 401, which
also makes the API safe from CSRF.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import abort, current_app, g, jsonify, request, url_for
from sqlalchemy import func, select

from faq.models import Article
from support.auth import current_user, user_for_api_token, visible_ticket_or_404
from support.core.db import db_session, utcnow
from support.desk import actions, sla
from support.desk.models import Department, Message, Ticket, User
from support.desk.reply_check import check_reply
from support.staff import canned
from support.staff.blueprints import api_bp
from support.staff.inbox import (
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    Cursor,
    InboxFilters,
    available_views,
    find_view,
    inbox_page,
)
from support.staff.openapi import openapi_document
from support.staff.tickets import conversation

log = logging.getLogger(__name__)

PUBLIC_ENDPOINTS = {"api.openapi"}


@api_bp.before_request
def _authenticate() -> Any:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    user = user_for_api_token(db_session(), token.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        response = jsonify(error="Unauthorized", message="a valid Bearer token is required")
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return response
    g.staff_user = user
    return None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _user_json(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.id, "name": user.name, "email": user.email}


def ticket_json(ticket: Ticket, now: datetime, *, full: bool = False) -> dict[str, Any]:
    customer = ticket.customer
    data: dict[str, Any] = {
        "id": ticket.id,
        "reference": ticket.reference,
        "subject": ticket.subject,
        "status": ticket.status,
        "urgency": ticket.urgency,
        "department": ticket.department.code if ticket.department else None,
        "needs_triage": ticket.needs_triage,
        "assignee": _user_json(ticket.assignee),
        "customer": {
            "name": customer.name,
            "email": customer.email,
            "company": customer.company,
            "key_account": customer.is_key_account,
        },
        "created_at": _iso(ticket.created_at),
        "updated_at": _iso(ticket.updated_at),
        "first_response_due_at": _iso(ticket.first_response_due_at),
        "first_response_at": _iso(ticket.first_response_at),
        "resolution_due_at": _iso(ticket.resolution_due_at),
        "resolved_at": _iso(ticket.resolved_at),
        "sla_state": sla.sla_state(ticket, now),
        "sla_paused": ticket.sla_paused_at is not None,
        "escalated_at": _iso(ticket.escalated_at),
        "merged_into": ticket.merged_into_id,
        "satisfaction_rating": ticket.satisfaction_rating,
        "url": url_for("staff.ticket_page", ticket_id=ticket.id, _external=False),
    }
    if full:
        data["classification"] = ticket.classification or {}

        messages = conversation(db_session(), ticket)
        data["messages"] = [
            _message_json(m) for m in sorted(messages, key=lambda m: (m.created_at, m.id))
        ]
    return data


def _message_json(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "direction": message.direction,
        "channel": message.channel,
        "from_address": message.from_address,
        "from_name": message.from_name,
        "subject": message.subject,
        "created_at": _iso(message.created_at),
        "text": message.new_text or message.body_text,
        "quoted_text": message.quoted_text,
        "is_automatic": message.is_automatic,
        "attachments": [
            {
                "id": a.id,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "url": url_for("staff.attachment", attachment_id=a.id)
                if a.data is not None
                else None,
            }
            for a in message.attachments
        ],
    }


def _error(status: int, error: str, **extra: Any) -> Any:
    response = jsonify(error=error, **extra)
    response.status_code = status
    return response


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, "send a JSON object")
    return data


def _me() -> User:
    user = current_user()
    assert user is not None
    return user


@api_bp.get("/me")
def me():
    user = _me()
    views = available_views(db_session(), user)
    return {
        **(_user_json(user) or {}),
        "role": user.role,
        "departments": [d.code for d in user.departments],
        "inboxes": [v.key for v in views],
    }


@api_bp.get("/tickets")
def list_tickets():
    """One inbox (`view`: a department code, `triage` or `mine`), in inbox order, keyset-paged."""
    user = _me()
    session = db_session()
    views = available_views(session, user)
    key = request.args.get("view") or (views[0].key if views else "mine")
    view = find_view(session, user, key)
    if view is None:
        abort(404, f"no inbox {key!r} for you")
    after_text = request.args.get("after")
    after = Cursor.decode(after_text)
    if after_text and after is None:
        abort(400, "bad cursor")
    try:
        limit = int(request.args.get("limit", PAGE_SIZE))
    except ValueError:
        abort(400, "limit must be a number")
    now = utcnow()
    page = inbox_page(
        session,
        user,
        view,
        InboxFilters.from_args(request.args),
        now,
        after,
        max(1, min(limit, MAX_PAGE_SIZE)),
    )
    return {
        "view": view.key,
        "tickets": [ticket_json(t, now) for t in page.tickets],
        "next": page.next_cursor.encode() if page.next_cursor else None,
    }


@api_bp.get("/tickets/<int:ticket_id>")
def get_ticket(ticket_id: int):
    ticket = visible_ticket_or_404(db_session(), _me(), ticket_id)
    return ticket_json(ticket, utcnow(), full=True)


@api_bp.post("/tickets/<int:ticket_id>/reply")
def reply(ticket_id: int):
    """Send a reply; 409 with the phrase warnings unless `send_anyway` is true."""
    user = _me()
    session = db_session()
    ticket = visible_ticket_or_404(session, user, ticket_id)
    data = _body()
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        abort(400, "text is required")
    then = data.get("then", "open")
    warnings = check_reply(text)
    if warnings and not data.get("send_anyway"):
        return _error(
            409,
            "warnings",
            message="the reply has phrases customers may find off-putting; "
            "resend with send_anyway=true to send it as it is",
            warnings=[
                {
                    "phrase": w.phrase,
                    "category": w.category,
                    "suggestion": w.suggestion,
                    "start": w.start,
                    "end": w.end,
                }
                for w in warnings
            ],
        )
    try:
        message = actions.reply(
            session, ticket, user, text, config=current_app.config, then=str(then), channel="api"
        )
    except actions.ActionError as exc:
        session.rollback()
        return _error(422, str(exc))
    session.flush()
    return {"message_id": message.id, "ticket": ticket_json(ticket, utcnow())}, 201


@api_bp.post("/tickets/<int:ticket_id>/notes")
def add_note(ticket_id: int):
    user = _me()
    session = db_session()
    ticket = visible_ticket_or_404(session, user, ticket_id)
    text = _body().get("text")
    if not isinstance(text, str):
        abort(400, "text is required")
    try:
        message = actions.add_note(session, ticket, user, text)
    except actions.ActionError as exc:
        session.rollback()
        return _error(422, str(exc))
    session.flush()
    return {"message_id": message.id}, 201


UPDATABLE = ("department", "urgency", "assignee", "status")


@api_bp.patch("/tickets/<int:ticket_id>")
def update_ticket(ticket_id: int):
    """Change department (code), urgency (1-5), assignee (user id, email or null), status."""
    user = _me()
    session = db_session()
    config = current_app.config
    ticket = visible_ticket_or_404(session, user, ticket_id)
    data = _body()
    unknown = sorted(set(data) - set(UPDATABLE))
    if unknown:
        abort(400, f"cannot update {', '.join(unknown)}; allowed: {', '.join(UPDATABLE)}")
    try:
        if "department" in data:
            department = session.scalar(
                select(Department).where(Department.code == str(data["department"]))
            )
            if department is None:
                return _error(422, f"unknown department {data['department']!r}")
            actions.change_department(session, ticket, user, department, config)
        if "urgency" in data:
            if not isinstance(data["urgency"], int) or isinstance(data["urgency"], bool):
                return _error(422, "urgency must be a number 1-5")
            actions.change_urgency(session, ticket, user, data["urgency"], config)
        if "assignee" in data:
            actions.assign(session, ticket, user, _assignee(data["assignee"]))
        if "status" in data:
            _change_status(ticket, user, str(data["status"]))
    except actions.ActionError as exc:
        session.rollback()
        return _error(422, str(exc))
    session.flush()
    return ticket_json(ticket, utcnow())


def _assignee(value: Any) -> User | None:
    session = db_session()
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        found = session.get(User, value)
    elif isinstance(value, str):
        found = session.scalar(select(User).where(func.lower(User.email) == value.strip().lower()))
    else:
        found = None
    if found is None or not found.is_active:
        raise actions.ActionError(f"unknown assignee {value!r}")
    return found


def _change_status(ticket: Ticket, user: User, status: str) -> None:
    session, config = db_session(), current_app.config
    if status == ticket.status:
        return
    if status == "waiting":
        actions.mark_waiting(session, ticket, user, config)
    elif status == "resolved":
        actions.resolve(session, ticket, user, config)
    elif status == "open":
        if ticket.status == "waiting":
            actions.resume(session, ticket, user, config)
        else:
            actions.reopen(session, ticket, user, config)
    else:
        raise actions.ActionError(f"status must be open, waiting or resolved, not {status!r}")


@api_bp.get("/faq/search")
def faq_search():
    """FAQ articles for a question (the portal's search), with the answer as plain text."""
    session = db_session()
    text = (request.args.get("q") or "").strip()
    if not text:
        abort(400, "q is required")
    limit = max(1, min(int(request.args.get("limit", "5") or 5), 20))
    answers = canned.search_answers(session, text, limit=limit)
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")

    slugs = dict(
        session.execute(
            select(Article.id, Article.slug).where(Article.id.in_([a.article_id for a in answers]))
        ).all()
    )
    return {
        "query": text,
        "results": [
            {
                "article_id": a.article_id,
                "question": a.question,
                "language": a.language,
                "answer": a.text,
                "url": f"{base}/a/{slugs.get(a.article_id, '')}",
            }
            for a in answers
        ],
    }


@api_bp.get("/openapi.json")
def openapi():

    return openapi_document(current_app.config["PUBLIC_BASE_URL"])
