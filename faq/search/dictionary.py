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

Some of its words are rare slips of everyday ones: "oder" (a river, German "or") for "order".
WordPiece numbers its vocabulary most frequent first, so a word's number is its rank in
English: a word ranked beyond RARE_RANK, one letter from a much more common word the FAQ uses,
is corrected as a typo would be (faq.search.engine). "kettle" (22,421) and "oder" (27,215) are
both rare; "order" (2,344) is eleven times as far up, and "kettle" has no neighbour in the FAQ.
"""

from __future__ import annotations

import json
from functools import cache

from faq.search.english_model import TOKENIZER_FILE

#: Words ranked beyond this are rare (names, places, "kettle", "oder"): see `english_rank`.
RARE_RANK = 20_000


@cache
def english_words() -> dict[str, int]:
    """The vocabulary's whole words (lower case, letters only) and their ranks, read once."""
    with TOKENIZER_FILE.open(encoding="utf-8") as source:
        vocabulary = json.load(source)["model"]["vocab"]
    return {
        word: int(number)
        for word, number in vocabulary.items()
        if word.isascii() and word.isalpha()
    }


def is_english_word(word: str) -> bool:
    """Whether `word` (lower case) is a real English word, so not a misspelling to correct."""
    return word in english_words()


def english_rank(word: str) -> int | None:
    """How common `word` (lower case) is in English: its WordPiece number, smaller for commoner
    words ("the" 1,996, "order" 2,344, "oder" 27,215); None for no English word."""
    return english_words().get(word)
