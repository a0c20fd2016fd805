"""The intake bench compares runs that take their mails from successive parts of one queue:
each part must ask as much of a worker (bench/intake_bench.py, make_messages)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

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


_BURN = (
    "import sys, time\n"
    "def burn(seconds):\n"
    "    end = time.process_time() + seconds\n"
    "    while time.process_time() < end:\n"
    "        pass\n"
    "burn(0.3); print('ready', flush=True); sys.stdin.readline(); burn(0.3)\n"
)


def test_a_prepare_process_that_ends_inside_the_window_counts_its_cpu_in_it():
    """It used to count 0 (no /proc line once reaped) minus its CPU at the start: negative."""
    bench = _bench()
    child = subprocess.Popen(
        [sys.executable, "-c", _BURN], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    holder = SimpleNamespace(pid=child.pid)
    measured = bench.PrepareCpu(SimpleNamespace(prepare_process=holder))
    assert child.stdout is not None and child.stdin is not None
    assert child.stdout.readline() == "ready\n"  # 0.3 s of CPU before the window
    measured.start()
    before = bench.cpu_seconds(child.pid)
    child.stdin.write("go\n")
    child.stdin.close()
    child.wait()  # reaped, as the worker's holder reaps a prepare process that failed
    child.stdout.close()
    holder.pid = None
    spent = measured.seconds()
    assert bench.cpu_seconds(child.pid) - before < 0  # what the bench printed
    assert 0.2 < spent < 0.3 + before  # its CPU after the start, not its whole life
