"""Test tooling for real-browser checks: a live server, Chromium, and axe-core from npm.

axe-core is test tooling only: it is installed with npm into a cache folder outside the
project the first time a test needs it (never a product dependency), and the tests skip with
the reason when npm or the registry cannot be had.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

#: Chromium's headless shell (Debian's chromium-headless-shell, built from the same source and
#: version as the browser, without its window and profile layers), which Playwright itself runs
#: for headless Chromium, when installed; else the full browser in its headless mode, which
#: spent more CPU on the same pages (29 staff page tests, quiet: 32.3 s -> 19.9 s of CPU).
HEADLESS_SHELL = Path("/usr/bin/chromium-headless-shell")
CHROMIUM = HEADLESS_SHELL if HEADLESS_SHELL.exists() else Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_VERSION = "4.14.1"
AXE_DIR = Path(os.environ.get("AXE_DIR", Path(tempfile.gettempdir()) / f"axe-core-{AXE_VERSION}"))
#: Widths checked for sideways scrolling: a common phone.
PHONE = {"width": 390, "height": 844}


def _closing_responses(app: Any) -> Any:
    """The app, with each response's iterable closed even when the browser drops the
    connection: werkzeug's test server then skips ``close()`` (its cleanup read of the reset
    socket raises first), and a static file left open is a ResourceWarning, an error here."""

    def wsgi(environ: Any, start_response: Any) -> Iterator[bytes]:
        response = app(environ, start_response)
        try:
            yield from response
        finally:  # also when the server drops this generator unfinished
            if hasattr(response, "close"):
                response.close()

    return wsgi


class _RequestHandler(WSGIRequestHandler):
    #: An idle keep-alive connection is dropped after this many seconds, so that waiting for
    #: the request threads at the end (``live_server``) cannot hang on one the browser kept.
    timeout = 10


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    """The app on a free loopback port, served by a real WSGI server thread.

    It returns only after every request it accepted has finished. A page's last requests
    outlive its browser context: the ticket page's pagehide beacon (presence "gone") reaches the
    server as the context closes, often while this shuts down. werkzeug runs each request in a
    daemon thread that ``shutdown`` does not wait for, so such a request went on using the
    database after the ``app`` fixture had disposed its engine: the connection it opened or
    returned then belonged to no pool, and a later test's garbage collection found it open
    (psycopg's "connection deleted while still open", on PostgreSQL runs)."""
    server = make_server(
        "127.0.0.1", 0, _closing_responses(app), threaded=True, request_handler=_RequestHandler
    )
    server.daemon_threads = False  # so that server_close() joins the request threads
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()  # accepts no more connections
        thread.join(timeout=10)
        server.server_close()  # waits for the requests already accepted


#: This test process's Playwright driver and Chromium (`chromium`), started at first use.
_running: dict[str, Any] = {}


@contextmanager
def chromium() -> Iterator[Any]:
    """The test process's Chromium, launched once (a launch with its driver costs a second or
    more a test on two busy cores); every context a test opened is closed after it, so the
    next test starts as in a fresh browser (a context has its own cookies, storage and cache).

    The only way the tests start Playwright: its sync API refuses a second driver in the same
    thread while one runs. `stop_chromium` ends both at the end of the session."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    browser = _running.get("browser")
    if browser is None or not browser.is_connected():
        if "playwright" not in _running:
            from playwright.sync_api import expect, sync_playwright

            _running["playwright"] = sync_playwright().start()
            # expect() waits 5 s by default, which a page on a loaded machine can take; it
            # returns as soon as the condition holds, so a long wait costs nothing when it works.
            expect.set_options(timeout=30_000)
        browser = _running["playwright"].chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        _running["browser"] = browser
    try:
        yield browser
    finally:
        for context in browser.contexts:
            context.close()


def stop_chromium() -> None:
    """Close the process's Chromium and its driver, if a test started them."""
    browser, playwright = _running.pop("browser", None), _running.pop("playwright", None)
    if browser is not None and browser.is_connected():
        browser.close()
    if playwright is not None:
        playwright.stop()


def axe_script() -> Path:
    """axe.min.js, npm-installed once into AXE_DIR (pinned version); skips when unavailable."""
    script = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if script.exists():
        return script
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: cannot fetch axe-core for the accessibility test")
    AXE_DIR.mkdir(parents=True, exist_ok=True)
    # Parallel test workers may all get here first: one installs, the others wait for it.
    with open(AXE_DIR / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if script.exists():
            return script
        done = subprocess.run(
            [npm, "install", "--silent", "--no-audit", "--no-fund", f"axe-core@{AXE_VERSION}"],
            cwd=AXE_DIR,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    if done.returncode != 0 or not script.exists():
        pytest.skip(f"npm could not install axe-core@{AXE_VERSION}: {done.stderr[-500:]}")
    return script


def axe_violations(page, script: Path) -> list[str]:
    """axe-core's WCAG 2.x A/AA and best-practice violations on the loaded page, as lines."""
    page.add_script_tag(path=str(script))
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(str(n["target"]) for n in v["nodes"][:4])
        for v in found
    ]


def overflow_px(page) -> int:
    """How far the page scrolls sideways (0 when it fits the viewport).

    Waits for the page to load first: right after a form's redirect the new document may have
    no body yet (a CI run read ``scrollingElement`` as null there)."""
    page.wait_for_load_state("load")
    return int(page.evaluate("document.scrollingElement.scrollWidth - innerWidth"))


def sign_in(page, base: str, email: str, password: str) -> None:
    """Sign in as staff by pressing Enter in the password field."""
    page.goto(f"{base}/staff/login")
    page.locator("input[type=email], input[name=email]").first.fill(email)
    page.locator("input[type=password]").first.fill(password)
    page.locator("input[type=password]").first.press("Enter")
    page.wait_for_url(lambda url: "/staff/" in url and "/staff/login" not in url)


def png_grey(data: bytes) -> list[list[float]]:
    """A screenshot (8-bit RGB or RGBA PNG, as Chromium writes it) as rows of grey levels
    0-255, so a test can look at what was painted (a shadow, a colour) without an image
    library."""
    import struct
    import zlib

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, header = 8, [], b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        header = body if kind == b"IHDR" else header
        chunks += [body] if kind == b"IDAT" else []
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6) and header[12] == 0, "8-bit RGB(A), not interlaced"
    step = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(b"".join(chunks)), width * step
    rows: list[list[float]] = []
    above = bytearray(stride)
    for y in range(height):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for i in range(stride):
            left = line[i - step] if i >= step else 0
            up, corner = above[i], above[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                near = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + near) & 255
        rows.append([sum(line[x * step : x * step + 3]) / 3 for x in range(width)])
        above = line
    return rows
