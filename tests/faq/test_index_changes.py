"""Article saves append to the generation's change log (faq.search.changes) instead of rewriting
the vector and term files: searches after the saves equal a fresh rebuild's, an interrupted write
leaves a readable state (the one before it), another process reads the appended changes, and the
log is merged into the main files when it outgrows its bound."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from faq.evaluate import load_demo_docs
from faq.search import ArticleDoc, Embedder, SearchIndex, changes, load_english_model
from faq.search.terms import TERMS_FILE, hashed_counts, read_terms
from faq.search.vectors import ENGLISH, PRIMARY, read_vectors, write_vectors

ROOT = Path(__file__).resolve().parents[2]
QUERIES = (
    "kettle descale",
    "my parcel is late",
    "refund for a broken purifier",
    "change my password",
    "zebra striped kettle",
    "退货运费谁付",
    "发票怎么开",
    "滤网多久换一次",
    "会员积分",
)
MAIN_FILES = (PRIMARY.matrix, PRIMARY.meta, ENGLISH.matrix, ENGLISH.meta, TERMS_FILE)


@pytest.fixture(scope="module")
def english() -> Embedder | None:
    """The English model when installed (its rows go to the log too); None: e5 alone."""
    return load_english_model()


@pytest.fixture
def docs() -> list[ArticleDoc]:
    return load_demo_docs()


def _index(path: Path, embedder: Embedder, english: Embedder | None) -> SearchIndex:
    return SearchIndex(path, embedder=embedder, english=english)


def _save(index: SearchIndex, docs: list[ArticleDoc], number: int) -> None:
    """The `number`th of a series of saves: edits of English and Chinese articles, a
    deletion, a deleted article back; `docs` follows them (what a rebuild reads)."""
    english_docs = [i for i, d in enumerate(docs) if d.language == "en"]
    chinese_docs = [i for i, d in enumerate(docs) if d.language == "zh"]
    kind = number % 4
    if kind == 0:
        at = english_docs[number % len(english_docs)]
        docs[at] = replace(docs[at], answer=docs[at].answer + f" Descale the kettle {number}.")
        index.upsert(docs[at])
    elif kind == 1:
        at = chinese_docs[number % len(chinese_docs)]
        docs[at] = replace(docs[at], question=f"退货的运费由谁承担？({number})")
        index.upsert(docs[at])
    elif kind == 2:
        at = english_docs[(number + 3) % len(english_docs)]
        docs[at] = replace(docs[at], question="Can the zebra-striped kettle be descaled?")
        index.upsert(docs[at])
    else:
        gone = docs.pop(chinese_docs[(number + 5) % len(chinese_docs)])
        index.delete(gone.article_id)
        docs.append(replace(gone, answer=gone.answer + " 会员积分可以抵扣运费。"))
        index.upsert(docs[-1])


def _results(index: SearchIndex) -> dict[str, list[tuple[int, float]]]:
    found = {}
    for query in QUERIES:
        hits = index.search(query, limit=10, spelling=False, snippets=False).hits
        found[query] = [(h.article_id, h.score) for h in hits]
    return found


def _assert_same_results(index: SearchIndex, rebuilt: SearchIndex) -> None:
    mine, theirs = _results(index), _results(rebuilt)
    for query in QUERIES:
        assert [a for a, _ in mine[query]] == [a for a, _ in theirs[query]], query
        assert [s for _, s in mine[query]] == pytest.approx([s for _, s in theirs[query]], abs=1e-5)


def _assert_same_rows(folder: Path, other: Path) -> None:
    """Every article has the same rows of each model and the same term counts in both."""
    for files in (PRIMARY, ENGLISH):
        mine, theirs = read_vectors(folder, files), read_vectors(other, files)
        if theirs is None:
            assert mine is None
            continue
        assert mine is not None
        assert sorted(mine.article_ids.tolist()) == sorted(theirs.article_ids.tolist())
        for article_id in theirs.article_ids.tolist():
            a, b = mine.only(article_id), theirs.only(article_id)
            assert a is not None and b is not None
            np.testing.assert_array_equal(a.matrix, b.matrix)
            assert (a.languages.tolist(), a.category_ids.tolist()) == (
                b.languages.tolist(),
                b.category_ids.tolist(),
            )
    mine_terms, their_terms = read_terms(folder), read_terms(other)
    assert mine_terms is not None and their_terms is not None
    order = [mine_terms.position(int(a)) for a in their_terms.article_ids]
    assert (mine_terms.counts[order] != their_terms.counts).nnz == 0
    assert mine_terms.languages[order].tolist() == their_terms.languages.tolist()


def _live(index: SearchIndex) -> Path:
    pointer = index._read_pointer(use_cache=False)
    assert pointer is not None
    return index.path / pointer["generation"]


def _inodes(folder: Path) -> dict[str, int]:
    return {name: os.stat(folder / name).st_ino for name in MAIN_FILES if (folder / name).exists()}


@pytest.fixture
def built(
    embedder: Embedder, english: Embedder | None, docs: list[ArticleDoc], tmp_path: Path
) -> Iterator[SearchIndex]:
    index = _index(tmp_path / "ix", embedder, english)
    index.rebuild(docs)
    yield index
    index.close()


def _rebuilt(
    embedder: Embedder, english: Embedder | None, docs: list[ArticleDoc], path: Path
) -> SearchIndex:
    fresh = _index(path, embedder, english)
    fresh.rebuild(docs)
    return fresh


def test_saves_append_and_search_as_a_rebuild_would(
    built: SearchIndex, embedder, english, docs, tmp_path: Path
) -> None:
    folder = _live(built)
    before = _inodes(folder)
    for number in range(8):
        _save(built, docs, number)
    log = changes.read_log(folder)
    assert log is not None and len(log.changes) == 10  # two of the saves are two writes each
    assert _inodes(folder) == before  # no main file was written again

    rebuilt = _rebuilt(embedder, english, docs, tmp_path / "fresh")
    _assert_same_results(built, rebuilt)
    _assert_same_rows(folder, _live(rebuilt))
    rebuilt.close()


def test_the_log_is_merged_when_it_outgrows_its_bound(
    built: SearchIndex, embedder, english, docs, tmp_path: Path, monkeypatch
) -> None:
    folder = _live(built)
    before = _inodes(folder)
    _save(built, docs, 0)
    _save(built, docs, 1)
    log = changes.read_log(folder)
    assert log is not None and len(log.changes) == 2
    monkeypatch.setattr(changes, "MERGE_FRACTION", 0.0)
    monkeypatch.setattr(changes, "MIN_MERGE_BYTES", log.size)
    _save(built, docs, 2)  # the log reaches the bound: appended
    log = changes.read_log(folder)
    assert log is not None and len(log.changes) == 3 and _inodes(folder) == before

    _save(built, docs, 4)  # past it: merged into new main files, an empty log of a new token
    merged = changes.read_log(folder)
    assert merged is not None and merged.changes == () and merged.token != log.token
    after = _inodes(folder)
    assert set(after) == set(before) and all(after[n] != before[n] for n in before)
    _save(built, docs, 5)
    assert len(changes.read_log(folder).changes) == 1  # type: ignore[union-attr]

    rebuilt = _rebuilt(embedder, english, docs, tmp_path / "fresh")
    _assert_same_results(built, rebuilt)
    _assert_same_rows(folder, _live(rebuilt))
    rebuilt.close()


def test_a_torn_record_leaves_the_state_before_it(
    built: SearchIndex, embedder, english, docs, tmp_path: Path
) -> None:
    folder = _live(built)
    _save(built, docs, 0)
    good = (folder / changes.LOG_FILE).read_bytes()
    state = read_vectors(folder)
    _save(built, docs, 1)
    record = (folder / changes.LOG_FILE).read_bytes()[len(good) :]
    # A writer that died in the middle of its record (or one still writing it).
    (folder / changes.LOG_FILE).write_bytes(good + record[: len(record) // 2])
    assert len(changes.read_log(folder).changes) == 1  # type: ignore[union-attr]
    torn = read_vectors(folder)
    assert torn is not None and state is not None
    assert torn.article_ids.tolist() == state.article_ids.tolist()
    np.testing.assert_array_equal(torn.matrix, state.matrix)

    _save(built, docs, 1)  # the next save writes the log without the torn bytes first
    log = changes.read_log(folder)
    assert log is not None and len(log.changes) == 2 and log.seen == log.size
    rebuilt = _rebuilt(embedder, english, docs, tmp_path / "fresh")
    _assert_same_results(built, rebuilt)
    rebuilt.close()


def test_a_merge_cut_short_leaves_the_state_before_it(
    built: SearchIndex, embedder, english, docs, tmp_path: Path
) -> None:
    folder = _live(built)
    for number in range(3):
        _save(built, docs, number)
    expected = _results(built)
    # A merge that died after its first main file: e5's vectors of a new token, the rest and
    # the log of the old one.
    write_vectors(folder, read_vectors(folder), PRIMARY, changes.new_token())  # type: ignore[arg-type]
    assert _results(built) == expected

    token = changes.read_log(folder).token  # type: ignore[union-attr]
    _save(built, docs, 3)  # a deletion, merged (every main file and the log of one token), then
    log = changes.read_log(folder)  # the article back, appended
    assert log is not None and log.token != token and len(log.changes) == 1
    rebuilt = _rebuilt(embedder, english, docs, tmp_path / "fresh")
    _assert_same_results(built, rebuilt)
    _assert_same_rows(folder, _live(rebuilt))
    rebuilt.close()


def test_a_matrix_without_its_description_is_not_read(built: SearchIndex, embedder) -> None:
    """A reader between the two renames of a main file's write (same number of rows, other
    order) gets no vectors rather than rows that belong to other articles."""
    folder = _live(built)
    vectors = read_vectors(folder)
    assert vectors is not None
    np.save(folder / PRIMARY.matrix, vectors.matrix[::-1].astype(np.float16))
    assert read_vectors(folder) is None
    assert built.search("kettle descale", spelling=False, snippets=False).hits  # words alone


READER = """
import json, sys
from pathlib import Path
from faq.search.terms import read_terms
from faq.search.vectors import read_vectors
folder = Path(sys.argv[1])
for _line in sys.stdin:
    vectors, terms = read_vectors(folder), read_terms(folder)
    rows = {int(a): float(vectors.only(int(a)).matrix.sum()) for a in vectors.article_ids}
    print(json.dumps({"rows": rows, "terms": sorted(terms.article_ids.tolist())}), flush=True)
"""


def _state(folder: Path) -> dict:
    vectors, terms = read_vectors(folder), read_terms(folder)
    assert vectors is not None and terms is not None
    rows = {str(int(a)): float(vectors.only(int(a)).matrix.sum()) for a in vectors.article_ids}  # type: ignore[union-attr]
    return {"rows": rows, "terms": sorted(terms.article_ids.tolist())}


def test_another_process_reads_the_appended_changes(
    built: SearchIndex, docs, monkeypatch, tmp_path: Path
) -> None:
    folder = _live(built)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert reader.stdin is not None and reader.stdout is not None

    def ask() -> dict:
        reader.stdin.write("\n")  # type: ignore[union-attr]
        reader.stdin.flush()  # type: ignore[union-attr]
        return json.loads(reader.stdout.readline())  # type: ignore[union-attr]

    try:
        assert ask() == _state(folder)  # the main files, now in its cache
        for number in range(4):
            _save(built, docs, number)
            seen = ask()
            assert seen == _state(folder)
        edited = docs[0].article_id
        assert seen["rows"][str(edited)] != 0.0
        monkeypatch.setattr(changes, "MIN_MERGE_BYTES", 0)
        monkeypatch.setattr(changes, "MERGE_FRACTION", 0.0)
        _save(built, docs, 4)  # merged
        assert changes.read_log(folder).changes == ()  # type: ignore[union-attr]
        assert ask() == _state(folder)
        _save(built, docs, 5)
        assert ask() == _state(folder)
    finally:
        reader.stdin.close()
        reader.wait(timeout=30)
        reader.stdout.close()


def test_concurrent_writers_append_every_save(
    embedder: Embedder, english: Embedder | None, docs, tmp_path: Path
) -> None:
    _index(tmp_path / "ix", embedder, english).rebuild(docs)
    english_docs = [d for d in docs if d.language == "en"]

    def write(start: int) -> None:
        own = _index(tmp_path / "ix", embedder, english)
        for doc in english_docs[start : start + 4]:
            own.upsert(replace(doc, answer=doc.answer + " Now also by boat."))

    threads = [threading.Thread(target=write, args=(start,)) for start in (0, 10, 20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    index = _index(tmp_path / "ix", embedder, english)
    folder = _live(index)
    assert len(changes.read_log(folder).changes) == 12  # type: ignore[union-attr]
    terms = read_terms(folder)
    assert terms is not None
    boat = hashed_counts(["boat"])[0][0]
    for doc in english_docs[:24]:
        position = terms.position(doc.article_id)
        assert position is not None
        assert (terms.counts[position, boat] > 0) == (
            doc in english_docs[:4] + english_docs[10:14] + english_docs[20:24]
        )
    assert sorted(read_vectors(folder).article_ids.tolist()) == sorted(  # type: ignore[union-attr]
        d.article_id for d in docs
    )


def test_a_process_without_the_english_model_keeps_its_rows(
    built: SearchIndex, embedder: Embedder, english: Embedder | None, docs, monkeypatch
) -> None:
    if english is None:
        pytest.skip("the optional English model is not installed")
    folder = _live(built)
    article = next(d for d in docs if d.language == "en")
    rows = read_vectors(folder, ENGLISH).only(article.article_id)  # type: ignore[union-attr]
    alone = SearchIndex(built.path, embedder=embedder)  # e5 only: writes no English rows
    alone.upsert(replace(article, answer=article.answer + " Descale monthly."))
    kept = read_vectors(folder, ENGLISH).only(article.article_id)  # type: ignore[union-attr]
    np.testing.assert_array_equal(kept.matrix, rows.matrix)  # type: ignore[union-attr]

    monkeypatch.setattr(changes, "MIN_MERGE_BYTES", 0)
    monkeypatch.setattr(changes, "MERGE_FRACTION", 0.0)
    alone.delete(docs[-1].article_id)  # merged: the English rows carried into the new files
    assert changes.read_log(folder).changes == ()  # type: ignore[union-attr]
    kept = read_vectors(folder, ENGLISH).only(article.article_id)  # type: ignore[union-attr]
    np.testing.assert_array_equal(kept.matrix, rows.matrix)  # type: ignore[union-attr]
    alone.close()
