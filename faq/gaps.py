"""FAQ gaps: the questions customers ask that the FAQ does not answer yet.

Two sources: searches that found nothing (or nothing good, and nobody opened a result), and
emails the auto-reply could not match (UnansweredQuestion). The same question typed twelve
times is one line with a count, so staff write the article that saves the most mail first.
Mail of a department whose mail no customers' article answers (an application to HR, a
journalist's or a partner's mail to PR: the desk's AUTOREPLY_NO_FAQ_DEPARTMENTS) is no gap,
also when a person moved the ticket there after its auto-reply had recorded it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from faq.index_sync import owning_app
from faq.knowledge import KnowledgeError, create_article, create_category, suggest_articles
from faq.models import LANGUAGES, Article, Category, SearchQuery, UnansweredQuestion
from faq.phrasings import normalise
from support.core.db import utcnow
from support.core.text import pinyin_as_chinese, written_in_pinyin
from support.desk.access import visible_ticket_clause
from support.desk.models import Department, Message, Ticket, User

log = logging.getLogger(__name__)

# A search nobody opened a result of is a gap when its first result was less likely than this
# to answer it (SearchQuery.top_score: faq.matching.search_confidence). On the demo FAQ's
# paraphrase sets (measured 2026-12-05, with the TF-IDF margin in the confidence), 6 of the 11
# held-out and 22 of the 34 tuning questions no article answers fall below it, and 14 of 80
# (held-out) and 58 of 337 (tuning) answerable ones, most of which a customer then opens.
POOR_RESULT_CONFIDENCE = 0.5
REPORT_DAYS = 90
SOLVED_STATUSES = ("resolved", "closed")
PLACEHOLDER_ANSWER = "_(Write the answer here.)_"


@dataclass
class GapGroup:
    """One question we do not answer yet, however many times and ways it came in."""

    text: str
    count: int = 0
    searches: int = 0
    emails: int = 0
    last_at: datetime | None = None
    languages: set[str] = field(default_factory=set)
    ticket_ids: list[int] = field(default_factory=list)
    #: The references (SUP-00012) of the first TICKETS_SHOWN tickets, by id: staff know
    #: tickets by reference, not by database id.
    ticket_references: dict[int, str] = field(default_factory=dict)
    #: A question written in pinyin (no Chinese keyboard) as the Chinese it spells, shown
    #: beside the text as typed: staff write the article in characters. Else "".
    reading: str = ""


#: Tickets listed on a gap's line (the report links them).
TICKETS_SHOWN = 5


#: The ends a subject made of a question's opening may have (faq.portal.subject_from_question
#: adds "…"; a mail program or a customer "..."), and the punctuation it cut before them.
_CUT_SUBJECT_END = " \t…,.;:，。；："


def without_repeated_subject(text: str) -> str:
    """A mail's question (its subject, a line break, its body: mailrouter's `_question_text`)
    without the subject when the body opens with it: the contact form makes a subject of the
    question's first words (faq.portal.subject_from_question), and many customers type one so.
    Compared with spaces collapsed and case ignored; any other subject stays."""
    subject, newline, body = text.partition("\n")
    if not newline:
        return text
    opening = " ".join(subject.split()).rstrip(_CUT_SUBJECT_END).casefold()
    if opening and " ".join(body.split()).casefold().startswith(opening):
        return body.strip()
    return text


def gap_report(
    session: Session,
    *,
    days: int = REPORT_DAYS,
    limit: int = 200,
    now: datetime | None = None,
    visible_to: User | None = None,
    left_out_departments: Collection[str] = (),
) -> list[GapGroup]:
    """Unanswered questions grouped by normalised text, most frequent first.

    With ``visible_to``, emails count only from tickets that staff member may see: the text is
    the customer's mail, and another department's mail is not theirs to read (portal searches
    are anonymous and count for everyone). Emails of tickets now in a department of
    ``left_out_departments`` (codes) do not count: their mail is no customer's question.
    """
    since = (now or utcnow()) - timedelta(days=days)
    groups: dict[str, GapGroup] = {}

    def add(text: str, at: datetime, language: str | None) -> GapGroup | None:
        text = without_repeated_subject(text)
        key = normalise(text)
        if not key:
            return None
        group = groups.setdefault(key, GapGroup(text=re.sub(r"\s+", " ", text).strip()[:300]))
        group.count += 1
        if language:
            group.languages.add(language)
        if group.last_at is None or at > group.last_at:
            group.last_at = at
        return group

    searches = session.execute(
        select(SearchQuery.query, SearchQuery.created_at, SearchQuery.language).where(
            SearchQuery.created_at >= since,
            SearchQuery.clicked_article_id.is_(None),
            or_(
                SearchQuery.result_count == 0,
                SearchQuery.top_score.is_(None),
                SearchQuery.top_score < POOR_RESULT_CONFIDENCE,
            ),
        )
    )
    for text, at, language in searches:
        group = add(text, at, language)
        if group:
            group.searches += 1
    unanswered = select(
        UnansweredQuestion.text,
        UnansweredQuestion.created_at,
        UnansweredQuestion.language,
        UnansweredQuestion.ticket_id,
    ).where(UnansweredQuestion.created_at >= since)
    if visible_to is not None:
        unanswered = unanswered.outerjoin(Ticket, Ticket.id == UnansweredQuestion.ticket_id).where(
            visible_ticket_clause(visible_to)
        )
    left_out = {code.strip().lower() for code in left_out_departments if code.strip()}
    if left_out:
        theirs = (
            select(Ticket.id)
            .join(Department, Department.id == Ticket.department_id)
            .where(func.lower(Department.code).in_(left_out))
        )
        unanswered = unanswered.where(
            or_(UnansweredQuestion.ticket_id.is_(None), UnansweredQuestion.ticket_id.not_in(theirs))
        )
    for text, at, language, ticket_id in session.execute(unanswered):
        group = add(text, at, language)
        if group:
            group.emails += 1
            if ticket_id and ticket_id not in group.ticket_ids:
                group.ticket_ids.append(ticket_id)
    ranked = sorted(
        groups.values(), key=lambda g: (-g.count, -(g.last_at.timestamp() if g.last_at else 0))
    )[:limit]
    for group in ranked:
        # Only the lines shown (at most `limit`, ~2 ms each, a few µs an English one); the
        # first in a process builds the reading's dictionary (about a second of CPU).
        if written_in_pinyin(group.text):
            group.reading = pinyin_as_chinese(group.text, pinyin=True)
    shown = {ticket_id for group in ranked for ticket_id in group.ticket_ids[:TICKETS_SHOWN]}
    if shown:
        rows = session.execute(select(Ticket.id, Ticket.reference).where(Ticket.id.in_(shown)))
        references = {ticket_id: reference for ticket_id, reference in rows if reference}
        for group in ranked:
            group.ticket_references = {
                ticket_id: references[ticket_id]
                for ticket_id in group.ticket_ids[:TICKETS_SHOWN]
                if ticket_id in references
            }
    return ranked


def draft_from_ticket(session: Session, ticket: Ticket, *, actor: User | None = None) -> Article:
    """An unpublished article from a solved ticket: its subject as the question, our last reply
    as the answer. Staff edit and publish it. Asking twice returns the same draft."""
    existing = session.scalar(select(Article).where(Article.source_ticket_id == ticket.id))
    if existing is not None:
        return existing
    if ticket.status not in SOLVED_STATUSES:
        raise KnowledgeError("only a resolved or closed ticket can become an article")
    messages = session.scalars(
        select(Message).where(Message.ticket_id == ticket.id).order_by(Message.created_at)
    ).all()
    question = (ticket.subject or "").strip()
    if not question:
        first_in = next((m for m in messages if m.direction == "in"), None)
        question = ((first_in.new_text or first_in.body_text) if first_in else "").strip()
    question = re.sub(r"^(re|fw|fwd|回复|答复|转发)\s*[:：]\s*", "", question, flags=re.I)
    question = re.sub(r"\s+", " ", question)[:300] or f"Ticket {ticket.reference or ticket.id}"
    reply = next((m for m in reversed(messages) if m.direction == "out"), None)
    answer = ((reply.new_text or reply.body_text) if reply else "").strip() or PLACEHOLDER_ANSWER
    language = ticket.language if ticket.language in LANGUAGES else "en"
    article = create_article(
        session,
        category=_category_for(session, question, language),
        question=question,
        answer_md=answer,
        language=language,
        is_published=False,
        source_ticket_id=ticket.id,
        actor=actor,
    )
    log.info("draft article %s from ticket %s", article.slug, ticket.reference or ticket.id)
    return article


def _category_for(session: Session, question: str, language: str) -> Category:
    """The category of the most similar existing article, else the first one."""
    if owning_app() is not None:
        matches = suggest_articles(session, question, language, limit=1)
        if matches:
            article = session.get(Article, matches[0].article_id)
            if article is not None:
                return article.category
    category = session.scalar(select(Category).order_by(Category.id).limit(1))
    if category is None:
        category = create_category(session, slug="general", name_en="General", name_zh="常见问题")
    return category
