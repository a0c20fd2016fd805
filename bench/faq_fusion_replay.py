"""Offline replay of the FAQ search's two rankings, so that a fusion variant costs seconds.

`record` indexes each FAQ once (embedding is slow: 4-5 articles/s), runs every question of the
given files through the portal's search (`faq_relevance.searcher`: the query's language first,
every language when that finds nothing; and the offer's search) and stores, per question, what
the fusion saw: the text searched (after `focus` and any spelling correction), the word search's
hits and scores, the semantic candidates, every article's similarity and cosine, the search's
5th similarity (for `standout`) and the fusion's own arguments. `load` reads it back; `replay`
ranks with a variant and scores R@1 / R@5 / MRR@10 and the offers exactly as faq.evaluate does.

    .venv/bin/python bench/faq_fusion_replay.py record OUT.pkl --content FAQ.json FILE.csv ...

Used by bench/faq_tfidf_fusion.py. Only tuning files are recorded until a variant is chosen.
"""

from __future__ import annotations

import argparse
import logging
import pickle
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import faq.search.engine as engine
from faq.evaluate import load_demo_docs, read_eval_csv
from faq.search import ArticleDoc, SearchIndex, load_embedder
from faq.search.vectors import ArticleVectors
from support.core.text import detect_language


@dataclass
class Searched:
    """What one fused search (`SearchIndex._ranked`) saw."""

    text: str
    language: str | None
    lexical: list[int]
    lexical_scores: list[float]
    semantic: list[int]
    fuse_kwargs: dict[str, Any]
    similarities: np.ndarray  # per article of the vectors (order: article_ids)
    cosines: np.ndarray
    pack: float
    product: list[int]  # the product's own order of the page asked for
    hits: list[Any] = field(default_factory=list)  # the product's SearchHits (offers)


@dataclass
class Question:
    query: str
    expected: str
    ranked: Searched | None  # the portal's search (None: nothing searched with the vectors)
    offer: Searched | None  # the offer's search (limit 6, no spelling)


@dataclass
class Recorded:
    name: str
    docs: list[ArticleDoc]
    article_ids: np.ndarray
    languages: np.ndarray
    files: dict[str, list[Question]]


_state: dict[str, Any] = {"records": {}}
_orig_rank, _orig_fuse, _orig_ranked = engine.rank, engine.fuse, SearchIndex._ranked
_orig_scores = ArticleVectors.scores
_orig_pack = engine._pack_similarity


def _rank(*args, **kwargs):
    found = _orig_rank(*args, **kwargs)
    _state["lexical_scores"] = [score for _, score in found[1]]
    return found


def _fuse(lexical, semantic, **kwargs):
    _state["lexical"], _state["semantic"], _state["fuse_kwargs"] = (
        list(lexical),
        list(semantic),
        dict(kwargs),
    )
    return _orig_fuse(lexical, semantic, **kwargs)


def _scores(self, queries, allowed):
    found = _orig_scores(self, queries, allowed)
    _state["similarities"], _state["cosines"] = found
    return found


def _pack(similarities, allowed):
    _state["pack"] = value = _orig_pack(similarities, allowed)
    return value


def _ranked(self, ranking, text, allowed, language, category_id, preferred, limit, page, snip):
    _state.clear()
    results = _orig_ranked(
        self, ranking, text, allowed, language, category_id, preferred, limit, page, snip
    )
    if "fuse_kwargs" in _state:
        kwargs = dict(_state["fuse_kwargs"])
        kwargs["unlike"] = set(kwargs.get("unlike", ()))
        _state["records"][id(results.hits)] = Searched(
            text=text,
            language=language,
            lexical=_state["lexical"],
            lexical_scores=_state["lexical_scores"],
            semantic=_state["semantic"],
            fuse_kwargs=kwargs,
            similarities=np.asarray(_state["similarities"], np.float32).copy(),
            cosines=np.asarray(_state["cosines"], np.float32).copy(),
            pack=_state["pack"],
            product=[hit.article_id for hit in results.hits],
            hits=list(results.hits),
        )
    return results


def _install() -> None:
    engine.rank, engine.fuse, engine._pack_similarity = _rank, _fuse, _pack
    SearchIndex._ranked = _ranked  # type: ignore[method-assign]
    ArticleVectors.scores = _scores  # type: ignore[method-assign]
    # The rank fusion's inputs are what is recorded (its "current" replay is checked against the
    # product's order); with term vectors the product orders by faq.search.fusion.blend instead,
    # which bench/faq_tfidf_fusion.py replays from the same inputs.
    SearchIndex.term_vectors = lambda self: None  # type: ignore[method-assign]


class _Keeping(dict):
    """Per-search state; `_ranked` clears it, but the records of the search stay."""

    def clear(self) -> None:
        records = self.get("records")
        super().clear()
        self["records"] = records


def _search_keep(index: SearchIndex, records: dict[int, Searched], **kwargs: Any):
    global _state
    _state = _Keeping(records=records)
    return index.search(**kwargs)


def record(out: Path, content: Path, files: Sequence[Path]) -> None:
    logging.disable(logging.WARNING)
    _install()
    docs = load_demo_docs(content)
    embedder = load_embedder()
    assert embedder is not None
    with tempfile.TemporaryDirectory() as tmp:
        index = SearchIndex(Path(tmp) / "hybrid", embedder=embedder)
        index.rebuild(docs)
        vectors = index.vectors()
        assert vectors is not None
        recorded = Recorded(
            content.stem,
            docs,
            vectors.article_ids.copy(),
            vectors.languages.copy(),
            {},
        )
        for path in files:
            questions = []
            for query, expected in read_eval_csv(path):
                language = detect_language(query, min_cjk_share=0)
                ranked, ids = _search_keep_ids(index, text=query, language=language)
                if not ids:
                    ranked, ids = _search_keep_ids(index, text=query)
                offer, _ = _search_keep_ids(
                    index, text=query, language=language, limit=6, spelling=False, snippets=False
                )
                questions.append(Question(query, expected, ranked, offer))
            recorded.files[path.name] = questions
            print(f"{content.stem}: recorded {path.name} ({len(questions)} questions)", flush=True)
    with open(out, "wb") as fh:
        pickle.dump(recorded, fh)


def _search_keep_ids(index: SearchIndex, **kwargs: Any) -> tuple[Searched | None, list[int]]:
    records: dict[int, Searched] = {}
    results = _search_keep(index, records, **kwargs)
    return records.get(id(results.hits)), [hit.article_id for hit in results.hits]


class _Unpickler(pickle.Unpickler):
    """`record` runs as __main__: its classes are this module's."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "__main__":
            return globals()[name]
        return super().find_class(module, name)


def load(path: Path) -> Recorded:
    with open(path, "rb") as fh:
        return _Unpickler(fh).load()  # our own file, written by `record`


Ranker = Callable[[Recorded, Searched], list[int]]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("out", type=Path)
    rec.add_argument("--content", type=Path, required=True)
    rec.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    record(args.out, args.content, args.files)


if __name__ == "__main__":
    main()
