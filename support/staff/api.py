"""JSON API under /api/v1 for integrations: `Authorization: Bearer <token>` per staff member.

The access rules are the pages' own (`can_see_ticket`, the same actions), so a ticket of another
department is a 404 here too. Cookies are ignored: without a token every call is a 401, which
also makes the API safe from CSRF. Every error has one shape (support.core.json_errors): a
stable `error` for programs, a `message` in the request's language for people.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import Response, abort, current_app, g, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from faq.models import Article
from support.auth import current_user, user_for_api_token, visible_ticket_or_404
from support.core.config import public_base_url
from support.core.db import MAX_ID, db_session, utcnow
from support.core.images import picture
from support.core.json_errors import echo, json_error, status_message
from support.core.web import (
    OWN_LANGUAGES,
    SCRIPTS,
    SUPPORTED_LANGUAGES,
    TRADITIONAL_CHINESE,
    api_language,
)
from support.desk import actions, mentions, reply_cc, sla
from support.desk import tags as ticket_tags
from support.desk.access import can_see_customer, can_see_staff, has_role, visible_ticket
from support.desk.customers import set_tier
from support.desk.mail import customer_language
from support.desk.models import (
    CUSTOMER_TIERS,
    Attachment,
    Customer,
    Department,
    Message,
    Ticket,
    User,
)
from support.desk.outbox import own_addresses
from support.desk.reply_check import PhraseWarning, check_reply, reply_in_other_language
from support.desk.tags import tags_of
from support.staff import canned
from support.staff.blueprints import api_bp
from support.staff.forms import MAX_REPLY_CHARS
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
#: Longest text filter of the ticket list (the staff inbox cuts there too).
MAX_FILTER_CHARS = 200
#: Nesting of a JSON body (ours is two levels deep).
MAX_JSON_DEPTH = 20
#: Longest FAQ question searched.
MAX_FAQ_QUERY_CHARS = 500
FAQ_DEFAULT_LIMIT = 5
FAQ_MAX_LIMIT = 20
LIST_STATUSES = ("open", "all", "new", "waiting", "resolved", "closed")
UPDATE_STATUSES = ("open", "waiting", "resolved")
THEN_STATUSES = ("open", "waiting", "resolved")


@api_bp.before_request
def _authenticate() -> Any:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    user = user_for_api_token(db_session(), token.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        return json_error(
            401, "Unauthorized", status_message(401), [("WWW-Authenticate", 'Bearer realm="api"')]
        )
    g.staff_user = user
    _follow_own_language(user)
    for key, value in request.args.items(multi=True):
        if not _storable(key) or not _storable(value):
            abort(400, _("Query parameters must be text without NUL characters."))
    return None


@api_bp.after_request
def _vary_by_token(response: Response) -> Response:
    """The token decides what an answer holds (the tickets one may see, the owner's own
    language): a cache keeps one token's answer from another (support.core.web.API_VARY adds
    the language's headers to every answer under /api/)."""
    if request.endpoint not in PUBLIC_ENDPOINTS:
        response.vary.add("Authorization")
    return response


def _follow_own_language(user: User) -> None:
    """Messages in the token owner's own language (their account page's choice, as their pages
    and notices: 繁體 in Traditional characters) when the request names none: a script sends
    no Accept-Language, and then the desk's default spoke to it. A request's Accept-Language
    still decides, and its ?lang= and ?script= do as on the owner's pages."""
    own = user.language
    if own not in OWN_LANGUAGES or request.headers.get("Accept-Language"):
        return
    asked, script = request.args.get("lang"), request.args.get("script")
    api_language(
        asked if asked in SUPPORTED_LANGUAGES else own[:2],
        script == "hant" if script in SCRIPTS else own == TRADITIONAL_CHINESE,
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _user_json(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.id, "name": user.name, "email": user.email}


def ticket_json(
    ticket: Ticket, now: datetime, *, full: bool = False, tags: list[str] | None = None
) -> dict[str, Any]:
    """The ticket as the API gives it; `tags` when the caller loaded them for a page already
    (support.desk.tags.tags_of), else read here."""
    customer = ticket.customer
    if tags is None:
        tags = tags_of(db_session(), [ticket.id]).get(ticket.id, [])
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
            "id": customer.id,
            "name": customer.name,
            "email": customer.email,
            "company": customer.company,
            "key_account": customer.is_key_account,
            "tier": customer.tier,
        },
        "created_at": _iso(ticket.created_at),
        "updated_at": _iso(ticket.updated_at),
        "first_response_due_at": _iso(ticket.first_response_due_at),
        "first_response_at": _iso(ticket.first_response_at),
        "resolution_due_at": _iso(ticket.resolution_due_at),
        "resolved_at": _iso(ticket.resolved_at),
        "sla_state": sla.sla_state(ticket, now),
        "sla_paused": ticket.sla_paused_at is not None,
        "snoozed_until": _iso(ticket.snoozed_until),
        "escalated_at": _iso(ticket.escalated_at),
        "merged_into": _merged_into(ticket),
        "refers_to": _refers_to(ticket),
        "satisfaction_rating": ticket.satisfaction_rating,
        "tags": tags,
        "url": url_for("staff.ticket_page", ticket_id=ticket.id, _external=False),
    }
    if full:
        data["classification"] = _classification(ticket)

        messages = conversation(db_session(), ticket)
        data["messages"] = [
            _message_json(m) for m in sorted(messages, key=lambda m: (m.created_at, m.id))
        ]
    return data


def _refers_to(ticket: Ticket) -> str | None:
    """The reference of the ticket a stranger's mail named (the ticket this one was opened
    for), only when the caller may see that ticket too: else null, so the API tells nothing
    of another department's tickets."""
    named = visible_ticket(db_session(), current_user(), ticket.refers_to_ticket_id)
    return named.reference if named is not None else None


def _merged_into(ticket: Ticket) -> int | None:
    """The id of the ticket this one was merged into, when the caller may see it (as the
    ticket page names it); else null, as `refers_to` is: a merged ticket is "closed"."""
    target = visible_ticket(db_session(), current_user(), ticket.merged_into_id)
    return target.id if target is not None else None


def _classification(ticket: Ticket) -> dict[str, Any]:
    """The classifier's decision as stored, but the earlier ticket of a repeated report
    (``urgency.repeat_of``) named only when the caller may see it: else its ``ticket_id`` and
    ``reference`` are null (the similarity stays: the customer did write twice)."""
    data = dict(ticket.classification or {})
    urgency = data.get("urgency")
    repeat = urgency.get("repeat_of") if isinstance(urgency, dict) else None
    if isinstance(urgency, dict) and isinstance(repeat, dict):
        earlier = visible_ticket(db_session(), current_user(), repeat.get("ticket_id"))
        shown = {**repeat, "ticket_id": None, "reference": None}
        if earlier is not None:
            shown.update(ticket_id=earlier.id, reference=earlier.reference)
        data["urgency"] = {**urgency, "repeat_of": shown}
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
        "forwarded_text": message.forwarded_text,
        "is_automatic": message.is_automatic,
        "attachments": [_attachment_json(a) for a in message.attachments],
    }


def _attachment_json(attachment: Attachment) -> dict[str, Any]:
    """A file of a message with the ticket page's links: ``url`` downloads it (null when it
    was not kept), ``picture_url`` shows it, for a PNG, JPEG, GIF or WebP picture by its bytes
    only (`support.core.images`), as the page's thumbnails do; both check access as the page."""
    kept = attachment.data is not None
    return {
        "id": attachment.id,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "url": url_for("staff.attachment", attachment_id=attachment.id) if kept else None,
        "picture_url": url_for("staff.attachment_picture", attachment_id=attachment.id)
        if picture(attachment.data) is not None
        else None,
    }


class Refused(actions.ActionError):
    """A refusal the API names with a code of its own (a plain ActionError's is "refused")."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _refused(exc: actions.ActionError, code: str = "refused") -> Response:
    """The 422 for a refusal: its message (in the request's language) and a stable code."""
    return json_error(422, exc.code if isinstance(exc, Refused) else code, str(exc))


# The 400s' messages, in the request's language (the field names and values as the API spells
# them); their "error" stays "Bad Request" for programs to read.
def _whole_number(name: str, minimum: int, maximum: int) -> str:
    return _(
        "%(name)s must be a whole number from %(minimum)s to %(maximum)s.",
        name=name,
        minimum=minimum,
        maximum=maximum,
    )


def _one_of(name: str, choices: tuple[str, ...]) -> str:
    return _("%(name)s must be one of %(choices)s.", name=name, choices=", ".join(choices))


def _at_most_chars(name: str, most: int) -> str:
    return _("%(name)s must be at most %(n)s characters.", name=name, n=most)


def _storable(value: str) -> bool:
    """Text a database can store: no NUL (PostgreSQL refuses it) and no lone surrogate."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_json_text(data: Any) -> None:
    """Every string storable, and no deeper nesting than MAX_JSON_DEPTH (walked without
    recursion: a body of 100,000 nested arrays must be a 400, not a RecursionError)."""
    pending = [(data, 0)]
    while pending:
        node, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            abort(400, _("The JSON is nested more than %(n)s levels deep.", n=MAX_JSON_DEPTH))
        if isinstance(node, str):
            if not _storable(node):
                abort(400, _("Strings must be text without NUL characters."))
        elif isinstance(node, dict):
            pending.extend((item, depth + 1) for pair in node.items() for item in pair)
        elif isinstance(node, list):
            pending.extend((item, depth + 1) for item in node)


def _body() -> dict[str, Any]:
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # the decoder's own limit on nesting
        data = None
    if not isinstance(data, dict):
        abort(400, _("Send a JSON object."))
    _check_json_text(data)
    return data


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_arg(name: str, default: int, minimum: int, maximum: int) -> int:
    """An integer query parameter, or 400 when it is not one or out of range."""
    text = request.args.get(name)
    if text is None or text == "":
        return default
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        abort(400, _whole_number(name, minimum, maximum))
    value = int(text)
    if not minimum <= value <= maximum:
        abort(400, _whole_number(name, minimum, maximum))
    return value


def _choice_arg(name: str, choices: tuple[str, ...]) -> str | None:
    value = request.args.get(name) or None
    if value is not None and value not in choices:
        abort(400, _one_of(name, choices))
    return value


def _text_field(data: dict[str, Any], name: str) -> str:
    """A required, non-blank string field of a JSON body, or 400."""
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        abort(400, _("%(name)s is required: a non-blank string.", name=name))
    if len(value) > MAX_REPLY_CHARS:
        abort(400, _at_most_chars(name, MAX_REPLY_CHARS))
    return value


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
        abort(404, _("You have no inbox “%(view)s”.", view=echo(key)))
    _list_args_or_400()
    after_text = request.args.get("after")
    after = Cursor.decode(after_text)
    if after_text and after is None:
        abort(400, _("The cursor is not one this API gave."))
    limit = _int_arg("limit", PAGE_SIZE, 1, MAX_PAGE_SIZE)
    now = utcnow()
    page = inbox_page(
        session,
        user,
        view,
        InboxFilters.from_args(request.args),
        now,
        after,
        limit,
    )
    return {
        "view": view.key,
        "tickets": [ticket_json(t, now, tags=page.tags.get(t.id, [])) for t in page.tickets],
        "next": page.next_cursor.encode() if page.next_cursor else None,
    }


def _list_args_or_400() -> None:
    """The ticket list's filters as the OpenAPI document describes them (the staff pages
    ignore a bad filter; the API says so)."""
    _choice_arg("status", LIST_STATUSES)
    _choice_arg("sla", tuple(sla.SLA_STATES))
    _int_arg("urgency", 0, 1, 5)
    assignee = request.args.get("assignee") or None
    if assignee is not None and assignee not in ("me", "none"):
        _int_arg("assignee", 0, 1, MAX_ID)
    for name in ("q", "tag"):
        if len(request.args.get(name) or "") > MAX_FILTER_CHARS:
            abort(400, _at_most_chars(name, MAX_FILTER_CHARS))


@api_bp.get("/tickets/<int:ticket_id>")
def get_ticket(ticket_id: int):
    ticket = visible_ticket_or_404(db_session(), _me(), ticket_id)
    return ticket_json(ticket, utcnow(), full=True)


@api_bp.post("/tickets/<int:ticket_id>/reply")
def reply(ticket_id: int):
    """Send a reply; 409 with the phrase warnings unless `send_anyway` is true, and 409 for a
    reply in another language than the customer's latest mail unless `language_checked` is
    true (the web form's "Send anyway" after either warning)."""
    user = _me()
    session = db_session()
    ticket = visible_ticket_or_404(session, user, ticket_id)
    data = _body()
    text = _text_field(data, "text")
    then = data.get("then", "open")
    if then not in THEN_STATUSES:
        abort(400, _one_of("then", THEN_STATUSES))
    send_anyway = _flag(data, "send_anyway")
    language_checked = _flag(data, "language_checked")
    cc = _cc_field(data, ticket)
    warnings = check_reply(text)
    customer = customer_language(ticket)
    written = reply_in_other_language(text, customer)
    held_for_phrases = bool(warnings) and not send_anyway
    held_language = (written, customer) if written is not None and not language_checked else None
    if held_for_phrases or held_language:
        return _reply_held(warnings if held_for_phrases else [], held_language)
    try:
        message = actions.reply(
            session,
            ticket,
            user,
            text,
            config=current_app.config,
            then=str(then),
            channel="api",
            cc=cc,
        )
    except actions.ActionError as exc:
        session.rollback()
        return _refused(exc)
    actions.audit_overridden_warnings(
        session,
        ticket,
        user,
        (w.category for w in warnings),
        other_language=bool(written),
        channel="api",
    )
    session.flush()
    return {"message_id": message.id, "ticket": ticket_json(ticket, utcnow())}, 201


def _flag(data: dict[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        abort(400, _("%(name)s must be true or false.", name=name))
    return value


def _reply_held(warnings: list[PhraseWarning], language: tuple[str, str | None] | None) -> Response:
    """The 409 of a reply held back: ``warnings`` (phrases; the code existing clients know)
    and/or ``reply_language`` (written in English to a customer who writes Chinese, or the
    reverse), each with the field that sends it as it is."""
    details: dict[str, Any] = {}
    sentences = []
    if warnings:
        details["warnings"] = [
            {
                "phrase": w.phrase,
                "category": w.category,
                "suggestion": w.suggestion,
                "start": w.start,
                "end": w.end,
            }
            for w in warnings
        ]
        sentences.append(
            _(
                "The reply has phrases customers may find off-putting; resend it with "
                "send_anyway=true to send it as it is."
            )
        )
    if language is not None:
        written, customer = language
        details["reply_language"] = {"written": written, "customer": customer}
        sentences.append(
            _(
                "The customer writes in Chinese and the reply is in English; resend it with "
                "language_checked=true to send it as it is."
            )
            if written == "en"
            else _(
                "The customer writes in English and the reply is in Chinese; resend it with "
                "language_checked=true to send it as it is."
            )
        )
    code = "warnings" if warnings else "reply_language"
    return json_error(409, code, " ".join(sentences), **details)


def _cc_field(data: dict[str, Any], ticket: Ticket) -> list[str]:
    """The reply's copies: a list of addresses (or one string of them), under the web's rule
    (support.desk.reply_cc: the conversation's addresses only, at most MAX_CC); 422
    ``cc_refused`` otherwise, a longer list too (it is not read); 400 for what is no list of
    strings nor a string."""
    value = data.get("cc")
    if value is None:
        return []
    if isinstance(value, list):
        if len(value) > reply_cc.MAX_CC * 4:  # far too many: refused as six are, unread
            abort(json_error(422, "cc_refused", str(reply_cc.too_many())))
        if not all(isinstance(a, str) for a in value):
            abort(400, _("%(name)s must be a list of addresses or a string of them.", name="cc"))
        value = ", ".join(value)
    if not isinstance(value, str):
        abort(400, _("%(name)s must be a list of addresses or a string of them.", name="cc"))
    try:
        return reply_cc.read_cc(value, ticket, own_addresses(db_session(), current_app.config))
    except reply_cc.CcRefused as refused:
        abort(json_error(422, "cc_refused", str(refused)))


@api_bp.post("/tickets/<int:ticket_id>/notes")
def add_note(ticket_id: int):
    user = _me()
    session = db_session()
    ticket = visible_ticket_or_404(session, user, ticket_id)
    text = _text_field(_body(), "text")
    try:
        message = actions.add_note(session, ticket, user, text, config=current_app.config)
    except actions.ActionError as exc:
        session.rollback()
        return _refused(
            exc, "mention_refused" if isinstance(exc, actions.MentionRefused) else "refused"
        )
    session.flush()
    told = [u.email for u in mentions.read_mentions(session, ticket, user, text).told]
    return {"message_id": message.id, "mentioned": told}, 201


@api_bp.post("/tickets/<int:ticket_id>/tags")
def add_tag(ticket_id: int):
    """Put a tag on the ticket (normalised as the staff pages do); 201 when added, 200 when the
    ticket had it already, 422 for a text no tag can be or an eleventh tag."""
    user = _me()
    session = db_session()
    ticket = visible_ticket_or_404(session, user, ticket_id)
    data = _body()
    typed = data.get("tag")
    if set(data) != {"tag"} or not isinstance(typed, str) or not typed:
        abort(400, _("Send %(example)s.", example='{"tag": "a tag"}'))
    _tag_length_or_400(typed)
    try:
        added = ticket_tags.add_tag(session, ticket, user, typed)
    except actions.ActionError as exc:
        session.rollback()
        return _refused(exc, "tag_refused")
    session.flush()
    tag = added or ticket_tags.normalise(typed)
    return {"tag": tag, "added": added is not None, "tags": _tags(ticket)}, (201 if added else 200)


@api_bp.delete("/tickets/<int:ticket_id>/tags/<tag>")
def remove_tag(ticket_id: int, tag: str):
    """Take a tag off the ticket (`REFUND` or 退貨 name `refund`, 退货); 404 when the ticket
    does not carry it, 422 for a text no tag can be."""
    user = _me()
    session = db_session()
    ticket = visible_ticket_or_404(session, user, ticket_id)
    if not _storable(tag):
        abort(400, _("The tag must be text without NUL characters."))
    _tag_length_or_400(tag)
    try:
        normalised = ticket_tags.normalise(tag)
        removed = ticket_tags.remove_tag(session, ticket, user, normalised)
    except actions.ActionError as exc:
        session.rollback()
        return _refused(exc, "tag_refused")
    if not removed:
        return json_error(404, "Not Found", _("The ticket has no such tag."))
    session.flush()
    return {"tag": normalised, "removed": True, "tags": _tags(ticket)}


def _tag_length_or_400(typed: str) -> None:
    if len(typed) > ticket_tags.MAX_TYPED_CHARS:
        abort(400, _("A tag is at most %(n)s characters as typed.", n=ticket_tags.MAX_TYPED_CHARS))


def _tags(ticket: Ticket) -> list[str]:
    return tags_of(db_session(), [ticket.id]).get(ticket.id, [])


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
        abort(
            400,
            _(
                "Cannot update %(fields)s; allowed: %(allowed)s.",
                fields=echo(", ".join(unknown)),
                allowed=", ".join(UPDATABLE),
            ),
        )
    _update_or_400(data)
    try:
        if "department" in data:
            department = session.scalar(
                select(Department).where(Department.code == data["department"])
            )
            if department is None:
                raise Refused(
                    "unknown_department",
                    _("There is no department “%(code)s”.", code=echo(data["department"])),
                )
            actions.change_department(session, ticket, user, department, config)
        if "urgency" in data:
            actions.change_urgency(session, ticket, user, data["urgency"], config)
        if "assignee" in data:
            assignee = _assignee(user, data["assignee"])
            actions.assign(session, ticket, user, assignee, current_app.config)
        if "status" in data:
            _change_status(ticket, user, data["status"])
    except actions.ActionError as exc:
        session.rollback()
        return _refused(exc)
    session.flush()
    return ticket_json(ticket, utcnow())


def _update_or_400(data: dict[str, Any]) -> None:
    """The fields of a ticket update as the OpenAPI document describes them, or 400."""
    if "department" in data and (
        not isinstance(data["department"], str) or not 1 <= len(data["department"]) <= 40
    ):
        abort(400, _("%(name)s must be a department code (1-40 characters).", name="department"))
    if "urgency" in data and not (_is_int(data["urgency"]) and 1 <= data["urgency"] <= 5):
        abort(400, _whole_number("urgency", 1, 5))
    if "assignee" in data:
        value = data["assignee"]
        valid = (
            value is None
            or (_is_int(value) and 1 <= value <= MAX_ID)
            or (isinstance(value, str) and 1 <= len(value) <= 254)
        )
        if not valid:
            abort(400, _("%(name)s must be a user id, an email address or null.", name="assignee"))
    if "status" in data and data["status"] not in UPDATE_STATUSES:
        abort(400, _one_of("status", UPDATE_STATUSES))


def _assignee(user: User, value: Any) -> User | None:
    """The active staff member `value` names, among those the caller may know of: anyone
    else is "unknown", so the reply never tells which addresses exist elsewhere."""
    session = db_session()
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        found = session.get(User, value)
    elif isinstance(value, str):
        found = session.scalar(select(User).where(func.lower(User.email) == value.strip().lower()))
    else:
        found = None
    if found is None or not found.is_active or not can_see_staff(user, found):
        raise Refused("unknown_assignee", _("There is no staff member “%(who)s”.", who=echo(value)))
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
        raise actions.ActionError(_one_of("status", UPDATE_STATUSES))


@api_bp.patch("/customers/<int:customer_id>")
def update_customer(customer_id: int):
    """Set a customer's tier; admins and leads only (it changes every department's targets)."""
    user = _me()
    if not has_role(user, "admin", "lead"):
        return json_error(
            403, "Forbidden", _("Only admins and leads may change a customer's tier.")
        )
    data = _body()
    if set(data) != {"tier"} or data["tier"] not in CUSTOMER_TIERS:
        abort(400, _("Send %(example)s.", example='{"tier": "' + "|".join(CUSTOMER_TIERS) + '"}'))
    session = db_session()
    customer = session.get(Customer, customer_id)
    if customer is None or not can_see_customer(session, user, customer):
        return json_error(404, "Not Found", _("There is no such customer, or none you may see."))
    set_tier(session, customer, data["tier"], current_app.config, actor=user)
    session.flush()
    return {"id": customer.id, "email": customer.email, "tier": customer.tier}


@api_bp.get("/faq/search")
def faq_search():
    """FAQ articles for a question (the portal's search), with the answer as plain text."""
    session = db_session()
    text = (request.args.get("q") or "").strip()
    if not text:
        abort(400, _("%(name)s is required: a non-blank string.", name="q"))
    if len(text) > MAX_FAQ_QUERY_CHARS:
        abort(400, _at_most_chars("q", MAX_FAQ_QUERY_CHARS))
    limit = _int_arg("limit", FAQ_DEFAULT_LIMIT, 1, FAQ_MAX_LIMIT)
    answers = canned.search_answers(session, text, limit=limit)
    base = public_base_url(current_app.config)

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
