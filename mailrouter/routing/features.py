"""The text features: the one place that turns a mail's text into what the models read.

Both targets (department, urgency) read the same text (`mail_text`, less its greetings, closings
and signature: `contentless.without_courtesy`): word TF-IDF (jieba, through
`support.core.text`, segments Chinese after Traditional->Simplified; English is lowercased) plus
character 2-4-gram TF-IDF, which catches typos, inflections and unsegmented Chinese.

The fast scorer (`mailrouter.routing.scorer`) reads these same features without scikit-learn,
so it uses the functions here too: a change to them changes both, and needs a FORMAT_VERSION
bump in `mailrouter.routing.classifier` (fitted vectorizers refer to these functions by name).
"""

from __future__ import annotations

import functools
import logging
import re
from collections import Counter
from typing import TYPE_CHECKING

from mailrouter.routing.contentless import without_courtesy
from mailrouter.routing.urgency_rules import CALM_PHRASES, whole_words
from support.core import text as text_support
from support.core.text import CJK_CHARS, segment, to_simplified

if TYPE_CHECKING:
    from sklearn.pipeline import FeatureUnion

logger = logging.getLogger(__name__)

# Character n-grams (within words, padded with a space) of these lengths; the fast scorer
# cuts them itself (see scorer._word_ngrams), so a change here needs a FORMAT_VERSION bump.
CHAR_NGRAM_RANGE = (2, 4)

# Chinese runs go to jieba; Latin words (with inner ' . - + # &: don't, e-mail, c++) are
# taken as they are, which is both faster and kinder to model numbers than jieba.
_LATIN_LAST = "\u024f"
_TOKEN_RE = re.compile(
    rf"[{CJK_CHARS}]+|[a-z0-9\u00c0-{_LATIN_LAST}]+(?:['’.+#&-][a-z0-9\u00c0-{_LATIN_LAST}]+)*\+*"
)
_NUMBER_RE = re.compile(r"^[\d.,'’+#&-]+$")


#: What "not urgent", "no rush", "不急", "有空再回" ... become for the models: one word of their
#: own, so "urgent" in "not urgent" no longer reads as urgency (urgency_rules.CALM_PHRASES).
NO_HURRY_TOKEN = "xnohurryx"


@functools.cache
def _no_hurry_re() -> re.Pattern[str]:
    phrases = sorted({to_simplified(p).lower() for p in CALM_PHRASES}, key=len, reverse=True)
    parts = [
        whole_words(r"\s+".join(map(re.escape, p.split()))) if p.isascii() else re.escape(p)
        for p in phrases
    ]
    return re.compile("|".join(parts))


@functools.lru_cache(maxsize=4096)
def normalize_text(text: str) -> str:
    """Simplified Chinese and lowercase, so 帳號/账号 and Refund/refund are one feature,
    "no hurry" phrases as one word (NO_HURRY_TOKEN), and no greeting, closing or signature
    (`contentless.without_courtesy`): "您好" and the sender's name decide nothing.

    Cached: the word and the character features read the same mail one after the other.
    """
    read = without_courtesy(to_simplified(text)).lower()
    return _no_hurry_re().sub(f" {NO_HURRY_TOKEN} ", read)


def text_pieces(text: str) -> Counter[str]:
    """The distinct words (between whitespace) of a mail as both feature blocks read it, with
    their counts, in order of first use (``str.split`` and the analyzers' ``\\s`` agree on
    what whitespace is)."""
    return Counter(normalize_text(text).split())


def normalized_tokens(normalized: str) -> list[str]:
    """The words of an already normalized text (the word features' tokenizer)."""
    return [token for run in _TOKEN_RE.findall(normalized) for token in _run_tokens(run)]


def _run_tokens(run: str) -> tuple[str, ...]:
    """The words of one _TOKEN_RE match: jieba's for Chinese, none for a number."""
    if run[0] > _LATIN_LAST:  # not _TOKEN_RE's Latin alternative: a run of CJK_CHARS
        return segment(run)
    if _NUMBER_RE.match(run):  # order numbers and amounts are noise
        return ()
    return (run,)


def tokenize(text: str) -> list[str]:
    """Words of a mail: jieba segments Chinese (after t2s), English is lowercased."""
    return normalized_tokens(normalize_text(text))


#: Characters of a mail body that routing reads. What a customer asks is at the start; the
#: rest of a long mail (logs, pasted documents, quoted history) only costs time, and an
#: attacker's 10 MB body would otherwise be scanned by every feature and keyword rule.
MAX_BODY_CHARS = 20_000


def mail_text(subject: str, body: str) -> str:
    """The one text both pipelines (training and routing) read, of bounded length."""
    return f"{(subject or '')[:1000]}\n{(body or '')[:MAX_BODY_CHARS]}"


def build_features(char_weight: float = 1.0) -> FeatureUnion:
    """The unfitted feature step: word and character TF-IDF side by side, the character
    block scaled by ``char_weight`` (a feature setting the training chooses by
    cross-validation; 1.0 is the shipped model's).

    scikit-learn is imported here, not with the module: routing a mail, its pages and the
    commands read this module's text functions, and importing scikit-learn costs seconds."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    words = TfidfVectorizer(
        preprocessor=normalize_text,
        tokenizer=normalized_tokens,
        token_pattern=None,
        lowercase=False,
        sublinear_tf=True,
        dtype=np.float32,
    )
    chars = TfidfVectorizer(
        preprocessor=normalize_text,
        analyzer="char_wb",
        ngram_range=CHAR_NGRAM_RANGE,
        lowercase=False,
        sublinear_tf=True,
        dtype=np.float32,
    )
    weights = None if char_weight == 1.0 else {"words": 1.0, "chars": char_weight}
    return FeatureUnion([("words", words), ("chars", chars)], transformer_weights=weights)


def clear_text_caches() -> None:
    """Forget remembered texts and Chinese segmentations."""
    normalize_text.cache_clear()
    text_support.clear_caches()
