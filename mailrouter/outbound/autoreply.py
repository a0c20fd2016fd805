"""The auto-reply to every new conversation: reassure, give the reference, and maybe answer.

The intake pipeline calls ``after_new_ticket`` for each new ticket. It answers people only:
not follow-ups, not machines (bounces, out-of-office notices, lists; RFC 3834), not our own
addresses, not an address whose mail bounces, and never more often than ``mailrouter.flood``
allows. The reply says when a person will answer (the ticket's first-response target, in the
customer's time zone), offers up to three FAQ answers that match the message, each with a
one-click "this answered my question" link, and a link to follow the ticket.

The matched FAQ answers are also demand signals for the FAQ ("customers ask this"), and a
question no article matches is kept for the "questions we do not answer yet" report.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from faq.matching import FaqMatch, answers_for, record_asked
from mailrouter import flood
from mailrouter.automatic import auto_reply_suppressed, automatic_reason
from mailrouter.models import ReplyTemplate
from mailrouter.outbound.customer_links import follow_url, page_url, solved_url
from mailrouter.outbound.reply_templates import (
    MAX_FAQ_SUGGESTIONS,
    AutoReplyContext,
    RenderedReply,
    format_expected_by,
    render_auto_reply,
)
from mailrouter.parsing import (
    NO_TEXT_MARKER,
    ParsedMail,
    is_generated_message_id,
    is_sent_from_line,
    reading_text,
)
from mailrouter.parsing.forwards import is_forward_subject
from mailrouter.routing.contentless import says_nothing
from mailrouter.routing.decisions import SAYS_NOTHING
from mailrouter.routing.urgency_rules import is_danger
from support.core.addresses import deliverable_address
from support.core.config import company_name
from support.core.db import execute_core, utcnow
from support.core.reference_cache import reference_data
from support.core.round_trips import result_unread
from support.core.tables import table_of
from support.core.text import (
    convert_keeping,
    for_simplified_reader,
    to_simplified,
    to_traditional,
    writes_traditional,
)
from support.core.zones import readers_zone
from support.desk.audit import record_event
from support.desk.models import Customer, Message, OutboundMail, Ticket, UrgencyLevel
from support.desk.outbox import (
    KIND_AUTO_REPLY,
    ComposedMail,
    compose_mail,
    own_addresses,
    store_mail,
)
from support.desk.sla import start_clock

logger = logging.getLogger(__name__)

REPLY_LANGUAGES = ("zh", "en")

# Reasons an auto-reply is not sent (kept in the audit trail so staff can see why).
SKIP_DISABLED = "disabled"
SKIP_NOT_INBOUND = "not_inbound"
SKIP_FOLLOW_UP = "follow_up"
SKIP_AUTOMATIC = "automatic_mail"
SKIP_OWN_ADDRESS = "own_address"
SKIP_NO_ADDRESS = "no_address"
SKIP_ADDRESS_FAILING = "address_failing"
#: RFC 3834 section 2 / RFC 5321 section 4.5.5: mail sent with ``MAIL FROM:<>`` is never
#: answered, however human its headers look.
SKIP_NULL_SENDER = "null_sender"
#: The sender's mail program asked for no automatic answer (Exchange's X-Auto-Response-Suppress):
#: the ticket is made as for anyone, only the acknowledgement is left out.
SKIP_SUPPRESSED = "suppressed_by_sender"

_GENERIC_TEAM = {"en": "Customer Support", "zh": "客户服务团队"}
_TICKETS = table_of(Ticket)
_ACKNOWLEDGE = result_unread(update(_TICKETS).where(_TICKETS.c.id == bindparam("ticket_id")))


# --- who we must not answer --------------------------------------------------------------------


def is_own_address(address: str, own: AbstractSet[str]) -> bool:
    """Whether ``address`` is one the desk sends from or forwards to (``own_addresses``).

    Not every address at MAIL_DOMAINS: answering our own mailboxes is what starts a loop, and
    those are all in ``own``. A colleague or a first tester writing from another mailbox at the
    same domain (me@example.com to service@example.com) is a person, as in an internal help
    desk, and gets the acknowledgement; machines at the domain (its MTA's bounces, an
    out-of-office) are stopped by ``automatic_reason``, and a loop with anything else by
    ``mailrouter.flood``.
    """
    return (address or "").strip().lower() in own


@functools.lru_cache(maxsize=1024)  # the stdlib's address parser is slow; senders repeat
def usable_address(address: str) -> bool:
    """Whether mail can be addressed to this (``broken@`` from a malformed From cannot;
    王芳@例子.cn can, with SMTPUTF8, though the stdlib's parser calls it a defect)."""
    return deliverable_address(address) is not None


def skip_reason(
    session: Session,
    ticket: Ticket,
    message: Message,
    parsed: ParsedMail | None,
    config: Mapping[str, Any],
    envelope_from: str | None = None,
) -> str | None:
    """Why this new ticket gets no auto-reply (one of the SKIP_* codes, with detail), or None.

    ``envelope_from`` is the SMTP envelope sender when the mail came with one (None when it is
    unknown, as for mail fetched by IMAP, whose ``Return-Path`` carries it); an empty one is
    the null sender, never answered.

    Flood and window limits are not checked here: they take a lock and are checked last.
    """
    if message.direction != "in":
        return SKIP_NOT_INBOUND
    # Only the customer's own messages make this a follow-up: mail we sent on the ticket (say,
    # a notification to staff) does not, and a second auto-reply is stopped by flood.py.
    # The ticket's messages: the one just added, unless the ticket is older than the caller says.
    if any(m is not message and m.direction == "in" for m in ticket.messages):
        return SKIP_FOLLOW_UP
    own = own_addresses(session, config)
    if message.is_automatic:
        return f"{SKIP_AUTOMATIC}: {message.automatic_reason or 'automatic mail'}"
    # Defence in depth: a caller that did not classify the mail still never answers a machine.
    reason = automatic_reason(parsed, own) if parsed is not None else None
    if reason:
        return f"{SKIP_AUTOMATIC}: {reason}"
    if envelope_from is not None and not envelope_from.strip().strip("<>").strip():
        return f"{SKIP_NULL_SENDER}: MAIL FROM:<>"
    suppressed = auto_reply_suppressed(parsed) if parsed is not None else None
    if suppressed:
        return f"{SKIP_SUPPRESSED}: X-Auto-Response-Suppress: {suppressed}"
    customer = ticket.customer
    recipient = (customer.email if customer is not None else "") or ""
    sender = message.from_address or (parsed.from_address if parsed is not None else "")
    for address in (sender, recipient):
        if address and is_own_address(address, own):
            return f"{SKIP_OWN_ADDRESS}: {address}"
    if not usable_address(recipient):
        return f"{SKIP_NO_ADDRESS}: {recipient}".rstrip(": ")
    if customer is not None and customer.address_failing_at is not None:
        return f"{SKIP_ADDRESS_FAILING}: {customer.address_failing_reason or ''}".rstrip(": ")
    if not config.get("AUTOREPLY_ENABLED", True):
        return SKIP_DISABLED
    return None


# --- what the reply says -----------------------------------------------------------------------


def reply_language(parsed: ParsedMail | None, message: Message, ticket: Ticket) -> str:
    """The language of the customer's message ("zh" or "en"): their words decide, not settings.

    A mail written in pinyin ("ni hao, wo de ding dan hai mei you fa huo") is Chinese: the
    parser says "zh" (support.core.text.written_in_pinyin), and it is answered in Simplified
    Chinese. Its writer reads Chinese but had no Chinese keyboard at hand (a borrowed or work
    computer, a phone without the input method): reading characters needs none, and pinyin is
    how the mainland (Simplified) learns to write, where Taiwan's schools teach zhuyin and Hong
    Kong's none. An English reply would answer a customer who chose not to write English in
    English; a reply in pinyin would be harder to read than characters, and the FAQ's articles
    (the offers) are written in characters. The desk writes no bilingual replies (one language a
    reply: its templates, subject and links are per language), so the FAQ offers' Chinese
    articles decide too."""
    for candidate in (
        parsed.language if parsed is not None else None,
        message.language,
        ticket.language,
        ticket.customer.language if ticket.customer is not None else None,
    ):
        lang = (candidate or "").split("-")[0].split("_")[0].lower()
        if lang in REPLY_LANGUAGES:
            return lang
    return "en"


def expected_reply_at(session: Session, ticket: Ticket, config: Mapping[str, Any]) -> datetime:
    """When a person will have answered: the target set by routing, else the SLA clock's.

    If routing has not started the ticket's clock yet, starting it here makes the promise in
    the mail and the target staff work to the same time.
    """
    if ticket.first_response_due_at is None:
        start_clock(ticket, config)
    if ticket.first_response_due_at is not None:
        return ticket.first_response_due_at
    # Only reachable when a first response exists already: promise the level's plain target.
    level = session.get(UrgencyLevel, ticket.urgency)
    minutes = level.first_response_minutes if level is not None else 24 * 60
    return (ticket.created_at or utcnow()) + timedelta(minutes=minutes)


class DatabaseTemplateSource:
    """Admin-edited templates (``ReplyTemplate`` rows), read once per transaction (or
    per REFERENCE_TTL_SECONDS in the worker)."""

    def __init__(self, session: Session) -> None:
        self._sources: dict[str, str] = reference_data(
            session,
            "reply_templates",
            lambda: dict(session.execute(select(ReplyTemplate.key, ReplyTemplate.source)).all()),
            tables=(table_of(ReplyTemplate),),
        )

    def get_source(self, key: str) -> str | None:
        return self._sources.get(key)


def build_context(
    session: Session,
    ticket: Ticket,
    config: Mapping[str, Any],
    *,
    language: str,
    matches: Sequence[FaqMatch] = (),
    original_subject: str | None = None,
    traditional: bool = False,
    sender_offset: int | None = None,
    greeting_name: str = "",
    files: SentFiles | None = None,
    forwarded: bool = False,
) -> AutoReplyContext:
    """Everything the templates show, localised for this customer (also used by the preview).
    ``greeting_name``: the name the customer just gave for this question (the contact form's),
    greeted in place of the one on record.
    ``traditional``: the customer reads Traditional characters; the links open the pages so.
    ``sender_offset``: the customer's UTC offset in minutes from their mail's Date header
    (``ParsedMail.date_offset_minutes``): times are shown on their clock (``UTC-5``) unless
    the customer's zone is on record. ``files``: the files of a mail of no words
    (``sent_files``), which the reply says arrived. ``forwarded``: the customer's mail
    forwarded another (its subject is that mail's)."""
    links = "zh-Hant" if traditional and language == "zh" else language
    files = files or SentFiles()
    customer: Customer | None = ticket.customer
    expected_by = expected_reply_at(session, ticket, config)
    zone = (customer.timezone if customer is not None else None) or readers_zone(
        str(config["COMPANY_TIMEZONE"]), sender_offset, expected_by
    )
    department = ticket.department
    reference = ticket.reference or ""
    return AutoReplyContext(
        customer_name=greeting_name or (customer.name if customer is not None else "") or "",
        ticket_reference=reference,
        department_name=(
            department.label(language)
            if department is not None
            else _GENERIC_TEAM.get(language, _GENERIC_TEAM["en"])
        ),
        department_code=department.code if department is not None else "",
        urgency=ticket.urgency if 1 <= (ticket.urgency or 0) <= 5 else 2,
        language=language,
        expected_by=expected_by,
        expected_by_text=format_expected_by(expected_by, zone, language, traditional=traditional),
        follow_url=follow_url(config, reference, links),
        company_name=company_name(config, language),
        original_subject=ticket.own_subject if original_subject is None else original_subject,
        forwarded=forwarded,
        danger=_reports_danger(ticket),
        says_nothing=_says_nothing(ticket) and not files.count,
        sent_files=files.count,
        sent_pictures=files.pictures,
        faq_suggestions=[
            (
                *_in_readers_script(match, language, traditional),
                page_url(config, match.url_path, links),
                solved_url(config, reference, match.article_id, links),
            )
            for match in matches[:MAX_FAQ_SUGGESTIONS]
        ],
    )


def _in_readers_script(match: FaqMatch, language: str, traditional: bool) -> tuple[str, str]:
    """An article's question and excerpt for a writer of Simplified in Simplified when a Taiwan
    admin wrote it in Traditional, judged on the two together: `in_simplified` judges the whole
    mail, where one short excerpt is too few characters to count. (A writer of Traditional
    gets the whole mail converted: `in_traditional`.)"""
    if language != "zh" or traditional:
        return match.question, match.excerpt
    both = f"{match.question}\n{match.excerpt}"
    return (
        for_simplified_reader(match.question, both),
        for_simplified_reader(match.excerpt, both),
    )


def _reports_danger(ticket: Ticket) -> bool:
    """The urgency rule that decided the ticket fired on people or property in danger."""
    urgency = (ticket.classification or {}).get("urgency")
    return isinstance(urgency, dict) and is_danger(urgency.get("rule"))


#: A subject that only names what is attached: "照片", "Photo", "IMG_4127.jpeg".
_FILES_SUBJECT_RE = re.compile(
    r"(?:照片|相片|图片|圖片|截图|截圖|附件|文件|photos?|pictures?|pics?|images?|screenshots?|"
    r"attachments?|files?|[^\s/\\]{1,120}\.[a-z0-9]{2,5})[\s.!。！]*",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SentFiles:
    """The files a mail of no words brought (a photo sent from a phone): how many, and whether
    all are pictures. ``count`` 0: the mail has words, or no file."""

    count: int = 0
    pictures: bool = False


def sent_files(message: Message, parsed: ParsedMail | None) -> SentFiles:
    """What a mail that is only files holds: its text is none, a picture's placeholder ("[图片]",
    ``reading_text`` drops those) or a signature ("Sent from my iPhone"), and its subject none,
    a greeting or the files' name ("照片", "IMG_4127.jpeg"). Its auto-reply says the files
    arrived and a person will look, and offers no FAQ answer: there is no question to match."""
    files = list(message.attachments or [])
    if not files:
        return SentFiles()
    body = (
        parsed.reading_text()
        if parsed is not None
        else reading_text(message.new_text, message.body_text, message.forwarded_text or "")
    ).strip()
    lines = body[:2000].split("\n")
    if (
        body == NO_TEXT_MARKER
        or len(lines) <= 3
        and all(not line.strip() or is_sent_from_line(line) for line in lines)
    ):
        body = ""
    subject = ((parsed.subject if parsed is not None else message.subject) or "").strip()[:200]
    sender = (parsed.from_name if parsed is not None else message.from_name) or ""
    if body and not says_nothing("", body, sender):
        return SentFiles()
    if subject and not (_FILES_SUBJECT_RE.fullmatch(subject) or says_nothing(subject, "", sender)):
        return SentFiles()
    pictures = all((f.content_type or "").lower().startswith("image/") for f in files)
    return SentFiles(len(files), pictures)


def _says_nothing(ticket: Ticket) -> bool:
    """The mail held no question (only a greeting, a test...): it went to triage, or stayed
    with the department whose address it was sent to (``decisions.decide``)."""
    department = (ticket.classification or {}).get("department")
    return isinstance(department, dict) and (
        department.get("triage_reason") == SAYS_NOTHING or department.get(SAYS_NOTHING) is True
    )


def render_for_ticket(
    session: Session,
    ticket: Ticket,
    config: Mapping[str, Any],
    *,
    language: str,
    matches: Sequence[FaqMatch] = (),
    traditional: bool = False,
) -> RenderedReply:
    context = build_context(
        session, ticket, config, language=language, matches=matches, traditional=traditional
    )
    return render_context(session, context, traditional=traditional)


def render_context(
    session: Session, context: AutoReplyContext, *, traditional: bool = False
) -> RenderedReply:
    """The auto-reply of ``build_context``'s context, in the reader's script."""
    rendered = render_auto_reply(context, overrides=DatabaseTemplateSource(session))
    if context.language != "zh":
        return rendered
    own = (context.original_subject, context.customer_name)
    if traditional:
        return in_traditional(rendered, keep=own)
    return in_simplified(rendered, keep=(*own, context.company_name))


def in_simplified(rendered: RenderedReply, keep: Sequence[str] = ()) -> RenderedReply:
    """The reply in Simplified characters, for a customer who wrote in them, when an admin
    wrote the template in Traditional (a Taiwan company's does): each part that reads as
    Traditional once the customer's words and the company's name in `keep` are set aside is
    converted around them. A Simplified part is left as it is."""

    html = rendered.html
    if html:
        html = part_in_simplified(html, keep, html=True)
    return rendered._replace(
        subject=part_in_simplified(rendered.subject, keep),
        text=part_in_simplified(rendered.text, keep),
        html=html,
    )


def part_in_simplified(text: str, keep: Sequence[str] = (), *, html: bool = False) -> str:
    """One rendered part in Simplified characters when it reads as Traditional without the
    words in `keep` (see `in_simplified`); as it is otherwise."""
    rest = text
    for own in keep:
        rest = rest.replace(own, "") if own else rest
    if not writes_traditional(rest):
        return text
    return part_in_script(text, to_simplified, keep, html=html)


def in_traditional(rendered: RenderedReply, keep: Sequence[str] = ()) -> RenderedReply:
    """The reply in Traditional characters, for a customer who wrote in them (Taiwan, Hong
    Kong): the templates and the FAQ are kept in Simplified only. Only Chinese characters
    change, so links, references and markup stay as they are. The customer's own words in
    `keep` (their subject, their name) are quoted as they wrote them: the conversion has
    regional variants (台灣 -> 臺灣) that a customer would not have chosen."""

    html = rendered.html
    if html:
        html = part_in_traditional(html, keep, html=True).replace(
            '<html lang="zh-CN">', '<html lang="zh-TW">', 1
        )
    return rendered._replace(
        subject=part_in_traditional(rendered.subject, keep),
        text=part_in_traditional(rendered.text, keep),
        html=html,
    )


def part_in_traditional(text: str, keep: Sequence[str] = (), *, html: bool = False) -> str:
    """One rendered part (subject, text or HTML) in Traditional characters, the customer's own
    words in `keep` as they wrote them (see `in_traditional`)."""
    return part_in_script(text, to_traditional, keep, html=html)


#: One conversion around kept words for every part (support.core.text.convert_keeping).
part_in_script = convert_keeping


# --- demand ------------------------------------------------------------------------------------


def _question_text(ticket: Ticket, message: Message, parsed: ParsedMail | None) -> str:
    body = (
        parsed.reading_text()
        if parsed is not None
        else reading_text(message.new_text, message.body_text, message.forwarded_text or "")
    )
    subject = (parsed.subject if parsed is not None else "") or message.subject or ticket.subject
    return f"{subject}\n{body}".strip()


@dataclass(frozen=True)
class PreparedAnswers:
    """FAQ answers for a mail, found before the write transaction (``prepare_answers``)."""

    text: str
    language: str
    matches: list[FaqMatch]


def prepare_answers(
    session: Session, parsed: ParsedMail, ticket_subject: str
) -> PreparedAnswers | None:
    """The FAQ answers the auto-reply would offer for a new ticket made of ``parsed`` (reads
    only). None when the reply's language would depend on the customer's stored profile."""
    language = (parsed.language or "en").split("-")[0].split("_")[0].lower()
    if language not in REPLY_LANGUAGES:
        return None
    text = f"{parsed.subject or ticket_subject}\n{parsed.reading_text()}".strip()
    try:
        return PreparedAnswers(text, language, answers_for(session, text, language))
    except Exception:  # the FAQ must never stop the intake; the reply step tries again
        logger.exception("FAQ matching failed before the write transaction")
        return None


# --- the entry point ---------------------------------------------------------------------------


def _audit(session: Session, ticket: Ticket, action: str, data: dict[str, Any]) -> None:
    record_event(session, action, data, ticket_id=ticket.id)


def _threading_ids(message: Message, parsed: ParsedMail | None) -> tuple[str | None, list[str]]:
    message_id = message.message_id or (parsed.message_id if parsed is not None else None)
    if message_id and is_generated_message_id(message_id):
        message_id = None  # made up by our parser; the customer's program never saw it
    references = list(parsed.references if parsed is not None else message.references or [])
    return message_id, references


def after_new_ticket(
    session: Session,
    ticket: Ticket,
    message: Message,
    parsed: ParsedMail | None,
    config: Mapping[str, Any],
    *,
    envelope_from: str | None = None,
    prepared: PreparedAnswers | None = None,
    locked_sender: flood.LockedSender | None = None,
) -> OutboundMail | None:
    """Queue the auto-reply for a new ticket, or record why there is none.

    ``envelope_from``: the SMTP envelope sender if known ("" is ``MAIL FROM:<>``).
    ``prepared``: FAQ answers found before the transaction (used if text and language fit).
    ``locked_sender``: the sender's flood row, locked by the transaction already (the worker's
    first statement on PostgreSQL; see ``flood.SENDER_LOCK_COLUMNS``).

    Runs inside the intake's transaction, once the ticket is written: the reply is sent only if
    that transaction commits. The auto-reply is best effort: if it fails (say, an admin gave a
    department an unusable address, or a template that does not render), the ticket is kept
    without one and an ``auto_reply_failed`` event says why. That needs no savepoint (two
    statements for every new ticket on PostgreSQL): the reply is decided and composed before
    its first write (``_Reply``), so a failure leaves nothing to undo; its writes are then
    statements whose parameters are ready. A database error (a deadlock, a lost connection),
    there or before, is not the reply's fault: it fails the whole message, which the worker
    tries again, reply and all.
    """
    session.flush()
    reason = skip_reason(session, ticket, message, parsed, config, envelope_from)
    if reason is not None and reason.split(":")[0] in (SKIP_NOT_INBOUND, SKIP_FOLLOW_UP):
        return None  # not a new conversation: nothing worth recording
    try:
        reply = _decide(session, ticket, message, parsed, config, reason, prepared, locked_sender)
    except DBAPIError:
        raise  # a deadlock or lost connection: the whole message is tried again, reply and all
    except Exception as exc:
        logger.exception("auto-reply for ticket %s failed; the ticket has none", ticket.reference)
        _audit(
            session, ticket, "auto_reply_failed", {"error": f"{type(exc).__name__}: {exc}"[:500]}
        )
        return None
    return _write(session, ticket, reply)


EMERGENCY_LEVEL = 5


def offers_faq(ticket: Ticket, config: Mapping[str, Any]) -> bool:
    """Whether the ticket's auto-reply may offer FAQ answers: not from a department of
    AUTOREPLY_NO_FAQ_DEPARTMENTS (a press request matched "When will it be available again?")."""
    department = ticket.department
    return department is None or not offers_no_faq(department.code, config)


def offers_no_faq(department_code: str, config: Mapping[str, Any]) -> bool:
    """Whether the department of ``department_code`` is one of AUTOREPLY_NO_FAQ_DEPARTMENTS: its
    tickets' auto-replies offer no FAQ answers, and their demand is not counted."""
    skipped = {
        str(code).strip().lower() for code in config.get("AUTOREPLY_NO_FAQ_DEPARTMENTS") or []
    }
    return department_code.lower() in skipped


@dataclass(frozen=True)
class _Asked:
    """What the customer asked, for the FAQ's demand and gaps (``record_asked``)."""

    text: str
    language: str
    matches: list[FaqMatch]


def _matches(
    session: Session,
    ticket: Ticket,
    message: Message,
    parsed: ParsedMail | None,
    language: str,
    config: Mapping[str, Any],
    prepared: PreparedAnswers | None = None,
) -> _Asked | None:
    """The FAQ answers to offer (reads only); None when the reply offers none and the question
    counts for nothing (an emergency, a department without FAQ offers)."""
    if ticket.urgency >= EMERGENCY_LEVEL:
        # Someone reporting smoke or an outage needs a person, not reading suggestions.
        return None
    if not offers_faq(ticket, config):
        return None
    text = _question_text(ticket, message, parsed)
    if prepared is not None and (prepared.text, prepared.language) == (text, language):
        return _Asked(text, language, prepared.matches)
    try:
        return _Asked(text, language, answers_for(session, text, language))
    except Exception:  # the FAQ must never stop the reply
        logger.exception("FAQ matching failed for ticket %s", ticket.reference)
        return None


def _greeting_name(message: Message, customer: Customer | None) -> str:
    """The name this question gives, greeted in place of the record's: the one typed into the
    contact form; a mail's From name only for a customer on record without a name (an
    unauthenticated mail's name does not fill the record: ``find_or_create_customer``), "" else."""
    if message.channel != "web" and (customer is None or customer.name):
        return ""
    return " ".join((message.from_name or "").split())[:200]


@dataclass(frozen=True)
class _Reply:
    """The auto-reply step decided and composed, nothing written yet (see ``_write``)."""

    asked: _Asked | None
    #: The flood check's verdict, recorded with the reply (None: not asked).
    decision: flood.FloodDecision | None
    #: Why no reply goes (None: ``mail`` goes).
    reason: str | None
    mail: ComposedMail | None = None
    queued: dict[str, Any] | None = None


def _decide(
    session: Session,
    ticket: Ticket,
    message: Message,
    parsed: ParsedMail | None,
    config: Mapping[str, Any],
    reason: str | None,
    prepared: PreparedAnswers | None = None,
    locked_sender: flood.LockedSender | None = None,
) -> _Reply:
    """Everything of the reply that may fail for its own reasons, before any write: the FAQ
    answers, the flood check (it may lock the sender's row), the text and the mail."""
    language = reply_language(parsed, message, ticket)
    human = reason is None or reason.split(":")[0] in (SKIP_DISABLED, SKIP_ADDRESS_FAILING)
    customer = ticket.customer
    flagged = customer is not None and customer.flood_flagged_at is not None
    asked = None
    files = sent_files(message, parsed)
    # Praise and ideas are not questions, nor is a photo alone.
    if human and not flagged and ticket.urgency != 1 and not files.count:
        asked = _matches(session, ticket, message, parsed, language, config, prepared)

    decision = None
    if reason is None:
        decision = flood.decide_auto_reply(
            session,
            customer.email,
            ticket_id=ticket.id,
            config=config,
            customer=customer,
            window=message.channel != "web",
            locked=locked_sender,
        )
        if not decision.allowed:
            reason = f"{decision.reason}: {decision.detail}" if decision.detail else decision.reason
    if reason is not None:
        return _Reply(asked, decision, reason)

    matches = asked.matches if asked is not None else []
    traditional = language == "zh" and writes_traditional(_question_text(ticket, message, parsed))
    context = build_context(
        session,
        ticket,
        config,
        language=language,
        matches=matches,
        traditional=traditional,
        # The customer's own clock, from their mail's Date header.
        sender_offset=parsed.date_offset_minutes if parsed is not None else None,
        # A name typed into the contact form is how the customer asks to be called now; a
        # mail's display name is the mail program's, and the record (staff may have set it)
        # stays the better name for mail when it has one.
        greeting_name=_greeting_name(message, ticket.customer),
        files=files,
        forwarded=is_forward_subject(message.subject or ""),
    )
    rendered = render_context(session, context, traditional=traditional)
    in_reply_to, references = _threading_ids(message, parsed)
    mail = compose_mail(
        ticket=ticket,
        kind=KIND_AUTO_REPLY,
        # No display name: it is the sender's own choice of text (up to 200 characters), and
        # a forged sender would have us mail it to a stranger.
        to=[customer.email],
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        in_reply_to=in_reply_to,
        references=references,
        automatic=True,
        config=config,
        language=language,
        traditional=traditional,
    )
    queued = {
        "template": rendered.template_key,
        "language": language,
        "faq_article_ids": [m.article_id for m in matches],
    }
    return _Reply(asked, decision, None, mail, queued)


def _write(session: Session, ticket: Ticket, reply: _Reply) -> OutboundMail | None:
    """Write what ``_decide`` decided: the FAQ demand, the sender's flood record, the mail and
    its audit, the acknowledgement; or why there is no reply."""
    if reply.asked is not None:
        asked = reply.asked
        record_asked(session, ticket, asked.text, asked.language, asked.matches)
    if reply.decision is not None:
        reply.decision.record(session)
    if reply.mail is None:
        reason = reply.reason or ""
        logger.info("no auto-reply for ticket %s: %s", ticket.reference, reason)
        if reason != SKIP_DISABLED:
            _audit(session, ticket, "auto_reply_skipped", {"reason": reason[:500]})
        return None
    outbound = store_mail(session, reply.mail)
    _audit(
        session,
        ticket,
        "auto_reply_queued",
        {"outbound_mail_id": outbound.id, **(reply.queued or {})},
    )
    _acknowledge(session, ticket)
    return outbound


def _acknowledge(session: Session, ticket: Ticket) -> None:
    """Record that the customer was told we have their message: one UPDATE, and the ticket
    object updated as if it had been read back (a unit of work for it cost ten times more)."""
    if ticket.acknowledged_at is not None:
        return
    now = utcnow()
    execute_core(
        session, _ACKNOWLEDGE, {"ticket_id": ticket.id, "acknowledged_at": now, "updated_at": now}
    )
    set_committed_value(ticket, "acknowledged_at", now)
    set_committed_value(ticket, "updated_at", now)
