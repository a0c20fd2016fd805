"""Two processes of one host write its search index: a rebuild that waited for the other
writer's lock is not done again when that writer already built the same database generation
(found following docs/deploy.md: `support faq import` beside the running portal built the index,
then the portal built it a second time, 23 s under load)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

from faq.evaluate import load_demo_docs
from faq.search import ArticleDoc, SearchIndex


def _held_until(release: threading.Event, docs: list[ArticleDoc]) -> Iterator[ArticleDoc]:
    release.wait(30)
    yield from docs


def test_a_rebuild_that_waited_for_another_writer_of_the_same_generation_is_skipped(
    tmp_path: Path,
) -> None:
    docs = load_demo_docs()[:6]
    SearchIndex(tmp_path).rebuild(docs[:3], synced=4)
    release = threading.Event()
    importer, portal = SearchIndex(tmp_path), SearchIndex(tmp_path)  # two processes' handles
    first = threading.Thread(
        target=importer.rebuild, args=(_held_until(release, docs),), kwargs={"synced": 5}
    )
    first.start()  # `faq import`: holds the lock while it reads generation 5's articles
    time.sleep(0.3)
    read: list[ArticleDoc] = []

    def portal_docs() -> Iterator[ArticleDoc]:
        for doc in docs:
            read.append(doc)
            yield doc

    second = threading.Thread(target=portal.rebuild, args=(portal_docs(),), kwargs={"synced": 5})
    second.start()  # sees generation 4, waits for the lock
    time.sleep(0.5)
    release.set()
    first.join(30)
    second.join(30)
    assert importer.doc_count() == 6
    assert read == []  # the portal did not read the articles again: nothing rebuilt
    assert portal.doc_count() == 6


def test_a_rebuild_from_a_later_generation_still_runs(tmp_path: Path) -> None:
    docs = load_demo_docs()[:4]
    index = SearchIndex(tmp_path)
    index.rebuild(docs[:2], synced=4)
    assert index.rebuild(docs, synced=3) == 4  # a restored database: behind, rebuilt anyway
    assert index.synced_generation() == 3
