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

import contextlib
import gc
import logging
import multiprocessing
import os
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from multiprocessing.connection import Connection
from typing import Any, Protocol

from flask import Flask

log = logging.getLogger(__name__)

#: app.extensions key of the factory that built the app (set by support.app.create_app).
FACTORY_KEY = "support_app_factory"
#: After the child died, wait this long before starting another.
RESTART_SECONDS = 60.0
#: How often a waiting worker checks that the child still lives (and the child its parent).
CHECK_SECONDS = 1.0
#: How often a worker waiting for the child checks whether it is told to stop.
STOP_CHECK_SECONDS = 0.1
#: How long closing waits for an idle child to end by itself before terminating it.
CLOSE_SECONDS = 0.5
_PLAIN = (str, int, float, bool, type(None))


class Preparer(Protocol):
    """What the child runs: the worker's own preparing (passed in, so this module does not
    import the worker that imports it)."""

    def warm_up(self) -> None: ...

    def prepare_claims(
        self, claims: list[Any], *, worker_id: str, embeddings: dict[str, Any] | None = None
    ) -> Any: ...


class PrepareError(Exception):
    """The prepare process is gone, could not start, or failed a batch; prepare in-process."""


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


class Reply:
    """A batch handed to the child; `result` waits for it (replies come in order)."""

    def __init__(self, process: PrepareProcess, number: int) -> None:
        self._process = process
        self._number = number

    def result(self, *, stopping: Callable[[], bool] | None = None) -> Any:
        """The worker's PreparedBatch; PrepareError once ``stopping()`` (the worker stops and
        gives the batch back instead of waiting for it)."""
        return self._process.receive(self._number, stopping)


class PrepareProcess:
    """The child process and the pipe to it; one per worker (thread), used by it alone.

    A plain process and pipe rather than a process pool: the worker has at most two batches
    out (this one and the next), wants them in order, and must be able to end the child
    at any moment; a pool's shutdown left children waiting forever."""

    def __init__(self, app: Flask, preparer: Callable[..., Preparer]) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, child_end = context.Pipe()
        self._child = context.Process(
            target=_child_main,
            args=(
                child_end,
                app.extensions[FACTORY_KEY],
                preparer,
                _settings(app.config),
                app.instance_path,
                os.getpid(),
                _log_level(),
            ),
            name="support-prepare",
            daemon=True,  # ended with the worker's process
        )
        self._child.start()
        child_end.close()
        self._state = "starting"
        self._sent = 0
        self._received = 0
        self._early: dict[int, Any] = {}

    @property
    def pid(self) -> int | None:
        return self._child.pid

    def ready(self) -> bool:
        """True once the child loaded its app and models; raises PrepareError if it failed."""
        if self._state == "starting" and self._pipe.poll():
            kind, payload = self._read()
            if kind != "ready":
                raise PrepareError(f"the prepare process could not start: {payload}")
            self._state = "ready"
        elif self._state == "starting" and not self._child.is_alive():
            raise PrepareError("the prepare process ended while starting")
        return self._state == "ready"

    def submit(
        self, worker_id: str, claims: list[Any], embeddings: dict[str, Any] | None = None
    ) -> Reply:
        """Hand the child a batch; ``embeddings``: the sentences the worker embedded since
        its last batch (the child need not embed them again)."""
        try:
            self._pipe.send((worker_id, claims, embeddings or {}))
        except (OSError, ValueError) as exc:
            raise PrepareError(f"the prepare process is gone: {exc}") from exc
        self._sent += 1
        return Reply(self, self._sent)

    def receive(self, number: int, stopping: Callable[[], bool] | None = None) -> Any:
        """The reply to batch ``number``, reading earlier ones into ``_early`` if need be."""
        while number not in self._early:
            kind, payload = self._read(stopping)
            self._received += 1
            self._early[self._received] = (
                payload if kind == "ok" else PrepareError(f"preparing failed: {payload}")
            )
        reply = self._early.pop(number)
        if isinstance(reply, PrepareError):
            raise reply
        return reply

    def _read(self, stopping: Callable[[], bool] | None = None) -> tuple[str, Any]:
        pause = CHECK_SECONDS if stopping is None else STOP_CHECK_SECONDS
        try:
            while not self._pipe.poll(pause):
                if not self._child.is_alive():
                    raise PrepareError("the prepare process died")
                if stopping is not None and stopping():
                    raise PrepareError("the worker is stopping")
            kind, payload = self._pipe.recv()
        except (EOFError, OSError) as exc:
            raise PrepareError(f"the prepare process died: {exc}") from exc
        return kind, payload

    def close(self) -> None:
        """End the child: asked first, then terminated (it only reads; nothing is lost). A
        child busy preparing or still loading its models is not waited for: the worker is
        stopping, or preparing in-process."""
        try:
            self._pipe.send(None)
        except (OSError, ValueError):
            pass
        self._child.join(timeout=CLOSE_SECONDS)
        if self._child.is_alive():
            self._child.terminate()
            self._child.join(timeout=2)
        self._pipe.close()


def _log_level() -> int | None:
    """The worker's log level when its logging is set up (`support` commands), else None."""
    root = logging.getLogger()
    return root.getEffectiveLevel() if root.handlers else None


class PrepareProcessHolder:
    """Starts the child when a backlog first needs it, and again a while after it died."""

    def __init__(
        self, app: Flask, preparer: Callable[..., Preparer], enabled: bool | None = None
    ) -> None:
        self._app = app
        self._preparer = preparer
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
            self._process = PrepareProcess(self._app, self._preparer)
            return None
        try:
            return process if process.ready() else None
        except PrepareError as exc:
            self.failed(exc)
            return None

    @property
    def pid(self) -> int | None:
        """The child's process id while there is one (starting or ready; for benches)."""
        return self._process.pid if self._process is not None else None

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
        if self._process is not None:
            log.error("the worker's prepare process failed (%s); preparing in-process", exc)
            self.close()
        self._failed_at = time.monotonic()

    def close(self) -> None:
        if self._process is not None:
            self._process.close()
            self._process = None


# --- in the child ---------------------------------------------------------------------------


def _child_main(
    pipe: Connection,
    factory: Callable[..., Flask],
    preparer: Callable[..., Preparer],
    settings: dict[str, Any],
    instance: str,
    parent: int,
    log_level: int | None,
) -> None:
    """Build the app, load the models, then prepare batches until told to stop."""
    threading.Thread(target=_end_with_parent, args=(parent,), daemon=True).start()
    if log_level is not None:  # log like the worker (a spawned process starts without handlers)
        logging.basicConfig(
            level=log_level, format="%(asctime)s %(levelname)s %(name)s [prepare]: %(message)s"
        )
    try:
        worker = preparer(factory(settings, instance_path=instance), prepare_process=False)
        worker.warm_up()
        _freeze_heap()
    except Exception:
        with contextlib.suppress(OSError):
            pipe.send(("failed", traceback.format_exc(limit=5)))
        return
    try:
        pipe.send(("ready", None))
    except OSError:
        return
    while True:
        try:
            task = pipe.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        worker_id, claims, embeddings = task
        try:
            prepared = worker.prepare_claims(claims, worker_id=worker_id, embeddings=embeddings)
            reply: tuple[str, Any] = ("ok", prepared)
        except Exception:
            reply = ("error", traceback.format_exc(limit=5))
        try:
            pipe.send(reply)
        except OSError:  # the worker is gone (stopped, or killed): nothing more to do
            return


def _freeze_heap() -> None:
    """Leave what starting loaded (the app, the models, the FAQ index: about 430,000 objects
    the garbage collector tracks) out of its later full collections, which walked all of it
    for the few objects a batch leaves behind.

    Performance budget: measured in the four-worker bench's prepare processes (load 27-32,
    docs/measurements.md, twenty-second session), their collections took 0.15-0.17 s of CPU
    each of about 1 s, one full collection most of it; after this a full collection walks only
    what came after the start. Frozen objects are still freed when their last reference goes;
    only garbage in reference cycles among them (say, a replaced FAQ index's) would stay until
    the child ends. Nothing the preparing computes depends on it;
    ``tests/mailrouter/intake/test_prepare_process.py`` holds that the child does it."""
    gc.collect()  # the start's garbage goes first: frozen objects are never freed
    gc.freeze()


def _end_with_parent(parent: int) -> None:
    """A worker killed with SIGKILL cannot end its child: the child notices and ends."""
    while os.getppid() == parent:
        time.sleep(CHECK_SECONDS)
    os._exit(0)
