"""Demand ranking: how often customers ask each question, from real signals, decaying over time.

Each article stores one exponentially decayed score valid at `demand_at`. Adding a signal first
decays the stored score to now and then adds the signal's weight, so the score is always
"sum of weights, each halved per half-life of age" without re-reading old events. DemandEvent
rows are kept as well, for "most asked in the last 7 days" and for audits of the ranking.

Nothing else orders the FAQ: categories by the sum of their articles' current demand, articles
within a category by their own. Admins may pin a notice on top; that is the only manual order.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from flask import current_app, has_app_context
from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from faq.index_sync import PAGE_CACHE_KEY, app_for, faq_setting
from faq.models import DEMAND_KINDS, Article, Category, DemandEvent
from faq.settings import SETTINGS
from support.db import utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")

# How strongly each signal says "customers ask this". A view is the weakest; a customer who
# mailed us the question, or told us the answer helped, says it most clearly.
DEMAND_WEIGHTS: dict[str, float] = {
    "view": 1.0,
    "search_click": 2.0,
    "helpful": 3.0,
    "email_match": 3.0,
    "contact_match": 3.0,
    "staff_link": 2.0,
}
# Imported starting demand (demo content, migrations from another help desk); never "this week".
SEED_KIND = "seed"
MOST_ASKED_DAYS = 7

_BOT_RE = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|scrape|headless|preview|monitor|uptime|curl/|wget/|"
    r"python-requests|python-urllib|httpx|go-http-client|java/|okhttp|libwww|facebookexternalhit|"
    r"bingpreview|lighthouse|pingdom|feedfetcher|mediapartners",
    re.IGNORECASE,
)


def _setting(name: str, session: Session | None = None) -> object:
    if session is not None:
        return faq_setting(session, name)
    if has_app_context():
        return current_app.config[name]
    return next(s.default for s in SETTINGS if s.name == name)


def is_bot(user_agent: str | None) -> bool:
    """Crawlers, link previews and scripts do not ask questions; an empty agent is a script."""
    if not user_agent or not user_agent.strip():
        return True
    return bool(_BOT_RE.search(user_agent))


def decayed(score: float, at: datetime, now: datetime, half_life_days: float) -> float:
    """`score` as it stands at `now` if it was valid at `at`."""
    if score == 0.0:
        return 0.0
    age_days = (now - at).total_seconds() / 86400.0
    if age_days <= 0:
        return score
    return score * 2.0 ** (-age_days / max(half_life_days, 1e-6))


def current_demand(article: Article, now: datetime | None = None) -> float:
    now = now or utcnow()
    half_life = float(_setting("FAQ_HALF_LIFE_DAYS", object_session(article)))
    return decayed(article.demand_score or 0.0, article.demand_at or now, now, half_life)


def record_demand(
    session: Session,
    article_id: int,
    kind: str,
    *,
    weight: float | None = None,
    visitor: str | None = None,
    now: datetime | None = None,
) -> DemandEvent | None:
    """Count one signal that customers ask this article's question.

    Returns the stored event, or None when it did not count (a repeated view by the same visitor
    within FAQ_VIEW_DEDUP_MINUTES, or an unknown article). The caller commits.
    """
    if kind not in DEMAND_KINDS and kind != SEED_KIND:
        raise ValueError(f"unknown demand kind {kind!r}; expected one of {DEMAND_KINDS}")
    now = now or utcnow()
    if kind == "view" and visitor:
        window = timedelta(minutes=int(_setting("FAQ_VIEW_DEDUP_MINUTES", session)))
        repeated = session.scalar(
            select(DemandEvent.id)
            .where(
                DemandEvent.article_id == article_id,
                DemandEvent.kind == "view",
                DemandEvent.visitor == visitor,
                DemandEvent.created_at > now - window,
            )
            .limit(1)
        )
        if repeated is not None:
            return None
    # Lock the row (PostgreSQL) so two workers adding at once do not lose one of the signals;
    # SQLite's write transactions are already exclusive.
    article = session.scalar(select(Article).where(Article.id == article_id).with_for_update())
    if article is None:
        log.warning("demand for unknown article %s ignored", article_id)
        return None
    amount = DEMAND_WEIGHTS.get(kind, 1.0) if weight is None else float(weight)
    half_life = float(_setting("FAQ_HALF_LIFE_DAYS", session))
    at = article.demand_at or now
    if now >= at:
        article.demand_score = decayed(article.demand_score or 0.0, at, now, half_life) + amount
        article.demand_at = now
    else:  # a late signal (backdated): add what is left of it at the stored time
        article.demand_score = (article.demand_score or 0.0) + decayed(amount, now, at, half_life)
    if kind == "view":
        article.view_count = (article.view_count or 0) + 1
    event = DemandEvent(
        article_id=article_id, kind=kind, weight=amount, visitor=visitor, created_at=now
    )
    session.add(event)
    session.flush()
    return event


# -- reading the ranking ---------------------------------------------------------------------


@dataclass
class RankedArticle:
    id: int
    slug: str
    question: str
    demand: float
    is_pinned: bool


@dataclass(frozen=True)
class CategorySummary:
    """What lists need of a category; plain data, so it can outlive the session (cache)."""

    id: int
    slug: str
    name_en: str
    name_zh: str

    def name(self, language: str = "en") -> str:
        return self.name_zh if language == "zh" and self.name_zh else self.name_en


@dataclass
class RankedCategory:
    category: CategorySummary
    demand: float
    articles: list[RankedArticle] = field(default_factory=list)


def ranked_categories(
    session: Session, language: str, *, now: datetime | None = None
) -> list[RankedCategory]:
    """Published categories with their published articles in `language`, most asked first.

    Every category with an article is listed and every article stays in its list: the ranking
    orders the FAQ, it never hides a question.
    """
    now = now or utcnow()
    half_life = float(_setting("FAQ_HALF_LIFE_DAYS", session))
    categories = {
        c.id: RankedCategory(CategorySummary(c.id, c.slug, c.name_en, c.name_zh), demand=0.0)
        for c in session.execute(
            select(Category.id, Category.slug, Category.name_en, Category.name_zh).where(
                Category.is_published.is_(True)
            )
        )
    }
    rows = session.execute(
        select(
            Article.id,
            Article.slug,
            Article.question,
            Article.category_id,
            Article.demand_score,
            Article.demand_at,
            Article.is_pinned,
        ).where(Article.is_published.is_(True), Article.language == language)
    )
    for row in rows:
        block = categories.get(row.category_id)
        if block is None:
            continue
        demand = decayed(row.demand_score or 0.0, row.demand_at or now, now, half_life)
        block.demand += demand
        block.articles.append(
            RankedArticle(row.id, row.slug, row.question, demand, bool(row.is_pinned))
        )
    ranked = [b for b in categories.values() if b.articles]
    for block in ranked:
        block.articles.sort(key=lambda a: (-a.demand, a.id))
    # Ties (a fresh install) keep a stable, predictable order: oldest category first.
    ranked.sort(key=lambda b: (-b.demand, b.category.id))
    return ranked


def ranked_articles(
    session: Session, category: Category, language: str, *, now: datetime | None = None
) -> list[RankedArticle]:
    """All published articles of one category in `language`, most asked first."""
    now = now or utcnow()
    half_life = float(_setting("FAQ_HALF_LIFE_DAYS", session))
    rows = session.execute(
        select(
            Article.id,
            Article.slug,
            Article.question,
            Article.demand_score,
            Article.demand_at,
            Article.is_pinned,
        ).where(
            Article.category_id == category.id,
            Article.is_published.is_(True),
            Article.language == language,
        )
    )
    found = [
        RankedArticle(
            r.id,
            r.slug,
            r.question,
            decayed(r.demand_score or 0.0, r.demand_at or now, now, half_life),
            bool(r.is_pinned),
        )
        for r in rows
    ]
    found.sort(key=lambda a: (-a.demand, a.id))
    return found


@dataclass
class AskedArticle:
    id: int
    slug: str
    question: str
    signals: float


def most_asked(
    session: Session,
    language: str,
    *,
    days: int = MOST_ASKED_DAYS,
    limit: int = 8,
    now: datetime | None = None,
) -> list[AskedArticle]:
    """The questions asked most in the last `days` days (real signals only, no imported seed)."""
    now = now or utcnow()
    total = func.sum(DemandEvent.weight).label("total")
    rows = session.execute(
        select(Article.id, Article.slug, Article.question, total)
        .join(DemandEvent, DemandEvent.article_id == Article.id)
        .join(Category, Category.id == Article.category_id)
        .where(
            DemandEvent.created_at >= now - timedelta(days=days),
            DemandEvent.kind != SEED_KIND,
            Article.is_published.is_(True),
            Category.is_published.is_(True),
            Article.language == language,
        )
        .group_by(Article.id, Article.slug, Article.question)
        .order_by(total.desc(), Article.id)
        .limit(limit)
    )
    return [AskedArticle(r.id, r.slug, r.question, float(r.total)) for r in rows]


def pinned_articles(session: Session, language: str) -> list[RankedArticle]:
    """Notices admins keep on top of the home page."""
    return [
        RankedArticle(r.id, r.slug, r.question, 0.0, True)
        for r in session.execute(
            select(Article.id, Article.slug, Article.question)
            .join(Category, Category.id == Article.category_id)
            .where(
                Article.is_pinned.is_(True),
                Article.is_published.is_(True),
                Category.is_published.is_(True),
                Article.language == language,
            )
            .order_by(Article.updated_at.desc())
        )
    ]


@dataclass
class HomeOverview:
    pinned: list[RankedArticle]
    blocks: list[RankedCategory]
    most_asked: list[AskedArticle]


def home_overview(session: Session, language: str) -> HomeOverview:
    """Everything the home page shows, reused for FAQ_HOME_CACHE_SECONDS within a process.

    Demand moves slowly (its half-life is weeks), so a few seconds of reuse change nothing a
    customer could notice, while the page stops reading every article on every request.
    Knowledge-base edits clear the cache at once (see faq.index_sync).
    """
    return _cached(
        session,
        ("home", language),
        lambda: HomeOverview(
            pinned=pinned_articles(session, language),
            blocks=ranked_categories(session, language),
            most_asked=most_asked(session, language),
        ),
    )


def category_summaries(session: Session) -> list[CategorySummary]:
    """Published categories (for filters), cached like the home page."""
    return _cached(
        session,
        ("categories",),
        lambda: [
            CategorySummary(*row)
            for row in session.execute(
                select(Category.id, Category.slug, Category.name_en, Category.name_zh)
                .where(Category.is_published.is_(True))
                .order_by(Category.id)
            )
        ],
    )


def _cached(session: Session, key: tuple, compute: Callable[[], T]) -> T:
    app = app_for(session)
    ttl = float(_setting("FAQ_HOME_CACHE_SECONDS", session))
    if app is None or ttl <= 0:
        return compute()
    cache: dict = app.extensions.setdefault(PAGE_CACHE_KEY, {})
    found = cache.get(key)
    if found is not None and found[0] > time.monotonic():
        return found[1]
    value = compute()
    cache[key] = (time.monotonic() + ttl, value)
    return value


def seed_demand(
    session: Session, article: Article, amount: float, *, now: datetime | None = None
) -> None:
    """Give an imported article a starting demand (kept out of "most asked this week")."""
    if amount and amount > 0:
        record_demand(session, article.id, SEED_KIND, weight=float(amount), now=now)
