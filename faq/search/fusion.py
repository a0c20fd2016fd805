"""Fusing the word search and the semantic (embedding) ranking into one.

A search's candidates (the word search's hits and the semantic ranking's) are ordered by
`blend`: the model's similarity plus WORD_WEIGHT x the TF-IDF cosine of the article's text
(faq.search.terms). Both are bounded scores that mean the same for every query and FAQ size;
BM25's are not (they grow with the query's length and the collection), which is why the word
search's own scores never enter a fusion.

The suggestions while typing are ordered the same way (fifteenth session; with the English
model for English since the eighteenth). Without term
vectors (an index not rebuilt since they came) or without semantic candidates, `fuse` ranks
instead: reciprocal rank fusion, an article
scores ``weight / (K + rank)`` in each ranking it appears in. K and the weights were tuned on
faq/eval/tune.csv (never on the held-out set); docs/semantic-search.md has the figures.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

import numpy as np

#: The portal's results page (faq.knowledge.close_to_first) and the suggestions while typing
#: (SearchIndex.suggest) show only the hits whose score (the model's similarity plus the
#: weighted word cosines, `blend`) is at least this share of the first hit's, the page with a
#: link to all of them: a long tail of loosely related articles reads as a search that did not
#: understand. Chosen on faq/demo_eval.csv (106 questions): the expected article scored at
#: least 0.58 of the first hit's wherever it was not first, so 0.5 keeps every expected article
#: shown in the first five (106 of 106) while the results shown fall from 8.8 to 2.9 a search
#: (docs/measurements.md, twenty-fourth session). An absolute floor was tried and left out: the
#: Chinese questions' scores are low (first hits from 0.03), so a floor cut their answers.
SHOWN_SCORE_SHARE = 0.5

RRF_K = 10.0
LEXICAL_WEIGHT = 1.0
SEMANTIC_WEIGHT = 1.3
# A query of fewer words than this weighs the semantic ranking less, in proportion: one
# keyword's embedding is vague ("refund" sits near the price-protection answer, which mentions
# refunding the difference), while the word search finds exactly the articles that say it.
# Tuned on the keyword rows of faq/eval/tune.csv (19 of 20 first at full weight, 20 at half).
FULL_WEIGHT_TERMS = 2
# The semantic ranking's first article weighs more by its lead over the second: MARGIN_WEIGHT
# per unit of similarity (0.01 ahead: +MARGIN_WEIGHT / 100 of weight). Ranks alone cannot tell
# a clear semantic match from a toss-up, and the word search's second or third place for an
# article that shares one common word ("order", "delivery") otherwise outweighs it. On
# faq/eval/tune.csv (371 rows) fused R@1 en 0.885 -> 0.901 at 10 (0.896 at 5, 0.901 at 20,
# 0.890 at 40, where Chinese falls 0.968 -> 0.955); Chinese unchanged at 10.
MARGIN_WEIGHT = 10.0
# A word-search hit this much less similar to the query than the semantic ranking's first
# article (cosine similarity, see ArticleVectors.similarities) keeps its place in the word
# search's order but adds no weight: it shares words, not meaning. In an FAQ of several hundred
# articles many share a query's common words ("帳單", "account", "budget"), and a first or
# second place in the word search put unrelated articles into the first five. Measured with
# bench/faq_relevance.py on the tuning halves of bench/faq_scale (251 and 188 articles):
# English R@5 0.971 -> 0.980, MRR 0.879 -> 0.886, Chinese 0.802 / 0.960 unchanged (MRR 0.866 ->
# 0.865); faq/eval/tune.csv R@1 unchanged (0.901 en / 0.968 zh), English R@5 0.995 -> 1.000;
# demo_eval.csv English R@5 0.981 -> 1.000; the offers unchanged. Replayed offline on the tuning
# sets, 0.015 and 0.02 measure the same; 0.01 drops Chinese R@5 at scale (0.960 -> 0.944), from
# 0.03 on the English gain is gone.
LEXICAL_GATE = 0.02
# How many articles each ranking contributes (at least; a deep results page asks for more).
FUSION_DEPTH = 50
# Articles not this much closer to the query than the average article (cosine similarity, see
# ArticleVectors.similarities) are not semantic candidates at all. When the word search finds
# nothing, the results are the semantic ranking's alone and must clear MIN_SIMILARITY_ALONE:
# nonsense ("xyzzy", "asdf qwer", "the", "hello", "123456", "啊啊啊") sits at 0.010-0.023, so a
# search for nothing still finds nothing (the gaps report counts those). Beside the word
# search's hits, Chinese queries need less (MIN_SIMILARITY_CHINESE): Chinese texts sit closer to
# each other, so their similarities above the average are smaller. On faq/eval/tune.csv (with
# the earlier pooling of an article's rows, best + 0.5 x mean) 5% of the expected articles sit
# below 0.029 (en) / 0.025 (zh); Chinese fused R@1 0.941 at 0.02, 0.916 at 0.025 (expected
# articles cut from the semantic ranking);
# English R@1 0.895 at 0.025, 0.904 at 0.02, but at 0.02 typed prefixes draw vague neighbours
# into the suggestions ("is cash on delivery" ranks three delivery articles above the
# payment-methods answer it asks for).
MIN_SIMILARITY = 0.025
MIN_SIMILARITY_CHINESE = 0.02
MIN_SIMILARITY_ALONE = 0.025
# A Chinese mail's asking sentences (faq.search.asking.focus, one line each) sit closer still to
# every article: a mail's right article was often just under MIN_SIMILARITY_CHINESE ("我只买一个
# 滤网，59块钱，需要付运费吗？ 我在西藏拉萨，会不会另外加钱？": the shipping fee at 0.0199, the
# next two at 0.017 and 0.012), so no article had a semantic rank and none could be offered.
# Typed questions keep their floor (portal search unchanged). Chosen with
# bench/mail_chinese_floor.py on the Chinese tuning mails (calibration, hand-written sets 1-14),
# floors 0-0.02, a false offer weighing two right ones: 0.0125 in 14 of 15 folds with each set
# left out in turn (0.0175 once; left out, summed: 246 of 291 at 14 false); fitted on all 245 ->
# 246 of 291 expected offered, false offers 14 -> 13 of 142 (0.0125 and every floor below it
# alike); the templated tuning half's Chinese mails 69 of 93 at every floor, one acceptable
# offer more. Most mails it lets in are still below the offer's cut: the floor only lets the
# model's first article be judged. With the Chinese vague words (faq.search.asking.
# VAGUE_WORDS_CHINESE) 245 -> 249 of 291 at 14 -> 13 false offers; the bench run with them in:
# 0.02 248 at 14, 0.0125 249 at 13, the same choice in the same 14 folds.
MIN_SIMILARITY_CHINESE_MAIL = 0.0125


# The TF-IDF cosine's weight beside the model's similarity in `blend` (fifteenth session,
# bench/faq_tfidf_fusion.py on the tuning sets only, each weighing the same: the three large
# FAQs' *_tune.csv, faq/eval/tune.csv, faq/demo_eval.csv). Mean R@1: `fuse` 0.874, the model
# alone 0.857, 0.15 here 0.890 (0.10 / 0.125 / 0.175 / 0.20: 0.881 / 0.888 / 0.888 / 0.888); the
# large FAQs gain 2-5 points (zh_telecom 0.794 -> 0.810, en_budget 0.814 -> 0.863, zh_shop
# 0.907 -> 0.926), the demo sets stay (0.929 -> 0.926, 0.925 -> 0.925). Held out, scored once:
# zh_telecom 0.738 -> 0.810, en_budget 0.706 -> 0.775, zh_shop 0.870 -> 0.870, heldout.csv
# 0.912 -> 0.912 (the model alone 0.794, 0.735, 0.852, 0.900). By score, not rank: a rank gives
# the word search's first place its full weight even when hundreds of articles share its words,
# while a TF-IDF cosine is high only for an article that shares the query's rarer words and
# phrases. The BM25 ranking still finds candidates and gives the hits' `lexical_rank` (the
# offer's confidence reads it). docs/semantic-search.md, "A TF-IDF cosine as the word signal".
WORD_WEIGHT = 0.15
# English questions: + this x the second English model's similarity (faq.search.english_model;
# its soft maximum over the article's rows, like e5's, but raw: every candidate of an English
# search gets one). Chosen with bench/faq_second_model.py on en_budget_tune.csv and the English
# rows of faq/eval/tune.csv (seventeenth session): R@1 0.863 / 0.901 with e5 alone, 0.882 /
# 0.923 at 0.2 (0.1-0.5 all gain on both sets; 0.2 the middle of 0.1-0.3, where fewest
# first places change). docs/semantic-search.md, "A second English model".
ENGLISH_WEIGHT = 0.2


def blend(
    candidates: Sequence[int],
    similarities: Sequence[float],
    word_cosines: Sequence[float],
    english: Sequence[float] | None = None,
) -> list[tuple[int, float]]:
    """(article id, similarity + WORD_WEIGHT x TF-IDF cosine [+ ENGLISH_WEIGHT x the English
    model's similarity]), best first; ties keep the order of `candidates` (the semantic
    ranking's, then the word search's). `similarities`: each candidate's similarity to the
    query (see ArticleVectors.similarities); `word_cosines`: its TF-IDF cosine (see
    TermVectors.cosines); `english`: for an English question, each candidate's similarity by
    the second English model (see faq.search.english_model; None: no such model)."""
    second = english if english is not None else [0.0] * len(candidates)
    scored = [
        (article_id, float(similarity) + WORD_WEIGHT * float(words) + ENGLISH_WEIGHT * float(e))
        for article_id, similarity, words, e in zip(
            candidates, similarities, word_cosines, second, strict=True
        )
    ]
    order = {article_id: i for i, article_id in enumerate(candidates)}
    return sorted(scored, key=lambda item: (-item[1], order[item[0]]))


def fuse(
    lexical: Sequence[int],
    semantic: Sequence[int],
    *,
    query_terms: int = FULL_WEIGHT_TERMS,
    semantic_margin: float = 0.0,
    unlike: Collection[int] = (),
) -> list[tuple[int, float]]:
    """(article id, fused score), best first; ties keep the lexical order, then the semantic.
    `query_terms`: how many words the query has (see FULL_WEIGHT_TERMS); `semantic_margin`:
    how much more similar the semantic ranking's first article is than its second (see
    MARGIN_WEIGHT); `unlike`: word-search hits that add no weight (see LEXICAL_GATE)."""
    scores: dict[int, float] = {}
    scale = min(1.0, max(1, query_terms) / FULL_WEIGHT_TERMS)
    semantic_weight = SEMANTIC_WEIGHT * scale
    for weight, ranked in ((LEXICAL_WEIGHT, lexical), (semantic_weight, semantic)):
        for position, article_id in enumerate(ranked, start=1):
            gained = 0.0 if ranked is lexical and article_id in unlike else weight
            scores[article_id] = scores.get(article_id, 0.0) + gained / (RRF_K + position)
    if semantic:
        bonus = MARGIN_WEIGHT * scale * max(0.0, semantic_margin) / (RRF_K + 1)
        scores[semantic[0]] += bonus
    order = {article_id: i for i, article_id in enumerate([*lexical, *semantic])}
    return sorted(scores.items(), key=lambda item: (-item[1], order[item[0]]))


def unlike_hits(
    lexical: Sequence[int], similarity_of: Callable[[int], float | None], best: float | None
) -> set[int]:
    """The word-search hits (article ids) less similar than `best` (the semantic ranking's first
    similarity; None: no semantic candidate, nothing is left out) by LEXICAL_GATE or more.
    `similarity_of`: an article's similarity (None: not known, kept)."""
    if best is None:
        return set()
    unlike = set()
    for article_id in lexical:
        similarity = similarity_of(article_id)
        if similarity is not None and similarity < best - LEXICAL_GATE:
            unlike.add(article_id)
    return unlike


def semantic_floor(lexical_hits: int, language: str | None, *, mail: bool = False) -> float:
    """The similarity a semantic candidate needs beside this many word-search hits, for a
    query in `language` (None: unknown); `mail`: the query is a mail's focus, not a typed
    question (see MIN_SIMILARITY_CHINESE_MAIL)."""
    if not lexical_hits:
        return MIN_SIMILARITY_ALONE
    if language == "zh":
        return MIN_SIMILARITY_CHINESE_MAIL if mail else MIN_SIMILARITY_CHINESE
    return MIN_SIMILARITY


def top_similar(
    similarities: np.ndarray, allowed: np.ndarray | None, depth: int, floor: float
) -> list[int]:
    """Positions of the `depth` most similar rows at or above `floor`, best first."""
    candidates = similarities >= floor
    if allowed is not None:
        candidates &= allowed
    positions = np.flatnonzero(candidates)
    if positions.size > depth:
        positions = positions[np.argpartition(-similarities[positions], depth - 1)[:depth]]
    return positions[np.argsort(-similarities[positions], kind="stable")].tolist()
