"""The learned filter: naive Bayes over hashed tokens, in the style of SpamBayes.

Why this model: its state is tables of counts (in how many spam mails and in how many of each
kind of ham a token occurs), so learning from a staff decision is adding one mail's tokens. The
shipped model is the counts of the shipped corpus; an install's model is those counts plus
its staff's decisions (``learning.py``), with no corpus needed at run time. A verdict is
explained by the tokens that weighed most, which are also the only ones it is computed from
(the ``TOP_TOKENS`` furthest from neutral, Robinson's smoothing for rare tokens).

Each script is judged among the mails of that script: a Chinese or Korean character pair's
rate in a class is counted against the class's mails that have such pairs, not against all
its mails (``SCRIPTS``). Otherwise the share of Chinese mail in each class decides: with a
third of the customer mails and a tenth of the spam in Chinese, every common Chinese word
looked hammy, and Chinese spam passed because it was Chinese (or the other way round).

The file is a NumPy ``.npz`` of integer arrays, loaded with ``allow_pickle=False``: unlike a
pickle it cannot run code, so it needs no signature, and a file of another format version
means "use the shipped model", with a log line.
"""

from __future__ import annotations

import logging
import os
import tempfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

FORMAT_VERSION = 3
BUCKET_BITS = 20
#: Only this many tokens, those furthest from neutral, decide (and explain) a verdict.
TOP_TOKENS = 40
#: A token seen in fewer mails is pulled this strongly toward neutral (Robinson's s).
SMOOTHING_STRENGTH = 1.5
#: Tokens nearer neutral than this are ignored.
MIN_WEIGHT = 0.4
SHIPPED_RESOURCE = "shipped_model.npz"


#: Whose mails a token's rate is counted against: every mail (0: traits, links, figures),
#: those with Chinese characters (1), with Hangul (2), with Japanese kana (3), with words in
#: an alphabet (4: Latin, Greek, Cyrillic).
SCRIPTS = ("any", "han", "hangul", "kana", "alphabet")
_TRAIT_PREFIXES = frozenset(("h:", "b:", "u:"))


def _script_of_char(code: int) -> int:
    if 0x3040 <= code <= 0x30FF:
        return 3
    if 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or code >= 0x20000:
        return 1
    if 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
        return 2
    return 0


def script_of(token: str) -> int:
    """The script of a token from its last two characters (a pair with kana is Japanese)."""
    if not token or token[:2] in _TRAIT_PREFIXES:
        return 0
    last = token[-1]
    if token.isascii():  # the common case, quickly
        return 4 if last.isalpha() else 0
    if len(token) > 1 and _script_of_char(ord(token[-2])) == 3:
        return 3
    script = _script_of_char(ord(last))
    return 4 if script == 0 and last.isalpha() else script


#: Each script hashes into its own part of the table (bits of its part, first bucket), so a
#: word never shares a bucket, and so the mails its rate is counted against, with a word of
#: another script: "so" sharing a bucket with a Chinese pair once made "so" a strong ham sign.
_PARTS = (
    (17, 0xC0000),  # any: traits, links, figures
    (18, 0x80000),  # han
    (16, 0xE0000),  # hangul
    (16, 0xF0000),  # kana
    (19, 0x00000),  # alphabet
)


def bucket(token: str) -> int:
    bits, first = _PARTS[script_of(token)]
    return first + (zlib.crc32(token.encode("utf-8", "surrogatepass")) & ((1 << bits) - 1))


def _bucket_scripts() -> np.ndarray:
    """The script of every bucket (fixed by ``_PARTS``)."""
    scripts = np.zeros(1 << BUCKET_BITS, dtype=np.uint8)
    for script, (bits, first) in enumerate(_PARTS):
        scripts[first : first + (1 << bits)] = script
    return scripts


BUCKET_SCRIPTS = _bucket_scripts()


SPAM = "spam"
HAM = "ham"
CUSTOMER = "customer"
CLASSES = (SPAM, HAM, CUSTOMER)


@dataclass(frozen=True)
class Explanation:
    log_odds: float  # > 0: spam more likely; the sum of the weights of ``top`` and the rest
    top: tuple[tuple[str, float], ...]  # (token, weight: > 0 spammy, < 0 hammy), strongest first


class SpamModel:
    """Counts of tokens in spam mails and in two kinds of ham, and the weights derived.

    Ham is counted as two kinds: general mail (the shipped corpus's list and personal mail)
    and our own mail (the project's customer mails, the ham it wrote in several languages,
    and staff's "not spam" decisions); a
    token is as hammy as in the kind where it is most common. With one ham count, the words
    of business mail ("price", "order", "please") looked like spam's, because the corpus's
    ham is mostly technical lists and outnumbers the customer mails six to one.
    """

    def __init__(
        self,
        counts: dict[str, np.ndarray],
        mails: Mapping[str, Sequence[int]],
    ):
        """``mails[class]``: how many mails of the class (index 0) and how many of them had
        tokens of each other script (``SCRIPTS``)."""
        self.counts = {c: counts[c].astype(np.int32, copy=False) for c in CLASSES}
        self.mails = {c: _per_script(mails.get(c, ())) for c in CLASSES}
        self.weights = self._weights()

    @classmethod
    def empty(cls) -> SpamModel:
        return cls({c: np.zeros(1 << BUCKET_BITS, dtype=np.int32) for c in CLASSES}, {})

    def _rate(self, label: str) -> np.ndarray:
        """In what share of the class's mails of its script each bucket's token occurs."""
        denominators = np.maximum(np.array(self.mails[label], dtype=np.float64), 1.0)
        return self.counts[label] / denominators[BUCKET_SCRIPTS]

    def _weights(self) -> np.ndarray:
        spam_rate = self._rate(SPAM)
        # A token is as hammy as in the kind of ham where it is most common.
        ham_rate = np.maximum(self._rate(HAM), self._rate(CUSTOMER))
        total = spam_rate + ham_rate
        with np.errstate(invalid="ignore", divide="ignore"):
            p = np.where(total > 0, spam_rate / total, 0.5)
        seen = np.sum([self.counts[c] for c in CLASSES], axis=0, dtype=np.float64)
        f = (SMOOTHING_STRENGTH * 0.5 + seen * p) / (SMOOTHING_STRENGTH + seen)
        f = np.clip(f, 0.01, 0.99)
        weights = np.log(f / (1.0 - f)).astype(np.float32)
        weights[np.abs(weights) < MIN_WEIGHT] = 0.0
        return weights

    def add(self, tokens: Iterable[str], *, label: str, times: int = 1) -> None:
        """Count one mail's tokens (each once) under ``label`` (one of CLASSES); call
        ``refresh`` after a batch of adds."""
        target = self.counts[label]
        seen = {bucket(t) for t in tokens}
        for index in seen:
            target[index] += times
        mails = self.mails[label]
        mails[0] += times
        for script in {int(BUCKET_SCRIPTS[index]) for index in seen} - {0}:
            mails[script] += times

    def refresh(self) -> None:
        self.weights = self._weights()

    def log_odds(self, tokens: Sequence[str]) -> tuple[float, np.ndarray, np.ndarray]:
        """The sum of the TOP_TOKENS strongest weights, which tokens they were, all weights."""
        if not tokens:
            return 0.0, np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        indices = np.fromiter((bucket(t) for t in tokens), dtype=np.int64, count=len(tokens))
        weights = self.weights[indices]
        if len(weights) > TOP_TOKENS:
            chosen = np.argpartition(np.abs(weights), -TOP_TOKENS)[-TOP_TOKENS:]
        else:
            chosen = np.arange(len(weights))
        return float(weights[chosen].sum()), chosen, weights

    def explain(self, tokens: Sequence[str], *, top: int = 6) -> Explanation:
        odds, chosen, weights = self.log_odds(tokens)
        ranked = sorted(
            ((tokens[i], float(weights[i])) for i in chosen if weights[i] != 0.0),
            key=lambda item: -abs(item[1]),
        )
        return Explanation(odds, tuple(ranked[:top]))

    # ------------------------------------------------------------------ files

    def save(self, path: Path) -> None:
        """Write atomically (aside, fsync, rename): a reader sees the old or the new file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {
            "format_version": np.array([FORMAT_VERSION, BUCKET_BITS], dtype=np.int64),
            "mails": np.array([self.mails[c] for c in CLASSES], dtype=np.int64),
        }
        for name in CLASSES:
            index = np.flatnonzero(self.counts[name])
            arrays[f"{name}_idx"] = index.astype(np.int32)
            arrays[f"{name}_cnt"] = self.counts[name][index]
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                np.savez_compressed(out, **arrays)  # type: ignore[arg-type]
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def is_current_format(path: Path) -> bool:
    """Whether ``path`` is a model file of this format (reads only its version)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            version, bits = (int(x) for x in data["format_version"][:2])
    except (OSError, KeyError, ValueError, IndexError, zlib.error):
        return False
    return version == FORMAT_VERSION and bits == BUCKET_BITS


def load_model(path: Path | str, _key: bytes = b"") -> SpamModel | None:
    """The model in ``path``; None (and a log line) for a missing, broken or outdated file."""
    try:
        with np.load(path, allow_pickle=False) as data:
            version, bits = (int(x) for x in data["format_version"][:2])
            if version != FORMAT_VERSION or bits != BUCKET_BITS:
                log.warning("spam model %s is format %s; not used", path, version)
                return None
            counts = {}
            for name in CLASSES:
                table = np.zeros(1 << BUCKET_BITS, dtype=np.int32)
                table[data[f"{name}_idx"]] = data[f"{name}_cnt"]
                counts[name] = table
            table_of_mails = data["mails"].reshape(len(CLASSES), len(SCRIPTS))
            mails = {
                name: [int(n) for n in row]
                for name, row in zip(CLASSES, table_of_mails, strict=True)
            }
    except (OSError, KeyError, ValueError, IndexError, zlib.error) as exc:
        log.warning("spam model %s cannot be read (%s); not used", path, exc)
        return None
    return SpamModel(counts, mails)


def _per_script(counts: Sequence[int] | int) -> list[int]:
    """A class's mail counts, one per script (a bare number: all mails, none per script)."""
    if isinstance(counts, int):
        counts = [counts]
    values = [int(n) for n in counts][: len(SCRIPTS)]
    return values + [0] * (len(SCRIPTS) - len(values))


def shipped_model_path() -> Path:
    return Path(str(resources.files("mailrouter.spam").joinpath(SHIPPED_RESOURCE)))
