"""The real web server (waitress in `support run`) keeps answering while many clients hold idle
connections open: slow or idle clients must not use up its connection slots."""

from __future__ import annotations

import gc
import resource
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings

import pytest

from support.core.runner import WebService
from tests.faq.conftest import BROWSER_UA
from tests.support.core.test_client_address import CONTACT

IDLE_CLIENTS = 300


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


NO_REDIRECTS = urllib.request.build_opener(_NoRedirects)


@pytest.fixture
def app_settings(request) -> dict:
    return getattr(request, "param", {})


def _enough_file_descriptors(needed: int) -> None:
    """Raise the soft limit of open files if it is too low for the test, or skip."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.skip(f"needs {needed} open files; the hard limit (ulimit -Hn) is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def test_idle_connections_do_not_lock_out_the_portal(app) -> None:
    # Each idle client costs two descriptors in this process (client and server side).
    _enough_file_descriptors(2 * IDLE_CLIENTS + 256)
    web = WebService(app)
    web.start()
    idle: list[socket.socket] = []
    try:
        port = web.server.effective_port
        for _ in range(IDLE_CLIENTS):
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        time.sleep(0.5)  # let the server accept what it will
        # Locked out, the request would wait for idle clients' HTTP_CHANNEL_TIMEOUT (30 s);
        # under load a served one can take seconds.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=20) as response:
            assert response.status == 200
    finally:
        for sock in idle:
            sock.close()
        web.stop()


def test_web_server_limits_come_from_the_settings(app) -> None:
    app.config.update(HTTP_CONNECTION_LIMIT=1234, HTTP_CHANNEL_TIMEOUT=17)
    web = WebService(app)
    try:
        adj = web.server.adj
        assert adj.connection_limit == 1234
        assert adj.channel_timeout == 17
        assert adj.cleanup_interval <= 17
        # select() cannot watch more than ~1000 sockets; poll() can.
        assert adj.asyncore_use_poll is True
    finally:
        web.server.close()


def _contact_over_http(port: int, forwarded_for: str, email: str) -> int:
    """Post the contact form to the real server as a proxy would, naming the client."""
    form = urllib.parse.urlencode({**CONTACT, "email": email}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/contact",
        data=form,
        headers={"User-Agent": BROWSER_UA, "X-Forwarded-For": forwarded_for},
    )
    try:
        with NO_REDIRECTS.open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.parametrize(
    "app_settings", [{"HTTP_TRUSTED_PROXIES": 1, "FAQ_CONTACT_LIMIT_PER_HOUR": 1}], indirect=True
)
def test_behind_a_proxy_the_server_passes_the_forwarded_client_on(app, session) -> None:
    # waitress drops X-Forwarded-* by default, before HTTP_TRUSTED_PROXIES is applied: all
    # clients behind nginx would then share one address and one contact limit.
    web = WebService(app)
    web.start()
    try:
        port = web.server.effective_port
        assert _contact_over_http(port, "198.51.100.1", "a@example.org") == 302
        assert _contact_over_http(port, "198.51.100.2", "b@example.org") == 302
        assert _contact_over_http(port, "198.51.100.1", "c@example.org") == 429
    finally:
        web.stop()


@pytest.mark.parametrize("app_settings", [{"FAQ_CONTACT_LIMIT_PER_HOUR": 1}], indirect=True)
def test_without_trusted_proxies_a_forged_forwarded_for_is_ignored(app, session) -> None:
    web = WebService(app)
    web.start()
    try:
        port = web.server.effective_port
        assert _contact_over_http(port, "198.51.100.1", "a@example.org") == 302
        assert _contact_over_http(port, "198.51.100.2", "b@example.org") == 429
    finally:
        web.stop()


def test_a_port_in_use_says_which_setting_chooses_another(app, monkeypatch) -> None:
    # On a machine where 8080 was taken, ./start.sh ended with "(HTTP_PORT): Address already
    # in use": the README's SUPPORT_HTTP_PORT, what a newcomer sets, was not named.
    from support.core.runner import StartupError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setitem(app.config, "HTTP_PORT", port)
        with pytest.raises(StartupError) as failed:
            WebService(app)
    message = str(failed.value)
    # waitress leaves the socket it could not bind, and its wake-up pipe, to the collector (the
    # process ends there); collected here, not in whichever test runs next.
    del failed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    assert f":{port}" in message and "in use" in message
    assert "SUPPORT_HTTP_PORT" in message and "http_port in " in message
