"""A second process that prepares the worker's next batch while the worker writes this one.

Preparing a claimed message (reading it, parsing, the spam check, the routing model, the FAQ
answers) is about 45% of its CPU time and needs no write lock; the rest is the write
transaction. One process does them one after the other; with this child process preparing
batch N+1 while the worker writes batch N, the two overlap on a machine with a second free
core (bench/intake_bench.py, README figures). The child is an app of its own, built by the
same factory from the same settings, so it reads the same database, models and FAQ index.

It is an optimisation, never a dependency: until the child has started (models loaded), after
it died, or on a machine with one core, the worker prepares in its own process as before. The
child never writes a ticket; it only reads (and quarantines a message over the parse budget,
as the worker would).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

from flask import Flask

if TYPE_CHECKING:
    from mailrouter.intake.worker import PreparedBatch, Worker

log = logging.getLogger(__name__)

#: app.extensions key of the factory that built the app (set by support.app.create_app).
FACTORY_KEY = "support_app_factory"
#: After the child died, wait this long before starting another.
RESTART_SECONDS = 60.0
_PLAIN = (str, int, float, bool, type(None))

_child_worker: Worker | None = None


def wanted(app: Flask) -> bool:
    """WORKER_PREPARE_PROCESS is on, the app knows its factory and there is a second core."""
    return (
        bool(app.config.get("WORKER_PREPARE_PROCESS"))
        and FACTORY_KEY in app.extensions
        and (os.cpu_count() or 1) > 1
    )


def _settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The app's settings as plain values, for the child's factory (overrides win there)."""

    def plain(value: Any) -> bool:
        if isinstance(value, (list, tuple)):
            return all(plain(v) for v in value)
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        return isinstance(value, _PLAIN)

    return {k: v for k, v in config.items() if k.isupper() and plain(v)}


class PrepareProcess:
    """The child process, started at once; `ready` once its app and models are loaded."""

    def __init__(self, app: Flask) -> None:
        factory: Callable[..., Flask] = app.extensions[FACTORY_KEY]
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_child,
            initargs=(factory, _settings(app.config), app.instance_path),
        )
        self._warm: Future[None] = self._pool.submit(_warm_up)
        self.batches = 0

    def ready(self) -> bool:
        return self._warm.done() and self._warm.exception() is None

    def start_failure(self) -> BaseException | None:
        return self._warm.exception() if self._warm.done() else None

    def submit(self, worker_id: str, claims: list[Any]) -> Future[PreparedBatch]:
        self.batches += 1
        return self._pool.submit(_prepare, worker_id, claims)

    def pids(self) -> list[int]:
        """The child's process id (for tests that kill it)."""
        return [p.pid for p in (self._pool._processes or {}).values() if p.pid is not None]

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class PrepareProcessHolder:
    """Starts the child when a backlog first needs it, and again a while after it died."""

    def __init__(self, app: Flask, enabled: bool | None = None) -> None:
        self._app = app
        if enabled is None:
            enabled = wanted(app)
        self._enabled = enabled and FACTORY_KEY in app.extensions
        self._process: PrepareProcess | None = None
        self._failed_at = 0.0

    def get(self) -> PrepareProcess | None:
        """The child if it is ready; starts it if it may (the caller prepares in-process)."""
        if not self._enabled:
            return None
        process = self._process
        if process is None:
            if self._failed_at and time.monotonic() - self._failed_at < RESTART_SECONDS:
                return None
            self._process = PrepareProcess(self._app)
            return None
        if process.ready():
            return process
        failure = process.start_failure()
        if failure is not None:
            self.failed(failure)
        return None

    def wait_ready(self, timeout: float) -> bool:
        """Start the child and wait until it is ready (benches and tests; the worker never
        waits: it prepares in-process meanwhile)."""
        deadline = time.monotonic() + timeout
        while self.get() is None:
            if not self._enabled or self._failed_at or time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def failed(self, exc: BaseException | None) -> None:
        """The child failed (died, or could not start): prepare in-process for a while."""
        log.error("the worker's prepare process failed (%s); preparing in-process", exc)
        self.close()
        self._failed_at = time.monotonic()

    @property
    def batches(self) -> int:
        return self._process.batches if self._process is not None else 0

    def close(self) -> None:
        if self._process is not None:
            self._process.close()
            self._process = None


# --- in the child ---------------------------------------------------------------------------


def _start_child(factory: Callable[..., Flask], settings: dict[str, Any], instance: str) -> None:
    global _child_worker
    from mailrouter.intake.worker import Worker  # the child's own; imported here, at run time

    app = factory(settings, instance_path=instance)
    _child_worker = Worker(app, prepare_process=False)


def _warm_up() -> None:
    """Load the models and the FAQ index before the first batch needs them."""
    assert _child_worker is not None
    _child_worker.warm_up()


def _prepare(worker_id: str, claims: list[Any]) -> PreparedBatch:
    assert _child_worker is not None
    return _child_worker.prepare_claims(claims, worker_id=worker_id)
