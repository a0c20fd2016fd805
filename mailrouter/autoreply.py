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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.utils import formataddr
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.routing import BuildError

from faq.index_sync import get_index
from faq.models import Article, Category, UnansweredQuestion
from faq.search import analyze, markdown_to_text, query_terms, term_weight
from mailrouter import flood
from mailrouter.automatic import automatic_reason
from mailrouter.customer_links import follow_url, solved_url
from mailrouter.models import OutboundMail, ReplyTemplate
from mailrouter.outbox import KIND_AUTO_REPLY, enqueue_mail
from mailrouter.parsing import GENERATED_ID_DOMAIN, ParsedMail
from mailrouter.reply_templates import (
    MAX_FAQ_SUGGESTIONS,
    AutoReplyContext,
    RenderedReply,
    format_expected_by,
    render_auto_reply,
)
from support.audit import record_event
from support.db import once_per_transaction, utcnow
from support.models import Customer, Department, Message, Ticket, UrgencyLevel
from support.sla import start_clock

logger = logging.getLogger(__name__)

REPLY_LANGUAGES = ("zh", "en")
EXCERPT_CHARS = 160
# Which search hits the auto-reply offers. Measured with mailrouter/offer_evaluation.py (the
# demo_eval questions wrapped in email context, and mails no article answers; thresholds chosen
# on its tuning half). On the test half the score floor per searched word cut the mails no
# article answers that were offered something from 88% to 24%, answerable mails offered only
# wrong articles from 41% to 36%, and raised the precision of offers from 19% to 27%; the cost:
# the expected article is offered for 44% of answerable mails, not 59%. The search ranks the
# context's words too, so the expected article is often not among the hits at all.
MIN_RELATIVE_SCORE = 0.5
MIN_QUESTION_SHARE = 0.2
# A hit's score per word the search looked for, in units of the search's weight of a word only
# one article has (BM25 weights grow with the number of articles: 4.4 for the demo's 60).
MIN_SCORE_PER_TERM = 0.34
# Without the search index (no app context) only near-repeats of a question are offered.
FALLBACK_MIN_SHARE = 0.5
FALLBACK_MIN_TERMS = 2
UNANSWERED_TEXT_CHARS = 2000

# Reasons an auto-reply is not sent (kept in the audit trail so staff can see why).
SKIP_DISABLED = "disabled"
SKIP_NOT_INBOUND = "not_inbound"
SKIP_FOLLOW_UP = "follow_up"
SKIP_AUTOMATIC = "automatic_mail"
SKIP_OWN_ADDRESS = "own_address"
SKIP_NO_ADDRESS = "no_address"
SKIP_ADDRESS_FAILING = "address_failing"

_GENERIC_TEAM = {"en": "Customer Support", "zh": "客户服务团队"}
_INSERT_UNANSWERED = insert(UnansweredQuestion.__table__)
_ACKNOWLEDGE = update(Ticket.__table__).where(Ticket.__table__.c.id == bindparam("ticket_id"))


# --- who we must not answer --------------------------------------------------------------------


def own_addresses(session: Session, config: Mapping[str, Any]) -> set[str]:
    """Every address we send from or forward to: mail from one is a loop, never a customer,
    and answering one starts a loop."""

    def load() -> set[str]:
        addresses = {str(config.get("MAIL_GENERAL_ADDRESS") or "").strip().lower()}
        for email_address, forward_address in session.execute(
            select(Department.email_address, Department.forward_address)
        ):
            addresses.add((email_address or "").strip().lower())
            addresses.add((forward_address or "").strip().lower())
        addresses.discard("")
        return addresses

    return once_per_transaction(session, "own_addresses", load)


def is_own_address(address: str, own: set[str], config: Mapping[str, Any]) -> bool:
    address = (address or "").strip().lower()
    domain = address.rpartition("@")[2]
    domains = {d.strip().lower() for d in config.get("MAIL_DOMAINS") or []}
    return address in own or (bool(domain) and domain in domains)


@functools.lru_cache(maxsize=1024)  # the stdlib's address parser is slow; senders repeat
def usable_address(address: str) -> bool:
    """Whether mail can be addressed to this (``broken@`` from a malformed From cannot)."""
    try:
        parsed = Address(addr_spec=(address or "").strip())
    except Exception:  # the stdlib raises several types for malformed addresses
        return False
    return bool(parsed.username) and "." in parsed.domain


def skip_reason(
    session: Session,
    ticket: Ticket,
    message: Message,
    parsed: ParsedMail | None,
    config: Mapping[str, Any],
) -> str | None:
    """Why this new ticket gets no auto-reply (one of the SKIP_* codes, with detail), or None.

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
    customer = ticket.customer
    recipient = (customer.email if customer is not None else "") or ""
    sender = message.from_address or (parsed.from_address if parsed is not None else "")
    for address in (sender, recipient):
        if address and is_own_address(address, own, config):
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
    """The language of the customer's message ("zh" or "en"): their words decide, not settings."""
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


@dataclass(frozen=True)
class FaqMatch:
    """An article offered in the auto-reply."""

    article_id: int
    question: str
    excerpt: str
    url_path: str


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The start of an answer's plain text (see ``markdown_to_text``), cut after a word."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,.;:，。；：") + "…"


def article_path(slug: str) -> str:
    """Path of an FAQ article, from the portal's own route when it is registered."""
    if has_app_context():
        adapter = current_app.url_map.bind("localhost")
        try:
            return adapter.build("faq.article", {"slug": slug})
        except BuildError:
            pass
    return f"/a/{slug}"


def question_share(texts: Iterable[str], message_terms: set[str]) -> tuple[float, int]:
    """The largest share of one text's words (the question or an approved phrasing) in the
    message, and how many words that is."""
    best: tuple[float, int] = (0.0, 0)
    for text in texts:
        terms = set(analyze(text))
        if terms:
            shared = len(terms & message_terms)
            best = max(best, (shared / len(terms), shared))
    return best


def overlap_matches(
    session: Session, text: str, language: str, limit: int = MAX_FAQ_SUGGESTIONS
) -> list[FaqMatch]:
    """Matcher without the search index: articles whose question the message mostly repeats.

    Strict, because without ranking a loose rule would offer unrelated answers.
    """
    message_terms = set(analyze(text))
    if not message_terms:
        return []
    articles = session.scalars(
        select(Article)
        .join(Article.category)
        .where(
            Article.is_published.is_(True),
            Category.is_published.is_(True),
            Article.language == language,
        )
        .options(selectinload(Article.phrasings))
    ).all()
    scored = []
    for article in articles:
        texts = [article.question] + [p.text for p in article.phrasings if p.status == "approved"]
        share, shared = question_share(texts, message_terms)
        if share >= FALLBACK_MIN_SHARE and shared >= FALLBACK_MIN_TERMS:
            scored.append(((share, shared, article.demand_score or 0.0), article))
    scored.sort(key=lambda item: item[0], reverse=True)
    return [
        FaqMatch(
            article.id,
            article.question,
            excerpt(markdown_to_text(article.answer_md)),
            article_path(article.slug),
        )
        for _key, article in scored[:limit]
    ]


def _index_matcher() -> Any:
    """The FAQ's search-based matcher; it needs the app (for its index), so an app context."""
    if not has_app_context():
        return None
    try:
        from faq.knowledge import suggest_articles
    except ImportError:
        return None
    return suggest_articles


def match_faq(
    session: Session, text: str, language: str, limit: int = MAX_FAQ_SUGGESTIONS
) -> list[FaqMatch]:
    """Up to ``limit`` published FAQ answers that match the message, best first.

    The search index ranks; weak hits are dropped, because a reassurance mail that offers
    unrelated answers reads as not listening: a hit must score at least MIN_RELATIVE_SCORE of
    the best one and MIN_SCORE_PER_TERM per word searched (a long mail's context words add up
    to a high score for unrelated articles), and its question (or a phrasing) must share
    MIN_QUESTION_SHARE of its words with the message. The hits carry the texts the index holds,
    so no article is loaded again.
    """
    suggest = _index_matcher()
    if suggest is None:
        return overlap_matches(session, text, language, limit)
    found = suggest(session, text, language=language, limit=limit)
    if not found:
        return []
    # The words the search looked for (the message's first ones) usually settle the share; the
    # rest of a long message is analyzed only for a hit they do not support.
    searched = set(query_terms(text))
    rare_word = term_weight(max(get_index(session=session).doc_count(), 2), 1)
    floor = max(
        MIN_RELATIVE_SCORE * max(hit.score for hit in found),
        MIN_SCORE_PER_TERM * rare_word * len(searched),
    )
    whole: set[str] | None = None
    matches = []
    for hit in found:
        if hit.score < floor:
            continue
        texts = (hit.question, *hit.phrasings)
        share = question_share(texts, searched)[0]
        if share < MIN_QUESTION_SHARE:
            if whole is None:
                whole = set(analyze(text))
            share = question_share(texts, whole)[0]
        if share >= MIN_QUESTION_SHARE:
            matches.append(
                FaqMatch(
                    hit.article_id, hit.question, excerpt(hit.answer_text), article_path(hit.slug)
                )
            )
    return matches[:limit]


class DatabaseTemplateSource:
    """Admin-edited templates (``ReplyTemplate`` rows), read once per transaction."""

    def __init__(self, session: Session) -> None:
        self._sources = once_per_transaction(
            session,
            "reply_templates",
            lambda: dict(session.execute(select(ReplyTemplate.key, ReplyTemplate.source)).all()),
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
) -> AutoReplyContext:
    """Everything the templates show, localised for this customer (also used by the preview)."""
    customer: Customer | None = ticket.customer
    expected_by = expected_reply_at(session, ticket, config)
    zone = (customer.timezone if customer is not None else None) or str(config["COMPANY_TIMEZONE"])
    department = ticket.department
    reference = ticket.reference or ""
    return AutoReplyContext(
        customer_name=(customer.name if customer is not None else "") or "",
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
        expected_by_text=format_expected_by(expected_by, zone, language),
        follow_url=follow_url(config, reference, language),
        company_name=str(config["COMPANY_NAME"]),
        original_subject=ticket.subject if original_subject is None else original_subject,
        faq_suggestions=[
            (
                match.question,
                match.excerpt,
                str(config["PUBLIC_BASE_URL"]).rstrip("/") + match.url_path,
                solved_url(config, reference, match.article_id, language),
            )
            for match in matches[:MAX_FAQ_SUGGESTIONS]
        ],
    )


def render_for_ticket(
    session: Session,
    ticket: Ticket,
    config: Mapping[str, Any],
    *,
    language: str,
    matches: Sequence[FaqMatch] = (),
) -> RenderedReply:
    context = build_context(session, ticket, config, language=language, matches=matches)
    return render_auto_reply(context, overrides=DatabaseTemplateSource(session))


# --- demand ------------------------------------------------------------------------------------


def _question_text(ticket: Ticket, message: Message, parsed: ParsedMail | None) -> str:
    body = (parsed.new_text if parsed is not None else "") or message.new_text or message.body_text
    subject = (parsed.subject if parsed is not None else "") or message.subject or ticket.subject
    return f"{subject}\n{body}".strip()


def record_matches(
    session: Session, ticket: Ticket, text: str, language: str, matches: Sequence[FaqMatch]
) -> None:
    """Tell the FAQ side what customers asked: demand for matches, a gap when none matched."""
    if not matches:
        session.execute(
            _INSERT_UNANSWERED,
            {
                "text": text[:UNANSWERED_TEXT_CHARS],
                "language": language,
                "ticket_id": ticket.id,
                "created_at": utcnow(),
            },
        )
        return
    from faq.demand import record_demand_many

    record_demand_many(
        session,
        [match.article_id for match in matches],
        "email_match",
        visitor=f"ticket:{ticket.reference}"[:64],
    )


# --- the entry point ---------------------------------------------------------------------------


def _audit(session: Session, ticket: Ticket, action: str, data: dict[str, Any]) -> None:
    record_event(session, action, data, ticket_id=ticket.id)


def _threading_ids(message: Message, parsed: ParsedMail | None) -> tuple[str | None, list[str]]:
    message_id = message.message_id or (parsed.message_id if parsed is not None else None)
    if message_id and message_id.strip("<> ").endswith("@" + GENERATED_ID_DOMAIN):
        message_id = None  # made up by our parser; the customer's program never saw it
    references = list(parsed.references if parsed is not None else message.references or [])
    return message_id, references


def after_new_ticket(
    session: Session,
    ticket: Ticket,
    message: Message,
    parsed: ParsedMail | None,
    config: Mapping[str, Any],
) -> OutboundMail | None:
    """Queue the auto-reply for a new ticket, or record why there is none.

    Runs inside the intake's transaction, once the ticket is written: the reply is sent only if
    that transaction commits. The auto-reply is best effort: if it fails (say, an admin gave a
    department an unusable address), its changes are rolled back to a savepoint and the ticket
    is kept without one. A database error (a deadlock, a lost connection) is not the reply's
    fault: it fails the whole message, which the worker tries again.
    """
    session.flush()
    reason = skip_reason(session, ticket, message, parsed, config)
    if reason is not None and reason.split(":")[0] in (SKIP_NOT_INBOUND, SKIP_FOLLOW_UP):
        return None  # not a new conversation: nothing worth recording
    try:
        with session.begin_nested():
            return _answer(session, ticket, message, parsed, config, reason)
    except DBAPIError:
        raise  # a deadlock or lost connection: the whole message is tried again, reply and all
    except Exception as exc:
        logger.exception("auto-reply for ticket %s failed; the ticket has none", ticket.reference)
        _audit(
            session, ticket, "auto_reply_failed", {"error": f"{type(exc).__name__}: {exc}"[:500]}
        )
        return None


EMERGENCY_LEVEL = 5


def _matches_and_demand(
    session: Session, ticket: Ticket, message: Message, parsed: ParsedMail | None, language: str
) -> list[FaqMatch]:
    if ticket.urgency >= EMERGENCY_LEVEL:
        # Someone reporting smoke or an outage needs a person, not reading suggestions.
        return []
    text = _question_text(ticket, message, parsed)
    try:
        matches = match_faq(session, text, language)  # reads only: nothing to roll back
    except Exception:  # the FAQ must never stop the reply
        logger.exception("FAQ matching failed for ticket %s", ticket.reference)
        return []
    record_matches(session, ticket, text, language, matches)
    return matches


def _answer(
    session: Session,
    ticket: Ticket,
    message: Message,
    parsed: ParsedMail | None,
    config: Mapping[str, Any],
    reason: str | None,
) -> OutboundMail | None:
    language = reply_language(parsed, message, ticket)
    human = reason is None or reason.split(":")[0] in (SKIP_DISABLED, SKIP_ADDRESS_FAILING)
    customer = ticket.customer
    flagged = customer is not None and customer.flood_flagged_at is not None
    matches: list[FaqMatch] = []
    if human and not flagged and ticket.urgency != 1:  # praise and ideas are not questions
        matches = _matches_and_demand(session, ticket, message, parsed, language)

    if reason is None:
        decision = flood.reserve_auto_reply(
            session, customer.email, ticket_id=ticket.id, config=config, customer=customer
        )
        if not decision.allowed:
            reason = f"{decision.reason}: {decision.detail}" if decision.detail else decision.reason
    if reason is not None:
        logger.info("no auto-reply for ticket %s: %s", ticket.reference, reason)
        if reason != SKIP_DISABLED:
            _audit(session, ticket, "auto_reply_skipped", {"reason": reason[:500]})
        return None

    rendered = render_for_ticket(session, ticket, config, language=language, matches=matches)
    in_reply_to, references = _threading_ids(message, parsed)
    outbound = enqueue_mail(
        session,
        ticket=ticket,
        kind=KIND_AUTO_REPLY,
        to=[formataddr((customer.name or "", customer.email))],
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        in_reply_to=in_reply_to,
        references=references,
        automatic=True,
        config=config,
    )
    _audit(
        session,
        ticket,
        "auto_reply_queued",
        {
            "outbound_mail_id": outbound.id,
            "template": rendered.template_key,
            "language": language,
            "faq_article_ids": [m.article_id for m in matches],
        },
    )
    _acknowledge(session, ticket)
    return outbound


def _acknowledge(session: Session, ticket: Ticket) -> None:
    """Record that the customer was told we have their message: one UPDATE, and the ticket
    object updated as if it had been read back (a unit of work for it cost ten times more)."""
    if ticket.acknowledged_at is not None:
        return
    now = utcnow()
    session.execute(
        _ACKNOWLEDGE, {"ticket_id": ticket.id, "acknowledged_at": now, "updated_at": now}
    )
    set_committed_value(ticket, "acknowledged_at", now)
    set_committed_value(ticket, "updated_at", now)
