"""Pages customers reach from our mail without logging in: "this answered my question" and
"follow your ticket".

Each link carries a signed, timed token (``mailrouter.tokens.sign_action``) naming the ticket,
so it cannot be guessed or edited to reach another ticket. "Solved" changes state, so GET only
shows a confirmation and POST (with the CSRF token of that page) does it: mail scanners and
link previews that fetch every URL in a message must not resolve tickets.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    make_response,
    render_template,
    request,
)
from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.orm import Session, aliased

from faq.matching import record_answered
from faq.models import Article
from mailrouter.models import InboundMail
from mailrouter.outbound.follow_clock import answer_by_text, answer_due, follow_clocks
from mailrouter.tokens import sign_action, verify_action
from support.core.config import public_base_url
from support.core.db import db_session, utcnow
from support.core.web import download_response, file_size, reader_pages
from support.desk.mail import language_query
from support.desk.models import (
    Attachment,
    AuditEvent,
    Customer,
    Message,
    OutboundMail,
    Ticket,
)
from support.desk.notifications import notify_solved_by_customer

logger = logging.getLogger(__name__)

bp = Blueprint("customer_links", __name__)

SOLVED_ACTION = "solved"
FOLLOW_ACTION = "follow"
#: Solved links only make sense while the ticket is fresh; follow links for a long time.
SOLVED_MAX_AGE_SECONDS = 60 * 86400
FOLLOW_MAX_AGE_SECONDS = 365 * 86400
#: Mail we sent that went to the customer; notifications and forwards went to staff.
CUSTOMER_MAIL_KINDS = ("auto_reply", "reply", "survey")
#: Files one web reply from the follow page may carry (its bytes: MAIL_MAX_MESSAGE_BYTES).
WEB_REPLY_MAX_FILES = 10


def _key(config: Mapping[str, Any]) -> str:
    return str(config["SECRET_KEY"])


def _base(config: Mapping[str, Any]) -> str:
    return public_base_url(config)


def page_url(config: Mapping[str, Any], path: str, language: str | None = None) -> str:
    """A portal page (an FAQ article) in the customer's language and script, like the other
    links of the same mail: a Taiwan reader's auto-reply opened its articles in Simplified."""
    return f"{_base(config)}{path}{language_query(language)}"


def solved_url(
    config: Mapping[str, Any], reference: str, article_id: int, language: str | None = None
) -> str:
    """The one-click "this answered my question" link for one suggested article."""
    token = sign_action(_key(config), SOLVED_ACTION, reference, article_id=int(article_id))
    return f"{_base(config)}/solved/{quote(token)}{language_query(language)}"


def follow_url(
    config: Mapping[str, Any],
    reference: str,
    language: str | None = None,
    *,
    own_only: bool = False,
) -> str:
    """The "follow your ticket" link: status and conversation, no login.

    ``own_only``: a link handed to a browser rather than mailed to the address (the contact
    form's confirmation gave such links until its page had to read the same for every
    address; those stay valid): whoever typed the address may not own it, so once staff
    merge the ticket into another of the customer's, the link still shows only what began
    on its own ticket, not the conversation it joined.
    """
    extra = {"own_only": 1} if own_only else {}
    token = sign_action(_key(config), FOLLOW_ACTION, reference, **extra)
    return f"{_base(config)}/t/{quote(token)}{language_query(language)}"


def customer_visible() -> ColumnElement[bool]:
    """Conversation entries a customer may see (query joined to OutboundMail).

    Their own messages (not bounces stored on the ticket) and what we sent them; never
    internal notes or mail to staff about their ticket, nor a reply still held for its
    author's undo (support.desk.held_replies): it may never be sent.
    """
    return or_(
        and_(Message.direction == "in", Message.is_automatic.is_(False)),
        and_(
            Message.direction.in_(("out", "auto")),
            or_(
                Message.outbound_mail_id.is_(None),
                and_(OutboundMail.kind.in_(CUSTOMER_MAIL_KINDS), OutboundMail.state != "held"),
            ),
        ),
    )


def customer_conversation(
    session: Session,
    customer_id: int,
    ticket_ids: list[int],
    *,
    origin_ticket_ids: list[int] | None = None,
) -> list[Message]:
    """What the customer may see of these tickets, and only what belongs to them.

    A merge moves messages between tickets; each message still names the ticket it first
    arrived on or was sent from (its inbound or outbound mail), and that ticket must be this
    customer's (and one of ``origin_ticket_ids`` when given). Messages without that trail must
    not come from another customer's address.
    """
    origin = aliased(Ticket)
    first_ticket_id = func.coalesce(
        InboundMail.ticket_id, OutboundMail.ticket_id, Message.ticket_id
    )
    messages = session.scalars(
        select(Message)
        .outerjoin(OutboundMail, OutboundMail.id == Message.outbound_mail_id)
        .outerjoin(InboundMail, InboundMail.id == Message.inbound_mail_id)
        .join(origin, origin.id == first_ticket_id)
        .where(
            Message.ticket_id.in_(ticket_ids),
            origin.customer_id == customer_id,
            origin.id.in_(origin_ticket_ids) if origin_ticket_ids is not None else true(),
            customer_visible(),
        )
        .order_by(Message.created_at, Message.id)
    ).all()
    senders = {(m.from_address or "").strip().lower() for m in messages if m.direction == "in"}
    senders.discard("")
    others = (
        set(
            session.scalars(
                select(func.lower(Customer.email)).where(
                    func.lower(Customer.email).in_(sorted(senders)), Customer.id != customer_id
                )
            )
        )
        if senders
        else set()
    )
    return [
        m
        for m in messages
        if not (m.direction == "in" and (m.from_address or "").strip().lower() in others)
    ]


def resolve_by_article(
    session: Session, ticket: Ticket, article: Article, *, now: datetime | None = None
) -> bool:
    """Resolve the ticket because this FAQ answer solved it; False when nothing changed.

    Idempotent: a second click, or a click after staff resolved or closed the ticket, changes
    nothing and records nothing.
    """
    if ticket.resolved_by_article_id is not None or ticket.status in ("resolved", "closed"):
        return False
    now = now or utcnow()
    previous = ticket.status
    ticket.status = "resolved"
    ticket.resolved_at = now
    ticket.resolved_by_article_id = article.id
    session.add(
        AuditEvent(
            actor_label="customer",
            action="ticket_resolved_by_faq",
            ticket_id=ticket.id,
            subject_type="faq_article",
            subject_id=article.id,
            created_at=now,
            data={"from_status": previous, "question": article.question[:200]},
        )
    )
    record_answered(session, article.id, ticket.reference or str(ticket.id))
    session.flush()
    logger.info("ticket %s resolved by the customer with article %s", ticket.reference, article.id)
    return True


def _private(response: Response) -> Response:
    # The token is in the URL: keep it out of Referer headers, search engines and caches.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _invalid() -> Response:
    return _private(make_response(render_template("mail/link_invalid.html"), 404))


def _follow_payload(token: str) -> dict[str, Any] | None:
    return verify_action(_key(current_app.config), token, FOLLOW_ACTION, FOLLOW_MAX_AGE_SECONDS)


def follow_ticket(session: Session, token: str) -> Ticket | None:
    """The ticket a follow link names, or None when the link is forged or expired."""
    return _ticket_for(session, _follow_payload(token))


def reply_ticket(session: Session, token: str) -> Ticket | None:
    """The ticket a follow link may write to as its customer: None when the link is forged or
    expired, or was handed to a browser (``own_only``, see `follow_url`). Whoever typed an
    address into the contact form need not own it; a web reply is a mail from that address,
    threaded into the customer's conversation (after a merge, the owner's own ticket), so such
    a link only reads."""
    payload = _follow_payload(token)
    if payload is None or payload.get("own_only"):
        return None
    return _ticket_for(session, payload)


def _mail_kinds(session: Session, messages: list[Message]) -> dict[int, str]:
    """Message id -> kind of the mail we sent ("auto_reply", "survey", ...), for summaries."""
    outbound_ids = [m.outbound_mail_id for m in messages if m.outbound_mail_id is not None]
    if not outbound_ids:
        return {}
    rows = session.execute(
        select(OutboundMail.id, OutboundMail.kind).where(OutboundMail.id.in_(outbound_ids))
    )
    kinds = {outbound_id: kind for outbound_id, kind in rows}
    return {m.id: kinds[m.outbound_mail_id] for m in messages if m.outbound_mail_id in kinds}


def _ticket_for(session: Session, payload: dict[str, Any] | None) -> Ticket | None:
    if payload is None:
        return None
    return session.scalar(select(Ticket).where(Ticket.reference == payload["ticket_reference"]))


def _solved_target(token: str) -> tuple[Ticket, Article] | None:
    payload = verify_action(_key(current_app.config), token, SOLVED_ACTION, SOLVED_MAX_AGE_SECONDS)
    session = db_session()
    ticket = _ticket_for(session, payload)
    if ticket is None or payload is None:
        return None
    article_id = payload.get("article_id")
    article = session.get(Article, article_id) if isinstance(article_id, int) else None
    if article is None:
        return None
    return ticket, article


@bp.get("/solved/<token>")
def solved_confirm(token: str) -> Response:
    target = _solved_target(token)
    if target is None:
        return _invalid()
    ticket, article = target
    done = ticket.resolved_by_article_id is not None or ticket.status in ("resolved", "closed")
    return _private(
        make_response(
            render_template(
                "mail/solved.html",
                ticket=ticket,
                article=article,
                token=token,
                state="already" if done else "confirm",
            )
        )
    )


@bp.post("/solved/<token>")
def solved_submit(token: str) -> Response:
    target = _solved_target(token)
    if target is None:
        return _invalid()
    ticket, article = target
    session = db_session()
    changed = resolve_by_article(session, ticket, article)
    if changed:
        notify_solved_by_customer(session, ticket, article.question, current_app.config)
    return _private(
        make_response(
            render_template(
                "mail/solved.html",
                ticket=ticket,
                article=article,
                token=token,
                state="done" if changed else "already",
            )
        )
    )


def _followed(session: Session, token: str) -> tuple[Ticket, list[Message]] | None:
    """The ticket a follow link shows and the messages its customer may see there."""
    payload = _follow_payload(token)
    ticket = _ticket_for(session, payload)
    if ticket is None or payload is None:
        return None
    ticket_ids = [ticket.id]
    origins: list[int] | None = None
    if ticket.merged_into_id is not None:
        merged = session.get(Ticket, ticket.merged_into_id)
        if payload.get("own_only") and merged is not None:
            # A link from the contact form's page: only what began on its own ticket.
            ticket_ids, origins = [ticket.id, merged.id], [ticket.id]
        elif merged is not None and merged.customer_id == ticket.customer_id:
            ticket, ticket_ids = merged, [merged.id]
        elif merged is not None:
            # Merged into another customer's ticket (a ticket opened by a stranger's mail that
            # named it, merged in by staff; or older data): the link's own ticket, with only
            # this customer's part of the conversation.
            ticket_ids.append(merged.id)
    messages = customer_conversation(
        session, ticket.customer_id, ticket_ids, origin_ticket_ids=origins
    )
    return ticket, messages


@bp.get("/t/<token>")
def follow(token: str) -> Response:
    """Status and conversation; automatic mails as one line each; a reply form (intake)."""
    return follow_page(token)


def follow_page(token: str, *, typed: str = "", status: int = 200) -> Response:
    """The follow page; ``typed``: a refused message, back in the reply box with the refusal
    (flashed) beside it and ``status`` 400 (the web reply re-renders rather than redirects:
    its text can be 50,000 characters, more than a session cookie holds)."""
    session = db_session()
    followed = _followed(session, token)
    if followed is None:
        return _invalid()
    ticket, messages = followed
    language = "zh" if g.get("lang") == "zh" else "en"
    now, due = utcnow(), answer_due(ticket)
    clock, company_clock = follow_clocks(
        ticket,
        messages,
        current_app.config,
        language=language,
        traditional=bool(g.get("traditional")),
        moment=due or now,
    )
    return _private(
        make_response(
            render_template(
                "mail/follow.html",
                ticket=ticket,
                messages=messages,
                mail_kinds=_mail_kinds(session, messages),
                local_time=clock.time,
                answer_by=answer_by_text(due, clock, now) if due is not None else None,
                # The company's clock beside the customer's own, for a call or a colleague.
                answer_by_ours=company_clock.time(due) if due is not None and clock.own else None,
                token=token,
                sent=request.args.get("sent") == "1",
                max_files=WEB_REPLY_MAX_FILES,
                max_file_size=file_size(int(current_app.config["MAIL_MAX_ATTACHMENT_BYTES"])),
                # A link handed to a browser only reads (see reply_ticket).
                may_reply=not (_follow_payload(token) or {}).get("own_only"),
                typed=typed,
            ),
            status,
        )
    )


@bp.get("/t/<token>/files/<int:attachment_id>")
def follow_file(token: str, attachment_id: int) -> Response:
    """A file of a message the follow page shows (ours or the customer's), as a download."""
    session = db_session()
    followed = _followed(session, token)
    attachment = session.get(Attachment, attachment_id)
    if followed is None or attachment is None:
        return _invalid()
    if attachment.message_id not in {m.id for m in followed[1]} or attachment.data is None:
        return _invalid()
    return _private(
        download_response(attachment.data, attachment.filename, attachment.content_type)
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    reader_pages(app, bp)


__all__ = [
    "bp",
    "customer_conversation",
    "customer_visible",
    "follow_ticket",
    "follow_url",
    "init_app",
    "reply_ticket",
    "resolve_by_article",
    "solved_url",
]
