"""Mail intake throughput: accepted over SMTP with durable storage, and processed by one worker.

Targets: accepted >= 40 % of a bare aiosmtpd server that accepts and discards (same run, same
client, same messages); processed >= 150 messages/s by one worker on SQLite.

The client sends each message over one of a few parallel SMTP connections (smtplib, one process
each, so the client does not share the servers' interpreter lock), first to
the bare server, then to the real intake (the handler commits every message before its 250).
One worker then processes the accepted messages end to end (parse, thread, customer, ticket,
message, classification and routing, auto-reply with FAQ matching), once as configured and once
with AUTOREPLY_ENABLED off. The instance is set up as `support init` does: departments, the demo
FAQ and its search index, and the bootstrap classifier.

    .venv/bin/python bench/intake_bench.py                       # SQLite in a temp folder
    .venv/bin/python bench/intake_bench.py --database-url postgresql+psycopg://u@host/db --wipe
    .venv/bin/python bench/intake_bench.py --database-url ... --wipe --workers 2   # side by side

On PostgreSQL each run also prints the CPU time a message of each kind of process: the worker,
its prepare process, the database's backends and a bench/latency_proxy.py in front of it (and,
with --workers, the bench process itself), read from /proc over the measured window.

Each process's CPU is counted from the window's start (or its own, if later) to the window's
end (or its own, if earlier). A prepare process may end inside the window (it failed, and the
worker started another after a while, or the worker closed it): /proc has no line for it once
its parent has reaped it, and reading "0" there printed a negative prepare-process figure
(0 minus its CPU at the start). Its whole CPU is then in the reaping process's
RUSAGE_CHILDREN (the worker's process: the bench's own in the one-worker run), less what it
had used before the window (`PrepareCpu`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import multiprocessing
import os
import random
import re
import resource
import smtplib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from importlib import resources
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.pool import NullPool

from faq import index_sync
from faq.importexport import import_articles
from faq.search.shared_vectors import FILE_NAME as EMBEDDING_CACHE_FILE
from faq.search.shared_vectors import SharedVectors
from mailrouter.intake import pipeline
from mailrouter.intake import worker as worker_module
from mailrouter.intake.smtp import SmtpIntakeService
from mailrouter.intake.worker import Worker
from mailrouter.models import InboundMail
from mailrouter.outbound import autoreply
from mailrouter.routing import decisions as routing
from mailrouter.routing.training import ensure_model
from support.app import create_app
from support.core.db import get_db, utcnow
from support.desk.models import Ticket
from support.desk.seed import seed_reference_data
from support.migrate import target_metadata, upgrade

SUBJECTS = (
    "订单 {n} 还没发货",
    "Quote for {n} smart kettles",
    "发票抬头需要修改 (订单 {n})",
    "Kettle stopped working after {n} days",
    "应聘客服专员 - 简历 {n}",
    "Partnership proposal #{n}",
)
BODY_LINES = (
    "你好，我上周下的订单到现在还显示待发货，请问什么时候能发？",
    "We run a small chain of serviced apartments and would like a quote.",
    "附件是发票的扫描件，麻烦帮忙核对一下税号。",
    "The kettle no longer heats; the light blinks red three times.",
    "Could you tell me whether the warranty covers this?",
    "谢谢！期待您的回复。",
)


#: With --fresh-text, mail sentences are put together from these parts, each sentence used
#: once, so the sentence-embedding cache (by text; numbers count as one) never helps: the
#: figure for mail that is all new to the worker, as real mail is.
FRESH_PARTS = {
    "zh": (
        ("", "您好，", "你好，", "打扰一下，"),
        (
            "我上周",
            "我昨天",
            "我们公司前天",
            "我妈妈上个月",
            "我朋友三天前",
            "我在双十一",
            "我女儿周末",
            "我同事月初",
        ),
        (
            "买的电水壶",
            "订的空气炸锅",
            "下单的电饭煲",
            "买的吸尘器",
            "订购的咖啡机",
            "买的加湿器",
            "拍的电风扇",
            "订的榨汁机",
        ),
        (
            "到现在还没发货",
            "盖子有裂缝",
            "一直显示运输中",
            "插电没反应",
            "发票抬头写错了",
            "少发了一个配件",
            "声音特别大",
            "颜色和图片不一样",
        ),
        (
            "，请问怎么处理？",
            "，能帮忙查一下吗？",
            "，可以退款吗？",
            "，麻烦尽快回复。",
            "，需要我提供什么资料？",
            "，能换一个新的吗？",
        ),
    ),
    "en": (
        ("", "Hello, ", "Hi there, ", "Sorry to bother you, "),
        (
            "I bought",
            "We ordered",
            "My husband purchased",
            "Our office ordered",
            "My mother received",
            "I was given",
            "We picked up",
            "My son ordered",
        ),
        (
            " a kettle",
            " an air fryer",
            " a rice cooker",
            " a vacuum cleaner",
            " a coffee machine",
            " a humidifier",
            " a desk fan",
            " a juicer",
        ),
        (
            " last week and it still has not shipped",
            " but the lid is cracked",
            " and tracking has not moved for days",
            " and it does not switch on",
            " and the invoice has the wrong company name",
            " but one accessory is missing",
            " and it makes a loud rattling noise",
            " but the colour is not the one shown",
        ),
        (
            ". What should I do?",
            ". Could you check it for me?",
            ". Can I get a refund?",
            ". Please reply soon.",
            ". Which documents do you need?",
            ". Can you send a replacement?",
        ),
    ),
}


def fresh_sentences(rng: random.Random, language: str) -> list[str]:
    """Every sentence the parts make for `language`, shuffled (12,288 each)."""
    sentences = [""]
    for choices in FRESH_PARTS[language]:
        sentences = [start + choice for start in sentences for choice in choices]
    if language == "en":  # "Hello, my son ordered", "I bought"
        greeting = re.compile(r"^(\w[\w ]*, )([A-Z])(?! )")
        sentences = [greeting.sub(lambda m: m[1] + m[2].lower(), s) for s in sentences]
    rng.shuffle(sentences)
    return sentences


class DiscardingHandler:
    """The bare baseline: accept every recipient and message, keep nothing."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


class _PortZeroController(Controller):
    def _trigger_server(self) -> None:
        if self.server is not None and self.port == 0:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


#: The share of the bench's mails whose sender wrote none before (a new customer, a first
#: auto-reply), the same all along the queue; the rest come from an earlier mail's sender.
NEW_SENDER_SHARE = 0.43


def make_messages(
    count: int, seed: int, *, fresh: bool = False
) -> list[tuple[str, list[str], bytes]]:
    """The bench's mails; ``fresh``: bodies of 3-6 sentences no other mail has.

    Senders are new at the same rate all along the queue (NEW_SENDER_SHARE): the runs of a
    bench take their mails from successive parts of one queue, and with senders drawn from one
    pool (as until the twentieth session) the first run's mails were 70 % from new senders and
    the four workers' 19 % (--messages 3600 --process 1200), so the four workers had less to
    write a mail (no customer row, fewer first auto-replies) than the one worker they were
    compared with. The overall share is the old pool's, and the texts are as they were."""
    rng = random.Random(seed)
    senders_rng = random.Random(seed + 1)
    # Only for fresh text: the shuffles draw from rng, and the usual mails stay as they were.
    unused = {language: fresh_sentences(rng, language) for language in FRESH_PARTS} if fresh else {}
    departments = ["support@example.com", "sales@example.com", "service@example.com"]
    messages: list[tuple[str, list[str], bytes]] = []
    for n in range(count):
        drawn = rng.randrange(count // 2 + 1)  # drawn as before: the later draws stay the same
        if messages and senders_rng.random() >= NEW_SENDER_SHARE:
            sender = messages[drawn % len(messages)][0]
        else:
            sender = f"customer{n}@example.net"
        message = EmailMessage()
        message["From"] = f"Customer {n} <{sender}>"
        message["To"] = rng.choice(departments)
        message["Subject"] = rng.choice(SUBJECTS).format(n=n)
        message["Date"] = format_datetime(utcnow())
        message["Message-ID"] = make_msgid(domain="bench.example.net")
        if fresh:
            pool = unused[rng.choice(("zh", "en"))]
            body = "\n".join(pool.pop() for _ in range(rng.randint(3, 6)) if pool)
        else:
            body = "\n".join(rng.choice(BODY_LINES) for _ in range(rng.randint(4, 30)))
        message.set_content(body)
        if n % 10 == 0:
            message.add_attachment(
                rng.randbytes(rng.randint(2_000, 40_000)),
                maintype="application",
                subtype="pdf",
                filename=f"scan-{n}.pdf",
            )
        messages.append((sender, [str(message["To"])], message.as_bytes(policy=policy.SMTP)))
    return messages


def _client(host: str, port: int, share: list, barrier: Any, errors: Any) -> None:
    """One SMTP connection in its own process, so the client never competes with the
    server for the GIL; it starts sending when every connection is open."""
    try:
        with smtplib.SMTP(host, port, timeout=120) as smtp:
            barrier.wait()
            for sender, recipients, raw in share:
                smtp.sendmail(sender, recipients, raw)
    except BaseException as exc:  # reported by the parent
        errors.put(repr(exc))
        barrier.abort()


def send_all(
    host: str, port: int, messages: Sequence[tuple[str, list[str], bytes]], connections: int
) -> float:
    """Send every message (connection i takes every i-th); returns messages per second."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(connections + 1)
    errors = context.Queue()
    processes = [
        context.Process(
            target=_client, args=(host, port, list(messages[i::connections]), barrier, errors)
        )
        for i in range(connections)
    ]
    for process in processes:
        process.start()
    barrier.wait(timeout=120)
    started = time.perf_counter()
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - started
    if not errors.empty():
        raise SystemExit(f"SMTP client failed: {errors.get()}")
    return len(messages) / elapsed


SECRET_KEY = "intake-bench-secret-key-0123456789"
#: How long the side-by-side workers may take to load their models before the measured window.
WARM_UP_SECONDS = 1800


def prepare(database_url: str | None, wipe: bool):
    instance = Path(tempfile.mkdtemp(prefix="intake-bench-"))
    url = database_url or f"sqlite:///{instance / 'bench.db'}"
    app = create_app(
        # SMTP on a free port: benches of several checkouts run at once on one machine.
        {"DATABASE_URL": url, "SECRET_KEY": SECRET_KEY, "TESTING": True, "SMTP_PORT": 0},
        instance_path=instance / "instance",
    )
    database = get_db(app)
    upgrade(database.engine)
    with database.session() as session:
        used = session.scalar(select(func.count()).select_from(InboundMail)) or 0
        used += session.scalar(select(func.count()).select_from(Ticket)) or 0
    if used and not wipe:
        raise SystemExit(f"{url} holds data; pass --wipe to empty it first (it deletes ALL rows)")
    if used:
        tables = target_metadata().sorted_tables
        with database.engine.begin() as conn:
            if database.dialect == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(tables):
                    conn.execute(table.delete())
    with database.session() as session:
        seed_reference_data(session)
        data = json.loads(resources.files("faq").joinpath("demo_content.json").read_text("utf-8"))
        import_articles(session, data)  # the auto-reply matches the demo FAQ, as after init
    index_sync.rebuild_index(app)
    ensure_model(app)  # the bootstrap classifier, as `support init` trains it
    return app


class StageClock:
    """Wall time spent in the pipeline's stages, to say where a worker's time goes."""

    STAGES = (
        (pipeline, "parse_message", "parse (mailrouter.parsing)"),
        (routing, "route_new_ticket", "routing (mailrouter.routing.decisions)"),
        (autoreply, "after_new_ticket", "auto-reply (mailrouter.outbound.autoreply)"),
    )

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {label: 0.0 for _m, _n, label in self.STAGES}
        for module, name, label in self.STAGES:
            setattr(module, name, self._timed(getattr(module, name), label))

    def _timed(self, function: Callable[..., Any], label: str) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - started

        return timed

    def reset(self) -> None:
        self.seconds = dict.fromkeys(self.seconds, 0.0)


def _cold_embedding_cache(app) -> None:
    """Each run starts with no shared embedded texts (faq.search.shared_vectors): the runs share
    one instance folder, and a later run would otherwise find what an earlier one embedded,
    which makes runs unlike each other (a running host keeps that file across restarts).
    Emptied, not deleted: the bench's own process has it open, and every process that opened
    the deleted file's successor got "disk I/O error" and embedded alone (the eighteenth
    session's four-worker figures)."""
    shared = SharedVectors(index_sync.index_path(app).parent / EMBEDDING_CACHE_FILE)
    shared.clear()
    shared.close()


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU a process has used so far (Linux /proc); 0 once it has ended."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except (OSError, TypeError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _reaped_children_cpu() -> float:
    """User + system CPU of this process's children that have ended and been reaped."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class PrepareCpu:
    """CPU of a worker's prepare processes over a window, in the worker's own process: the one
    there at the start from then on, one started meanwhile from its start, each until the end
    of the window or its own end (see the module's docstring)."""

    def __init__(self, worker: Worker) -> None:
        self._holder = worker.prepare_process
        self._pid: int | None = None
        self._at_start = 0.0
        self._reaped_at_start = 0.0

    def start(self) -> None:
        self._pid = self._holder.pid
        self._at_start = cpu_seconds(self._pid)
        self._reaped_at_start = _reaped_children_cpu()

    def seconds(self) -> float:
        # Whole lives of the children reaped in the window (prepare processes that ended).
        spent = _reaped_children_cpu() - self._reaped_at_start
        if self._pid is not None:
            if Path(f"/proc/{self._pid}").exists():  # running, or ended and not yet reaped
                spent += cpu_seconds(self._pid) - self._at_start
            else:  # reaped in the window: its CPU before the window is in `spent`
                spent -= self._at_start
        now = self._holder.pid
        if now is not None and now != self._pid:  # started in the window, still there
            spent += cpu_seconds(now)
        return spent


def _proxy_pids(port: int | None) -> list[int]:
    """bench/latency_proxy.py processes listening on ``port`` (the database URL's)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if any(w.endswith(b"latency_proxy.py") for w in words) and str(port).encode() in words:
            found.append(int(cmdline.parent.name))
    return found


class ServerCpu:
    """CPU of what serves the workers: the database's server processes (PostgreSQL: the
    backends of this database, from pg_stat_activity) and a latency proxy in front of it.
    It asks on a connection of its own (not one the worker uses, which it leaves out)."""

    def __init__(self, app) -> None:
        url = get_db(app).engine.url
        self._engine = (
            create_engine(url, poolclass=NullPool) if url.drivername != "sqlite" else None
        )
        self._port = url.port
        self._start: dict[str, dict[int, float]] = {}

    def _pids(self) -> dict[str, list[int]]:
        if self._engine is None:
            return {}
        with self._engine.connect() as connection:
            backends = connection.scalars(
                text(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).all()
        return {"PostgreSQL backends": list(backends), "latency proxy": _proxy_pids(self._port)}

    def start(self) -> None:
        self._start = {
            kind: {pid: cpu_seconds(pid) for pid in pids} for kind, pids in self._pids().items()
        }

    def seconds(self) -> dict[str, float]:
        """CPU seconds of each kind since `start` (backends that started since count whole)."""
        spent = {}
        for kind, pids in self._pids().items():
            start = self._start.get(kind, {})
            pids = set(pids) | set(start)
            spent[kind] = sum(cpu_seconds(pid) - start.get(pid, 0.0) for pid in pids)
        return spent


def process(app, limit: int, clock: StageClock) -> tuple[float, dict[str, float]]:
    """Messages per second of one worker, and milliseconds per message for each stage."""
    _cold_embedding_cache(app)
    worker = Worker(app, retry_base_seconds=0)
    worker.run_until_idle(limit=10)  # warm-up: imports, caches, the FAQ index
    # The prepare process (WORKER_PREPARE_PROCESS) starts at the first backlog; a running
    # service has it up, so the bench measures with it ready.
    worker.prepare_process.wait_ready(120)
    children = PrepareCpu(worker)
    server = ServerCpu(app)
    server.start()
    clock.reset()
    started, cpu = time.perf_counter(), time.process_time()
    children.start()
    done = worker.run_until_idle(limit=limit)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    child_cpu = children.seconds()
    served = server.seconds()
    worker.close()
    if worker.prepared_elsewhere:
        print(f"    ({worker.prepared_elsewhere} of {done} prepared in the prepare process)")
    stages = {label: 1000 * s / done for label, s in clock.seconds.items()}
    stages["everything else (queue, threading, storage)"] = 1000 * elapsed / done - sum(
        stages.values()
    )
    stages["(CPU time of the worker process itself)"] = 1000 * cpu / done
    stages["(CPU time of its prepare process)"] = 1000 * child_cpu / done
    for kind, seconds in served.items():
        stages[f"(CPU time of the {kind})"] = 1000 * seconds / done
    return done / elapsed, stages


def _worker_process(
    url: str, instance: str, limit: int, barrier: Any, first_done: Any, done: Any
) -> None:
    """One worker in its own process, on the bench's database and instance folder.

    It stops at its share of the messages or, after the batch in hand, as soon as another
    worker has done its share: workers on one queue never idle while mail waits, so the time
    a fast worker would spend waiting for the slowest to finish a fixed share is not counted.
    """
    logging.disable(logging.WARNING)
    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": SECRET_KEY, "TESTING": True}, instance_path=instance
    )
    worker = Worker(app, retry_base_seconds=0)
    worker.run_until_idle(limit=5)  # warm-up: imports, model, FAQ index
    # What preparing loads, as its prepare process does: each worker prepares part of its
    # batches itself, and a running service's worker has loaded these long before. Without it
    # the jieba part-of-speech tables (about 0.5 s of CPU) loaded inside the measured window.
    worker.warm_up()
    worker.prepare_process.wait_ready(120)
    children = PrepareCpu(worker)
    barrier.wait()
    cpu = time.process_time()
    children.start()
    count, finished = 0, time.monotonic()
    while count < limit and not first_done.is_set():
        batch = worker.process_batch(limit - count)
        if not batch:
            break
        count, finished = count + len(batch), time.monotonic()
    first_done.set()
    cpu, child_cpu = time.process_time() - cpu, children.seconds()
    done.put((count, finished, cpu, child_cpu))  # before closing: shutting down is not processing
    worker.close()


def process_in_parallel(app, workers: int, limit: int) -> tuple[float, int, dict[str, float]]:
    """Messages per second of several worker processes side by side (what PostgreSQL allows),
    how many they processed, and the CPU milliseconds a message of each kind of process."""
    _cold_embedding_cache(app)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(workers + 1)
    first_done = context.Event()
    done = context.Queue()
    url, instance = app.config["DATABASE_URL"], app.instance_path
    share = limit // workers
    processes = [
        context.Process(
            target=_worker_process, args=(url, instance, share, barrier, first_done, done)
        )
        for _ in range(workers)
    ]
    for child in processes:
        child.start()
    server = ServerCpu(app)
    # Each worker and its prepare process load their models before the barrier: four of each
    # took more than 300 s at load 16 (the thirty-second session's shared machine), and the
    # run ended in BrokenBarrierError after the one-worker runs' minutes.
    barrier.wait(timeout=WARM_UP_SECONDS)
    started, cpu = time.monotonic(), time.process_time()  # one clock for all (CLOCK_MONOTONIC)
    server.start()
    results = [done.get() for _ in processes]
    cpu = time.process_time() - cpu
    served = server.seconds()
    for child in processes:
        child.join()
    elapsed = max(result[1] for result in results) - started
    processed = sum(result[0] for result in results)
    if max(result[0] for result in results) < share:
        raise SystemExit(f"the queue ran dry after {processed} messages: send more (--messages)")
    for count, finished, _cpu, _child_cpu in sorted(results, key=lambda result: result[1]):
        print(f"    a worker: {count} messages in {finished - started:.1f} s")
    seconds = {
        "workers": sum(result[2] for result in results),
        "prepare processes": sum(result[3] for result in results),
        **served,
        "bench process": cpu,
    }
    return processed / elapsed, processed, {k: 1000 * v / processed for k, v in seconds.items()}


@contextlib.contextmanager
def _not_batched(_connection: Any) -> Iterator[None]:
    """The worker's batch without psycopg's pipeline mode (see --no-pipeline)."""
    yield


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: SQLite in a temporary folder")
    parser.add_argument("--wipe", action="store_true", help="empty a database that holds data")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3, help="alternating SMTP rounds")
    parser.add_argument("--process", type=int, default=600, help="messages processed per run")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--fresh-text",
        action="store_true",
        help="mail bodies whose sentences are all new (no embedding cache hits), as real mail",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="also run this many workers side by side"
    )
    parser.add_argument(
        "--no-pipeline",
        action="store_true",
        help="PostgreSQL: wait for every statement's answer (psycopg's pipeline mode off), to "
        "measure what support.core.round_trips saves (with bench/latency_proxy.py)",
    )
    args = parser.parse_args(argv)
    if args.no_pipeline:
        worker_module.batched = _not_batched
    logging.disable(logging.WARNING)

    app = prepare(args.database_url, args.wipe)
    database = get_db(app)
    messages = make_messages(args.messages, args.seed, fresh=args.fresh_text)
    megabytes = sum(len(raw) for _s, _r, raw in messages) / 1e6
    print(
        f"database: {database.dialect}; {args.messages} messages ({megabytes:.1f} MB), "
        f"{args.connections} connections"
    )

    bare = _PortZeroController(
        DiscardingHandler(),
        hostname="127.0.0.1",
        port=0,
        data_size_limit=app.config["MAIL_MAX_MESSAGE_BYTES"],
    )
    intake = SmtpIntakeService.for_app(app)
    bare.start()
    intake.start()
    try:
        warm = messages[:50]
        send_all("127.0.0.1", bare.port, warm, args.connections)
        send_all("127.0.0.1", intake.port, warm, args.connections)
        bare_rates, intake_rates = [], []
        for _round in range(args.rounds):  # alternating, so a busy moment hits both
            bare_rates.append(send_all("127.0.0.1", bare.port, messages, args.connections))
            intake_rates.append(send_all("127.0.0.1", intake.port, messages, args.connections))
    finally:
        intake.stop()
        bare.stop()
    with database.session() as session:
        stored = session.scalar(select(func.count()).select_from(InboundMail))
    assert stored == args.rounds * len(messages) + len(warm), f"stored {stored} rows"
    bare_rate, intake_rate = statistics.median(bare_rates), statistics.median(intake_rates)
    print(
        f"accepted, bare aiosmtpd (discard):  {bare_rate:8.1f} msg/s "
        f"(median of {', '.join(f'{r:.0f}' for r in bare_rates)})"
    )
    print(
        f"accepted, intake (committed first): {intake_rate:8.1f} msg/s "
        f"(median of {', '.join(f'{r:.0f}' for r in intake_rates)})"
    )
    print(f"    = {100 * intake_rate / bare_rate:.0f} % of bare (target >= 40 %)")

    limit = min(args.process, len(messages))
    clock = StageClock()
    for label, enabled in (("as configured", True), ("AUTOREPLY_ENABLED off", False)):
        app.config["AUTOREPLY_ENABLED"] = enabled
        rate, stages = process(app, limit, clock)
        print(f"processed by one worker, {label}: {rate:.1f} msg/s ({limit} messages)")
        for stage, milliseconds in stages.items():
            print(f"    {stage:46s} {milliseconds:6.2f} ms/message")
    if args.workers > 1:
        app.config["AUTOREPLY_ENABLED"] = True
        database.dispose()  # the children open their own connections
        rate, processed, cpu = process_in_parallel(app, args.workers, limit)
        print(
            f"processed by {args.workers} workers side by side: {rate:.1f} msg/s "
            f"({processed} messages, until the first worker had done its share)"
        )
        for kind, milliseconds in cpu.items():
            print(f"    CPU time of the {kind:36s} {milliseconds:6.2f} ms/message")
    print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    database.dispose()


if __name__ == "__main__":
    main()
