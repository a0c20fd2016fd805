"""The count of an install's workers on a host (mailrouter.intake.host_workers), which decides
whether a worker may have a prepare process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from mailrouter.intake.host_workers import WorkerSlot, live_workers


def test_each_worker_holds_its_own_slot_until_it_stops(tmp_path: Path) -> None:
    first, second = WorkerSlot(tmp_path), WorkerSlot(tmp_path)
    assert (first.number, second.number) == (0, 1)
    assert live_workers(tmp_path) == 2
    first.release()
    assert live_workers(tmp_path) == 1
    third = WorkerSlot(tmp_path)  # the lowest free slot
    assert third.number == 0
    assert live_workers(tmp_path) == 2
    second.release()
    third.release()
    assert live_workers(tmp_path) == 1  # never fewer than the caller itself


def test_a_killed_workers_slot_counts_no_more(tmp_path: Path) -> None:
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from mailrouter.intake.host_workers import WorkerSlot\n"
        "slot = WorkerSlot(Path(sys.argv[1]))\n"
        "print(slot.number, flush=True)\n"
        "time.sleep(60)\n"
    )
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        env=environment,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "0"
        mine = WorkerSlot(tmp_path)
        assert mine.number == 1 and live_workers(tmp_path) == 2
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()
    deadline = time.monotonic() + 10
    while live_workers(tmp_path) != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert live_workers(tmp_path) == 1
    mine.release()


def test_an_unusable_folder_counts_the_worker_alone(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    slot = WorkerSlot(blocked / "slots")
    assert slot.number is None
    assert live_workers(blocked / "slots") == 1
