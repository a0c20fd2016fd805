"""Shared pieces of the mail the staff side sends: the outbox call, threading, local times."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from sqlalchemy.orm import Session

from support.desk.models import Department, Message, Ticket, User
from support.desk.outbox import enqueue_mail

log = logging.getLogger(__name__)


def enqueue(
    session: Session,
    *,
    ticket: Ticket,
    kind: str,
    to: Sequence[str],
    subject: str,
    text: str,
    config: Mapping[str, Any],
    html: str | None = None,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    automatic: bool = False,
    department: Department | None = None,
    author: User | None = None,
) -> Any:
    """Queue one mail in the outbox (committed with the caller's transaction)."""

    return enqueue_mail(
        session,
        ticket=ticket,
        kind=kind,
        to=list(to),
        subject=subject,
        text=text,
        html=html,
        in_reply_to=in_reply_to,
        references=tuple(references),
        automatic=automatic,
        department=department,
        author=author,
        config=config,
    )


def bare_message_id(message_id: str | None) -> str | None:
    """Message.message_id is stored without angle brackets."""
    if not message_id:
        return None
    return message_id.strip().strip("<>").strip() or None


def last_customer_message(ticket: Ticket) -> Message | None:
    """The message a reply answers: the newest one the customer sent."""
    inbound = [m for m in ticket.messages if m.direction == "in"]
    return max(inbound, key=lambda m: (m.created_at, m.id)) if inbound else None


def thread_headers(ticket: Ticket) -> tuple[str | None, list[str]]:
    """In-Reply-To and References that put our reply into the customer's thread."""
    last = last_customer_message(ticket)
    if last is None or not last.message_id:
        return None, []
    return last.message_id, list(last.references or [])


def local_time(moment: datetime | None, config: Mapping[str, Any]) -> str:
    """A UTC moment as the company's wall-clock time, for mail and pages."""
    if moment is None:
        return "—"
    zone = ZoneInfo(config.get("COMPANY_TIMEZONE") or "UTC")
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def language_of(user: User | None, config: Mapping[str, Any]) -> str:
    language = (user.language if user else None) or config.get("DEFAULT_LANGUAGE") or "en"
    return "zh" if language.startswith("zh") else "en"


@contextmanager
def in_language(language: str | None) -> Iterator[None]:
    """Translate `_()` into the recipient's language (works without a request too)."""
    locale = "zh_Hans" if (language or "").startswith("zh") else "en"
    with force_locale(locale):
        yield
