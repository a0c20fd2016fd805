"""The worker: takes queued mail in small batches and runs the pipeline on each message.

The claim (short, committed at once) counts an attempt for each message of a batch and sets
their leases. Each message is then read, parsed and analysed (routing model, FAQ answers)
outside any write transaction: that is pure Python whose cost grows with the mail, and one
hostile mail once held SQLite's write lock for 40 s. A message whose parsing took longer than
MAIL_PARSE_BUDGET_SECONDS is quarantined at once. The parsed messages are then processed in one
transaction (or a few, each at most TRANSACTION_SECONDS long; on PostgreSQL one per message, see
``Worker.transaction_seconds``), each message in its own savepoint (a transaction of one
message needs none), and the commit stores the pipeline's work and the "processed" marks
together. A message that fails rolls back only its own work and is put back for a retry; a
crash (kill -9) loses the uncommitted transaction, whose leases then run out so the next worker
takes the messages over; a clean stop (SIGTERM) finishes the message in hand and puts the rest
of its claims back in the queue at once (``_give_back``). Fewer commits save a tenth of a
message's cost. Reference data (departments, urgency levels, templates) is kept between
transactions for a few seconds (``support.core.reference_cache``), and a message's audit rows
go in one INSERT (``audit.deferred``): on PostgreSQL each statement is a round trip. On
PostgreSQL each row stays locked (FOR UPDATE) while it is worked on, so another worker's
``SKIP LOCKED`` claim passes it by even when a slow batch outlives the lease; a killed worker's
locks die with its connection.

Under a backlog, a second process prepares the next batch while this one is written
(``prepare_process.py``, WORKER_PREPARE_PROCESS): the worker claims batch N+1 and hands it over
before it writes batch N. Preparing is read-only, so the child changes nothing of the above:
if it is not up yet, or dies, the worker prepares in-process. When preparing costs more than
writing (mail new to the sentence-embedding model), the child gets only part of each batch and
the worker prepares the rest after writing, so both cores work (``child_share``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from faq.matching import learn_embeddings, new_embeddings
from mailrouter.intake import pipeline, queue
from mailrouter.intake.prepare_process import PrepareError, PrepareProcessHolder, Reply
from mailrouter.models import ClaimedMail
from mailrouter.parsing import ParsedMail, parse_message
from mailrouter.spam.verdict import SpamVerdict
from mailrouter.spam.verdict import current_model as spam_model
from support.core.concurrency import single_writer
from support.core.db import Database, get_db
from support.core.direct_insert import KEY_BLOCKS, KeyBlocks
from support.core.reference_cache import REFERENCE_CACHE, ReferenceCache
from support.core.round_trips import batched
from support.core.text import load_tagger
from support.desk import audit
from support.desk.outbox import own_addresses

log = logging.getLogger(__name__)

_worker_numbers = iter(range(1, 1_000_000))
_numbers_lock = threading.Lock()
#: Longest pause between retries of a failing message.
MAX_RETRY_DELAY_SECONDS = 3600.0
#: Pause after the database could not be reached, growing to this.
MAX_IDLE_BACKOFF_SECONDS = 30.0
#: How long one transaction of a batch may run before it commits what it has done.
TRANSACTION_SECONDS = 0.1
#: Longest wait of a stop for the worker threads (they finish the message in hand: well under a
#: second but for a pathological one; MAIL_PARSE_BUDGET_SECONDS bounds its parsing).
STOP_SECONDS = 30.0


def new_worker_id() -> str:
    with _numbers_lock:
        number = next(_worker_numbers)
    return f"{socket.gethostname()}:{os.getpid()}:{number}"


@dataclass(frozen=True)
class Processed:
    inbound_id: int
    outcome: str
    ticket_id: int | None
    state: str


#: Outcome of a message quarantined because parsing it took longer than the budget.
OVER_PARSE_BUDGET = "over-parse-budget"
#: At most this many bytes of raw mail are read and parsed ahead of one write transaction.
PREPARE_BYTES = 32 * 1024 * 1024
#: At most this long is spent reading, parsing and analysing ahead of the write transactions
#: (far below WORKER_LEASE_SECONDS, so the claims are still ours when they are stored).
PREPARE_SECONDS = 2.0


@dataclass(frozen=True)
class _Prepared:
    """A claimed message read and parsed before the write transaction that stores it."""

    claim: queue.Claim
    inbound: ClaimedMail
    parsed: ParsedMail
    analysis: pipeline.Analysis
    #: The spam check's verdict, judged here too: it may ask spamd, which may take a while.
    spam: SpamVerdict | None = None


@dataclass(frozen=True)
class PreparedBatch:
    """What preparing a claimed batch gave (in this process or the prepare process)."""

    prepared: list[_Prepared]
    #: How many of the claims were looked at (the rest are prepared later).
    read: int
    done: dict[int, Processed]
    #: Claim id -> the error (a traceback's text, so that it crosses processes).
    errors: dict[int, str]
    #: Wall time the preparing took, for the worker's division of work (`child_share`).
    seconds: float = 0.0
    #: The mail sentences the preparing process embedded meanwhile, for the other process
    #: (faq.matching.new_embeddings): the same sentences recur, and each process embedded them.
    embeddings: dict[str, dict[bytes, Any]] = field(default_factory=dict)


#: Weight of the newest measurement in the worker's running averages of prepare and write time.
_AVERAGING = 0.3


def child_share(prepare_seconds: float, write_seconds: float) -> float:
    """The share of a batch to hand the prepare process, given what preparing and writing one
    message take (seconds): the rest is prepared by the worker itself after it has written the
    child's part, while the child prepares the next batch.

    Balanced so both finish together: the child's share k of a batch of B takes k*P, the
    worker's (B-k)*P + B*W; equal at k/B = 1/2 + W/(2P). When writing costs as much as
    preparing (mail whose sentences the model has seen, a slow database), the child takes all;
    when preparing costs far more (new text for the sentence-embedding model: 30-60 ms a
    sentence), each process prepares about half and a second core no longer idles.
    """
    if prepare_seconds <= 0:
        return 1.0
    return min(1.0, 0.5 + write_seconds / (2 * prepare_seconds))


def _averaged(average: float, value: float) -> float:
    return value if average == 0 else average + _AVERAGING * (value - average)


#: The mail `Worker.warm_up` analyses: Chinese too, with a word that sounds like another, so that
#: the word segmenter (jieba, 0.7 s of CPU) and the pinyin tables of the typo matching (about as
#: much) load before the first real batch. Without it each prepare process loaded them inside its
#: first batch while its worker waited (14-22 s on the loaded machine; with four workers four
#: times, in the intake bench's window).
WARM_UP_MAIL = (
    "From: warm-up@example.invalid\r\nSubject: warm up\r\n"
    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    "Hello, my order. 你好，我的快第什么时候到？\r\n"  # 快第: 快递 mistyped
).encode()
#: ... and one written in pinyin, so that the reading of pinyin (jieba's words by their pinyin,
#: support.core.text.read_pinyin; routing's and the FAQ's known words) is built too: a process's
#: first pinyin mail built it, 1.1-1.4 s of CPU while its worker waited.
WARM_UP_PINYIN_MAIL = (
    b"From: warm-up@example.invalid\r\nSubject: warm up\r\n\r\n"
    b"ni hao, wo de ding dan hai mei you fa huo\r\n"
)


class PrepareFailed(Exception):
    """Preparing a message failed in the prepare process; the text is its traceback."""


class Worker:
    """Processes InboundMail rows; several may run in threads or processes side by side."""

    def __init__(
        self,
        app: Flask,
        *,
        database: Database | None = None,
        worker_id: str | None = None,
        retry_base_seconds: float = 5.0,
        prepare_process: bool | None = None,
    ) -> None:
        self.app = app
        self.config: Mapping[str, Any] = app.config
        self.database = database or get_db(app)
        self.worker_id = worker_id or new_worker_id()
        self.retry_base_seconds = retry_base_seconds
        self.batch_size = max(1, int(app.config["WORKER_BATCH_SIZE"]))
        #: None: WORKER_PREPARE_PROCESS decides (see prepare_process.py).
        self.prepare_process = PrepareProcessHolder(app, type(self), prepare_process)
        #: The next batch, claimed and being prepared in the prepare process.
        self._ahead: tuple[list[queue.Claim], Reply | None] | None = None
        #: Messages written as the prepare process prepared them (for tests and benches).
        self.prepared_elsewhere = 0
        #: Running averages of the seconds preparing (in the prepare process) and writing take
        #: per message: they divide a batch between the two processes (`child_share`).
        self.prepare_seconds = 0.0
        self.write_seconds = 0.0
        #: Departments, urgency levels, templates... kept between this worker's transactions
        #: (on PostgreSQL one per message): see support.core.reference_cache.
        self.reference_cache = ReferenceCache()
        #: New rows' keys drawn ahead on PostgreSQL, so their INSERTs need no answer
        #: (support.core.direct_insert).
        self.key_blocks = KeyBlocks() if self.database.dialect == "postgresql" else None
        #: Set by `run_forever`'s caller to stop: the message in hand is finished, the rest of
        #: the batch put back in the queue (`_give_back`).
        self._stop: threading.Event | None = None
        #: True while the models load before the first claim: a stop need not wait for it (no
        #: message is held meanwhile).
        self.warming_up = False

    def stopping(self) -> bool:
        """True once the worker was told to stop: take no more, finish the message in hand."""
        return self._stop is not None and self._stop.is_set()

    @property
    def transaction_seconds(self) -> float:
        """How long a transaction may take more messages: on SQLite TRANSACTION_SECONDS, as a
        commit costs more than a message's work and there is only one writer anyway. On
        PostgreSQL none, so no row lock (an FAQ article's demand, a sender's activity) is held
        from one message into the next: two workers batching deadlocked on them (4 times in 600
        messages, a second's stall each) and managed 94 msg/s; one message per transaction, 141.
        """
        return TRANSACTION_SECONDS if single_writer(self.database.engine) else 0.0

    @property
    def max_attempts(self) -> int:
        return int(self.config["WORKER_MAX_ATTEMPTS"])

    def _retry_delay(self, attempts: int) -> float:
        return min(MAX_RETRY_DELAY_SECONDS, self.retry_base_seconds * 4 ** max(attempts - 1, 0))

    def process_batch(
        self, limit: int | None = None, *, claim_ahead: bool = True
    ) -> list[Processed]:
        """Claim up to ``limit`` (default WORKER_BATCH_SIZE) due messages and process them,
        in one short transaction or a few (see _process_some); [] when nothing is due.

        With the prepare process (a backlog, WORKER_PREPARE_PROCESS), the next batch is claimed
        and handed to it before this one is written, so it is prepared meanwhile."""
        size = self.batch_size if limit is None else max(1, min(limit, self.batch_size))
        ahead, self._ahead = self._ahead, None
        claims, reply = ahead if ahead is not None else (self._claim(size), None)
        if not claims:
            return []
        if reply is None and (len(claims) == size or ahead is not None):
            reply = self._submit(claims)  # a backlog: the prepare process takes part
        if reply is not None and claim_ahead and not self.stopping():
            wanted = size if limit is None else min(size, limit - len(claims))
            following = self._claim(wanted) if wanted > 0 else []
            if following:
                self._ahead = (following, self._submit(following))
        done: dict[int, Processed] = {}
        errors: dict[int, Exception] = {}
        remaining = claims
        if reply is not None:
            remaining = claims[self._take_prepared(reply, done, errors) :]
        while remaining and not self.stopping():
            prepared, read = self._prepare_some(remaining, done, errors)
            remaining = remaining[read:]
            self._write(prepared, done, errors)
        given_back = self._give_back([c for c in claims if c.id not in done and c.id not in errors])
        return [
            self._failed(claim, errors[claim.id])
            if claim.id in errors
            else done.get(claim.id) or given_back[claim.id]
            for claim in claims
        ]

    def _give_back(self, claims: list[queue.Claim]) -> dict[int, Processed]:
        """Put claims not processed (the worker is stopping) back in the queue at once, for
        another worker (or this one's successor) to take now rather than when their lease runs
        out; if the database cannot be reached, the leases run out as after a crash."""
        if not claims:
            return {}
        try:
            with self.database.session() as session:
                count = queue.release_claims(
                    session, [c.id for c in claims], worker_id=self.worker_id
                )
        except DBAPIError as exc:
            log.warning(
                "worker %s: could not put %s claimed message(s) back (%s); their leases run out",
                self.worker_id,
                len(claims),
                exc,
            )
        else:
            log.info("worker %s: stopping; put %s message(s) back", self.worker_id, count)
        return {c.id: Processed(c.id, "given-back", None, queue.RECEIVED) for c in claims}

    def _claim(self, size: int) -> list[queue.Claim]:
        with self.database.session() as session:
            return queue.claim_batch(
                session,
                worker_id=self.worker_id,
                lease_seconds=float(self.config["WORKER_LEASE_SECONDS"]),
                max_attempts=self.max_attempts,
                limit=size,
            )

    def _submit(self, claims: list[queue.Claim]) -> Reply | None:
        """Hand the prepare process its share of claims (the first ones; the worker prepares
        the rest itself, see `child_share`); None when there is none ready (or it broke)."""
        helper = self.prepare_process.get()
        if helper is None:
            return None
        share = child_share(self.prepare_seconds, self.write_seconds)
        taken = max(1, min(len(claims), round(len(claims) * share)))
        try:
            return helper.submit(self.worker_id, claims[:taken], new_embeddings())
        except PrepareError as exc:  # the child died since: prepare in-process
            self.prepare_process.failed(exc)
            return None

    def _take_prepared(
        self, reply: Reply, done: dict[int, Processed], errors: dict[int, Exception]
    ) -> int:
        """Write what the prepare process prepared; returns how many claims it looked at
        (0 when it failed: the caller prepares them all here)."""
        try:
            batch: PreparedBatch = reply.result(stopping=self.stopping)
        except PrepareError as exc:  # the child died or could not start: nothing is lost
            if not self.stopping():  # else: no need to wait for it, nor to say so
                self.prepare_process.failed(exc)
            return 0
        learn_embeddings(batch.embeddings)
        done.update(batch.done)
        errors.update({key: PrepareFailed(text) for key, text in batch.errors.items()})
        self.prepared_elsewhere += len(batch.prepared)
        if batch.read:
            self.prepare_seconds = _averaged(self.prepare_seconds, batch.seconds / batch.read)
        self._write(batch.prepared, done, errors)
        return batch.read

    def _write(
        self, prepared: list[_Prepared], done: dict[int, Processed], errors: dict[int, Exception]
    ) -> None:
        if not prepared:
            return
        started, count = time.monotonic(), len(prepared)
        # One connection for the batch's transactions (on PostgreSQL, one per message): each
        # checkout from the pool cost a round trip, its ping. Its writes wait for no answer
        # they do not need (support.core.round_trips).
        with self.database.engine.connect() as connection, batched(connection):
            while prepared and not self.stopping():
                taken = self._process_some(prepared, done, errors, connection)
                prepared = prepared[taken:]
        self.write_seconds = _averaged(self.write_seconds, (time.monotonic() - started) / count)

    def prepare_claims(
        self,
        claims: list[queue.Claim],
        *,
        worker_id: str,
        embeddings: dict[str, dict[bytes, Any]] | None = None,
    ) -> PreparedBatch:
        """Prepare claims of worker ``worker_id`` (in the prepare process; see there), knowing
        the ``embeddings`` the worker made since its last batch."""
        self.worker_id = worker_id
        learn_embeddings(embeddings or {})
        done: dict[int, Processed] = {}
        errors: dict[int, Exception] = {}
        started = time.monotonic()
        prepared, read = self._prepare_some(claims, done, errors)
        texts = {key: "".join(traceback.format_exception(exc)) for key, exc in errors.items()}
        return PreparedBatch(
            prepared, read, done, texts, time.monotonic() - started, new_embeddings()
        )

    def warm_up(self) -> None:
        """Load what preparing needs (models, FAQ index and its vectors) ahead of the mail,
        with a log line as it starts and as it ends: after a restart under load it took up to
        183 s, and the log said nothing while the first mails waited."""
        log.info("worker %s: loading the models (words, embeddings, classifier)", self.worker_id)
        started, cpu = time.monotonic(), time.thread_time()
        parsed = parse_message(WARM_UP_MAIL)
        with self.app.app_context(), self.database.read_session() as session:
            pipeline.analyse(session, parsed, self.config)
            pipeline.analyse(session, parse_message(WARM_UP_PINYIN_MAIL), self.config)
            spam_model(self.config, self.app.instance_path)
        # The offer check's part-of-speech tables: the mail above reaches them only when an
        # article of this install's FAQ matches it within a band of confidence. Each prepare
        # process of the four-worker bench loaded them inside its measured batches.
        load_tagger()
        new_embeddings()  # from now on, what this process embeds goes back with its batches
        log.info(
            "worker %s: models loaded in %.1f s (%.1f s CPU)",
            self.worker_id,
            time.monotonic() - started,
            time.thread_time() - cpu,
        )

    def close(self) -> None:
        """Stop the prepare process (a batch claimed ahead is left to its lease)."""
        self.prepare_process.close()

    @property
    def parse_budget_seconds(self) -> float:
        return float(self.config["MAIL_PARSE_BUDGET_SECONDS"])

    def _prepare_some(
        self, claims: list[queue.Claim], done: dict[int, Processed], errors: dict[int, Exception]
    ) -> tuple[list[_Prepared], int]:
        """Read, parse and analyse claimed messages outside any write transaction, until that
        took PREPARE_SECONDS or PREPARE_BYTES were read; returns them and how many claims were
        looked at. A message over the parse budget is quarantined here and not returned.

        One read session serves the whole run: opening one (and an app context) per message
        cost as much as routing it. Preparing is not bounded by TRANSACTION_SECONDS: it holds no
        write lock, and the write transactions that follow are (``_process_some``); a run of
        only a few messages would make them small, and each one reloads the reference data.
        """
        started = time.monotonic()
        prepared: list[_Prepared] = []
        count = 0
        with self.app.app_context(), self.database.read_session() as session:
            # The rows in one read, up to PREPARE_BYTES of raw mail (one round trip each was
            # most of the prepare's waiting for PostgreSQL).
            rows = queue.load_claimed_batch(
                session, [c.id for c in claims], worker_id=self.worker_id, max_bytes=PREPARE_BYTES
            )
            for claim in claims:
                if claim.id in rows.later or (
                    count and (time.monotonic() - started > PREPARE_SECONDS or self.stopping())
                ):
                    break
                count += 1
                inbound = rows.loaded.get(claim.id)
                if inbound is None:
                    done[claim.id] = self._taken_over(claim)
                    continue
                try:
                    item = self._prepare_one(session, claim, inbound, done)
                except Exception as exc:
                    errors[claim.id] = exc
                    session.rollback()  # PostgreSQL refuses further reads in a failed transaction
                    continue
                if item is not None:
                    prepared.append(item)
        return prepared, count

    def _prepare_one(
        self, session: Session, claim: queue.Claim, inbound: ClaimedMail, done: dict[int, Processed]
    ) -> _Prepared | None:
        """One claimed message parsed, judged and analysed; None if it is done already
        (quarantined for its parsing time)."""
        own = own_addresses(session, self.config)  # read once a run (cached)
        # CPU time of this thread, not the clock: on a loaded host (load 17, tests or a backlog
        # beside the worker) a 1 MB mail took 8.8 s of wall clock for well under a second of
        # parsing, and was quarantined as hostile without retries.
        parse_started = time.thread_time()
        parsed = pipeline.parse_inbound(inbound, self.config, own)
        elapsed = time.thread_time() - parse_started
        if elapsed > self.parse_budget_seconds:
            done[claim.id] = self._over_budget(claim, elapsed)
            return None
        spam = pipeline.judge_spam(
            inbound, parsed, self.config, instance_path=self.app.instance_path
        )
        # Mail held as spam opens no ticket: no routing or FAQ answers to work out.
        analysis = (
            pipeline.Analysis() if spam.is_spam else self._analyse(session, inbound, parsed, spam)
        )
        return _Prepared(claim, inbound, parsed, analysis, spam)

    def _analyse(
        self, session: Session, inbound: ClaimedMail, parsed: ParsedMail, spam: SpamVerdict
    ) -> pipeline.Analysis:
        """Routing verdict and FAQ answers, read before the write transaction; if that fails,
        the write transaction works them out itself (and fails the message if it must)."""
        try:
            return pipeline.analyse(session, parsed, self.config, inbound=inbound, spam=spam)
        except Exception:
            log.exception("inbound mail %s: analysis ahead of storing failed", inbound.id)
            session.rollback()  # only reads to lose; PostgreSQL would refuse the next ones
            return pipeline.Analysis()

    def _over_budget(self, claim: queue.Claim, elapsed: float) -> Processed:
        """Quarantine a message whose parsing took too long: a retry would take as long."""
        error = (
            f"parsing took {elapsed:.1f} s of CPU, over the {self.parse_budget_seconds:g} s budget "
            "(MAIL_PARSE_BUDGET_SECONDS); quarantined without retries as possibly hostile mail"
        )
        log.error("inbound mail %s quarantined: %s", claim.id, error)
        with self.database.session() as session:
            state = queue.quarantine(session, claim, worker_id=self.worker_id, error=error)
        return Processed(claim.id, OVER_PARSE_BUDGET, None, state or "lost-claim")

    def _process_some(
        self,
        prepared: list[_Prepared],
        done: dict[int, Processed],
        errors: dict[int, Exception],
        connection: Connection,
    ) -> int:
        """Store parsed messages in one transaction, each in a savepoint (none when the
        transaction holds one message), until transaction_seconds have passed; returns how
        many were taken. The bound keeps SQLite's write lock, which the web pages and the SMTP
        intake wait for, from being held for a whole batch."""
        started = time.monotonic()
        taken: list[queue.Claim] = []
        # A transaction of one message needs no savepoint: its rollback is the savepoint's
        # (two round trips less per message on PostgreSQL).
        alone = self.transaction_seconds <= 0
        try:
            with self.app.app_context(), self.database.session(connection=connection) as session:
                session.info[REFERENCE_CACHE] = self.reference_cache
                if self.key_blocks is not None:
                    session.info[KEY_BLOCKS] = self.key_blocks
                for item in prepared:
                    if taken and (
                        alone
                        or time.monotonic() - started > self.transaction_seconds
                        or self.stopping()
                    ):
                        break
                    claim = item.claim
                    taken.append(claim)
                    try:
                        if alone:
                            done[claim.id] = self._process(session, claim, item)
                        else:
                            with session.begin_nested():
                                done[claim.id] = self._process(session, claim, item)
                    except Exception as exc:
                        if alone:
                            session.rollback()
                        errors[claim.id] = exc
        except Exception as exc:  # the commit failed: nothing of this transaction was stored
            for claim in taken:
                done.pop(claim.id, None)
                errors.setdefault(claim.id, exc)
        return len(taken)

    def _taken_over(self, claim: queue.Claim) -> Processed:
        log.warning("inbound mail %s was taken over by another worker; skipping", claim.id)
        return Processed(claim.id, "skipped", None, "taken-over")

    def _process(
        self, session: Session, claim: queue.Claim, prepared: _Prepared | None = None
    ) -> Processed:
        """Store one message; ``prepared`` is it read and parsed already (read here if None)."""
        parsed: ParsedMail | None = None
        analysis: pipeline.Analysis | None = None
        spam: SpamVerdict | None = None
        claimed_by: str | None = None
        if prepared is None:
            inbound = queue.load_claimed(session, claim.id, worker_id=self.worker_id)
        else:
            # The pipeline locks the claim, and reads whether it still holds with its first
            # answer.
            inbound, parsed = prepared.inbound, prepared.parsed
            analysis, spam = prepared.analysis, prepared.spam
            claimed_by = self.worker_id
        if inbound is None:
            return self._taken_over(claim)
        with audit.deferred(session):  # its audit rows in one INSERT, not one each
            result = pipeline.process_inbound(
                session,
                inbound,
                self.config,
                parsed=parsed,
                analysis=analysis,
                spam=spam,
                claimed_by=claimed_by,
            )
        if result.outcome == pipeline.TAKEN_OVER:
            return self._taken_over(claim)
        queue.mark_processed(
            session,
            inbound,
            outcome=result.outcome,
            ticket_id=result.ticket_id,
            detail=result.detail,
            spam=pipeline.spam_check(result),
        )
        return Processed(claim.id, result.outcome, result.ticket_id, queue.PROCESSED)

    def _failed(self, claim: queue.Claim, exc: Exception) -> Processed:
        error = "".join(traceback.format_exception(exc))
        # A unique-key collision means another worker stored the same thing meanwhile: the
        # next attempt finds it and links to it, so retry at once instead of backing off.
        delay = 0.0 if isinstance(exc, IntegrityError) else self._retry_delay(claim.attempts)
        if isinstance(exc, DBAPIError) and self.key_blocks is not None:
            # A sequence set back (a restore) may have caught up with the keys drawn ahead. The
            # clash is not always reported as one: an INSERT's error that arrives with a later
            # answer inside a savepoint shows as that savepoint's failure. Draw afresh either way.
            self.key_blocks.clear()
        log.error(
            "inbound mail %s failed (attempt %s of %s): %s",
            claim.id,
            claim.attempts,
            self.max_attempts,
            exc,
        )
        try:
            with self.database.session() as session:
                state = queue.record_failure(
                    session,
                    claim,
                    worker_id=self.worker_id,
                    error=error,
                    max_attempts=self.max_attempts,
                    retry_delay_seconds=delay,
                )
        except DBAPIError:
            log.exception("could not record the failure of inbound mail %s", claim.id)
            state = None  # the lease runs out and the message is tried again
        if state == queue.QUARANTINED:
            log.error("inbound mail %s quarantined after %s attempts", claim.id, claim.attempts)
        return Processed(claim.id, "failed", None, state or "lost-claim")

    def run_until_idle(self, *, limit: int | None = None) -> int:
        """Process due messages until none is left (or ``limit``); returns how many."""
        count = 0
        while limit is None or count < limit:
            batch = self.process_batch(None if limit is None else limit - count)
            if not batch:
                break
            count += len(batch)
        return count

    def run_forever(self, stop: threading.Event) -> None:
        """Work until ``stop`` is set; an unreachable database means waiting, not dying."""
        poll = float(self.config["WORKER_POLL_SECONDS"])
        backoff = poll
        self._stop = stop
        self.warming_up = True
        try:
            self._warm_up_before_claiming()
        finally:
            self.warming_up = False
        while not stop.is_set():
            try:
                if not self.process_batch():
                    stop.wait(poll)
                backoff = poll
                continue
            except DBAPIError as exc:
                reason = str(exc.orig or exc).strip().splitlines()
                log.warning(
                    "worker %s: database unavailable (%s); retrying in %.0fs",
                    self.worker_id,
                    reason[0] if reason else type(exc).__name__,
                    backoff,
                )
            except Exception:  # a bug outside one message's processing: keep the worker alive
                log.exception(
                    "worker %s: unexpected error; retrying in %.0fs", self.worker_id, backoff
                )
            stop.wait(backoff)
            backoff = min(MAX_IDLE_BACKOFF_SECONDS, max(backoff, 0.5) * 2)
        self._finish()

    def _warm_up_before_claiming(self) -> None:
        """Load the models before the first claim: a mail claimed first waited for them under
        its lease. Intake never waits (SMTP and the contact form only store the mail, in
        other threads): the mail waits in the queue, where a worker that is ready may take it.
        A failure (say, the database is not up yet) leaves the loading to the first mail."""
        try:
            self.warm_up()
        except Exception as exc:
            log.warning(
                "worker %s: loading the models before the mail failed (%s); the first mail "
                "loads them",
                self.worker_id,
                exc,
            )

    def _finish(self) -> None:
        """On stop: put the batch claimed ahead back in the queue (its preparing is abandoned:
        the prepare process only reads), then end the child."""
        ahead, self._ahead = self._ahead, None
        try:
            if ahead is not None:
                self._give_back(ahead[0])
        finally:
            self.close()


class WorkerService:
    """For `support run` and `support worker`: worker threads until stop()."""

    def __init__(self, app: Flask, *, threads: int = 1, name: str = "worker") -> None:
        self.name = name
        self.app = app
        self._stop = threading.Event()
        self.workers = [Worker(app) for _ in range(max(1, threads))]
        self._threads = [
            threading.Thread(
                target=w.run_forever, args=(self._stop,), name=f"{name}-{i}", daemon=True
            )
            for i, w in enumerate(self.workers, start=1)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()
        log.info(
            "worker started (%s thread%s)",
            len(self._threads),
            "s" if len(self._threads) > 1 else "",
        )

    def stop(self) -> None:
        """Each worker finishes the message in hand and puts the rest of its claims back; one
        still loading its models (no message claimed yet) is not waited for."""
        self._stop.set()
        deadline = time.monotonic() + STOP_SECONDS
        for thread, worker in zip(self._threads, self.workers, strict=True):
            while thread.is_alive() and not worker.warming_up and time.monotonic() < deadline:
                thread.join(timeout=0.05)
