"""Analysis: how articles and queries become index terms (Chinese and English alike).

Chinese goes through `support.core.text` (Traditional -> Simplified, the shop's jieba), so a
Traditional query and its Simplified twin have the same terms; English words are lowercased,
stop words dropped and stemmed (Porter).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator

from markdown_it import MarkdownIt
from markdown_it.token import Token as MarkdownToken
from whoosh.analysis import LowercaseFilter, StemFilter, StopFilter, Token, Tokenizer
from whoosh.analysis.filters import STOP_WORDS
from whoosh.lang.porter import stem

from support.core.text import CJK_CHARS, CJK_RUN_RE, search_simplified, segment_for_search

MAX_QUERY_CHARS = 500  # customers paste whole emails; the first lines carry the question
MAX_QUERY_TERMS = 40

_RUN_RE = re.compile(
    rf"(?P<cjk>[{CJK_CHARS}]+)|(?P<word>[^\W_{CJK_CHARS}]+(?:['’][^\W_{CJK_CHARS}]+)*)"
)
# Full-width ASCII (ｉｐｈｏｎｅ，１２３) typed with a Chinese IME -> ASCII, one char for one char.
_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

ENGLISH_STOP_WORDS = STOP_WORDS | {
    "i", "me", "my", "mine", "myself", "our", "ours", "you're", "he", "she", "they", "them",
    "their", "his", "her", "its", "it's", "i'm", "i've", "i'd", "i'll", "do", "does", "did",
    "done", "doing", "don't", "doesn't", "didn't", "can't", "cannot", "won't", "isn't", "aren't",
    "wasn't", "was", "were", "been", "being", "am", "has", "had", "having", "how", "what",
    "what's", "which", "who", "whom", "where", "why", "there", "here", "then", "than", "so",
    "just", "about", "any", "some", "all", "please", "pls", "plz", "hi", "hello", "hey",
    "thanks", "thank", "thx", "would", "could", "should", "shall", "might", "must", "get",
    "got", "also", "still", "very", "really", "much", "many", "ok", "okay", "need", "want",
    "know", "tell", "there's", "into", "out", "up", "down", "over", "again", "only", "own",
    "same", "too", "other", "such", "these", "those", "because", "while", "per",
}  # fmt: skip

# Function words and question scaffolding that carry no topic; "多久", "多少", "哪里" do and stay.
CHINESE_STOP_WORDS = frozenset(
    """
    的 地 得 了 着 过 吗 嘛 呢 吧 啊 呀 哦 喔 哈 嗯 么 我 你 您 他 她 它 我们 你们 他们 她们 咱们
    是 在 有 没 和 与 及 或 或者 而 就 都 也 还 又 才 很 太 更 最 被 把 给 让 对 从 向 到底
    一下 一个 个 这 那 这个 那个 这些 那些 这样 那样 怎么 怎么样 怎样 如何 什么 甚么 啥 为什么
    为何 请问 请 问 问一下 想 想要 要 会 能 能够 可以 可 可不可以 能不能 是不是 有没有 应该 需要
    啦 一 哪 哪个 自己 已经 现在 如果 的话 因为 所以 但是 但 还是 然后 谢谢 你好 您好 麻烦 帮 帮忙
    """.split()
)

STOP_WORDS_ALL = frozenset(ENGLISH_STOP_WORDS | CHINESE_STOP_WORDS)
CHINESE_STOP_CHARS = frozenset(
    "的地得了着过吗嘛呢吧啊呀哦喔哈嗯么我你您他她它们是在有没和与及或而就都也还又才很太更最被把给让对从向"
    "一个这那些样怎如何什甚啥为请问想要会能够可以应该需自己已经因所但然谢麻烦帮忙哪儿"
)

#: Single characters that are function words (negation, particles, pronouns, prepositions):
#: searched, since "不开机" differs from "开机", but never highlighted alone in a snippet,
#: where a lone 不 marked in every answer points the reader at nothing.
UNMARKED_CHARS = CHINESE_STOP_CHARS | frozenset(
    "不别未无非勿之其此以于将并等即则若且乃每各该再仍只"
)


def _run_pieces(run: str, cjk: bool) -> tuple[tuple[str, int, int], ...]:
    """The words of one run of Chinese or one Latin word, with offsets within the run."""
    if cjk:
        return segment_for_search(search_simplified(run))
    word = run.replace("’", "'")
    if word.endswith("'s"):  # "company's" -> "company"
        word = word[:-2]
    if len(word) < 2 and not word.isdigit():
        return ()
    return ((word, 0, len(word)),)


class BilingualTokenizer(Tokenizer):
    """Splits text into Chinese runs (segmented by jieba) and Latin/digit words.

    Traditional characters are converted to Simplified first, so both find the same article.
    Chinese runs are segmented in jieba's search mode (long words plus their parts) for recall.
    Character offsets refer to the original text, which is what highlighting needs.
    """

    def __eq__(self, other: object) -> bool:
        return other.__class__ is self.__class__

    def __hash__(self) -> int:
        return hash(self.__class__)

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            token.boost = 1.0
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        pos = start_pos
        for match in _RUN_RE.finditer(value.translate(_FULLWIDTH)):
            base = match.start()
            for text, start, end in _run_pieces(match.group(), match.lastgroup == "cjk"):
                token.text = text
                token.boost = 1.0
                token.stopped = False
                if keeporiginal:
                    token.original = text
                if positions:
                    token.pos = pos
                    pos += 1
                if chars:
                    token.startchar = start_char + base + start
                    token.endchar = start_char + base + end
                yield token


class CjkCharTokenizer(Tokenizer):
    """Single Chinese characters (Simplified), for the low-weight fallback field.

    jieba and the customer do not always agree on word boundaries (保固/保修, 删号/注销账号);
    shared characters still connect them, weakly.
    """

    def __eq__(self, other: object) -> bool:
        return other.__class__ is self.__class__

    def __hash__(self) -> int:
        return hash(self.__class__)

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pos = start_pos
        for match in CJK_RUN_RE.finditer(value):
            run = search_simplified(match.group())
            for offset, char in enumerate(run):
                if char in CHINESE_STOP_CHARS:
                    continue
                token.text = char
                token.boost = 1.0
                token.stopped = False
                if keeporiginal:
                    token.original = char
                if positions:
                    token.pos = pos
                    pos += 1
                if chars:
                    token.startchar = start_char + match.start() + offset
                    token.endchar = token.startchar + 1
                yield token


def _build_analyzer(stemming: bool):
    chain = BilingualTokenizer() | LowercaseFilter() | StopFilter(STOP_WORDS_ALL, minsize=1)
    return chain | StemFilter() if stemming else chain


# Porter leaves CJK tokens unchanged, so one chain serves both languages.
ANALYZER = _build_analyzer(stemming=True)
# Unstemmed words for "did you mean": suggesting "deliveri" to a customer would look broken.
SPELLING_ANALYZER = _build_analyzer(stemming=False)
CHAR_ANALYZER = CjkCharTokenizer()


def analyze(text: str, limit: int | None = None) -> list[str]:
    """The distinct index terms of `text`, in order (what a query will look for).

    With a `limit`, analysis stops at that many terms and the rest of the text is not read:
    segmenting Chinese is the dearest part of a search, and a long email has far more words
    than a search uses.
    """
    return list(_analyzed(text[:MAX_QUERY_CHARS], limit))


def query_terms(text: str) -> list[str]:
    """The terms a search for `text` looks for: its first MAX_QUERY_TERMS distinct ones."""
    return analyze(text, MAX_QUERY_TERMS)


@functools.lru_cache(maxsize=2048)
def _analyzed(text: str, limit: int | None) -> tuple[str, ...]:
    # Cached: the auto-reply compares a message's terms with the questions its search found,
    # and those questions recur from message to message.
    runs = _RUN_RE.finditer(text.translate(_FULLWIDTH))
    terms = (term for run in runs for term in _run_terms(run.group(), run.lastgroup == "cjk"))
    return _first_distinct(terms, limit)


_stem = functools.lru_cache(maxsize=65536)(stem)  # what StemFilter's own cache did


@functools.lru_cache(maxsize=65536)
def _run_terms(run: str, cjk: bool) -> tuple[str, ...]:
    """ANALYZER's terms for one run (what BilingualTokenizer and the filters make of it).

    Whoosh's filter chain costs more per word than the words' analysis itself, and a search
    analyzes a hundred words of a long email; runs and words recur from mail to mail.
    """
    terms = []
    for text, _start, _end in _run_pieces(run, cjk):
        text = text.lower()  # LowercaseFilter, StopFilter(minsize=1), StemFilter
        if text and text not in STOP_WORDS_ALL:
            terms.append(_stem(text))
    return tuple(terms)


def _first_distinct(items: Iterable[str], limit: int | None) -> tuple[str, ...]:
    """The distinct items in order, reading no further than needed for `limit` of them."""
    seen: dict[str, None] = {}
    for item in items:
        seen[item] = None
        if limit is not None and len(seen) >= limit:
            break
    return tuple(seen)


_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_MARKDOWN.enable("table")
#: A block ending in one of these reads as a finished sentence; any other gets a full stop
#: when another block follows (a list item, a heading).
_SENTENCE_ENDS = frozenset('.!?。！？…:：;；"”’」』')


def _cjk(char: str) -> bool:
    return bool(char) and bool(CJK_RUN_RE.fullmatch(char) or "\u3000" <= char <= "\u303f")


def _inline_text(token: MarkdownToken, *, mail: bool) -> str:
    """An inline token's words; in ``mail``, a link's address after its text, so the reader of
    a plain-text mail still has it, and line breaks as the author typed them."""
    parts: list[str] = []
    href = ""
    link_start = 0
    for child in token.children or ():
        kind = child.type
        if kind in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
        elif kind in ("softbreak", "hardbreak"):
            parts.append("\n" if mail else " ")
        elif kind == "link_open":
            href, link_start = str(child.attrs.get("href") or ""), len(parts)
        elif kind == "link_close" and mail and href:
            words = "".join(parts[link_start:])
            if words.strip() != href and not href.startswith("mailto:" + words.strip()):
                parts.append(f"（{href}）" if _cjk(words[-1:]) else f" ({href})")
            href = ""
        elif kind == "image":
            parts.append(child.content)
            if mail and child.attrs.get("src"):
                parts.append(f" ({child.attrs['src']})")
    return "".join(parts)


def _markdown_blocks(markdown: str, *, mail: bool) -> list[tuple[str, str]]:
    """The answer's blocks in order as (prefix, text): a paragraph, heading or table row has
    no prefix; a list item "- " or "2. " (indented by its depth), a quote "> "."""
    blocks: list[tuple[str, str]] = []
    lists: list[list[int]] = []  # per open list: [next number] or [] for a bullet list
    quote = 0
    item_prefix = ""
    for token in _MARKDOWN.parse(markdown or ""):
        kind = token.type
        if kind == "bullet_list_open":
            lists.append([])
        elif kind == "ordered_list_open":
            lists.append([int(token.attrs.get("start") or 1)])
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "list_item_open" and lists:
            indent = "  " * (len(lists) - 1)
            numbered = lists[-1]
            if numbered:
                item_prefix = f"{indent}{numbered[0]}. "
                numbered[0] += 1
            else:
                item_prefix = f"{indent}- "
        elif kind == "blockquote_open":
            quote += 1
        elif kind == "blockquote_close":
            quote -= 1
        elif kind in ("fence", "code_block"):
            blocks.append(("> " * quote, token.content.rstrip("\n")))
        elif kind == "inline":
            text = _inline_text(token, mail=mail).strip()
            if text:
                prefix = "> " * quote + (item_prefix or ("  " * len(lists) if lists else ""))
                blocks.append((prefix, text))
                item_prefix = ""
    return blocks


def markdown_to_text(markdown: str) -> str:
    """Plain text of a Markdown answer on one line: what gets indexed and shown in snippets
    and auto-reply excerpts. Each block (a paragraph, a list item, a heading) ends as a
    sentence, so "- Rinse it\n- Boil it" reads "Rinse it. Boil it", not "Rinse it Boil it";
    a link is its words."""
    text = ""
    for _prefix, block in _markdown_blocks(markdown, mail=False):
        block = re.sub(r"\s+", " ", block).strip()
        if text:
            if text[-1] not in _SENTENCE_ENDS:
                text += "。" if _cjk(text[-1]) else "."
            text += "" if _cjk(text[-1]) and _cjk(block[:1]) else " "
        text += block
    return text


def markdown_to_mail_text(markdown: str) -> str:
    """A Markdown answer as the text of a plain-text mail: paragraphs apart, list items one a
    line with their "- " or number, a link's address after its words ("our care guide
    (https://...)"), no emphasis marks."""
    lines: list[str] = []
    listed = False
    for prefix, block in _markdown_blocks(markdown, mail=True):
        item = prefix.lstrip("> ").strip() != ""
        if lines and not (item and listed):
            lines.append("")
        indent = " " * len(prefix.lstrip("> ")) if prefix else ""
        quote = prefix[: len(prefix) - len(prefix.lstrip("> "))]
        first, *rest = block.split("\n")
        lines.append(prefix + first)
        lines.extend(quote + indent + line for line in rest)
        listed = item
    return "\n".join(lines)


@functools.lru_cache(maxsize=65536)
def _run_chars(run: str) -> tuple[str, ...]:
    """CHAR_ANALYZER's terms for one run of Chinese characters, without Whoosh's tokens."""
    return tuple(char for char in search_simplified(run) if char not in CHINESE_STOP_CHARS)


def _latin_words(text: str) -> Iterator[tuple[str, int, int]]:
    for match in _RUN_RE.finditer(text[:MAX_QUERY_CHARS]):
        if match.lastgroup == "word":
            yield match.group().lower(), match.start(), match.end()
