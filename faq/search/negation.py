"""A Chinese text that negates a verb, and the articles that say that verb negated.

"没收到货" (the goods did not come; Cantonese "冇收到貨", "收唔到貨") is near, for the model and
the word signal alike, to an article that says the verb as done ("收到货是坏的": the goods came
broken). `negated_first` puts first the next hit whose article says the verb negated ("没收到包
裹") when the first hit's article says it only un-negated (thirtieth session, for the mails'
offers, faq.matching; since the thirty-fifth the first page of a typed search too,
faq.search.engine).
An article that does not say the verb at all is left alone: "发票还没收到" keeps the invoice
article, which never says 收到, before the lost-parcel and refund articles that say it negated.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol, TypeVar

from faq.search.asking import focus
from support.core.text import search_simplified

NEGATIONS = "没未"
#: Two characters after a negation that are no verb negated: 没有 (there is no), 没能, 没法.
NEGATED_NOT_VERBS = "有能法"
_NEGATED_RE = re.compile(r"(?:没有|[没未])([\u4e00-\u9fff]{2})")
#: A verb's "cannot get" (thirty-fifth session): 收不到 says 收到 negated, as 没收到 does
#: (Cantonese 收唔到 reads 收不到).
_CANNOT_GET_RE = re.compile(r"([\u4e00-\u9fff])不(到)")
#: At most this many of a text's negated verbs are looked up in the articles: a hostile mail
#: of thousands of "没XX" cost 0.9 s of CPU with all of them.
MAX_NEGATED_VERBS = 16


class Article(Protocol):
    """What `negated_first` reads of a hit (SearchHit or faq.knowledge.ArticleMatch)."""

    @property
    def language(self) -> str: ...
    @property
    def question(self) -> str: ...
    @property
    def phrasings(self) -> Sequence[str]: ...
    @property
    def answer_text(self) -> str: ...


_Hit = TypeVar("_Hit", bound=Article)


def negated_verbs(text: str) -> set[str]:
    """The two characters after each negation (没, 没有, 未) of a Chinese text, Simplified as the
    search reads it (冇 and 未 read as 没), and the verb of each "V不到" (收不到: 收到); "有没有"
    questions and NEGATED_NOT_VERBS left out."""
    simplified = search_simplified(text).replace("有没有", "")
    verbs = {
        match.group(1)
        for match in _NEGATED_RE.finditer(simplified)
        if match.group(1)[0] not in NEGATED_NOT_VERBS
    }
    cannot = {found.group(1) + found.group(2) for found in _CANNOT_GET_RE.finditer(simplified)}
    return verbs | cannot


def article_text(hit: Article) -> str:
    """The article's question, phrasings and answer, Simplified as the search reads them."""
    return search_simplified("\n".join((hit.question, *hit.phrasings, hit.answer_text)))


def says_negated(article: str, verb: str) -> bool | None:
    """Whether the `article_text` says `verb` negated somewhere (a negation in the two
    characters before it, or 不 inside it: 收不到): True; only un-negated: False; never: None."""
    if verb[0] + "不" + verb[1:] in article:
        return True
    found = [match.start() for match in re.finditer(re.escape(verb), article)]
    if not found:
        return None
    return any(any(c in NEGATIONS for c in article[max(0, at - 2) : at]) for at in found)


def negated_first(hits: list[_Hit], text: str) -> list[_Hit]:
    """`hits` with, first, the first next hit that says negated a verb the text negates, when
    the first hit's article says that verb only un-negated; else `hits` itself."""
    if not hits or hits[0].language != "zh":
        return hits
    verbs = sorted(negated_verbs(focus(text)))[:MAX_NEGATED_VERBS]
    if not verbs:
        return hits
    articles = [article_text(hit) for hit in hits]
    for verb in verbs:
        if says_negated(articles[0], verb) is not False:
            continue
        for position in range(1, len(hits)):
            if says_negated(articles[position], verb):
                return [hits[position], *hits[:position], *hits[position + 1 :]]
    return hits
