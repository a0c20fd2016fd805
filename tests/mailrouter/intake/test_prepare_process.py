"""The worker's prepare process: a backlog is prepared in a second process while the worker
writes, with the same result as preparing in-process, and nothing is lost when it dies."""

from __future__ import annotations

import gc
import logging
import os
import signal
import uuid

import pytest
from sqlalchemy import func, select

from faq import index_sync
from faq.matching import learn_embeddings, new_embeddings
from faq.models import Article, Category
from faq.search.homophones import sound
from mailrouter.intake import prepare_process, queue
from mailrouter.intake import worker as worker_module
from mailrouter.intake.worker import Worker, child_share
from mailrouter.models import InboundMail
from mailrouter.routing import decisions
from support.core.text import _pinyin_lexicon, _tagger, segmenter
from support.desk.models import Message, OutboundMail, Ticket, TicketSearch
from tests.mailrouter.conftest import make_mail

pytestmark = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs a second core")

COUNT = 36
#: Enough articles for the FAQ matching to tell one apart from the average article.
ARTICLES = (
    ("late-parcel", "en", "My parcel has not arrived yet"),
    ("reset-password", "en", "How do I reset my password?"),
    ("refund-time", "en", "How long does a refund take?"),
    ("warranty", "en", "What does the warranty cover?"),
    ("invoice", "en", "Can I get an invoice for my order?"),
    ("shipping-time", "zh", "订单什么时候发货？"),
    ("fapiao", "zh", "怎么开发票？"),
    ("tuikuan", "zh", "退款多久到账？"),
)


@pytest.fixture
def app_settings() -> dict:
    return {"WORKER_PREPARE_PROCESS": True, "WORKER_BATCH_SIZE": 8}


def _queue_backlog(session) -> None:
    topics = (
        ("My parcel has not arrived yet", "My parcel {n} has not arrived yet. Where is it?"),
        ("订单什么时候发货？", "我的订单 {n} 一直显示待发货，订单什么时候发货？"),
        ("Quote for {n} kettles", "We would like a quote for {n} smart kettles."),
    )
    for n in range(COUNT):
        subject, body = topics[n % len(topics)]
        queue.store_inbound(
            session,
            channel="smtp",
            raw=make_mail(
                sender=f"customer{n}@example.net",
                to="support@example.com",
                subject=subject.format(n=n),
                body=body.format(n=n) + "\n",
            ),
            envelope_from=f"customer{n}@example.net",
            envelope_to=["support@example.com"],
        )
    session.commit()


def _ready(worker: Worker) -> None:
    assert worker.prepare_process.wait_ready(120), "the prepare process did not start"


def _counts(session) -> tuple[int, int, int, int]:
    def count(model) -> int:
        return session.scalar(select(func.count()).select_from(model))

    return count(Ticket), count(Message), count(TicketSearch), count(OutboundMail)


def test_a_backlog_prepared_in_the_second_process_is_written_in_full(app, session) -> None:
    _queue_backlog(session)
    worker = Worker(app, retry_base_seconds=0)
    try:
        _ready(worker)
        assert worker.run_until_idle() == COUNT
    finally:
        worker.close()
    # All but the batches before it was up, less what the worker prepared itself while the
    # child prepared the next batch (when preparing is slower than writing; see child_share).
    assert worker.prepared_elsewhere >= (COUNT - 2 * 8) // 2
    session.expire_all()
    tickets, messages, rows, replies = _counts(session)
    assert tickets == COUNT and rows == COUNT and replies == COUNT
    assert messages == 2 * COUNT  # each mail and its auto-reply
    states = set(session.scalars(select(InboundMail.state)))
    assert states == {queue.PROCESSED}
    # The prepared analysis was used: every ticket was routed by the model with its verdict.
    for ticket in session.scalars(select(Ticket)):
        assert ticket.classification and ticket.classification.get("department"), ticket.subject


def test_when_preparing_costs_more_than_writing_both_processes_prepare(app, session) -> None:
    """New text for the embedding model makes preparing the slow half: the worker keeps part of
    each batch for itself, and every message is still written once."""
    _queue_backlog(session)
    worker = Worker(app, retry_base_seconds=0)
    try:
        _ready(worker)
        # As measured on mail new to the model: 90 ms to prepare, 4 ms to write a message.
        worker.prepare_seconds, worker.write_seconds = 0.090, 0.004
        worker.run_until_idle()
    finally:
        worker.close()
    assert 0 < worker.prepared_elsewhere < COUNT
    session.expire_all()
    tickets, messages, rows, replies = _counts(session)
    assert tickets == COUNT and rows == COUNT and replies == COUNT
    assert set(session.scalars(select(InboundMail.state))) == {queue.PROCESSED}


@pytest.mark.parametrize(
    ("prepare", "write", "share"),
    [(0.090, 0.004, 0.522), (0.003, 0.004, 1.0), (0.003, 0.003, 1.0), (0.0, 0.004, 1.0)],
)
def test_child_share_balances_the_two_processes(prepare, write, share) -> None:
    assert child_share(prepare, write) == pytest.approx(share, abs=0.001)


def test_a_killed_prepare_process_loses_and_doubles_nothing(app, session) -> None:
    _queue_backlog(session)
    worker = Worker(app, retry_base_seconds=0)
    try:
        _ready(worker)
        assert len(worker.process_batch()) == 8  # the next batch is now with the child
        child = worker.prepare_process.get()
        assert child is not None
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)
        assert worker.run_until_idle() == COUNT - 8
    finally:
        worker.close()
    session.expire_all()
    tickets, messages, rows, replies = _counts(session)
    assert tickets == COUNT and rows == COUNT and replies == COUNT
    assert set(session.scalars(select(InboundMail.state))) == {queue.PROCESSED}
    assert worker.prepare_process.get() is None  # prepared in-process until the restart pause


def _add_articles(app, session) -> None:
    """The FAQ articles of ARTICLES, indexed, for both processes to find."""
    category = Category(slug="orders", name_en="Orders")
    for slug, language, question in ARTICLES:
        session.add(
            Article(
                slug=slug,
                category=category,
                language=language,
                question=question,
                answer_md="See our help pages for the details of this question.",
            )
        )
    session.commit()
    index_sync.rebuild_index(app)


def test_warm_up_loads_what_a_chinese_mail_needs(app, session, caplog) -> None:
    """The prepare process's warm-up loads jieba and the FAQ words by sound: the first Chinese
    mail loaded them (a second of CPU) while the worker waited for its first batch. It says
    when it starts and how long it took (the worker's and the prepare process's log)."""
    _add_articles(app, session)
    segmenter.cache_clear()
    sound.cache_clear()
    caplog.set_level(logging.INFO, logger="mailrouter.intake.worker")
    Worker(app, prepare_process=False).warm_up()
    assert segmenter.cache_info().currsize == 1
    assert sound.cache_info().currsize > 0
    lines = [r.getMessage() for r in caplog.records if r.name == "mailrouter.intake.worker"]
    assert "loading the models" in lines[0] and "models loaded in" in lines[-1], lines


def test_warm_up_loads_the_offer_checks_tables_whatever_the_faq(app) -> None:
    """jieba's part-of-speech tables (`tagged_words`, the offer check of a Chinese mail) load in
    the warm-up even when no article answers its mail, as none of the demo FAQ's does: they
    loaded inside the intake bench's measured batches, once in each of its eight processes
    (about 0.5 s of CPU each)."""
    _tagger.cache_clear()
    Worker(app, prepare_process=False).warm_up()
    assert _tagger.cache_info().currsize == 1


def test_warm_up_builds_the_pinyin_readers_dictionary(app) -> None:
    """The reading of a mail written in pinyin (jieba's words by their pinyin, and the urgency
    keywords') is built in the warm-up: a process's first pinyin mail built it, 1.1-1.4 s of
    CPU while its worker waited."""
    _pinyin_lexicon.cache_clear()
    decisions._keyword_vocabulary.cache_clear()
    Worker(app, prepare_process=False).warm_up()
    assert _pinyin_lexicon.cache_info().currsize == 1
    assert decisions._keyword_vocabulary.cache_info().currsize == 1


@pytest.mark.usefixtures("model_in_instance")
def test_the_prepare_process_prepares_what_the_worker_would(app, session, monkeypatch) -> None:
    """Equivalence: the same claims prepared in the worker and in the prepare process, with a
    routing model and FAQ articles for both to find."""
    # What is compared is what each side finds, not how fast: at load 12 and more the worker's
    # side stopped at PREPARE_SECONDS after 3 of the 8 mails (the child, spawned, keeps its own
    # limit and is warmed by a first pass below).
    monkeypatch.setattr(worker_module, "PREPARE_SECONDS", 600.0)
    _add_articles(app, session)
    _queue_backlog(session)
    worker = Worker(app, retry_base_seconds=0)
    try:
        _ready(worker)
        with worker.database.session() as claiming:
            claims = queue.claim_batch(
                claiming, worker_id=worker.worker_id, lease_seconds=300, max_attempts=3, limit=8
            )
        worker.warm_up()  # models loaded here too, so neither side stops at PREPARE_SECONDS
        here = worker.prepare_claims(claims, worker_id=worker.worker_id)
        child = worker.prepare_process.get()
        assert child is not None
        # Preparing only reads: a first pass warms the child's caches, so that a loaded
        # machine does not stop it at PREPARE_SECONDS while it loads what it needs.
        child.submit(worker.worker_id, claims).result()
        there = child.submit(worker.worker_id, claims).result()
    finally:
        worker.close()
    assert here.read == there.read == 8 and not here.errors and not there.errors
    assert len(here.prepared) == len(there.prepared) == 8
    assert any(p.analysis.prediction and p.analysis.prediction.department for p in here.prepared)
    offered = 0
    for mine, theirs in zip(here.prepared, there.prepared, strict=True):
        assert mine.claim == theirs.claim and mine.inbound == theirs.inbound
        assert mine.parsed == theirs.parsed and mine.spam == theirs.spam
        ours, other = mine.analysis, theirs.analysis
        assert ours.prediction is not None and other.prediction is not None
        for part in ("department", "urgency"):
            a, b = getattr(ours.prediction, part), getattr(other.prediction, part)
            assert (a is None) == (b is None)
            if a is not None:
                assert a.label == b.label and a.probability == pytest.approx(b.probability)
        assert ours.answers is not None and other.answers is not None
        offered += len(ours.answers.matches)
        assert [(m.article_id, m.offer) for m in ours.answers.matches] == [
            (m.article_id, m.offer) for m in other.answers.matches
        ]
        assert [m.confidence for m in ours.answers.matches] == pytest.approx(
            [m.confidence for m in other.answers.matches]
        )
    assert offered > 0


def _claim_new_mails(worker: Worker, session, texts: list[tuple[str, str]]) -> list:
    for n, (subject, body) in enumerate(texts):
        queue.store_inbound(
            session,
            channel="smtp",
            raw=make_mail(
                sender=f"sharing{n}@example.net",
                to="support@example.com",
                subject=subject,
                body=body + "\n",
            ),
            envelope_from=f"sharing{n}@example.net",
            envelope_to=["support@example.com"],
        )
    session.commit()
    with worker.database.session() as claiming:
        return queue.claim_batch(
            claiming, worker_id=worker.worker_id, lease_seconds=300, max_attempts=3, limit=8
        )


def test_the_worker_and_the_prepare_process_embed_a_sentence_once(app, session) -> None:
    """Each hands the other the mail sentences it embedded (with a batch, or with its reply):
    the other prepares the same mail without embedding it again."""
    _add_articles(app, session)
    tag = uuid.uuid4().hex[:8]
    worker = Worker(app, retry_base_seconds=0)
    try:
        _ready(worker)
        worker.warm_up()  # loads the model here too, and starts handing on what it embeds
        child = worker.prepare_process.get()
        assert child is not None
        # The child embeds the first mails and sends them back; the worker learns them.
        first = _claim_new_mails(
            worker,
            session,
            [
                ("My parcel has not arrived yet", "My parcel has not arrived yet. Where is it?"),
                ("订单什么时候发货？", "我的订单一直显示待发货，订单什么时候发货？"),
            ],
        )
        # Preparing stops after PREPARE_SECONDS (a loaded machine may reach it after one
        # mail): the other side is given only the claims this side looked at.
        there = child.submit(worker.worker_id, first, new_embeddings()).result()
        assert there.read >= 1 and there.embeddings and not there.errors
        learn_embeddings(there.embeddings)
        here = worker.prepare_claims(first[: there.read], worker_id=worker.worker_id)
        assert here.embeddings == {}  # nothing was new to the worker
        # The worker embeds other mails and hands them over with the next batch.
        second = _claim_new_mails(
            worker,
            session,
            [
                # Sentences no earlier test of this process can have embedded (the worker's
                # cache lives as long as the process, and it reports only what is new to it).
                ("Refund", f"I returned kettle {tag} last week. How long does refund {tag} take?"),
                ("退款", f"退货{tag}已经寄回去了，退款{tag}多久到账？"),
            ],
        )
        mine = worker.prepare_claims(second, worker_id=worker.worker_id)
        assert mine.read >= 1 and mine.embeddings
        theirs = child.submit(worker.worker_id, second[: mine.read], mine.embeddings).result()
        assert theirs.embeddings == {} and not theirs.errors
    finally:
        worker.close()
    assert here.prepared and len(here.prepared) <= len(there.prepared)
    for ours, other in zip(here.prepared, there.prepared, strict=False):
        assert ours.analysis.answers is not None and other.analysis.answers is not None
        assert [(m.article_id, m.offer) for m in ours.analysis.answers.matches] == [
            (m.article_id, m.offer) for m in other.analysis.answers.matches
        ]


class _Pipe:
    """The child's end of the pipe: told to stop at once."""

    def __init__(self) -> None:
        self.sent: list[tuple] = []

    def send(self, message: tuple) -> None:
        self.sent.append(message)

    def recv(self) -> None:
        return None


class _Preparer:
    def __init__(self, app, prepare_process: bool) -> None:
        self.app = app

    def warm_up(self) -> None:
        pass


def test_the_child_leaves_what_it_loaded_out_of_later_collections(monkeypatch) -> None:
    """A full collection in the prepare process walked every object the start loaded (about
    430,000) for what a batch left: the child freezes them once it is ready."""
    monkeypatch.setattr(prepare_process, "_end_with_parent", lambda parent: None)
    gc.unfreeze()
    pipe = _Pipe()
    try:
        prepare_process._child_main(
            pipe, lambda settings, instance_path: object(), _Preparer, {}, "/tmp", 0, None
        )
        frozen = gc.get_freeze_count()
    finally:
        gc.unfreeze()
    assert pipe.sent == [("ready", None)]
    assert frozen > 10_000  # before: 0, every object walked by each full collection
