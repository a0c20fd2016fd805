"""Keeps the search index in step with the database.

The database is the truth; the index is a copy that can always be rebuilt from it. Changes are
written to the index only after the database commit succeeded (a rolled-back edit must never be
findable), and the index is rebuilt lazily on first use when it is missing or was built by an
older schema, so `create_app` stays free of work.

Several hosts: each keeps its own index. Every commit that changes articles raises the
database's FAQ generation and logs the changed article ids (`FaqChange`); every process
catches its host's index up from that log at most every FAQ_SYNC_SECONDS (`catch_up`), and
rebuilds instead when it is too far behind, the log was pruned past it, or the index was built
by another analysis or embedding model.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from flask import Flask, current_app, has_app_context
from sqlalchemy import delete, event, insert, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from faq import search
from faq.models import Article, Category, FaqChange, FaqGeneration
from faq.search.shared_vectors import FILE_NAME as EMBEDDING_CACHE_FILE
from faq.settings import SETTINGS
from support.core.concurrency import insert_ignoring_conflict
from support.core.db import get_db
from support.core.runner import PeriodicTask

log = logging.getLogger(__name__)

_EXTENSION_KEY = "faq_search_index"
# How often a running process re-checks that the index on disk is usable (another process or an
# operator may have removed it); checking costs one small directory open.
RECHECK_SECONDS = 60.0
# More changed articles than this in one commit are cheaper to index by a full rebuild.
BULK_REBUILD_THRESHOLD = 50
# Generations of the change log kept; a host further behind rebuilds its index.
KEEP_GENERATIONS = 1000

_PENDING = "faq_reindex_ids"
_TARGET = "faq_reindex_index"
_DOCS = "faq_reindex_docs"
_REBUILD = "faq_reindex_rebuild"
_CACHES = "faq_page_cache"
_GENERATION = "faq_generation"
PAGE_CACHE_KEY = "faq_page_cache"  # app.extensions key of cached page data (faq.demand)

_registry_lock = threading.Lock()


class _IndexState:
    def __init__(self, index: search.SearchIndex) -> None:
        self.index = index
        self.checked_at = float("-inf")
        self.synced_at = float("-inf")
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
                embedder = search.load_embedder(str(app.config.get("FAQ_SEMANTIC_MODEL", "")))
                english = search.load_english_model() if embedder is not None else None
                for model in (embedder, english):
                    if model is not None:  # the host's processes share what they embed
                        model.share(index_path(app).parent / EMBEDDING_CACHE_FILE)
                state = _IndexState(
                    search.SearchIndex(index_path(app), embedder=embedder, english=english)
                )
                app.extensions[_EXTENSION_KEY] = state
    return state


def load_models(app: Flask) -> None:
    """Load the app's search models now (they load with its index state), without touching the
    database or the index on disk: a WSGI server's process does it as it starts."""
    _state(app)


def get_index(
    app: Flask | None = None, *, session: Session | None = None, ensure: bool = True
) -> search.SearchIndex:
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
    if ensure and time.monotonic() - state.synced_at > faq_sync_seconds(app):
        catch_up(app, session=session)
    return state.index


def faq_sync_seconds(app: Flask) -> float:
    return float(app.config.get("FAQ_SYNC_SECONDS", 2.0))


def current_generation(session: Session) -> int:
    """The database's FAQ generation (0: no change logged yet)."""
    return session.scalar(select(FaqGeneration.generation).where(FaqGeneration.id == 1)) or 0


def catch_up(app: Flask, *, session: Session | None = None) -> int:
    """Apply the changes other hosts logged since this host's index last did; returns how
    many articles were re-indexed (a rebuild counts them all)."""
    state = _state(app)
    with state.lock:
        state.synced_at = time.monotonic()
        try:
            if session is not None:
                return _catch_up(app, state.index, session)
            with get_db(app).read_session() as own:
                return _catch_up(app, state.index, own)
        except search.SearchIndexBusy as exc:
            # Another process of this host writes the index longer than the lock's wait (a
            # `support faq import` or `faq reindex`): search goes on with the index as it is,
            # and the next catch-up applies what is left. One line, not an error's traceback.
            log.warning("%s; search index left as it is until the next catch-up", exc)
            return 0


def _catch_up(app: Flask, index: search.SearchIndex, session: Session) -> int:
    current = current_generation(session)
    applied = index.synced_generation()
    if applied == current:
        return 0
    if applied is None or applied > current or current - applied > KEEP_GENERATIONS:
        # No record, a database restored from an older backup, or the log was pruned past us.
        log.info("search index at generation %s, database at %s: rebuilding", applied, current)
        return _rebuild(app, index, session)
    rows = session.execute(
        select(FaqChange.generation, FaqChange.article_id).where(
            FaqChange.generation > applied, FaqChange.generation <= current
        )
    ).all()
    ids = {article_id for _generation, article_id in rows}
    if len(ids) > BULK_REBUILD_THRESHOLD:
        return _rebuild(app, index, session)
    docs = _docs_of(session, ids)
    for article_id, doc in docs.items():
        if doc is None:
            index.delete(article_id)
        else:
            index.upsert(doc)
    index.mark_synced(max((g for g, _a in rows), default=current))
    page_cache = app.extensions.get(PAGE_CACHE_KEY)
    if page_cache is not None:
        page_cache.clear()
    log.info("search index caught up to FAQ generation %s (%d articles)", current, len(ids))
    return len(ids)


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


def ensure_index(app: Flask) -> int:
    """Make this host's index current, building it only when needed (`support init`): missing,
    built by another schema or model (no vectors yet), or behind the database's generation.
    Returns how many articles it holds.

    The demo FAQ's import (more than BULK_REBUILD_THRESHOLD articles) already rebuilt it in its
    commit (`_apply_docs`); an unconditional `rebuild_index` after it built it a second time."""
    state = _state(app)
    with state.lock:
        with get_db(app).read_session() as session:
            if state.index.needs_rebuild():
                _rebuild(app, state.index, session)
            else:
                _catch_up(app, state.index, session)
        state.checked_at = state.synced_at = time.monotonic()
        return state.index.doc_count()


def _rebuild(
    app: Flask,
    index: search.SearchIndex,
    session: Session | None,
    progress: Callable[[int], None] | None = None,
) -> int:
    if session is not None:
        return _rebuild_from(session, index, progress)
    with get_db(app).read_session() as own:
        return _rebuild_from(own, index, progress)


def _rebuild_from(
    session: Session, index: search.SearchIndex, progress: Callable[[int], None] | None = None
) -> int:
    # The generation is read first: the articles read next include at least its changes.
    synced = current_generation(session)
    return index.rebuild(published_docs(session), progress=progress, synced=synced)


def is_searchable(article: Article) -> bool:
    return bool(article.is_published and article.category.is_published)


def article_doc(article: Article) -> search.ArticleDoc:
    """What the index stores for one article: approved phrasings only."""
    return search.ArticleDoc(
        article_id=article.id,
        slug=article.slug,
        language=article.language,
        category_id=article.category_id,
        category_name=article.category.name(article.language),
        question=article.question,
        answer=article.answer_md,
        phrasings=[p.text for p in article.phrasings if p.status == "approved"],
    )


def published_docs(session: Session) -> Iterator[search.ArticleDoc]:
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
    session: Session, article_ids: Iterable[int], *, index: search.SearchIndex | None = None
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
    """Log the change for the other hosts and read the changed articles while the transaction
    is still open."""
    ids: set[int] | None = session.info.pop(_PENDING, None)
    if not ids:
        return
    session.info[_GENERATION] = _log_changes(session, ids)
    if len(ids) > BULK_REBUILD_THRESHOLD:
        session.info[_REBUILD] = True
        return
    session.info.setdefault(_DOCS, {}).update(_docs_of(session, ids))


def _docs_of(session: Session, ids: set[int]) -> dict[int, search.ArticleDoc | None]:
    """What the index should hold for these articles now (None: not searchable, or gone)."""
    session.flush()
    statement = (
        select(Article)
        .where(Article.id.in_(ids))
        .options(joinedload(Article.category), selectinload(Article.phrasings))
        .execution_options(populate_existing=True)
    )
    docs: dict[int, search.ArticleDoc | None] = dict.fromkeys(ids)
    for article in session.scalars(statement):
        docs[article.id] = article_doc(article) if is_searchable(article) else None
    return docs


def _log_changes(session: Session, ids: set[int]) -> int:
    """Raise the FAQ generation (its row stays locked until the commit, so generations commit
    in order) and log which articles it changed; returns the new generation."""
    raise_generation = (
        update(FaqGeneration)
        .where(FaqGeneration.id == 1)
        .values(generation=FaqGeneration.generation + 1)
        .returning(FaqGeneration.generation)
    )
    generation = session.scalar(raise_generation)
    if generation is None:
        insert_ignoring_conflict(
            session,
            FaqGeneration.__table__,  # type: ignore[arg-type]
            {"id": 1, "generation": 0},
            index_elements=("id",),
        )
        generation = session.scalar(raise_generation)
    assert generation is not None
    session.execute(
        insert(FaqChange), [{"generation": generation, "article_id": i} for i in sorted(ids)]
    )
    if generation % 100 == 0:
        session.execute(
            delete(FaqChange).where(FaqChange.generation <= generation - KEEP_GENERATIONS)
        )
    return int(generation)


@event.listens_for(Session, "after_commit")
def _apply_docs(session: Session) -> None:
    docs: dict[int, search.ArticleDoc | None] | None = session.info.pop(_DOCS, None)
    rebuild = session.info.pop(_REBUILD, False)
    generation: int | None = session.info.pop(_GENERATION, None)
    if not docs and not rebuild:
        return
    page_cache = session.info.get(_CACHES)
    if page_cache is not None:
        page_cache.clear()
    index: search.SearchIndex | None = session.info.get(_TARGET)
    if index is None:
        log.warning("articles changed but no search index is known; run `support faq reindex`")
        return
    try:
        if generation is not None and index.synced_generation() is None:
            # No index yet, or one of unknown age: the other articles are missing from it too.
            rebuild = True
        if rebuild:
            with Session(session.get_bind()) as fresh:
                _rebuild_from(fresh, index)
            return
        for article_id, doc in (docs or {}).items():
            if doc is None:
                index.delete(article_id)
            else:
                index.upsert(doc)
        if generation is not None:
            # Applied here already: the catch-up need not apply it again (unless behind).
            index.mark_synced(generation, after=generation - 1)
    except Exception:
        # The database change stands; the index catches up at the next `support faq reindex`.
        log.exception("search index update failed after commit; run `support faq reindex`")


@event.listens_for(Session, "after_rollback")
def _forget_docs(session: Session) -> None:
    for key in (_PENDING, _DOCS, _REBUILD, _GENERATION):
        session.info.pop(key, None)


class IndexCheck:
    """Rebuilds a missing or outdated index when `support run` starts (not in create_app), then
    keeps it caught up with changes made on other hosts every FAQ_SYNC_SECONDS."""

    name = "faq-index"

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._sync = PeriodicTask(self.name, faq_sync_seconds(app), lambda: catch_up(app))

    def start(self) -> None:
        get_index(self.app)
        self._sync.start()

    def request_stop(self) -> None:
        self._sync.request_stop()

    def stop(self) -> None:
        self._sync.stop()
        _state(self.app).index.close()
