"""The reset mail leaves through the outbox sender like other mail (a real SMTP server on
loopback), from the desk's general address; its token is in no log line on the way."""

from __future__ import annotations

import logging
import re
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select, update

from mailrouter.outbound.sender import OutboxSender
from support.core.db import utcnow
from support.desk.models import OutboundMail
from support.desk.outbox import ACCOUNT_LINK_REMOVED
from tests.factories import make_user
from tests.mailrouter.smtp_sink import Sink
from tests.support.staff_helpers import login, mail_text


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


def _row(session) -> OutboundMail:
    session.expire_all()
    row = session.scalar(select(OutboundMail).where(OutboundMail.kind == "account_link"))
    session.commit()
    return row


def _token(text: str) -> str:
    return re.search(r"/staff/password\?token=([\w-]+)", text).group(1)


def test_a_sent_account_mail_keeps_no_link_in_the_database(app, session, sink) -> None:
    make_user(session, email="ann@example.com", name="Ann", language="en")
    session.commit()
    app.test_client().post("/staff/forgot-password", data={"email": "ann@example.com"})
    sink.handler.data_replies.append("451 4.3.0 try again later")
    sender = OutboxSender.for_app(app)
    assert sender.run_once().retrying == 1
    waiting = _row(session)
    token = _token(mail_text(waiting))  # not sent yet: the row keeps it, nothing is lost
    session.execute(update(OutboundMail).values(next_attempt_at=utcnow()))
    session.commit()
    assert sender.run_once().sent == 1
    [delivery] = sink.delivered
    assert _token(delivery.message.get_body(preferencelist=("plain",)).get_content()) == token
    sent = _row(session)
    assert sent.state == "sent" and token not in mail_text(sent)
    assert mail_text(sent).strip() == ACCOUNT_LINK_REMOVED.strip()
    stored = message_from_bytes(sent.raw, policy=policy.default)
    assert stored["Message-ID"] == delivery.message["Message-ID"]
    assert stored["To"] == delivery.message["To"]
    # The link Ann got still works.
    visitor = app.test_client()
    password = "a brand new secret"
    done = visitor.post(
        "/staff/password", data={"token": token, "new": password, "again": password}
    )
    assert done.status_code == 302


def test_a_failed_account_mail_keeps_no_link_and_is_not_sent_again(
    app, session, sink, client
) -> None:
    make_user(session, email="admin@example.com", role="admin")
    make_user(session, email="ann@example.com", name="Ann", language="en")
    session.commit()
    app.test_client().post("/staff/forgot-password", data={"email": "ann@example.com"})
    token = _token(mail_text(_row(session)))
    sink.handler.data_replies.append("554 5.7.1 refused")
    assert OutboxSender.for_app(app).run_once().failed == 1
    failed = _row(session)
    assert failed.state == "failed" and token not in mail_text(failed)
    login(client, "admin@example.com")
    client.set_cookie("lang", "en")
    answer = client.post(f"/staff/mail/{failed.id}/retry", follow_redirects=True)
    assert "A password link is not sent again" in answer.get_data(as_text=True)
    assert _row(session).state == "failed"


def test_without_a_relay_the_outbox_file_keeps_no_link_either(app, session, db, tmp_path) -> None:
    """With no relay the mail is only written to instance/outbox/ (the admin is told it was not
    sent): that file is kept as the database copy is, so it carries no live link either."""
    make_user(session, email="ann@example.com", name="Ann", language="en")
    session.commit()
    app.test_client().post("/staff/forgot-password", data={"email": "ann@example.com"})
    token = _token(mail_text(_row(session)))
    folder = tmp_path / "outbox"
    local = OutboxSender(db, {**app.config, "OUTBOUND_SMTP_HOST": ""}, outbox_dir=folder)
    assert local.run_once().sent == 1
    [written] = folder.glob("*.eml")
    sent = _row(session)
    assert token.encode() not in written.read_bytes()
    assert written.read_bytes() == sent.raw  # the file is the mail as the database keeps it
    assert (
        message_from_bytes(written.read_bytes(), policy=policy.default)["To"] == "ann@example.com"
    )
