"""The intake bench compares runs that take their mails from successive parts of one queue:
each part must ask as much of a worker (bench/intake_bench.py, make_messages)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "intake_bench.py"


def _bench():
    spec = importlib.util.spec_from_file_location("intake_bench_under_test", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_part_of_the_queue_has_as_many_new_senders():
    bench = _bench()
    messages = bench.make_messages(1200, 7)
    seen: set[str] = set()
    new = []
    for sender, _recipients, raw in messages:
        new.append(sender not in seen)
        seen.add(sender)
        assert f"<{sender}>".encode() in raw  # the From of the mail is the envelope's sender
    thirds = [sum(new[i : i + 400]) / 400 for i in range(0, 1200, 400)]
    # One pool for the whole queue gave 0.75 / 0.37 / 0.21: the later runs wrote less a mail.
    for share in thirds:
        assert abs(share - bench.NEW_SENDER_SHARE) < 0.08, thirds
