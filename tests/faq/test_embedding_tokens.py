"""Anyone may type into the portal: emoji, combining marks and rare characters are several
tokens each, so the characters budget (MAX_EMBED_UNITS) let one text cost the model four times
a real question's tokens, and a search's six sentences of them 0.58 s of CPU. The model gets at
most MAX_EMBED_TOKENS of a text and MAX_QUERY_TOKENS of a search; real texts are untouched."""

from __future__ import annotations

import random

import numpy as np
import pytest

from faq.search import embedding
from faq.search.embedding import (
    MAX_EMBED_TOKENS,
    MAX_QUERY_TOKENS,
    CachedEmbedder,
    prepare,
    segments,
)


class Recording:
    """The bundled model, recording what it is asked to embed."""

    def __init__(self, model) -> None:
        self.model = model
        self.dim = model.dim
        self.embedded: list[str] = []

    def encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        self.embedded += texts
        return self.model.encode(texts, is_query)

    def token_count(self, text: str, is_query: bool = False) -> int:
        return self.model.token_count(text, is_query)


@pytest.fixture
def recording(embedder) -> Recording:
    return Recording(embedder._model)


def _tokens(recording: Recording, text: str) -> int:
    return recording.model.token_count(text, True)


def test_hostile_characters_reach_the_model_within_the_token_budgets(recording) -> None:
    cached = CachedEmbedder(recording, "test")
    emoji_line = "😀🙃🤯🧨🦄🫠" * 80
    assert _tokens(recording, prepare(emoji_line)) > 2 * MAX_EMBED_TOKENS  # before: all of it
    rows = cached.query_segments(emoji_line)
    assert rows.shape == (1, recording.dim)
    [embedded] = recording.embedded
    assert MAX_EMBED_TOKENS - 8 <= _tokens(recording, embedded) <= MAX_EMBED_TOKENS
    assert prepare(emoji_line).startswith(embedded)

    recording.embedded.clear()
    rng = random.Random(21)
    marks = ". ".join(
        "".join(rng.choice("aeiou") + "\u0301\u0302" for _ in range(27)) for _ in range(8)
    )
    assert len(segments(marks)) == 6
    rows = cached.query_segments(marks)
    spent = sum(_tokens(recording, text) for text in recording.embedded)
    assert spent <= MAX_QUERY_TOKENS and 1 <= len(rows) < 6
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-3)


def test_real_questions_and_mails_are_embedded_whole(recording) -> None:
    cached = CachedEmbedder(recording, "test")
    question = (
        "I ordered the AeroPure purifier two weeks ago and the site said it shipped. The courier "
        "says it is still at the depot. Where can I follow it? And when will it arrive?"
    )
    mail = "\n".join(
        [
            "我家洗衣机（型号 WM-8012，订单 2024-5521）这两天一直报E21，衣服洗完水排不掉。",
            "我按说明书把下面的排水泵过滤器拧出来清理过了，还是一样，请问怎么处理？",
            "能不能安排师傅上门？周末在家。",
        ]
    )
    for text in (question, mail):
        recording.embedded.clear()
        rows = cached.query_segments(text)
        assert recording.embedded == [prepare(part) for part in segments(text)]
        assert len(rows) == len(segments(text))


class Counting(Recording):
    """The bundled model, counting how often its tokenizer runs."""

    def __init__(self, model) -> None:
        super().__init__(model)
        self.counted: list[str] = []

    def token_count(self, text: str, is_query: bool = False) -> int:
        self.counted.append(text)
        return super().token_count(text, is_query)


def test_a_recurring_sentences_tokens_are_counted_once_and_forgotten_with_its_vector(
    embedder,
) -> None:
    counting = Counting(embedder._model)
    now = [1_000_000.0]
    cached = CachedEmbedder(counting, "test", clock=lambda: now[0])
    mail = "\n".join(
        [
            "Where is my parcel? The tracking page has said 'in transit' for a week.",
            "我的快递什么时候到？订单号 88123。",
            "Can I change the delivery address?",
        ]
    )
    first = cached.query_segments(mail)
    assert counting.counted  # the search's token budget asked the model
    counts = {text: counting.model.token_count(text, True) for text in counting.counted}
    assert all(cached._tokens(text, True) == n for text, n in counts.items())

    counting.counted.clear()
    again = cached.query_segments(mail)
    assert counting.counted == []  # before: every sentence tokenized again, every mail
    assert np.array_equal(first, again)

    now[0] += embedding.QUERY_LIFETIME_SECONDS + 1
    cached.forget_expired()
    assert cached._counts == {}  # customers' words: gone with their vectors
    cached.query_segments(mail)
    assert sorted(counting.counted) == sorted(counts)  # counted afresh, the same
    assert all(cached._tokens(text, True) == n for text, n in counts.items())


def test_an_expired_count_is_not_used_before_the_sweep(embedder) -> None:
    counting = Counting(embedder._model)
    now = [1_000_000.0]
    cached = CachedEmbedder(counting, "test", clock=lambda: now[0])
    text = prepare("How do I reset my password?")
    assert cached._tokens(text, True) == counting.model.token_count(text, True)
    now[0] += embedding.QUERY_LIFETIME_SECONDS + 1
    counting.counted.clear()
    cached._tokens(text, True)
    assert counting.counted == [text]
