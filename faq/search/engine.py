"""Searching: queries become weighted clauses, ranked, and turned into hits with snippets."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

import numpy as np
from whoosh.lang.porter import stem

from faq.search.analysis import (
    ENGLISH_STOP_WORDS,
    MAX_QUERY_CHARS,
    MAX_QUERY_TERMS,
    SPELLING_ANALYZER,
    _first_distinct,
    _latin_words,
    _run_chars,
    analyze,
    query_terms,
)
from faq.search.asking import focus, is_mail, only_a_reference
from faq.search.dictionary import RARE_RANK, english_rank, is_english_word
from faq.search.english_model import LANGUAGE as ENGLISH_LANGUAGE
from faq.search.fusion import (
    FUSION_DEPTH,
    SHOWN_SCORE_SHARE,
    blend,
    fuse,
    semantic_floor,
    top_similar,
    unlike_hits,
)
from faq.search.homophones import corrections, read_as_pinyin
from faq.search.negation import negated_first
from faq.search.ranking import Clause, Ranking, rank
from faq.search.snippets import snippet_html
from faq.search.storage import CHARS_WEIGHT, QUERY_WEIGHTS, IndexStorage, _Reader
from faq.search.vectors import ArticleVectors
from support.core.text import (
    CJK_RUN_RE,
    detect_language,
    pinyin_as_chinese,
    without_markup,
    written_in_pinyin,
)

_QUERY_FIELDS = tuple(QUERY_WEIGHTS)  # where a query's words are looked for

# A hit's `standout` is measured from the similarity of the search's 5th nearest article: unlike
# the similarity relative to the average article, it does not grow with the FAQ's size (right
# first hits lead by a median 0.036-0.043 on FAQs of 60 to 251 articles).
STANDOUT_RANK = 5
FEW_RESULTS = 3  # fewer hits than this count as poor results for "did you mean"
MAX_PREFIX_EXPANSIONS = 30
# A corrected query is used when its best word-search score beats the typed query's by this
# factor ("parcel never arrived" 20.0 against "parcle never arrived" 14.1, which found the
# password article through "never").
CORRECTION_GAIN = 1.25
# Every search (the auto-reply's too, which shows no "did you mean") also looks for the closest
# question word of each of its first TYPO_WORDS words that no article has ("parcle", "refnd",
# "pasword"), and for the question words its Chinese sounds like ("退宽" -> 退款, see
# faq.search.homophones), at TYPO_WEIGHT of a typed word's weight: the word search then finds
# the article a misspelt question means, and its rank joins the fusion. Bounded: a long mail's
# unknown words (names, product codes) beyond the first few are not looked up.
TYPO_WORDS = 3
MAX_CORRECTIONS = 5  # words corrected for "did you mean"
TYPO_WEIGHT = 0.7
#: A rare English word (faq.search.dictionary.RARE_RANK) one slip from a question word this many
#: times commoner in English is corrected as a typo ("oder" -> "order": 27,215 / 2,344).
COMMONER = 5
#: Chinese sound-alikes are looked for in this much of a text (a typed question, or a mail's
#: subject and opening): each stretch costs index lookups, so a long mail costs no more.
SOUNDS_LIKE_CHARS = 160


@dataclass(frozen=True)
class SearchHit:
    article_id: int
    slug: str
    score: float
    question: str
    snippet_html: str  # escaped text with <mark> around matched words; safe to put in a page
    category_id: int
    category_name: str
    language: str
    phrasings: tuple[str, ...] = ()  # the approved phrasings, as indexed
    answer_text: str = ""  # plain text of the answer, as indexed
    # How the hit ranked in each ranking (1 = first; None: not among that ranking's candidates,
    # or no semantic search) and how much closer it is to the query than the average article
    # in cosine similarity (see ArticleVectors.similarities; 0.0 without semantic search), and
    # that cosine similarity itself (see ArticleVectors.scores); `standout` is its similarity less
    # the similarity of the STANDOUT_RANK-th nearest article of the search: how far it stands out
    # of the articles nearest the query (the offer's confidence reads all three).
    lexical_rank: int | None = None
    semantic_rank: int | None = None
    similarity: float = 0.0
    cosine: float = 0.0
    standout: float = 0.0
    # The TF-IDF cosine of the query to the article's text (faq.search.terms; 0.0 without term
    # vectors or semantic search): the word signal the search blends in, and both offer
    # confidences read its margin (faq.matching.word_margin).
    word_cosine: float = 0.0


@dataclass(frozen=True)
class SearchResults:
    total: int
    hits: list[SearchHit]
    did_you_mean: str | None = None
    # The query these results are for when the typed one was corrected ("showing results for").
    corrected_query: str | None = None
    semantic: bool = False  # the semantic ranking took part
    # The query is only a reference (an order or ticket number, asking.only_a_reference): no
    # article answers it, and none is looked for.
    reference: bool = False


class _Correction(NamedTuple):
    """A query's "did you mean": the corrected text, and whether it is pinyin read as Chinese
    (shown at once only when the words as typed find nothing: "fapiao" is an English article's
    word too)."""

    text: str
    pinyin: bool = False


@dataclass(frozen=True)
class Suggestion:
    """A question offered while the customer is still typing."""

    article_id: int
    slug: str
    question: str
    language: str


def nothing_to_look_for(text: str) -> bool:
    """Whether a query names nothing, though the sentence model still places any string near
    some article: no letter, digit or Chinese character ("???", "😡😡😡", "%%%___***"), or,
    with markup and its code (support.core.text.without_markup) and stop words set aside,
    numbers alone ("<script>alert(1)</script>" listed five "possibly related" articles on the
    "1"; "<b>1</b>", "the 2"). An order or ticket number alone is `only_a_reference`."""
    if not any(char.isalnum() for char in text):
        return True
    words = without_markup(text)
    if not any(char.isalnum() for char in words):
        return True
    terms = analyze(words)
    return bool(terms) and not any(char.isalpha() for term in terms for char in term)


class SearchIndex(IndexStorage):
    """One FAQ search index on disk: storage (see IndexStorage) plus searching."""

    def _ranking(self) -> Ranking | None:
        """This thread's ranking on the live searcher (None: no usable index)."""
        searcher = self._searcher()
        if searcher is None:
            return None
        reader: _Reader = self._local.reader
        if reader.ranking is None or reader.ranking.searcher is not searcher:
            reader.ranking = Ranking(searcher)
        return reader.ranking

    def pinyin_as_chinese(self, text: str) -> str:
        """A mail written in pinyin (`support.core.text.written_in_pinyin`) as the Chinese it
        spells, the questions' own words preferred ("fa huo" is 发货 where the FAQ says so):
        the one reading of pinyin a query's is (`support.core.text.read_pinyin`), over a whole
        mail. Any other text as it is."""
        if not written_in_pinyin(text):
            return text
        ranking = self._ranking()
        known = ranking.homophones().vocabulary() if ranking is not None else None
        return pinyin_as_chinese(text, known, pinyin=True)

    def search(
        self,
        text: str,
        *,
        language: str | None = None,
        category_id: int | None = None,
        limit: int = 10,
        page: int = 1,
        spelling: bool = True,
        snippets: bool = True,
    ) -> SearchResults:
        """Articles answering a question typed in the customer's own words, best first.

        Not every word has to match: the more words match, the rarer they are and the more
        of them are in the question or its phrasings rather than the answer, the higher the
        article ranks. Any text is accepted; query syntax has no meaning here. Without a
        `language`, articles in the language the query is written in come first. `spelling`
        False skips the "did you mean" correction, which only a person typing can use and
        which costs more than the search itself on a long email. `snippets` False leaves
        each hit's `snippet_html` empty, for callers that show no excerpt of the match.
        """
        # The English model ranks typed questions only: on the development mails it moved the
        # first hit off the right article twice (hand-written sets 5 and 6, English first hits
        # 34 -> 32 of 36) and the mails' offer confidence was fitted on e5's first hit.
        typed = not is_mail(text or "")
        text = focus(text or "")[:MAX_QUERY_CHARS]
        limit = max(1, min(int(limit), 100))
        page = max(1, min(int(page), 100))
        if only_a_reference(text):
            return SearchResults(total=0, hits=[], reference=True)
        ranking = self._ranking()
        if ranking is None or nothing_to_look_for(text):
            return SearchResults(total=0, hits=[])
        allowed = ranking.allowed(language=language, category_id=category_id)
        preferred = None if language else detect_language(text, min_cjk_share=0)
        results = self._ranked(
            ranking, text, allowed, language, category_id, preferred, limit, page, snippets, typed
        )
        if not spelling:
            return results
        correction = self._did_you_mean(ranking, text, allowed)
        if correction is None:
            return results
        corrected = correction.text
        if correction.pinyin and language not in (None, "zh"):
            # Pinyin spells Chinese words, whatever language its letters made the caller guess
            # ("wo de bao guo hai mei dao" searched the English articles for 包裹).
            language = "zh"
            allowed = ranking.allowed(language=language, category_id=category_id)
        better = self._ranked(
            ranking,
            corrected,
            allowed,
            language,
            category_id,
            None if language else detect_language(corrected, min_cjk_share=0),
            limit,
            page,
            snippets,
            typed,
        )
        at_once = better.total and any(hit.lexical_rank is not None for hit in better.hits)
        if correction.pinyin and _some_word_indexed(ranking, text):
            # The letters are words of the FAQ's too ("fapiao"): offered, not forced. Not when
            # the typed words found articles only through their typos' neighbours ("wo de bao
            # guo hai mei dao" found three English articles through "guo").
            at_once = False
        if at_once:
            # The corrected words find articles: show those at once, and offer the typed query.
            return SearchResults(
                total=better.total,
                hits=better.hits,
                corrected_query=corrected,
                semantic=better.semantic,
            )
        return SearchResults(
            total=results.total,
            hits=results.hits,
            did_you_mean=corrected,
            semantic=results.semantic,
        )

    def _ranked(
        self,
        ranking: Ranking,
        text: str,
        allowed: np.ndarray | None,
        language: str | None,
        category_id: int | None,
        preferred: str | None,
        limit: int,
        page: int,
        snippets: bool,
        typed: bool = True,
    ) -> SearchResults:
        """One page of results for `text`: fused with the semantic ranking when there is one
        (and, for a typed English question, the English model's; see `typed` in `search`)."""
        terms = query_terms(text)
        clauses = _match_clauses(text, terms) + _typo_clauses(ranking, text, terms)
        marked = analyze(text) if snippets else None  # snippets mark all of the query's words
        vectors = self.vectors()
        if vectors is None or not len(vectors):
            total, ranked = rank(
                ranking, clauses, allowed=allowed, preferred_language=preferred, limit=page * limit
            )
            hits = [
                _hit(ranking, docnum, score, marked, lexical_rank=position)
                for position, (docnum, score) in enumerate(ranked, start=1)
            ][(page - 1) * limit :]
            return SearchResults(total=total, hits=_negated_first(hits, text, page, typed))

        depth = max(page * limit, FUSION_DEPTH)
        lexical_total, lexical = rank(ranking, clauses, allowed=allowed, limit=depth)
        docnums = {ranking.article_id(docnum): docnum for docnum, _ in lexical}
        lexical_ids = list(docnums)
        assert self.embedder is not None  # vectors() is None without one
        mask = None
        if language:
            mask = vectors.languages == language
        if category_id is not None:
            in_category = vectors.category_ids == int(category_id)
            mask = in_category if mask is None else mask & in_category
        similarities, cosines = vectors.scores(self.embedder.query_segments(text), mask)
        floor = semantic_floor(len(lexical_ids), language or preferred, mail=not typed)
        positions = top_similar(similarities, mask, depth, floor)
        semantic_ids = [int(vectors.article_ids[i]) for i in positions]
        similarity = {int(vectors.article_ids[i]): float(similarities[i]) for i in positions}
        cosine = {int(vectors.article_ids[i]): float(cosines[i]) for i in positions}
        pack = _pack_similarity(similarities, mask)

        def similarity_of(article_id: int) -> float | None:
            position = vectors.position(article_id)
            return None if position is None else float(similarities[position])

        words = self.term_vectors()
        word_cosine: dict[int, float] = {}
        if words is not None and semantic_ids:
            candidates = list(dict.fromkeys([*semantic_ids, *lexical_ids]))
            cosines_of_words = words.cosines(text, language or preferred or "en", candidates)
            word_cosine = dict(zip(candidates, cosines_of_words.tolist(), strict=True))
            fused = blend(
                candidates,
                [similarity_of(article_id) or 0.0 for article_id in candidates],
                cosines_of_words.tolist(),
                self._english_similarities(text, language or preferred, candidates)
                if typed
                else None,
            )
        else:
            best = float(similarities[positions[0]]) if positions else None
            fused = fuse(
                lexical_ids,
                semantic_ids,
                query_terms=len(terms),
                semantic_margin=_lead(similarities, positions),
                unlike=unlike_hits(lexical_ids, similarity_of, best),
            )
        if preferred:
            # A customer writing Chinese wants the Chinese article before its translation.
            def other_language(item: tuple[int, float]) -> bool:
                position = vectors.position(item[0])
                return position is None or vectors.languages[position] != preferred

            fused.sort(key=other_language)
        lexical_rank = {article_id: i for i, article_id in enumerate(lexical_ids, start=1)}
        semantic_rank = {article_id: i for i, article_id in enumerate(semantic_ids, start=1)}
        hits = []
        for article_id, score in fused[(page - 1) * limit : page * limit]:
            docnum = docnums.get(article_id)
            if docnum is None:
                docnum = ranking.docnum(article_id, allowed)
                if docnum is None:
                    continue  # not in the Whoosh index (yet), or filtered out
            hits.append(
                _hit(
                    ranking,
                    docnum,
                    score,
                    marked,
                    lexical_rank=lexical_rank.get(article_id),
                    semantic_rank=semantic_rank.get(article_id),
                    similarity=similarity.get(article_id, 0.0),
                    cosine=cosine.get(article_id, 0.0),
                    standout=similarity[article_id] - pack if article_id in similarity else 0.0,
                    word_cosine=word_cosine.get(article_id, 0.0),
                )
            )
        semantic_only = sum(1 for article_id in semantic_ids if article_id not in lexical_rank)
        return SearchResults(
            total=lexical_total + semantic_only,
            hits=_negated_first(hits, text, page, typed),
            semantic=True,
        )

    def _english_similarities(
        self, text: str, language: str | None, candidates: list[int]
    ) -> list[float] | None:
        """Each candidate's similarity to an English question by the second English model
        (faq.search.english_model); None for another language or without that model. A
        candidate it has no rows for counts as the least similar one."""
        if language != ENGLISH_LANGUAGE or self.english is None:
            return None
        vectors = self.english_vectors()
        if vectors is None or not len(vectors):
            return None
        positions = [vectors.position(article_id) for article_id in candidates]
        known = [i for i, position in enumerate(positions) if position is not None]
        if not known:
            return None
        scores = vectors.pooled(
            self.english.query_segments(text), np.asarray([positions[i] for i in known])
        )
        out = [float(scores.min())] * len(candidates)
        for i, score in zip(known, scores.tolist(), strict=True):
            out[i] = score
        return out

    def english_lead(self, text: str, article_id: int) -> tuple[float, float] | None:
        """How close the second English model (faq.search.english_model) puts an English
        article to `text` (as the search reads it, see `focus`), and by how much more than the
        nearest other English article: (similarity, lead); None without that model or without
        the article's rows. A second opinion on a mail's first hit (faq.matching), asked only
        when that hit falls just short of an offer: the model does not rank mails."""
        if self.english is None:
            return None
        vectors = self.english_vectors()
        if vectors is None or len(vectors) < 2:
            return None
        position = vectors.position(article_id)
        if position is None:
            return None
        text = focus(text or "")[:MAX_QUERY_CHARS]
        scores = vectors.pooled(self.english.query_segments(text), np.arange(len(vectors)))
        others = np.delete(scores, position)
        return float(scores[position]), float(scores[position] - others.max())

    def suggest(
        self, prefix: str, *, language: str | None = None, limit: int = 8, spelling: bool = True
    ) -> list[Suggestion]:
        """Questions matching what the customer has typed so far (the last word may be partial).

        The words typed so far complete question words; once two whole words are typed, those
        words are ranked as the search ranks (model similarity + TF-IDF cosine, see `blend`;
        the partial word only finds candidates through the word search: its embedding would
        change with every key). When nothing matches, the search's "did you mean" correction
        ("invoce" -> "invoice", 发漂 -> 发票) is suggested from instead (`spelling`).
        """
        prefix = (prefix or "")[:MAX_QUERY_CHARS]
        ranking = self._ranking()
        if ranking is None or not prefix.strip() or only_a_reference(prefix):
            return []
        limit = max(1, min(int(limit), 50))
        allowed = ranking.allowed(language=language)
        found = self._suggested(ranking, prefix, allowed, language, limit)
        if not spelling:
            return found
        pinyin = _read_as_pinyin(ranking, prefix)
        if pinyin and not _some_word_indexed(ranking, prefix):
            # Pinyin whose letters the FAQ does not use: what the letters' typo neighbours
            # found is no suggestion (as the search shows its Chinese words' results at once).
            chinese = language if language in (None, "zh") else "zh"
            allowed = ranking.allowed(language=chinese)
            return self._suggested(ranking, pinyin + " ", allowed, chinese, limit)
        if found:
            return found
        corrected = self._did_you_mean(ranking, prefix, allowed)
        if not corrected:
            return []
        # The corrected words are whole words: none is completed as if half typed.
        return self._suggested(ranking, corrected.text + " ", allowed, language, limit)

    def _suggested(
        self,
        ranking: Ranking,
        prefix: str,
        allowed: np.ndarray | None,
        language: str | None,
        limit: int,
    ) -> list[Suggestion]:
        clauses = _suggest_clauses(prefix, ranking.searcher)
        if not clauses:
            return []
        preferred = None if language else detect_language(prefix, min_cjk_share=0)
        _, ranked = rank(
            ranking, clauses, allowed=allowed, preferred_language=preferred, limit=limit
        )
        whole = prefix if prefix[-1:].isspace() else prefix.rsplit(None, 1)[0]
        vectors = self.vectors()
        fused = vectors is not None and len(vectors) > 0 and len(query_terms(whole)) >= 2
        if fused:
            assert vectors is not None
            lexical = [docnum for docnum, _ in ranked]
            ranked = self._fused_suggestions(ranking, vectors, whole, lexical, allowed, language)
        # Ranked as the search ranks, those close to the first, as the results page shows them
        # before "show all" (faq.knowledge.close_to_first): "包裹一直没" suggested three
        # unrelated questions beside its one. Not the word search's completions of a word
        # being typed: their scores measured so cut the expected question from 4.6% of the
        # English tuning prefixes (1.1% with the fused ones only; bench/faq_suggest_prefixes.py).
        best = max((score for _, score in ranked), default=0.0) if fused else 0.0
        least = best * SHOWN_SCORE_SHARE if best > 0 else -np.inf
        docnums = [docnum for docnum, score in ranked if score >= least]
        if fused and preferred:  # stable: the fused order within each language
            docnums.sort(key=lambda d: ranking.stored_fields(d)["language"] != preferred)
        suggestions = []
        for docnum in docnums[:limit]:
            stored = ranking.stored_fields(docnum)
            suggestions.append(
                Suggestion(
                    article_id=int(stored["article_id"]),
                    slug=stored["slug"],
                    question=stored["question_stored"],
                    language=stored["language"],
                )
            )
        return suggestions

    def _fused_suggestions(
        self,
        ranking: Ranking,
        vectors: ArticleVectors,
        text: str,
        lexical: list[int],
        allowed: np.ndarray | None,
        language: str | None,
    ) -> list[tuple[int, float]]:
        """The word search's suggestions (docnums) and the semantic ranking of `text` (the whole
        words typed), ordered as the search orders them, with their scores: by `blend` where
        there are term vectors (with the English model for English, as a typed question), else
        by `fuse`."""
        assert self.embedder is not None
        mask = vectors.languages == language if language else None
        similarities = vectors.similarities(self.embedder.query_segments(text), mask)
        written_in = language or detect_language(text, min_cjk_share=0)
        floor = semantic_floor(len(lexical), written_in)
        positions = top_similar(similarities, mask, FUSION_DEPTH, floor)
        docnums = {ranking.article_id(d): d for d in lexical}
        semantic = [int(vectors.article_ids[i]) for i in positions]
        words = self.term_vectors()
        if words is not None and semantic:
            candidates = list(dict.fromkeys([*semantic, *docnums]))
            found = [vectors.position(article_id) for article_id in candidates]
            ordered = blend(
                candidates,
                [0.0 if p is None else float(similarities[p]) for p in found],
                words.cosines(text, written_in or "en", candidates).tolist(),
                self._english_similarities(text, written_in, candidates),
            )
        else:
            terms = len(query_terms(text))
            lead = _lead(similarities, positions)
            ordered = fuse(list(docnums), semantic, query_terms=terms, semantic_margin=lead)
        fused = []
        for article_id, score in ordered:
            docnum = docnums.get(article_id)
            if docnum is None:
                docnum = ranking.docnum(article_id, allowed)
            if docnum is not None:
                fused.append((docnum, score))
        return fused

    def _did_you_mean(
        self, ranking: Ranking, text: str, allowed: np.ndarray | None
    ) -> _Correction | None:
        """A corrected query, offered only when the words' results are poor and an unknown
        English word has a close spelling in the questions that clearly finds more, or when
        the query is pinyin of the questions' Chinese words (`_read_as_pinyin`).

        Bounded: the query is cut at MAX_QUERY_CHARS (500) before, and at most
        MAX_CORRECTIONS (5) of its words are looked up, each a few remembered spelling
        lookups (`Ranking.closest_spelling`) and one dictionary probe; pinyin costs a pass
        over at most MAX_PINYIN_LETTERS (40) letters. Linear in the words, then two word
        searches (the typed and the corrected query's best score)."""
        pinyin = _read_as_pinyin(ranking, text)
        if pinyin:
            return _Correction(pinyin, pinyin=True)
        # A real word the FAQ does not use ("stolen", "euros") is not a typo: corrected to the
        # closest article word ("stores", "error"), it showed another question's results. The
        # weak typo clauses of every search (`_typo_clauses`) still look for its neighbours:
        # the mails' offers were fitted with them. A rare one a slip away from a much commoner
        # question word is ("oder" -> "order", see COMMONER).
        unknown = _unknown_words(ranking, text, MAX_CORRECTIONS, misspelled=True)
        sounds_like = _sounds_like(ranking, text) if CJK_RUN_RE.search(text) else []
        if not unknown and not sounds_like:
            return None
        replacements: list[tuple[int, int, str]] = []
        question_words: list[tuple[int, int, str]] = []  # "wher" -> "where", see below
        for word, start, end in unknown:
            closest = ranking.closest_spelling(word)
            if closest and is_english_word(word) and not _commoner_slip(word, closest):
                continue
            if closest:
                replacements.append((start, end, closest))
            elif word in _stop_word_slips():
                question_words.append((start, end, _stop_word_slips()[word]))
        replacements = sorted(replacements + sounds_like)
        if not replacements:
            return None
        # A slip of a stop word changes no result ("where" is indexed nowhere), so it alone is
        # no correction; beside one, it makes "showing results for" read right.
        replacements = sorted(replacements + question_words)
        corrected = text
        for start, end, word in reversed(replacements):
            corrected = corrected[:start] + word + corrected[end:]
        # (No "the other words found enough" shortcut: "parcle never arrived" found the
        # password article through "never"; the corrected query must clearly find more.)
        total, found = rank(
            ranking, _match_clauses(text, query_terms(text)), allowed=allowed, limit=1
        )
        top_score = found[0][1] if found else 0.0
        if total:
            _, better = rank(
                ranking, _match_clauses(corrected, query_terms(corrected)), allowed=allowed, limit=1
            )
            if not better or better[0][1] < top_score * CORRECTION_GAIN:
                return None
        return _Correction(corrected.strip())


def _negated_first(hits: list[SearchHit], text: str, page: int, typed: bool) -> list[SearchHit]:
    """A typed question's page 1 with, first, the next hit whose article says negated a verb
    the question negates, when the first's says it only un-negated (`negated_first`: "收唔到貨"
    is the lost parcel, not "收到货是坏的"); moved within page 1 only, so page 2 stays as it
    was. Not a mail's: faq.matching.answers_for moves its hits itself and offers the article
    it displaced neither beside nor instead of the new first."""
    return negated_first(hits, text) if typed and page == 1 else hits


def _read_as_pinyin(ranking: Ranking, text: str) -> str | None:
    """The questions' Chinese words a query typed in pinyin spells ("tuikuan", "tui kuan",
    "wu4 liu2" -> 退款, 物流; see homophones.read_as_pinyin), never an English query's ("can",
    "long", "hang men" are syllables too)."""
    found = read_as_pinyin(text, ranking.homophones())
    return "".join(found) if found else None


def _commoner_slip(typed: str, meant: str) -> bool:
    """Whether the real word `typed` is a slip of `meant`: `typed` is rare in English, one
    slip from `meant` and COMMONER times rarer ("oder" for "order", not "kettle" for "settle")."""
    typed_rank, meant_rank = english_rank(typed), english_rank(meant)
    return (
        typed_rank is not None
        and meant_rank is not None
        and typed_rank >= RARE_RANK
        and meant_rank * COMMONER <= typed_rank
        and _one_slip(typed, meant)
    )


def _one_slip(typed: str, meant: str) -> bool:
    """Whether `typed` is `meant` with one letter left out, added or changed, or two
    neighbouring letters swapped."""
    if typed == meant or abs(len(typed) - len(meant)) > 1:
        return False
    if len(typed) == len(meant):
        differ = [at for at, (a, b) in enumerate(zip(typed, meant, strict=True)) if a != b]
        return len(differ) == 1 or (
            len(differ) == 2
            and differ[1] == differ[0] + 1
            and typed[differ[0]] == meant[differ[1]]
            and typed[differ[1]] == meant[differ[0]]
        )
    short, long = sorted((typed, meant), key=len)
    pairs = zip(short, long[: len(short)], strict=True)
    at = next((i for i, (a, b) in enumerate(pairs) if a != b), len(short))
    return short[at:] == long[at + 1 :]


@cache
def _stop_word_slips() -> dict[str, str]:
    """Stop words typed with a letter left out or two neighbours swapped ("wher" where, "teh"
    the, "hwo" how, "waht" what), to the commonest stop word they can be: no article indexes
    a stop word, so the questions' spelling cannot correct them. Real words are left out
    ("here" is "where" less a letter)."""
    slips: dict[str, str] = {}
    by_rank = sorted(ENGLISH_STOP_WORDS, key=lambda word: (english_rank(word) or RARE_RANK, word))
    for word in by_rank:
        if not word.isalpha():
            continue
        left_out = {word[:at] + word[at + 1 :] for at in range(len(word))}
        swapped = {
            word[:at] + word[at + 1] + word[at] + word[at + 2 :] for at in range(len(word) - 1)
        }
        for slip in left_out | swapped:
            if len(slip) >= 3 and slip not in ENGLISH_STOP_WORDS and not is_english_word(slip):
                slips.setdefault(slip, word)
    return slips


def _pack_similarity(similarities: np.ndarray, allowed: np.ndarray | None) -> float:
    """The similarity of the STANDOUT_RANK-th nearest allowed article (the last one when there
    are fewer): a hit's `standout` is measured from it."""
    field = similarities if allowed is None else similarities[allowed]
    if not len(field):
        return 0.0
    rank = min(STANDOUT_RANK, len(field))
    return float(np.partition(field, len(field) - rank)[len(field) - rank])


def _lead(similarities: np.ndarray, positions: list[int]) -> float:
    """How much more similar the first of a semantic ranking (`positions`, best first) is than
    its second."""
    if len(positions) < 2:
        return 0.0
    return float(similarities[positions[0]] - similarities[positions[1]])


def _some_word_indexed(ranking: Ranking, text: str) -> bool:
    """Whether a Latin word of `text` is a word some article has (as the search stems it)."""
    return any(
        ranking.indexed(_QUERY_FIELDS, stem(word))
        for word, _start, _end in itertools.islice(_latin_words(text), MAX_QUERY_TERMS)
    )


def _unknown_words(
    ranking: Ranking, text: str, limit: int, *, misspelled: bool = False
) -> list[tuple[str, int, int]]:
    """The first `limit` English words of `text` (with their spans) that no article has;
    `misspelled`: only those that are not common real words either (see
    faq.search.dictionary; a rare one may be a slip, "oder")."""
    found: list[tuple[str, int, int]] = []
    seen: set[str] = set()
    if limit < 1:
        return found
    for word, start, end in _latin_words(text):
        if not 3 <= len(word) <= 30 or not word.isalpha() or word in ENGLISH_STOP_WORDS:
            continue
        if word not in seen:
            seen.add(word)
            if not ranking.indexed(_QUERY_FIELDS, stem(word)) and not (
                misspelled and (english_rank(word) or RARE_RANK) < RARE_RANK
            ):
                found.append((word, start, end))
                if len(found) == limit:
                    break
    return found


def _typo_clauses(ranking: Ranking, text: str, terms: list[str]) -> list[Clause]:
    """Clauses for the closest question words of the query's unknown English words and for
    the question words its Chinese sounds like (see TYPO_WORDS and faq.search.homophones)."""
    replacements = [
        ranking.closest_word(w) for w, _s, _e in _unknown_words(ranking, text, TYPO_WORDS)
    ]
    opening = text[:SOUNDS_LIKE_CHARS]
    if CJK_RUN_RE.search(opening):
        replacements += [word for _s, _e, word in _sounds_like(ranking, opening)[:TYPO_WORDS]]
    known = set(terms)
    clauses = []
    for found in replacements:
        for term in query_terms(found) if found else ():
            if term not in known:
                known.add(term)
                clauses += [
                    Clause(fieldname, term, weight * TYPO_WEIGHT)
                    for fieldname, weight in QUERY_WEIGHTS.items()
                ]
    return clauses


def _sounds_like(ranking: Ranking, text: str) -> list[tuple[int, int, str]]:
    """Stretches of the query's Chinese that sound like a question word (see homophones)."""

    def known(word: str) -> bool:
        return ranking.indexed(_QUERY_FIELDS, word)

    return corrections(
        text,
        ranking.homophones(),
        known,
        of_run=lambda typed: ranking.run_corrections(typed, known),
    )


def _match_clauses(text: str, terms: list[str]) -> list[Clause]:
    """Every word in every searchable field, and Chinese characters as a weak fallback."""
    clauses = [
        Clause(fieldname, term, weight)
        for term in terms[:MAX_QUERY_TERMS]
        for fieldname, weight in QUERY_WEIGHTS.items()
    ]
    if CHARS_WEIGHT:
        runs = CJK_RUN_RE.finditer(text[:MAX_QUERY_CHARS])
        chars = (char for run in runs for char in _run_chars(run.group()))
        clauses += [
            Clause("question_chars", char, CHARS_WEIGHT)
            for char in _first_distinct(chars, MAX_QUERY_TERMS)
        ]
    return clauses


def _suggest_clauses(prefix: str, searcher) -> list[Clause]:
    """Complete words as terms, the word being typed expanded to question words it starts."""
    last: tuple[str, int] | None = None
    if not prefix[-1:].isspace():
        spans = [
            (t.text, t.startchar, t.endchar)
            for t in SPELLING_ANALYZER(prefix, chars=True, removestops=False)
        ]
        if spans:
            end = max(s[2] for s in spans)
            word, start, end = max((s for s in spans if s[2] == end), key=lambda s: s[2] - s[1])
            if end >= len(prefix.rstrip()):
                last = (word, start)
    head = prefix[: last[1]] if last else prefix
    clauses = [
        Clause(fieldname, term, weight)
        for term in query_terms(head)
        for fieldname, weight in (("question", 2.0), ("phrasings", 1.0))
    ]
    if last:
        word = last[0]
        if CJK_RUN_RE.match(word) or len(word) >= 2:
            reader = searcher.reader()
            for fieldname, weight in (("question", 2.0), ("phrasings", 1.0)):
                expansions: set[str] = set()
                for start in {word, stem(word)}:
                    for raw in itertools.islice(
                        reader.expand_prefix(fieldname, start), MAX_PREFIX_EXPANSIONS
                    ):
                        expansions.add(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
                clauses += [Clause(fieldname, term, weight) for term in sorted(expansions)]
    return clauses


def _hit(
    ranking: Ranking,
    docnum: int,
    score: float,
    terms: list[str] | None,
    *,
    lexical_rank: int | None = None,
    semantic_rank: int | None = None,
    similarity: float = 0.0,
    cosine: float = 0.0,
    standout: float = 0.0,
    word_cosine: float = 0.0,
) -> SearchHit:
    """One result; without `terms` (no snippet wanted) its snippet is empty."""
    stored = ranking.stored_fields(docnum)
    answer = stored.get("answer", "")
    return SearchHit(
        article_id=int(stored["article_id"]),
        slug=stored["slug"],
        score=round(score, 4),
        question=stored["question_stored"],
        snippet_html=snippet_html(answer, terms) if terms is not None else "",
        category_id=int(stored["category_id"]),
        category_name=stored.get("category_name", ""),
        language=stored["language"],
        phrasings=tuple(stored.get("phrasings_stored", ())),
        answer_text=answer,
        lexical_rank=lexical_rank,
        semantic_rank=semantic_rank,
        similarity=round(similarity, 4),
        cosine=round(cosine, 4),
        standout=round(standout, 4),
        word_cosine=round(word_cosine, 4),
    )
