"""Learning how customers phrase questions ("also asked as").

Evidence that a text asks an article's question: a search after which the customer opened that
article and did not search again within the session window, a "helpful" vote after such a
search, or an email staff or the auto-reply linked to the article. Each becomes a *proposed*
phrasing; staff approve it, or it is approved by itself once seen FAQ_PHRASING_AUTO_APPROVE
times. Only approved phrasings are indexed, so one odd search cannot change what others find.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from faq.index_sync import faq_number, schedule_reindex
from faq.models import Article, Feedback, Phrasing, SearchQuery
from support.core.db import get_db, utcnow
from support.core.runner import PeriodicTask
from support.desk.models import Setting

log = logging.getLogger(__name__)

SOURCES = ("staff", "search", "helpful", "email")
MIN_PHRASING_CHARS = 2
MAX_PHRASING_CHARS = 200
WATERMARK_KEY = "faq.phrasings_learned_until"
LEARN_INTERVAL_SECONDS = 300
# On the very first run, look back this far at most.
FIRST_RUN_LOOKBACK = timedelta(days=7)

_SPACE_RE = re.compile(r"\s+")
_SENTENCE_END_RE = re.compile(r"[?!.。？！\n]")
_EDGE_PUNCT = " \t\r\n?!.,;:。？！，；：、…\"'“”‘’()（）[]【】"


def normalise(text: str) -> str:
    """The comparison key of a question: width, case, spacing and end punctuation ignored."""
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    return _SPACE_RE.sub(" ", folded).strip(_EDGE_PUNCT)


def clean_phrasing(text: str) -> str | None:
    """A question-sized text from what a customer typed or mailed, or None if there is none.

    A long mail contributes its first sentence when that is short enough to be a question.
    """
    flat = _SPACE_RE.sub(" ", (text or "").replace("\x00", "")).strip()
    if len(flat) > MAX_PHRASING_CHARS:
        match = _SENTENCE_END_RE.search(text or "")
        if match is None:
            return None
        flat = _SPACE_RE.sub(" ", (text or "")[: match.end()]).strip()
        if len(flat) > MAX_PHRASING_CHARS:
            return None
    if len(normalise(flat)) < MIN_PHRASING_CHARS:
        return None
    return flat


def propose_phrasing(session: Session, article_id: int, text: str, source: str) -> Phrasing | None:
    """Record evidence that `text` asks this article's question; returns the phrasing row.

    The same text again adds evidence to the existing proposal instead of a new row; a text
    staff rejected stays rejected. Returns None when the text is unusable or the article is
    gone. The caller commits; an approval is indexed after the commit.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown phrasing source {source!r}; expected one of {SOURCES}")
    article = session.get(Article, article_id)
    cleaned = clean_phrasing(text)
    if article is None or cleaned is None:
        return None
    key = normalise(cleaned)
    if key == normalise(article.question):
        return None
    existing = next((p for p in article.phrasings if normalise(p.text) == key), None)
    if existing is not None:
        if existing.status == "proposed":
            existing.evidence_count = (existing.evidence_count or 1) + 1
            _auto_approve(session, existing)
        return existing if existing.status != "rejected" else None
    phrasing = Phrasing(
        article=article, text=cleaned, status="proposed", source=source, evidence_count=1
    )
    session.add(phrasing)
    _auto_approve(session, phrasing)
    session.flush()
    return phrasing


def _auto_approve(session: Session, phrasing: Phrasing) -> None:
    threshold = int(faq_number("FAQ_PHRASING_AUTO_APPROVE"))
    if threshold > 0 and phrasing.evidence_count >= threshold:
        phrasing.status = "approved"
        session.flush()
        schedule_reindex(session, [phrasing.article_id])
        log.info("phrasing %r approved automatically after %d", phrasing.text, threshold)


def approve_phrasing(session: Session, phrasing: Phrasing) -> None:
    phrasing.status = "approved"
    session.flush()
    schedule_reindex(session, [phrasing.article_id])


def reject_phrasing(session: Session, phrasing: Phrasing) -> None:
    """Kept as "rejected" so the same evidence does not propose it again."""
    was_indexed = phrasing.status == "approved"
    phrasing.status = "rejected"
    session.flush()
    if was_indexed:
        schedule_reindex(session, [phrasing.article_id])


def proposed_phrasings(session: Session, *, limit: int = 200) -> list[Phrasing]:
    return list(
        session.scalars(
            select(Phrasing)
            .where(Phrasing.status == "proposed")
            .order_by(Phrasing.evidence_count.desc(), Phrasing.created_at.desc())
            .limit(limit)
        )
    )


# -- learning from searches ---------------------------------------------------------------------


def learn_from_helpful_vote(
    session: Session, article_id: int, visitor: str | None, *, now: datetime | None = None
) -> Phrasing | None:
    """The visitor's search that led to this article, now confirmed by "helpful"."""
    if not visitor:
        return None
    now = now or utcnow()
    window = timedelta(minutes=int(faq_number("FAQ_SEARCH_SESSION_MINUTES")))
    query = session.scalar(
        select(SearchQuery)
        .where(
            SearchQuery.visitor == visitor,
            SearchQuery.clicked_article_id == article_id,
            SearchQuery.created_at >= now - window,
        )
        .order_by(SearchQuery.created_at.desc())
        .limit(1)
    )
    if query is None:
        return None
    return propose_phrasing(session, article_id, query.query, "helpful")


def learn_from_searches(session: Session, *, now: datetime | None = None) -> int:
    """Turn finished successful searches into proposals; returns how many were proposed.

    A search is finished once its session window has passed; it succeeded when the customer
    opened an article from the results and did not search again within the window. Searches
    already confirmed by a "helpful" vote were counted then. A watermark in runtime_settings
    makes each search count once, even with several processes.
    """
    now = now or utcnow()
    window = timedelta(minutes=int(faq_number("FAQ_SEARCH_SESSION_MINUTES")))
    until = now - window
    mark = session.scalar(select(Setting).where(Setting.key == WATERMARK_KEY).with_for_update())
    since = until - FIRST_RUN_LOOKBACK
    if mark is not None and mark.value:
        since = max(since, datetime.fromisoformat(mark.value))
    if until <= since:
        return 0
    clicked = session.scalars(
        select(SearchQuery)
        .where(
            SearchQuery.clicked_article_id.is_not(None),
            SearchQuery.visitor.is_not(None),
            SearchQuery.created_at > since,
            SearchQuery.created_at <= until,
        )
        .order_by(SearchQuery.created_at)
    ).all()
    proposed = 0
    seen: set[tuple[str, int, str]] = set()
    for query in clicked:
        article_id = query.clicked_article_id
        if article_id is None:  # the query selects clicked searches only
            continue
        key = (query.visitor or "", article_id, normalise(query.query))
        if key in seen or _searched_again(session, query, window):
            continue
        seen.add(key)
        if _confirmed_by_vote(session, query, window):
            continue
        if propose_phrasing(session, article_id, query.query, "search"):
            proposed += 1
    if mark is None:
        session.add(Setting(key=WATERMARK_KEY, value=until.isoformat()))
    else:
        mark.value = until.isoformat()
    session.flush()
    if proposed:
        log.info("learned %d phrasing proposals from searches", proposed)
    return proposed


def _searched_again(session: Session, query: SearchQuery, window: timedelta) -> bool:
    later = session.scalar(
        select(SearchQuery.id)
        .where(
            SearchQuery.visitor == query.visitor,
            SearchQuery.id != query.id,
            SearchQuery.created_at >= query.created_at,
            SearchQuery.created_at <= query.created_at + window,
        )
        .limit(1)
    )
    return later is not None


def _confirmed_by_vote(session: Session, query: SearchQuery, window: timedelta) -> bool:
    vote = session.scalar(
        select(Feedback.id)
        .where(
            Feedback.visitor == query.visitor,
            Feedback.article_id == query.clicked_article_id,
            Feedback.helpful.is_(True),
            Feedback.created_at >= query.created_at,
            Feedback.created_at <= query.created_at + window,
        )
        .limit(1)
    )
    return vote is not None


def purge_old_searches(session: Session, *, now: datetime | None = None) -> int:
    """Delete stored searches older than FAQ_SEARCH_RETENTION_DAYS; returns how many.

    Learning reads only the last days and the gaps report the last 90, so the retention
    (default 120 days) keeps both whole while the table stays bounded.
    """
    days = faq_number("FAQ_SEARCH_RETENTION_DAYS")
    if days <= 0:
        return 0
    cutoff = (now or utcnow()) - timedelta(days=days)
    result = session.execute(
        delete(SearchQuery)
        .where(SearchQuery.created_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    deleted = int(getattr(result, "rowcount", 0) or 0)
    if deleted:
        log.info("deleted %s stored searches older than %s days", deleted, days)
    return deleted


def learning_service(app: Flask) -> PeriodicTask:
    """`support run` learns from finished searches, and forgets old ones, every few minutes."""

    def learn() -> None:
        with app.app_context(), get_db(app).session() as session:
            learn_from_searches(session)
            purge_old_searches(session)

    return PeriodicTask("faq-phrasings", LEARN_INTERVAL_SECONDS, learn)
