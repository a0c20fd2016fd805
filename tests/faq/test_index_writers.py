"""Two processes of one host write its search index: a rebuild that waited for the other
writer's lock is not done again when that writer already built the same database generation
(found following docs/deploy.md: `support faq import` beside the running portal built the index,
then the portal built it a second time, 23 s under load)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from faq.evaluate import load_demo_docs
from faq.search import ArticleDoc, SearchIndex


def _held_until(
    release: threading.Event, docs: list[ArticleDoc], reading: threading.Event | None = None
) -> Iterator[ArticleDoc]:
    if reading is not None:
        reading.set()  # read inside the write lock: the lock is held
    release.wait(60)
    yield from docs


def test_a_rebuild_that_waited_for_another_writer_of_the_same_generation_is_skipped(
    tmp_path: Path,
) -> None:
    docs = load_demo_docs()[:6]
    SearchIndex(tmp_path).rebuild(docs[:3], synced=4)
    release = threading.Event()
    importer, portal = SearchIndex(tmp_path), SearchIndex(tmp_path)  # two processes' handles
    holding, waiting = threading.Event(), threading.Event()
    first = threading.Thread(
        target=importer.rebuild, args=(_held_until(release, docs, holding),), kwargs={"synced": 5}
    )
    first.start()  # `faq import`: holds the lock while it reads generation 5's articles
    assert holding.wait(60)  # (a sleep of 0.3 s assumed it; a loaded machine may take longer)
    read: list[ArticleDoc] = []
    write_lock = portal._write_lock

    def noted_write_lock() -> Any:
        waiting.set()  # the generation it saw is read: it asks for the lock now
        return write_lock()

    portal._write_lock = noted_write_lock  # type: ignore[method-assign]

    def portal_docs() -> Iterator[ArticleDoc]:
        for doc in docs:
            read.append(doc)
            yield doc

    second = threading.Thread(target=portal.rebuild, args=(portal_docs(),), kwargs={"synced": 5})
    second.start()  # sees generation 4, waits for the lock
    assert waiting.wait(60)
    time.sleep(0.2)  # into the lock's wait (either way it saw generation 4 before the first ended)
    release.set()
    first.join(60)
    second.join(60)
    assert importer.doc_count() == 6
    assert read == []  # the portal did not read the articles again: nothing rebuilt
    assert portal.doc_count() == 6


def test_a_rebuild_from_a_later_generation_still_runs(tmp_path: Path) -> None:
    docs = load_demo_docs()[:4]
    index = SearchIndex(tmp_path)
    index.rebuild(docs[:2], synced=4)
    assert index.rebuild(docs, synced=3) == 4  # a restored database: behind, rebuilt anyway
    assert index.synced_generation() == 3
