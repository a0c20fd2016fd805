"""Shared pieces of the mail the staff side sends: the outbox call, threading, local times."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from mailrouter.compose import AUTO_SUBMITTED_AUTO_REPLIED, OutgoingFile
from mailrouter.parsing import is_generated_message_id
from mailrouter.tokens import add_subject_token
from support.core.db import utcnow
from support.core.text import NO_TEXT_MARKER, to_traditional, writes_traditional
from support.core.web import TRADITIONAL_CHINESE
from support.core.zones import zone_text
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
    auto_submitted: str = AUTO_SUBMITTED_AUTO_REPLIED,
    department: Department | None = None,
    author: User | None = None,
    language: str | None = None,
    traditional: bool = False,
    files: Sequence[OutgoingFile] = (),
    cc: Sequence[str] = (),
) -> Any:
    """Queue one mail in the outbox (committed with the caller's transaction); ``language`` and
    ``traditional`` are a customer's, for the sender's name (support.desk.outbox.team_name)."""

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
        auto_submitted=auto_submitted,
        department=department,
        author=author,
        config=config,
        language=language,
        traditional=traditional,
        files=files,
        cc=list(cc),
    )


def bare_message_id(message_id: str | None) -> str | None:
    """Message.message_id is stored without angle brackets."""
    if not message_id:
        return None
    return message_id.strip().strip("<>").strip() or None


def last_customer_message(ticket: Ticket) -> Message | None:
    """The message a reply answers: the newest one the customer sent.

    Never automatic mail stored on the ticket (a bounce, an out-of-office): a colleague's
    out-of-office answering our notification would be quoted to the customer, with its
    staff-only text (absences, phone numbers, the notification it quotes).
    """
    inbound = [m for m in ticket.messages if m.direction == "in" and not m.is_automatic]
    return max(inbound, key=lambda m: (m.created_at, m.id)) if inbound else None


def customer_language(ticket: Ticket) -> str | None:
    """The language a reply is checked against (support.desk.reply_check), on the pages and
    through the API alike: the customer's latest mail's (one who asks for English in a Chinese
    thread gets English), else the ticket's."""
    latest = last_customer_message(ticket)
    return (latest.language if latest is not None else None) or ticket.language


def customer_text(message: Message | None) -> str:
    """What the customer wrote in this message (without the quoted history); "" for a mail
    that had no text (only a file): its marker is no words of theirs to quote."""
    text = ((message.new_text or message.body_text or "") if message else "").strip()
    return "" if text == NO_TEXT_MARKER else text


def customer_writes_traditional(ticket: Ticket) -> bool:
    """The customer wrote their last mail in Traditional characters: our words to them (Re:,
    the quote's header, the rating block, the links' pages) are then Traditional too, as the
    auto-reply was; the agent's answer and the customer's quoted words stay as written."""
    return (ticket.language or "").startswith("zh") and writes_traditional(
        customer_text(last_customer_message(ticket))
    )


#: Where the customer's own words go into a translated phrase that is converted around them.
SLOT = "\x00"


def in_traditional_around(phrase: str, own: str) -> str:
    """`phrase` (with `SLOT` where `own` goes) in Traditional characters, `own` as written."""
    return to_traditional(phrase).replace(SLOT, own)


def reply_subject(ticket: Ticket) -> str:
    """The customer's subject as they wrote it, with "Re: " and the ticket's token in the
    current language; in Traditional characters for a customer who writes them."""
    own = ticket.own_subject  # none: "Re: [#SUP-00042]", not "Re: (no subject)"
    if customer_writes_traditional(ticket):
        subject = in_traditional_around(_("Re: %(subject)s", subject=SLOT), own).strip()
    else:
        subject = _("Re: %(subject)s", subject=own).strip()
    return add_subject_token(subject, ticket.reference) if ticket.reference else subject


def language_query(language: str | None) -> str:
    """?lang= for a linked page in the reader's language; "zh-Hant" also asks for Traditional
    characters (every link in our mail to a customer carries it)."""
    lang, _, script = (language or "").lower().partition("-")
    if lang not in ("zh", "en"):
        return ""
    return f"?lang={lang}&script=hant" if (lang, script) == ("zh", "hant") else f"?lang={lang}"


def thread_headers(ticket: Ticket) -> tuple[str | None, list[str]]:
    """In-Reply-To and References that put our reply into the customer's thread."""
    last = last_customer_message(ticket)
    if last is None or not last.message_id:
        return None, []
    references = [ref for ref in last.references or [] if not is_generated_message_id(ref)]
    if not is_generated_message_id(last.message_id):
        return last.message_id, references
    # Their mail had no Message-ID and the parser made one up that their mail program never
    # saw: answer the newest mail of ours they have (the auto-reply, an earlier answer).
    ours = [m for m in ticket.messages if m.direction in ("out", "auto") and m.message_id]
    if not ours:
        return (references[-1] if references else None), references
    newest = max(ours, key=lambda m: (m.created_at, m.id)).message_id or ""
    return newest, [*(ref for ref in references if ref != newest), newest]


def local_time(moment: datetime | None, config: Mapping[str, Any]) -> str:
    """A UTC moment as the company's wall-clock time, for mail and pages."""
    if moment is None:
        return "—"
    zone = ZoneInfo(config.get("COMPANY_TIMEZONE") or "UTC")
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def local_zone(
    moment: datetime | None, config: Mapping[str, Any], language: str, traditional: bool = False
) -> str:
    """The zone of `local_time`'s figure named as customers' mail names it: ``北京时间`` to a
    reader of Chinese, ``UTC+8`` to one of Traditional characters, ``Asia/Shanghai, UTC+8`` in
    English (not the bare IANA name)."""
    name = config.get("COMPANY_TIMEZONE") or "UTC"
    local = (moment or utcnow()).astimezone(ZoneInfo(name))
    return zone_text(name, local, language, traditional=traditional)


def _staff_language(user: User | None) -> str | None:
    """The staff member's own language, else ("Default") the one their pages were last
    shown in: the mail reads as their pages do. None before their first page."""
    return (user.language or user.page_language) if user is not None else None


def language_of(user: User | None, config: Mapping[str, Any]) -> str:
    language = _staff_language(user) or config.get("DEFAULT_LANGUAGE") or "en"
    return "zh" if language.startswith("zh") else "en"


def reads_traditional(user: User | None) -> bool:
    """The staff member reads Traditional Chinese (繁體): chosen, or their pages' by default."""
    return _staff_language(user) == TRADITIONAL_CHINESE


@contextmanager
def in_language(language: str | None) -> Iterator[None]:
    """Translate `_()` into the recipient's language (works without a request too)."""
    locale = "zh_Hans" if (language or "").startswith("zh") else "en"
    with force_locale(locale):
        yield
