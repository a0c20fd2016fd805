"""Stopping a serving process: busy periodic jobs are waited for together, not in turn."""

from __future__ import annotations

import threading
import time

from support.core.runner import STOP_WAIT_SECONDS, PeriodicTask, stop_services


def test_busy_periodic_jobs_are_waited_for_together_not_one_after_another() -> None:
    """Each busy job got STOP_WAIT_SECONDS of its own, one after another: a SIGTERM while
    three jobs ran took 9 s (and ten jobs 30 s, systemd's TimeoutStopSec). Now all are told
    at once and the stop takes about STOP_WAIT_SECONDS in all."""
    release = threading.Event()
    # Ten jobs: one after another is 10 * STOP_WAIT_SECONDS, far from twice it on any machine.
    running = [threading.Event() for _ in range(10)]

    def busy(started: threading.Event) -> None:
        started.set()
        release.wait(60)  # a job that does not check stopping() between pieces of work

    tasks = [
        PeriodicTask(f"job-{n}", 3600, lambda started=started: busy(started))
        for n, started in enumerate(running)
    ]
    for task in tasks:
        task.start()
    try:
        assert all(started.wait(30) for started in running)
        began = time.monotonic()
        stop_services(tasks)
        took = time.monotonic() - began
        assert STOP_WAIT_SECONDS - 0.5 < took < 2 * STOP_WAIT_SECONDS
        assert all(task.stopping() for task in tasks)
    finally:
        release.set()


def test_an_idle_periodic_job_stops_at_once() -> None:
    task = PeriodicTask("idle", 3600, lambda: None)
    task.start()
    began = time.monotonic()
    stop_services([task])
    # Milliseconds; waiting for the job would be STOP_WAIT_SECONDS (a floor: a wait).
    assert time.monotonic() - began < STOP_WAIT_SECONDS - 0.5
