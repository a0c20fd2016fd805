"""Chinese typos by sound: a word typed with the wrong characters of the same pinyin.

Pinyin input methods make a typo a word that sounds like the meant one ("退宽" for 退款,
"发漂" for 发票, "保秀" for 保修). English misspellings are found by edit distance (Whoosh's
corrector); for Chinese the distance that matters is the sound. `Homophones` maps the toneless
pinyin of the questions' Chinese words to those words, with the usual near-homophones of
regional accents folded together (zh/z, ch/c, sh/s, n/l, -ng/-n), and `corrections` proposes,
for the characters of a query that no known word covers, the question word that sounds the same
(three characters or more may share some with a known word: "信用咔" -> 信用卡, where 信用 is one).
A Taiwan word the index reads as the mainland's (簡訊 as 短信) sounds as Taiwan says it too
("簡迅" -> 簡訊).

Sounding alike is not enough (twenty-first session, bench/zh_sound_corrections.py: of 28
corrections of the Chinese tuning questions 6 were typos). A typo is one character of a word
picked wrong from the input method's list, so the stretch keeps at least one of the word's
characters in its place (蜜碼 -> 密碼, 發漂 -> 發票); two characters that straddle two words
rarely do ("今天天氣好嗎" -> 號碼, "可以辦卡" -> 一般, 不認識 -> 人士). The characters it
changes sound exactly like the word's: the accents' folds find the candidates but on the tuning
questions made only wrong corrections (辦卡 -> 綁卡, ban and bang). And a word jieba's
dictionary knows was typed as meant, alone (一封 is not 一份, 不在 is not 不再) or in the query
around the window ("錯五次" is 錯 and 五次, not 錯誤 and 次).
Whether a correction is shown is decided by the search (it must clearly find more).

A customer without a Chinese keyboard types the pinyin itself ("tuikuan", "tui kuan" for 退款,
"wùliú" or "wu4 liu2" for 物流): `pinyin_words` reads Latin letters as the questions' words of
that (unfolded, exact) pinyin, whole or cut into syllables, and `read_as_pinyin` decides whether
a query is pinyin at all. "can", "long", "hang men", "women" (我们) are English: a query whose
every word is an English word stays English, unless it has tones. But the English word list
(faq.search.dictionary, a WordPiece vocabulary) holds the romanised names of Wikipedia too:
"wu" and "liu" are in it as the names Wu and Liu, so "wu liu" stayed English while "tui kuan"
was read. A lone syllable counts as English only when it is an everyday English word
(ENGLISH_SYLLABLES: a closed list, Mandarin has some 400 syllables); a longer word of the list
always does ("women", "dating", "change").
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence

from faq.search.dictionary import is_english_word
from support.core.text import (
    CJK_RUN_RE,
    ENGLISH_SYLLABLES,
    PINYIN_SYLLABLES,
    PinyinVocabulary,
    as_taiwan_says,
    is_dictionary_word,
    read_pinyin,
    segment,
    segment_for_search,
    to_simplified,
    to_traditional,
)

# Words of the questions kept per index (a few hundred articles have a few thousand words).
MAX_VOCABULARY = 50_000
WORD_LENGTHS = (4, 3, 2)  # a window of the query is compared with words of its length
#: A window of this many characters or more may share characters with known words (see
#: `_settled`); a shorter one must be outside them.
LONG_WINDOW = 3
MAX_SCANNED_CHARS = 60  # Chinese characters of a query looked at (a typed question is short)
#: Letters of a query read as pinyin (a question of eight syllables or so); a longer Latin text
#: is not pinyin typed for want of a Chinese keyboard, and is not read as such.
MAX_PINYIN_LETTERS = 40
#: Characters of a query looked at for pinyin (MAX_PINYIN_LETTERS letters, tones and spaces).
MAX_PINYIN_CHARS = 4 * MAX_PINYIN_LETTERS
_TONE_MARKS = frozenset("\u0304\u0301\u030c\u0300")  # ā á ǎ à, as NFD writes them
# A typed word: syllables, each perhaps followed by its tone's digit ("wu4liu2").
_TONED_WORD_RE = re.compile(r"(?:[a-z]+[1-5])*[a-z]*")
_FOLD = [
    (re.compile(r"^([zcs])h"), r"\1"),
    (re.compile(r"^n"), "l"),
    (re.compile(r"([aeio])ng$"), r"\1n"),
]


@functools.lru_cache(maxsize=65536)
def sound(word: str, *, fold: bool = True) -> str:
    """The toneless pinyin of a Chinese word with near-homophones folded ("退款" -> "tui kuan");
    `fold` False: as the dictionary spells it ("绑" bang, not ban)."""
    from pypinyin import Style, lazy_pinyin  # imported on first use

    syllables = []
    for syllable in lazy_pinyin(word, style=Style.NORMAL, errors="ignore"):
        if fold:
            for pattern, replacement in _FOLD:
                syllable = pattern.sub(replacement, syllable)
        syllables.append(syllable)
    return " ".join(syllables) if len(syllables) == len(word) else ""


class Homophones:
    """The known Chinese words (Simplified, 2-4 characters) by how they sound."""

    def __init__(self, words: Iterable[str]) -> None:
        self._by_sound: dict[str, str] = {}
        # The words by their pinyin as typed, letters only ("tuikuan"), with the offsets where
        # a syllable starts inside it ({3}): a space typed there is a syllable's end.
        self._by_letters: dict[str, tuple[str, frozenset[int]]] = {}
        self._longest_letters = 0
        self._words = 0
        for count, word in enumerate(words):
            if count >= MAX_VOCABULARY:
                break
            if len(word) in WORD_LENGTHS and CJK_RUN_RE.fullmatch(word):
                key = sound(word)
                if key:
                    self._by_sound.setdefault(key, word)
                    self._words += 1
                    self._add_letters(word, word)
                # Questions are indexed in the mainland's words (簡訊 -> 短信), but a Taiwanese
                # customer types Taiwan's by sound: "簡迅" must sound like 簡訊 too.
                said = as_taiwan_says(word)
                if said != word and (key := sound(said)):
                    self._by_sound.setdefault(key, word)
                    self._add_letters(said, word)

    def _add_letters(self, said: str, word: str) -> None:
        """Index `word` by the letters of `said`'s pinyin (Taiwan's 保固 "baogu" is 保修)."""
        syllables = sound(said, fold=False).split()
        letters = "".join(syllables)
        if letters in self._by_letters or not letters.isascii():
            return
        starts = frozenset(itertools.accumulate(len(s) for s in syllables[:-1]))
        self._by_letters[letters] = (word, starts)
        self._longest_letters = max(self._longest_letters, len(letters))

    def __len__(self) -> int:
        return self._words

    def vocabulary(self) -> PinyinVocabulary:
        """The words by their pinyin letters, for `support.core.text.read_pinyin` (a mail's)."""
        return PinyinVocabulary(self._by_letters, self._longest_letters)

    def pinyin_words(self, tokens: Sequence[str]) -> list[str] | None:
        """The known words the pinyin `tokens` spell ("tui", "kuan" -> 退款), in order; None
        when the tokens are not all pinyin syllables, or spell no known word: the one reading
        of pinyin (`support.core.text.read_pinyin`) over the questions' words, at most
        MAX_PINYIN_LETTERS letters."""
        return read_pinyin(tokens, self.vocabulary(), max_letters=MAX_PINYIN_LETTERS)

    def word_like(self, text: str) -> str | None:
        """The known word that sounds like `text` (None: none, or `text` itself)."""
        found = self._by_sound.get(sound(text))
        return found if found and found != text else None


def typed_pinyin(text: str) -> tuple[list[str], bool] | None:
    """The Latin words of a query as pinyin is typed ("wù liú", "wu4liu2" -> ["wu", "liu"]:
    a tone's digit ends a syllable as a space does; ü as v), and whether it has tones; None
    when it has anything else but spaces and punctuation (Chinese, another digit)."""
    text = unicodedata.normalize("NFKC", text[: MAX_PINYIN_CHARS + 1]).lower()
    if len(text) > MAX_PINYIN_CHARS:
        return None
    spelled = unicodedata.normalize("NFD", text).replace("u\u0308", "v").replace("u:", "v")
    toned = any(char in _TONE_MARKS for char in spelled)
    plain = "".join(char for char in spelled if not unicodedata.combining(char))
    if any(char.isalnum() and not char.isascii() for char in plain):
        return None
    words: list[str] = []
    for typed in re.findall(r"[a-z0-9]+", plain):
        if not _TONED_WORD_RE.fullmatch(typed):
            return None
        toned = toned or not typed.isalpha()
        words += re.findall(r"[a-z]+", typed)
    return words, toned


def is_english(words: Sequence[str]) -> bool:
    """Whether words typed without tones are English rather than pinyin: each is an English
    word, a lone syllable only if it is one of ENGLISH_SYLLABLES ("wu liu" is pinyin, "hang men"
    English). One English stop word among pinyin is pinyin too: "ru he kai fa piao" (如何开
    发票), "mei you shou dao" (没有收到); the stop words that are syllables (a, an, can, he,
    me, she, you) are ENGLISH_SYLLABLES, so a query of them alone stays English."""
    return all(
        is_english_word(word) and (word not in PINYIN_SYLLABLES or word in ENGLISH_SYLLABLES)
        for word in words
    )


def read_as_pinyin(text: str, homophones: Homophones) -> list[str] | None:
    """The known words a query typed in pinyin spells ("wu liu", "wùliú", "wu4 liu2" -> 物流),
    or None: not pinyin (`typed_pinyin`), English (`is_english`; tones make it pinyin
    whatever its words), or no known word's pinyin (`Homophones.pinyin_words`). Bounded:
    MAX_PINYIN_CHARS characters, then `pinyin_words`'s linear pass."""
    typed = typed_pinyin(text)
    if typed is None or not typed[0]:
        return None
    words, toned = typed
    if not toned and is_english(words):
        return None
    return homophones.pinyin_words(words)


def _settled(flags: list[bool]) -> bool:
    """Whether a window of the query (its characters' `flags`: covered by a known word) is
    already read: a window of two when any of its characters is, a longer one only when all
    are. "信用咔" (信用卡 typed by sound) holds the known word 信用, and what is left, "咔",
    is too short to sound like anything; "驗證馬" holds 驗證 (驗證碼)."""
    return all(flags) if len(flags) >= LONG_WINDOW else any(flags)


def _typo_of(window: str, word: str, in_words: list[bool]) -> bool:
    """Whether `window` (Simplified, sounding like the known `word`) can be `word` mistyped:
    not a dictionary word itself, one of its characters is the word's (or the word's as Taiwan
    says it: "简迅" and 短信, said 简讯) in the same place, and the others sound exactly like
    the word's, unfolded (办卡 is ban ka, 绑卡 bang ka), and are in no dictionary word of the
    query (`in_words`, per character of the window: "错五次" is 错 and 五次, not 错误 次)."""
    if is_dictionary_word(window):
        return False
    for spelled in {word, as_taiwan_says(word)}:
        changed = [
            i
            for i, (typed, meant) in enumerate(zip(window, spelled, strict=True))
            if typed != meant
        ]
        if (
            len(changed) < len(window)
            and not any(in_words[i] for i in changed)
            and sound(window, fold=False) == sound(spelled, fold=False)
        ):
            return True
    return False


def corrections(
    text: str,
    homophones: Homophones,
    known: Callable[[str], bool],
    *,
    of_run: Callable[[str], Sequence[tuple[int, int, str]]] | None = None,
) -> list[tuple[int, int, str]]:
    """(start, end, replacement) for the stretches of `text`'s Chinese that no known word covers
    but that sound like a known word; the replacement is in the script the query was typed in.
    `known(word)`: whether a Simplified word is in the index. `of_run`: `run_corrections` of
    one run of Chinese with these `homophones` and `known` (a search remembers them per run)."""
    if of_run is None:
        of_run = functools.partial(run_corrections, homophones=homophones, known=known)
    found: list[tuple[int, int, str]] = []
    scanned = 0
    for run in CJK_RUN_RE.finditer(text):
        if scanned >= MAX_SCANNED_CHARS:
            break
        typed = run.group()[: MAX_SCANNED_CHARS - scanned]
        scanned += len(typed)
        at = run.start()
        found += [(at + start, at + end, replacement) for start, end, replacement in of_run(typed)]
    return found


def run_corrections(
    typed: str, homophones: Homophones, known: Callable[[str], bool]
) -> list[tuple[int, int, str]]:
    """`corrections` of one run of Chinese (offsets in the run): a function of the run, the
    homophones and what is known only."""
    found: list[tuple[int, int, str]] = []
    simple = to_simplified(typed)
    if len(simple) != len(typed):
        return found  # offsets would not match the typed text
    settled = [False] * len(simple)
    in_words = [False] * len(simple)  # in a word of jieba's dictionary, as jieba reads it
    position = 0
    for word in segment(simple):
        if is_dictionary_word(word):
            in_words[position : position + len(word)] = [True] * len(word)
        position += len(word)
    for word, start, end in segment_for_search(simple):
        if end - start >= 2 and known(word):
            settled[start:end] = [True] * (end - start)
    position = 0
    while position < len(simple) - 1:
        for length in WORD_LENGTHS:
            window = simple[position : position + length]
            if len(window) < length or _settled(settled[position : position + length]):
                continue
            like = homophones.word_like(window)
            if (
                like is None
                or known(window)
                or not _typo_of(window, like, in_words[position : position + length])
            ):
                continue
            replacement = like if simple == typed else to_traditional(like)
            found.append((position, position + length, replacement))
            position += length
            break
        else:
            position += 1
    return found
