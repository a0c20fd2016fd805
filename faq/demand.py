"""Demand ranking: how often customers ask each question, from real signals, decaying over time.

Each article stores one exponentially decayed score valid at `demand_at`. Adding a signal first
decays the stored score to now and then adds the signal's weight, so the score is always
"sum of weights, each halved per half-life of age" without re-reading old events. DemandEvent
rows are kept as well, for "most asked in the last 7 days" and for audits of the ranking.

Nothing else orders the FAQ: categories by the sum of their articles' current demand, articles
within a category by their own. Admins may pin a notice on top; that is the only manual order.

The mail worker records its signals deferred (`record_demand_many(..., deferred=True)`): only
the event row, marked pending, which `fold_pending_demand` adds to the articles' scores every
DEMAND_FOLD_SECONDS. A popular article is matched by many mails at once; updating its row in
every message's transaction made the workers of all hosts wait for each other on that one row
lock, and cost the worker a round trip to read the score. Folding gives the same scores as
adding each signal at once (the decay is linear), a minute later.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TypedDict, TypeVar

from flask import Flask
from sqlalchemy import Row, bindparam, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from faq.index_sync import PAGE_CACHE_KEY, faq_number, owning_app
from faq.models import DEMAND_KINDS, Article, Category, DemandEvent
from support.core.concurrency import lock_claimed_rows
from support.core.db import get_db, utcnow
from support.core.round_trips import result_unread
from support.core.runner import PeriodicTask
from support.core.tables import table_of

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
#: How often deferred signals are added to the scores, and how many in one transaction.
DEMAND_FOLD_SECONDS = 30.0
DEMAND_FOLD_BATCH = 2000

_BOT_RE = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|scrape|headless|preview|monitor|uptime|curl/|wget/|"
    r"python-requests|python-urllib|httpx|go-http-client|java/|okhttp|libwww|facebookexternalhit|"
    r"bingpreview|lighthouse|pingdom|feedfetcher|mediapartners",
    re.IGNORECASE,
)


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
    half_life = faq_number("FAQ_HALF_LIFE_DAYS")
    return decayed(article.demand_score or 0.0, article.demand_at or now, now, half_life)


@dataclass(frozen=True)
class DemandSignal:
    """A signal that counted, as stored in faq_demand_events."""

    article_id: int
    kind: str
    weight: float
    visitor: str | None
    created_at: datetime
    #: Recorded deferred: not in the article's score until `fold_pending_demand`.
    pending: bool = False


class _DemandEventRow(TypedDict):
    """A faq_demand_events row to insert; the fields of DemandSignal."""

    article_id: int
    kind: str
    weight: float
    visitor: str | None
    created_at: datetime


class _DemandChange(TypedDict):
    """The parameters of _SET_DEMAND for one article."""

    b_id: int
    b_score: float
    b_at: datetime
    b_views: int


_ARTICLES = table_of(Article)
# Sets only the demand columns: Core would otherwise fill updated_at from its onupdate, and a
# customer's view or email is not an edit of the article ("last updated" must not move).
_SET_DEMAND = result_unread(
    update(_ARTICLES)
    .where(_ARTICLES.c.id == bindparam("b_id"))
    .values(
        demand_score=bindparam("b_score", type_=_ARTICLES.c.demand_score.type),
        demand_at=bindparam("b_at", type_=_ARTICLES.c.demand_at.type),
        view_count=bindparam("b_views", type_=_ARTICLES.c.view_count.type),
        updated_at=_ARTICLES.c.updated_at,
    )
)
_ADD_EVENTS = result_unread(insert(table_of(DemandEvent)))
# A deferred signal's event, only if its article still exists (the search index may still
# offer one deleted a moment ago): no error to retry the whole message for, no lock to wait for.
_ADD_PENDING_EVENTS = result_unread(
    insert(table_of(DemandEvent)).from_select(
        ["article_id", "kind", "weight", "visitor", "created_at", "pending"],
        select(
            _ARTICLES.c.id,
            bindparam("kind"),
            bindparam("weight"),
            bindparam("visitor"),
            bindparam("created_at"),
            bindparam("pending"),
        ).where(_ARTICLES.c.id == bindparam("article_id")),
    )
)
_LOCK_DEMAND = (
    select(_ARTICLES.c.id, _ARTICLES.c.demand_score, _ARTICLES.c.demand_at, _ARTICLES.c.view_count)
    .where(_ARTICLES.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(_ARTICLES.c.id)
    .with_for_update()
)


def record_demand(
    session: Session,
    article_id: int,
    kind: str,
    *,
    weight: float | None = None,
    visitor: str | None = None,
    now: datetime | None = None,
) -> DemandSignal | None:
    """Count one signal that customers ask this article's question.

    Returns the stored signal, or None when it did not count (a repeated view by the same
    visitor within FAQ_VIEW_DEDUP_MINUTES, or an unknown article). The caller commits.
    """
    counted = record_demand_many(
        session, [article_id], kind, weight=weight, visitor=visitor, now=now
    )
    return counted[0] if counted else None


def record_demand_many(
    session: Session,
    article_ids: Iterable[int],
    kind: str,
    *,
    visitor: str | None = None,
    weight: float | None = None,
    now: datetime | None = None,
    deferred: bool = False,
) -> list[DemandSignal]:
    """Count one signal of `kind` for each article (once per article), in three statements.

    One locking read, one UPDATE of the demand columns and one INSERT of the events, whatever
    the number of articles: an auto-reply records two or three per message. `deferred`: only
    the INSERT, of events marked pending, which `fold_pending_demand` adds later (no lock on
    the articles, no answer to wait for; see the module's docstring). Returns the signals that
    counted, in article id order (see `record_demand` for what does not). The caller commits.
    """
    if kind not in DEMAND_KINDS and kind != SEED_KIND:
        raise ValueError(f"unknown demand kind {kind!r}; expected one of {DEMAND_KINDS}")
    now = now or utcnow()
    ids = sorted(set(article_ids))
    if kind == "view" and visitor:
        ids = _not_viewed_recently(session, ids, visitor, now)
    if not ids:
        return []
    amount = DEMAND_WEIGHTS.get(kind, 1.0) if weight is None else float(weight)
    if deferred:
        signals = [DemandSignal(i, kind, amount, visitor, now, pending=True) for i in ids]
        session.execute(_ADD_PENDING_EVENTS, [asdict(signal) for signal in signals])
        return signals
    half_life = faq_number("FAQ_HALF_LIFE_DAYS")
    views = 1 if kind == "view" else 0
    changes = [
        _demand_change(row, amount, views, now, half_life) for row in _locked_demand(session, ids)
    ]
    if not changes:
        return []
    session.execute(_SET_DEMAND, changes)
    events: list[_DemandEventRow] = [
        {
            "article_id": c["b_id"],
            "kind": kind,
            "weight": amount,
            "visitor": visitor,
            "created_at": now,
        }
        for c in changes
    ]
    session.execute(_ADD_EVENTS, events)
    _refresh_loaded_articles(session, changes)
    return [DemandSignal(**event) for event in events]


def _locked_demand(session: Session, ids: list[int]) -> list[Row]:
    """The articles' demand columns, their rows locked until the caller's transaction ends.

    The lock (PostgreSQL) keeps two workers adding at once from losing a signal; taking it in id
    order keeps two workers locking overlapping sets from deadlocking. SQLite's write
    transactions are exclusive already.
    """
    rows = session.execute(_LOCK_DEMAND, {"ids": ids}).all()
    if len(rows) < len(ids):
        missing = sorted(set(ids) - {row.id for row in rows})
        log.warning("demand for unknown article(s) %s ignored", missing)
    return list(rows)


def _demand_change(
    row: Row, amount: float, views: int, now: datetime, half_life: float
) -> _DemandChange:
    """Parameters of _SET_DEMAND for one article after adding a signal of `amount` at `now`."""
    score, at = _added(row.demand_score or 0.0, row.demand_at or now, amount, now, half_life)
    return {"b_id": row.id, "b_score": score, "b_at": at, "b_views": (row.view_count or 0) + views}


def _added(
    score: float, at: datetime, amount: float, when: datetime, half_life: float
) -> tuple[float, datetime]:
    """A score valid at `at` after adding a signal of `amount` given at `when`."""
    if when >= at:
        return decayed(score, at, when, half_life) + amount, when
    # a late signal (backdated, or folded after a newer one): what is left of it at `at`
    return score + decayed(amount, when, at, half_life), at


_EVENTS = table_of(DemandEvent)
_PENDING_EVENTS = (
    select(
        _EVENTS.c.id, _EVENTS.c.article_id, _EVENTS.c.kind, _EVENTS.c.weight, _EVENTS.c.created_at
    )
    .where(_EVENTS.c.pending)
    .order_by(_EVENTS.c.id)
)
_MARK_FOLDED = result_unread(
    update(_EVENTS).where(_EVENTS.c.id.in_(bindparam("ids", expanding=True))).values(pending=False)
)


def fold_pending_demand(session: Session, *, limit: int = DEMAND_FOLD_BATCH) -> int:
    """Add up to `limit` deferred signals to their articles' scores; returns how many.

    The events are claimed with SKIP LOCKED, so two hosts folding at once take different ones;
    the articles are then locked in id order, like `record_demand_many`. The caller commits.
    """
    query = lock_claimed_rows(_PENDING_EVENTS.limit(limit), session)
    events = session.execute(query).all()
    if not events:
        return 0
    by_article: dict[int, list[Row]] = {}
    for event in events:
        by_article.setdefault(event.article_id, []).append(event)
    half_life = faq_number("FAQ_HALF_LIFE_DAYS")
    changes: list[_DemandChange] = []
    for row in _locked_demand(session, sorted(by_article)):
        score, at = row.demand_score or 0.0, row.demand_at
        views = row.view_count or 0
        for event in by_article[row.id]:
            score, at = _added(
                score, at or event.created_at, event.weight, event.created_at, half_life
            )
            views += event.kind == "view"
        changes.append({"b_id": row.id, "b_score": score, "b_at": at, "b_views": views})
    if changes:
        session.execute(_SET_DEMAND, changes)
        _refresh_loaded_articles(session, changes)
    session.execute(_MARK_FOLDED, {"ids": [event.id for event in events]})
    return len(events)


def fold_all_pending_demand(app: Flask) -> int:
    """Fold every pending signal, a batch per transaction (short write locks); returns how many."""
    total = 0
    while True:
        with app.app_context(), get_db(app).session() as session:
            folded = fold_pending_demand(session)
        total += folded
        if folded < DEMAND_FOLD_BATCH:
            return total


def demand_service(app: Flask) -> PeriodicTask:
    """`support run` adds the mail worker's deferred signals to the ranking twice a minute."""
    return PeriodicTask("faq-demand", DEMAND_FOLD_SECONDS, lambda: fold_all_pending_demand(app))


def _not_viewed_recently(
    session: Session, ids: list[int], visitor: str, now: datetime
) -> list[int]:
    """The articles this visitor has not viewed within FAQ_VIEW_DEDUP_MINUTES."""
    window = timedelta(minutes=int(faq_number("FAQ_VIEW_DEDUP_MINUTES")))
    seen = set(
        session.scalars(
            select(DemandEvent.article_id).where(
                DemandEvent.article_id.in_(ids),
                DemandEvent.kind == "view",
                DemandEvent.visitor == visitor,
                DemandEvent.created_at > now - window,
            )
        )
    )
    return [article_id for article_id in ids if article_id not in seen]


def _refresh_loaded_articles(session: Session, changes: list[_DemandChange]) -> None:
    """Give Article objects this session holds the values just written.

    The UPDATE bypasses the ORM, so a loaded article (the portal's page, a test) would keep its
    old score; the values are known, so they are set as loaded rather than expired and read again.
    """
    for change in changes:
        article = session.identity_map.get(identity_key(Article, change["b_id"]))
        if article is None:
            continue
        set_committed_value(article, "demand_score", change["b_score"])
        set_committed_value(article, "demand_at", change["b_at"])
        set_committed_value(article, "view_count", change["b_views"])


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
    half_life = faq_number("FAQ_HALF_LIFE_DAYS")
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
    half_life = faq_number("FAQ_HALF_LIFE_DAYS")
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
    app = owning_app()
    ttl = faq_number("FAQ_HOME_CACHE_SECONDS")
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
