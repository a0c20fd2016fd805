"""Keeps the search index in step with the database.

The database is the truth; the index is a copy that can always be rebuilt from it. Changes are
written to the index only after the database commit succeeded (a rolled-back edit must never be
findable), and the index is rebuilt lazily on first use when it is missing or was built by an
older schema, so `create_app` stays free of work.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from flask import Flask, current_app, has_app_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session, joinedload, selectinload

from faq.models import Article, Category
from faq.search import ArticleDoc, SearchIndex, load_embedder
from faq.settings import SETTINGS
from support.core.db import get_db

log = logging.getLogger(__name__)

_EXTENSION_KEY = "faq_search_index"
# How often a running process re-checks that the index on disk is usable (another process or an
# operator may have removed it); checking costs one small directory open.
RECHECK_SECONDS = 60.0
# More changed articles than this in one commit are cheaper to index by a full rebuild.
BULK_REBUILD_THRESHOLD = 50

_PENDING = "faq_reindex_ids"
_TARGET = "faq_reindex_index"
_DOCS = "faq_reindex_docs"
_REBUILD = "faq_reindex_rebuild"
_CACHES = "faq_page_cache"
PAGE_CACHE_KEY = "faq_page_cache"  # app.extensions key of cached page data (faq.demand)

_registry_lock = threading.Lock()


class _IndexState:
    def __init__(self, index: SearchIndex) -> None:
        self.index = index
        self.checked_at = float("-inf")
        self.lock = threading.Lock()


def index_path(app: Flask) -> Path:
    configured = app.config.get("FAQ_INDEX_DIR")
    return Path(configured) if configured else Path(app.instance_path) / "faq-index"


def owning_app() -> Flask | None:
    """The app whose index and settings apply: the current app, else None.

    Requests, the worker, the services and the CLI all run in an app context; code called
    without one (a script, a test) passes ``app=`` where it needs the index, and gets the
    settings' defaults.
    """
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    return None


def faq_number(name: str) -> float:
    """A numeric FAQ setting of the current app (its default outside an app context), checked:
    the config loader types it already."""
    app = owning_app()
    value = (
        app.config[name] if app is not None else next(s.default for s in SETTINGS if s.name == name)
    )
    if not isinstance(value, int | float):
        raise TypeError(f"{name} is not a number: {value!r}")
    return float(value)


def _state(app: Flask) -> _IndexState:
    state = app.extensions.get(_EXTENSION_KEY)
    if state is None:
        with _registry_lock:
            state = app.extensions.get(_EXTENSION_KEY)
            if state is None:
                embedder = load_embedder(str(app.config.get("FAQ_SEMANTIC_MODEL", "")))
                state = _IndexState(SearchIndex(index_path(app), embedder=embedder))
                app.extensions[_EXTENSION_KEY] = state
    return state


def get_index(
    app: Flask | None = None, *, session: Session | None = None, ensure: bool = True
) -> SearchIndex:
    """The app's search index, rebuilt from the database first if it is missing or outdated.

    Pass the caller's `session` when it may hold an open transaction: a rebuild then reads
    through it instead of opening a second one (SQLite would make the two wait for each other).
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    state = _state(app)
    if ensure and time.monotonic() - state.checked_at > RECHECK_SECONDS:
        with state.lock:
            if time.monotonic() - state.checked_at > RECHECK_SECONDS:
                if state.index.needs_rebuild():
                    log.info(
                        "search index at %s is missing or outdated: rebuilding", state.index.path
                    )
                    _rebuild(app, state.index, session)
                state.checked_at = time.monotonic()
    return state.index


def rebuild_index(
    app: Flask,
    *,
    session: Session | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Index every published article afresh (`support faq reindex`); returns the count.
    `progress` is told how many more articles were indexed, as it goes."""
    state = _state(app)
    with state.lock:
        count = _rebuild(app, state.index, session, progress)
        state.checked_at = time.monotonic()
    return count


def _rebuild(
    app: Flask,
    index: SearchIndex,
    session: Session | None,
    progress: Callable[[int], None] | None = None,
) -> int:
    if session is not None:
        return index.rebuild(published_docs(session), progress=progress)
    with get_db(app).sessionmaker() as own:
        count = index.rebuild(published_docs(own), progress=progress)
        own.rollback()
    return count


def is_searchable(article: Article) -> bool:
    return bool(article.is_published and article.category.is_published)


def article_doc(article: Article) -> ArticleDoc:
    """What the index stores for one article: approved phrasings only."""
    return ArticleDoc(
        article_id=article.id,
        slug=article.slug,
        language=article.language,
        category_id=article.category_id,
        category_name=article.category.name(article.language),
        question=article.question,
        answer=article.answer_md,
        phrasings=[p.text for p in article.phrasings if p.status == "approved"],
    )


def published_docs(session: Session) -> Iterator[ArticleDoc]:
    statement = (
        select(Article)
        .join(Article.category)
        .where(Article.is_published.is_(True), Category.is_published.is_(True))
        .options(joinedload(Article.category), selectinload(Article.phrasings))
        .order_by(Article.id)
    )
    for article in session.scalars(statement):
        yield article_doc(article)


# -- reindex after commit -----------------------------------------------------------------------


def schedule_reindex(
    session: Session, article_ids: Iterable[int], *, index: SearchIndex | None = None
) -> None:
    """Re-index these articles once `session` commits (nothing happens on rollback)."""
    ids = {int(i) for i in article_ids if i is not None}
    if not ids:
        return
    session.info.setdefault(_PENDING, set()).update(ids)
    if index is None and _TARGET not in session.info:
        app = owning_app()
        index = get_index(app, ensure=False) if app is not None else None
    if index is not None:
        session.info[_TARGET] = index
    app = owning_app()
    if app is not None:
        # Pages built from the knowledge base (the home page) are rebuilt after this commit.
        session.info[_CACHES] = app.extensions.setdefault(PAGE_CACHE_KEY, {})


def schedule_category_reindex(session: Session, category: Category) -> None:
    session.flush()
    ids = session.scalars(select(Article.id).where(Article.category_id == category.id)).all()
    schedule_reindex(session, ids)


@event.listens_for(Session, "before_commit")
def _collect_docs(session: Session) -> None:
    """Read the changed articles while the transaction is still open."""
    ids: set[int] | None = session.info.pop(_PENDING, None)
    if not ids:
        return
    if len(ids) > BULK_REBUILD_THRESHOLD:
        session.info[_REBUILD] = True
        return
    session.flush()
    statement = (
        select(Article)
        .where(Article.id.in_(ids))
        .options(joinedload(Article.category), selectinload(Article.phrasings))
        .execution_options(populate_existing=True)
    )
    docs: dict[int, ArticleDoc | None] = dict.fromkeys(ids)
    for article in session.scalars(statement):
        docs[article.id] = article_doc(article) if is_searchable(article) else None
    session.info.setdefault(_DOCS, {}).update(docs)


@event.listens_for(Session, "after_commit")
def _apply_docs(session: Session) -> None:
    docs: dict[int, ArticleDoc | None] | None = session.info.pop(_DOCS, None)
    rebuild = session.info.pop(_REBUILD, False)
    if not docs and not rebuild:
        return
    page_cache = session.info.get(_CACHES)
    if page_cache is not None:
        page_cache.clear()
    index: SearchIndex | None = session.info.get(_TARGET)
    if index is None:
        log.warning("articles changed but no search index is known; run `support faq reindex`")
        return
    try:
        if rebuild:
            with Session(session.get_bind()) as fresh:
                index.rebuild(published_docs(fresh))
            return
        for article_id, doc in (docs or {}).items():
            if doc is None:
                index.delete(article_id)
            else:
                index.upsert(doc)
    except Exception:
        # The database change stands; the index catches up at the next `support faq reindex`.
        log.exception("search index update failed after commit; run `support faq reindex`")


@event.listens_for(Session, "after_rollback")
def _forget_docs(session: Session) -> None:
    for key in (_PENDING, _DOCS, _REBUILD):
        session.info.pop(key, None)


class IndexCheck:
    """Rebuilds a missing or outdated index when `support run` starts (not in create_app)."""

    name = "faq-index"

    def __init__(self, app: Flask) -> None:
        self.app = app

    def start(self) -> None:
        get_index(self.app)

    def stop(self) -> None:
        _state(self.app).index.close()
