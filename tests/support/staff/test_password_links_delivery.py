"""The reset mail leaves through the outbox sender like other mail (a real SMTP server on
loopback), from the desk's general address; its token is in no log line on the way."""

from __future__ import annotations

import logging
import re

import pytest

from mailrouter.outbound.sender import OutboxSender
from tests.factories import make_user
from tests.mailrouter.smtp_sink import Sink
from tests.support.staff_helpers import fast_passwords

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)


@pytest.fixture
def sink():
    server = Sink().start()
    yield server
    server.stop()


@pytest.fixture
def app_settings(sink: Sink) -> dict:
    return sink.settings()


def test_the_reset_mail_is_delivered_and_its_token_is_never_logged(
    app, session, sink, caplog
) -> None:
    make_user(session, email="ann@example.com", name="Ann", language="en")
    session.commit()
    visitor = app.test_client()
    with caplog.at_level(logging.DEBUG):
        visitor.post("/staff/forgot-password", data={"email": "ann@example.com"})
        assert OutboxSender.for_app(app).run_once().sent == 1
        [delivery] = sink.delivered
        message = delivery.message
        assert delivery.rcpt_tos == ["ann@example.com"]
        assert message["From"].addresses[0].addr_spec == "support@example.com"
        assert message["Auto-Submitted"] == "auto-generated"
        text = message.get_body(preferencelist=("plain",)).get_content()
        token = re.search(r"/staff/password\?token=([\w-]+)", text).group(1)
        path = f"/staff/password?token={token}"
        assert visitor.get(path).status_code == 200
        password = "a brand new secret"
        done = visitor.post(
            "/staff/password", data={"token": token, "new": password, "again": password}
        )
        assert done.status_code == 302
        assert visitor.get(path).status_code == 410
    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    assert "ann@example.com" in logged or "sent" in logged  # the log was captured
    assert token not in logged
