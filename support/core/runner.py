"""`support run`: one process with the web portal, SMTP intake, worker and periodic checks.

Each part is a Service with start() and stop(); SIGINT/SIGTERM stops them in reverse order.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn, Protocol

from flask import Flask
from waitress import create_server

from support.core.leases import JobLease

log = logging.getLogger(__name__)

#: How long stopping waits for a periodic job that is running (SIGTERM: systemd waits
#: TimeoutStopSec for the whole process, and a rolling restart waits on each unit in turn).
STOP_WAIT_SECONDS = 3.0
#: Set once `run_services` has stopped its services (after SIGINT/SIGTERM).
_STOPPED = threading.Event()


class Service(Protocol):
    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...


def request_stop(service: Service) -> None:
    """Tell ``service`` to stop without waiting, if it can be told (``request_stop``): the
    services' waits then overlap instead of adding up (seven periodic jobs busy at a SIGTERM
    waited STOP_WAIT_SECONDS one after another)."""
    ask = getattr(service, "request_stop", None)
    if ask is not None:
        ask()


class PeriodicTask:
    """Runs a function every `interval` seconds in its own thread; errors are logged, not fatal.

    With a `lease` (see support.core.leases) the function runs only in the process holding
    the job's lease, and only when the job last ran anywhere `interval` seconds ago: once per
    deployment, not once per host.
    """

    def __init__(
        self,
        name: str,
        interval: float,
        function: Callable[[], object],
        *,
        lease: JobLease | None = None,
    ) -> None:
        self.name = name
        self.interval = interval
        self.function = function
        self.lease = lease
        self._stop = threading.Event()
        self._stop_requested_at: float | None = None
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_if_ours()
            except Exception:
                log.exception("periodic task %s failed; will try again", self.name)
            self._stop.wait(self._pause())

    def run_if_ours(self) -> bool:
        """One turn: run the function unless another process holds the job; True if it ran."""
        lease = self.lease
        if lease is None:
            self.function()
            return True
        if not (lease.acquire() and lease.due(self.interval)):
            return False
        try:
            with lease.kept():
                self.function()
        finally:
            lease.record_run()  # a failed run waits its interval too, as without a lease
        return True

    def _pause(self) -> float:
        # A lease holder renews well before its lease runs out, even between long intervals.
        if self.lease is None:
            return self.interval
        return min(self.interval, self.lease.seconds / 3)

    def stopping(self) -> bool:
        """True once stop() was called: a long run checks it between two pieces of work."""
        return self._stop.is_set()

    def start(self) -> None:
        self._thread.start()

    def request_stop(self) -> None:
        """Stop after the run in progress, if any; ``stop`` waits for it. STOP_WAIT_SECONDS
        counts from the first request, so tasks asked together end within it together."""
        if self._stop_requested_at is None:
            self._stop_requested_at = time.monotonic()
        self._stop.set()

    def stop(self) -> None:
        """Stop between two runs at once; a run in progress gets STOP_WAIT_SECONDS (from
        ``request_stop``) to end (a long one checks ``stopping()`` between pieces of work), else
        it is abandoned with the process: its uncommitted work rolls back, its lease is kept
        until it runs out, and the next holder runs the job again (every job may run twice,
        never at once)."""
        self.request_stop()
        assert self._stop_requested_at is not None
        if self._thread.is_alive():
            waited = time.monotonic() - self._stop_requested_at
            self._thread.join(timeout=max(0.0, STOP_WAIT_SECONDS - waited))
        if self._thread.is_alive():
            log.warning(
                "periodic task %s is still running; abandoned as the process stops", self.name
            )
            return
        if self.lease is not None:
            try:
                self.lease.release()
            except Exception:
                log.exception("cannot release the lease of %s", self.name)


class WebService:
    """The portal and staff pages on waitress (a production WSGI server, pure Python)."""

    name = "web"

    def __init__(self, app: Flask) -> None:

        host, port = app.config["HTTP_HOST"], app.config["HTTP_PORT"]
        channel_timeout = max(1, int(app.config["HTTP_CHANNEL_TIMEOUT"]))
        try:
            self.server = create_server(
                app,
                host=host,
                port=port,
                threads=app.config["HTTP_THREADS"],
                ident="support",
                # Idle or slow clients must not use up the slots: many slots, closed when idle.
                connection_limit=max(1, int(app.config["HTTP_CONNECTION_LIMIT"])),
                channel_timeout=channel_timeout,
                cleanup_interval=min(30, max(1, channel_timeout // 2)),
                # select() fails above ~1000 sockets; poll() has no such limit.
                asyncore_use_poll=True,
                # waitress drops X-Forwarded-* unless told otherwise; behind trusted proxies the
                # app's ProxyFix (support.core.web.trust_proxies) must see them, or every client
                # shares the proxy's address (sign-in throttling, contact and search limits).
                clear_untrusted_proxy_headers=int(app.config["HTTP_TRUSTED_PROXIES"]) <= 0,
            )
        except OSError as exc:
            raise StartupError(
                f"cannot listen on {host}:{port}: {exc.strerror}"
                f" ({another_port('HTTP_PORT', app.instance_path)})"
            ) from None
        self._thread = threading.Thread(target=self.server.run, name="web", daemon=True)

    def start(self) -> None:
        self._thread.start()
        log.info(
            "web portal on http://%s:%s/", self.server.effective_host, self.server.effective_port
        )

    def stop(self) -> None:
        self.server.close()
        # Close connections still open (idle clients) too: the server's loop runs while any is.
        for channel in list(self.server._map.values()):
            channel.close()
        self._thread.join(timeout=10)


def another_port(setting: str, instance_path: str) -> str:
    """How to choose another port, said where one is taken: the README's variable (a newcomer's
    ./start.sh on a machine where 8080 was in use ended with "(HTTP_PORT)", named nowhere)."""
    return (
        f"choose another port with SUPPORT_{setting}=NUMBER"
        f" or {setting.lower()} in {Path(instance_path) / 'config.toml'}"
    )


class StartupError(Exception):
    """A part cannot start (port in use, ...); the message names the problem in one line."""


def ready_line(listening: Sequence[str]) -> str:
    """What a serving command prints once its listeners answer (`run_services`' on_ready): a
    person, or a script waiting for the line, may use them at once."""
    *first, last = listening
    return "ready: " + (", ".join(first) + " and " if first else "") + last


def run_services(
    services: Sequence[Service], *, on_ready: Callable[[], None] | None = None
) -> None:
    """Start every service, block until SIGINT/SIGTERM, then stop them in reverse order.

    ``on_ready`` runs once every service has started (its listeners bound and accepting): what
    tells a person the system is ready says so then, not before."""
    stop = threading.Event()

    def _handle(signum: int, _frame: object) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, _handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    started: list[Service] = []
    try:
        for service in services:
            service.start()
            started.append(service)
        log.info("running: %s (Ctrl-C to stop)", ", ".join(s.name for s in started))
        if on_ready is not None:
            on_ready()
        while not stop.wait(1.0):
            pass
    finally:
        stop_services(started)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("stopped")
        _STOPPED.set()


def stop_services(started: Sequence[Service]) -> None:
    """Stop ``started`` in reverse order, each told first (``request_stop``), so their waits
    for work in progress overlap: the whole stop takes about STOP_WAIT_SECONDS, not that per
    busy periodic job."""
    for service in started:
        request_stop(service)
    for service in reversed(started):
        try:
            service.stop()
        except Exception:
            log.exception("error while stopping %s", service.name)


def services_stopped() -> bool:
    """True once `run_services` stopped its services: the process has nothing left to do."""
    return _STOPPED.is_set()


def end_process(code: int = 0) -> NoReturn:
    """Exit at once with ``code``, the logs and output flushed, skipping the interpreter's
    teardown: with the models, FAQ index and word tables loaded, it took 3-4 s after a stop at
    load 15 (0.1 s without), which systemd and a rolling restart wait for. Only for a process
    whose services have stopped: everything is committed and the connections are closed."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)
