"""Real English words, which the "did you mean" correction leaves alone (typed questions).

The correction replaced every English word no article has by the closest article word by
spelling, and showed the corrected query's results at once: "spent euros on vacation" became
"spent error on vacation", "how do i link my chase account" "... my change account", "my
package was stolen it seems" "my package was stores it see" (eighteenth session: 10 of the 27
corrected English tuning questions lost their right first article so; docs/semantic-search.md).
A word the customer spelled right but the FAQ never uses is not a typo. The word list is the
whole-word entries of the English model's WordPiece vocabulary (bert-base-uncased, ~21,000
words of three or more letters), already shipped with the project: "stock", "euros", "plane"
are in it, "pasword", "refnd", "warrenty", "shiping" are not.
"""

from __future__ import annotations

import json
from functools import cache

from faq.search.english_model import TOKENIZER_FILE


@cache
def english_words() -> frozenset[str]:
    """The vocabulary's whole words (lower case, letters only), read once."""
    with TOKENIZER_FILE.open(encoding="utf-8") as source:
        vocabulary = json.load(source)["model"]["vocab"]
    return frozenset(word for word in vocabulary if word.isascii() and word.isalpha())


def is_english_word(word: str) -> bool:
    """Whether `word` (lower case) is a real English word, so not a misspelling to correct."""
    return word in english_words()
