"""Texts embedded in one process are handed to another that searches the same index (the
worker and its prepare process), so neither embeds a recurring mail sentence the other did."""

from __future__ import annotations

import numpy as np
import pytest

from faq.search import embedding
from faq.search.embedding import CachedEmbedder


class CountingModel:
    """A stand-in for the model: a fixed vector per text, and a count of texts embedded."""

    dim = 4

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        self.embedded += texts
        rows = [[len(t), sum(map(ord, t)) % 97, float(is_query), 1.0] for t in texts]
        vectors = np.asarray(rows, dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture
def sharing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedding, "_sharing", True)


TEXTS = ["Where is my parcel?", "订单什么时候发货？", "Can I get a refund for order 1187?"]


def test_a_process_that_learns_anothers_texts_embeds_none_of_them(sharing) -> None:
    first, second = CachedEmbedder(CountingModel(), "m"), CachedEmbedder(CountingModel(), "m")
    expected = first.queries(TEXTS)
    second.learn(first.take_new())
    assert np.array_equal(second.queries(TEXTS), expected)  # the same vectors, bit for bit
    assert second._model.embedded == []
    assert second.take_new() == {}  # learned texts are not handed back
    assert first.take_new() == {}  # handed over once
    # Passages (article texts) are kept apart from queries, as in one process.
    second.passages(TEXTS[:1])
    assert second._model.embedded == [TEXTS[0]]


def test_nothing_is_kept_for_others_until_asked_and_then_only_so_many(monkeypatch) -> None:
    monkeypatch.setattr(embedding, "_sharing", False)
    embedder = CachedEmbedder(CountingModel(), "m")
    embedder.queries(TEXTS)
    assert embedder.take_new() == {}  # a process that never shares keeps nothing extra
    monkeypatch.setattr(embedding, "SHARED_ENTRIES", 2)
    monkeypatch.setattr(embedding, "_sharing", True)
    embedder.queries([f"question {word}" for word in ("one", "two", "three")])
    assert len(embedder.take_new()) == 2  # the newest, within the bound
