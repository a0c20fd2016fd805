"""English article rows and word signals for long answers, replayed from cached embeddings.

Community FAQ threads (a title-like question, a long conversational accepted answer:
bench/faq_scale/en_community.json) differ from the budgeting FAQ's two-sentence answers. This
replays the product's English ranking (e5 soft maximum over the question and question-with-
answer-start rows + 0.15 x TF-IDF cosine + 0.2 x all-MiniLM-L6-v2's soft maximum over the same
rows; no candidate floors) and variants of it: other rows for long answers (the question with
each paragraph, with the first paragraph, with the first sentence of each paragraph), the
TF-IDF over a shorter part of the answer or with the question's own cosine added, and other
weights. English questions of TUNING files only.

    python bench/faq_long_answers.py --cache /tmp/long.pkl \
        bench/faq_scale/en_budget.json:bench/faq_scale/en_budget_tune.csv \
        faq/demo_content.json:faq/eval/tune.csv \
        bench/faq_scale/en_community.json:bench/faq_scale/en_community_tune.csv
"""

from __future__ import annotations

import argparse
import logging
import pickle
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import faq_rank_replay as R
from faq_second_model import MiniLM

from faq.search import markdown_to_text
from faq.search.embedding import prepare, segments
from faq.search.terms import article_text, count_articles

TOKENIZER = Path(__file__).resolve().parent.parent / "faq/search/data/minilm-tokenizer.json"
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+")


def paragraphs(answer: str) -> list[str]:
    """The answer's paragraphs (markdown_to_text joins lines, so split first)."""
    parts = [markdown_to_text(p).strip() for p in answer.split("\n")]
    return [p for p in parts if p] or [markdown_to_text(answer)]


def first_sentences(answer: str) -> str:
    return " ".join(_SENTENCE_RE.split(p)[0] for p in paragraphs(answer))


def embed_rows(model: MiniLM, texts: list[str]) -> np.ndarray:
    return model.embed([prepare(t) for t in texts]) if texts else np.zeros((0, 384), np.float32)


ROW_KINDS = {
    "question": (False, lambda d: [d.question], 0),
    "phrasings": (False, R._phrasings, 0),
    "qa": (False, lambda d: [R._qa(d)], 0),
    "q_para": (False, lambda d: [f"{d.question}\n{p}" for p in paragraphs(d.answer)[:6]], 0),
    "q_para1": (False, lambda d: [f"{d.question}\n{paragraphs(d.answer)[0]}"], 0),
    "q_summary": (False, lambda d: [f"{d.question}\n{first_sentences(d.answer)}"], 0),
    "q_summary_multi": (
        False,
        lambda d: (
            [f"{d.question}\n{first_sentences(d.answer)}"] if len(paragraphs(d.answer)) > 1 else []
        ),
        0,
    ),
    "question2": (False, lambda d: [d.question], 0),
    "para": (False, lambda d: paragraphs(d.answer)[:6], 0),
    "q_tail": (
        False,
        lambda d: [f"{d.question}\n{p}" for p in paragraphs(d.answer)[1:6]] or [d.question],
        0,
    ),
}


@dataclass(frozen=True)
class Variant:
    kinds: tuple[str, ...] = ("question", "phrasings", "qa")
    english_kinds: tuple[str, ...] | None = None  # None: the same as kinds
    e5_weight: float = 1.0
    word_weight: float = 0.15
    english_weight: float = 0.2
    question_words: float = 0.0  # + this x the TF-IDF cosine of the question alone
    answer_chars: int = 0  # the TF-IDF reads only this much of the answer (0: the product's)
    # further signals: (row kinds, weight) of e5's / MiniLM's soft maximum over those rows only
    extra_e5: tuple[tuple[tuple[str, ...], float], ...] = ()
    extra_minilm: tuple[tuple[tuple[str, ...], float], ...] = ()
    # queries of at most `short_words` words use these weights instead (None: the same)
    short_words: int = 0
    short_word_weight: float | None = None
    short_english_weight: float | None = None
    short_extra_minilm: tuple[tuple[tuple[str, ...], float], ...] | None = None
    # + this x the share of the query's content-word pairs (single word: the word) in the title
    title_phrase: float = 0.0


VARIANTS: dict[str, Variant] = {
    "base": Variant(),
    "e5+words": Variant(english_weight=0.0),
    "e5 alone": Variant(english_weight=0.0, word_weight=0.0),
    "minilm alone": Variant(e5_weight=0.0, english_weight=1.0, word_weight=0.0),
    "minilm+words": Variant(e5_weight=0.0, english_weight=1.0),
    "+q_para1": Variant(kinds=("question", "phrasings", "qa", "q_para1")),
    "+q_summary": Variant(kinds=("question", "phrasings", "qa", "q_summary")),
    "+q_para": Variant(kinds=("question", "phrasings", "qa", "q_para")),
    "+q_tail": Variant(kinds=("question", "phrasings", "qa", "q_tail")),
    "e5+q_summary": Variant(
        kinds=("question", "phrasings", "qa", "q_summary"),
        english_kinds=("question", "phrasings", "qa"),
    ),
    "minilm+q_summary": Variant(english_kinds=("question", "phrasings", "qa", "q_summary")),
    "words answer 600": Variant(answer_chars=600),
    "words answer 1000": Variant(answer_chars=1000),
    "question words 0.05": Variant(question_words=0.05),
    "question words 0.1": Variant(question_words=0.1),
    "words 0.1": Variant(word_weight=0.1),
    "words 0.2": Variant(word_weight=0.2),
    "words 0.25": Variant(word_weight=0.25),
    "english 0.3": Variant(english_weight=0.3),
    "english 0.4": Variant(english_weight=0.4),
    "english 0.3 words 0.2": Variant(english_weight=0.3, word_weight=0.2),
    "words answer 300": Variant(answer_chars=300),
    "words answer 150": Variant(answer_chars=150),
    "+q_summary+q_tail": Variant(kinds=("question", "phrasings", "qa", "q_summary", "q_tail")),
    "+q_summary english 0.3": Variant(
        kinds=("question", "phrasings", "qa", "q_summary"), english_weight=0.3
    ),
    "+q_summary words 0.2": Variant(
        kinds=("question", "phrasings", "qa", "q_summary"), word_weight=0.2
    ),
    "+q_summary multi": Variant(kinds=("question", "phrasings", "qa", "q_summary_multi")),
    "minilm+q_summary multi": Variant(
        english_kinds=("question", "phrasings", "qa", "q_summary_multi")
    ),
    "minilm+q_para": Variant(english_kinds=("question", "phrasings", "qa", "q_para")),
    "minilm+para": Variant(english_kinds=("question", "phrasings", "qa", "para")),
    "+para": Variant(kinds=("question", "phrasings", "qa", "para")),
    "q_summary for qa": Variant(kinds=("question", "phrasings", "q_summary")),
    "+question twice": Variant(kinds=("question", "phrasings", "qa", "question2")),
    # twentieth session: title-only signals, short-query weights, a title phrase bonus
    "+0.05 e5 title": Variant(extra_e5=((("question",), 0.05),)),
    "+0.1 e5 title": Variant(extra_e5=((("question",), 0.1),)),
    "+0.05 minilm title": Variant(extra_minilm=((("question",), 0.05),)),
    "+0.1 minilm title": Variant(extra_minilm=((("question",), 0.1),)),
    "+0.2 minilm title": Variant(extra_minilm=((("question",), 0.2),)),
    "minilm+para +0.1 minilm title": Variant(
        english_kinds=("question", "phrasings", "qa", "para"),
        extra_minilm=((("question",), 0.1),),
    ),
    "short<=4 minilm title 0.1": Variant(short_words=4, short_extra_minilm=((("question",), 0.1),)),
    "short<=4 minilm title 0.2": Variant(short_words=4, short_extra_minilm=((("question",), 0.2),)),
    "short<=4 english 0.3": Variant(short_words=4, short_english_weight=0.3),
    "short<=4 english 0.4": Variant(short_words=4, short_english_weight=0.4),
    "short<=4 words 0.25": Variant(short_words=4, short_word_weight=0.25),
    "short<=4 words 0.1": Variant(short_words=4, short_word_weight=0.1),
    "short<=4 english 0.3 words 0.2": Variant(
        short_words=4, short_english_weight=0.3, short_word_weight=0.2
    ),
    "title phrase 0.01": Variant(title_phrase=0.01),
    "title phrase 0.02": Variant(title_phrase=0.02),
    "title phrase 0.04": Variant(title_phrase=0.04),
    "minilm+para english 0.3": Variant(
        english_kinds=("question", "phrasings", "qa", "para"), english_weight=0.3
    ),
    "minilm+para words 0.2": Variant(
        english_kinds=("question", "phrasings", "qa", "para"), word_weight=0.2
    ),
}

_WORD_RE = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an the i my me we our you your is are was be do does did can could should would how "
    "what why when where which who to of in on for with and or it this that at from by as "
    "any there so just get up".split()
)


def content_words(text: str) -> list[str]:
    return [w for w in _WORD_RE.findall(text.lower()) if w not in _STOP]


def title_phrase_share(query: str, title: str) -> float:
    """The share of the query's content-word pairs (one word: the word) found in the title."""
    words = content_words(query)
    if not words:
        return 0.0
    title_words = content_words(title)
    if len(words) == 1:
        return float(words[0] in title_words)
    pairs = set(zip(words, words[1:], strict=False))
    title_pairs = set(zip(title_words, title_words[1:], strict=False))
    return len(pairs & title_pairs) / len(pairs)


class Replay:
    def __init__(self, spec: str, cache: R.VectorCache, model: MiniLM) -> None:
        R.ROW_KINDS.clear()
        R.ROW_KINDS.update(ROW_KINDS)
        self.faq = R.load_set(spec, cache)
        docs = self.faq.docs
        self.english = self.faq.languages == "en"
        self.minilm_rows = {
            kind: [embed_rows(model, texts(d)) if d.language == "en" else None for d in docs]
            for kind, (_, texts, _) in ROW_KINDS.items()
        }
        self.ids = list(range(1, len(docs) + 1))
        self._terms: dict[int, object] = {}
        self.queries = [
            (n, q, e) for n, (q, e, la) in enumerate(self.faq.queries) if la == "en" and e
        ]
        self.query_minilm = {
            n: model.embed([prepare(s) for s in segments(q)]) for n, q, _ in self.queries
        }
        self.question_terms = count_articles(
            [(i, d.language, d.question) for i, d in zip(self.ids, docs, strict=True)]
        )
        self._memo: dict[tuple, np.ndarray] = {}

    def terms(self, answer_chars: int):
        if answer_chars not in self._terms:
            self._terms[answer_chars] = count_articles(
                [
                    (
                        i,
                        d.language,
                        article_text(
                            d.question,
                            d.phrasings,
                            markdown_to_text(d.answer)[: answer_chars or None],
                        ),
                    )
                    for i, d in zip(self.ids, self.faq.docs, strict=True)
                ]
            )
        return self._terms[answer_chars]

    def memo(self, key: tuple, make) -> np.ndarray:
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    def e5(self, n: int, kinds: tuple[str, ...]) -> np.ndarray:
        def make() -> np.ndarray:
            rows = [np.concatenate([self.faq.rows[k][i] for k in kinds]) for i in self.ids_]
            return R.pooled(self.faq.query_vectors[n], rows, R.ROW_POOL_TEMPERATURE).max(axis=1)

        return self.memo(("e5", n, kinds), make)

    @property
    def ids_(self) -> range:
        return range(len(self.faq.docs))

    def minilm(self, n: int, kinds: tuple[str, ...]) -> np.ndarray:
        def make() -> np.ndarray:
            out = np.zeros(len(self.faq.docs), np.float32)
            for i in self.ids_:
                if self.minilm_rows[kinds[0]][i] is None:
                    continue
                rows = np.concatenate([self.minilm_rows[k][i] for k in kinds])
                pooled = R.pooled(self.query_minilm[n], [rows], R.ROW_POOL_TEMPERATURE)
                out[i] = pooled[0].max()
            return out

        return self.memo(("mini", n, kinds), make)

    def words(self, n: int, answer_chars: int) -> np.ndarray:
        text = self.faq.queries[n][0]
        return self.memo(
            ("w", n, answer_chars), lambda: self.terms(answer_chars).cosines(text, "en", self.ids)
        )

    def qwords(self, n: int) -> np.ndarray:
        text = self.faq.queries[n][0]
        return self.memo(("qw", n), lambda: self.question_terms.cosines(text, "en", self.ids))

    def rank(self, variant: Variant) -> list[tuple[str, list[str]]]:
        out = []
        for n, query, expected in self.queries:
            short = len(query.split()) <= variant.short_words
            word_weight = variant.word_weight
            english_weight = variant.english_weight
            extra_minilm = variant.extra_minilm
            if short:
                if variant.short_word_weight is not None:
                    word_weight = variant.short_word_weight
                if variant.short_english_weight is not None:
                    english_weight = variant.short_english_weight
                if variant.short_extra_minilm is not None:
                    extra_minilm = variant.short_extra_minilm
            score = variant.e5_weight * self.e5(n, variant.kinds) + word_weight * self.words(
                n, variant.answer_chars
            )
            if english_weight:
                score = score + english_weight * self.minilm(
                    n, variant.english_kinds or variant.kinds
                )
            for kinds, weight in variant.extra_e5:
                score = score + weight * self.e5(n, kinds)
            for kinds, weight in extra_minilm:
                score = score + weight * self.minilm(n, kinds)
            if variant.question_words:
                score = score + variant.question_words * self.qwords(n)
            if variant.title_phrase:
                score = score + variant.title_phrase * self.memo(
                    ("tp", n),
                    lambda query=query: np.asarray(
                        [title_phrase_share(query, d.question) for d in self.faq.docs],
                        np.float32,
                    ),
                )
            score = np.where(self.english, score, -np.inf)
            order = np.argsort(-score, kind="stable")[:10]
            out.append((expected, [str(self.faq.slugs[i]) for i in order]))
        return out


def figures(ranked: list[tuple[str, list[str]]]) -> tuple[float, float, float]:
    r1 = np.mean([got[0] == e for e, got in ranked])
    r5 = np.mean([e in got[:5] for e, got in ranked])
    mrr = np.mean([1 / (got.index(e) + 1) if e in got else 0.0 for e, got in ranked])
    return float(r1), float(r5), float(mrr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+")
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS))
    parser.add_argument("--misses", help="list this variant's misses")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    cache = R.VectorCache(args.cache)
    model = MiniLM(TOKENIZER)
    minilm_cache = args.cache.with_suffix(".minilm.pkl")
    if minilm_cache.exists():
        model.cache = pickle.loads(minilm_cache.read_bytes())
    replays = [Replay(spec, cache, model) for spec in args.sets]
    cache.save()
    minilm_cache.write_bytes(pickle.dumps(model.cache))
    base = [r.rank(VARIANTS["base"]) for r in replays]
    for name in args.variants:
        variant = VARIANTS[name]
        cells = []
        for replay, before in zip(replays, base, strict=True):
            ranked = replay.rank(variant)
            r1, r5, mrr = figures(ranked)
            gained = sum(
                g[0] == e and b[0] != e for (e, g), (_, b) in zip(ranked, before, strict=True)
            )
            lost = sum(
                g[0] != e and b[0] == e for (e, g), (_, b) in zip(ranked, before, strict=True)
            )
            cells.append(f"{replay.faq.name} {r1:.3f}/{r5:.3f}/{mrr:.3f} (+{gained} -{lost})")
            if name == args.misses:
                for (e, got), (_, q, _) in zip(ranked, replay.queries, strict=True):
                    if got[0] != e:
                        print(f"    miss {q!r} -> {e}: {got[:3]}")
        print(f"{name:<24} " + "  ".join(cells))


if __name__ == "__main__":
    main()
