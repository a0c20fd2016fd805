"""The SMTP intake over loopback with smtplib: what a sending mail server experiences."""

from __future__ import annotations

import logging
import re
import smtplib
import socket
import threading

import pytest
from sqlalchemy import select

from mailrouter.intake.cli import services
from mailrouter.intake.smtp import IntakeHandler, SmtpIntakeService
from mailrouter.intake.worker import Worker
from mailrouter.models import InboundMail
from support.core.db import Database
from support.core.logs import apply_log_levels
from support.desk.models import Department, Ticket
from tests.mailrouter.conftest import make_mail, process_all, wait_until

MAX_BYTES = 20_000


@pytest.fixture
def app_settings() -> dict:
    return {"MAIL_MAX_MESSAGE_BYTES": MAX_BYTES, "WORKER_POLL_SECONDS": 0.05}


def _client(service: SmtpIntakeService) -> smtplib.SMTP:
    return smtplib.SMTP(service.host, service.port, timeout=60)


def test_accepted_mail_is_committed_before_the_250(intake, session) -> None:
    raw = make_mail(to="sales@example.com", message_id="<order-1@mail.example.net>")
    with _client(intake) as smtp:
        refused = smtp.sendmail("wang.fang@example.net", ["Sales@Example.com"], raw)
        assert refused == {}
        # sendmail has returned, so the server said 250: the row must already be there.
        row = session.scalar(select(InboundMail))
    assert row is not None
    assert row.raw == raw
    assert row.envelope_from == "wang.fang@example.net"
    assert row.envelope_to == ["sales@example.com"]
    assert row.department_code == "sales"
    assert row.header_message_id == "order-1@mail.example.net"
    assert (row.state, row.channel) == ("received", "smtp")


def test_a_control_character_in_the_message_id_does_not_refuse_the_mail(intake, session) -> None:
    """The queue's Message-ID (for finding duplicates) is read from the raw header block: a NUL
    in it went into the row as it came, and PostgreSQL, which stores no NUL, refused the
    INSERT: a 451 to every try of the sending server, and the mail never taken in."""
    raw = make_mail(message_id="<order-2@mail.example.net>").replace(
        b"<order-2", b"<\x00order\x01-2"
    )
    with _client(intake) as smtp:
        assert smtp.sendmail("wang.fang@example.net", ["support@example.com"], raw) == {}
    row = session.scalar(select(InboundMail))
    assert row.raw == raw
    assert row.header_message_id == "order-2@mail.example.net"


def test_foreign_recipient_is_refused_so_we_are_never_a_relay(intake, session) -> None:
    with _client(intake) as smtp:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            smtp.sendmail("spammer@example.org", ["victim@gmail.example"], make_mail())
        code, text = refused.value.recipients["victim@gmail.example"]
        assert code == 550 and b"5.1.1" in text
        # With one of our addresses beside it, only ours is accepted.
        result = smtp.sendmail(
            "spammer@example.org", ["victim@gmail.example", "support@example.com"], make_mail()
        )
        assert result["victim@gmail.example"][0] == 550
    [row] = session.scalars(select(InboundMail)).all()
    assert row.envelope_to == ["support@example.com"]


def test_department_address_on_another_domain_is_accepted(app, db, session) -> None:
    session.add(
        Department(code="cn", name="China", email_address="kefu@example.cn", display_name="客服")
    )
    session.commit()
    service = SmtpIntakeService.for_app(app)
    service.start()
    try:
        with _client(service) as smtp:
            assert smtp.sendmail("a@example.org", ["kefu@example.cn"], make_mail()) == {}
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                smtp.sendmail("a@example.org", ["other@example.cn"], make_mail())
    finally:
        service.stop()
    assert session.scalar(select(InboundMail.department_code)) == "cn"


def test_oversized_mail_gets_552_and_size_is_advertised(intake, session) -> None:
    with _client(intake) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("size")
        assert int(smtp.esmtp_features["size"]) == MAX_BYTES
        big = make_mail(body="line of text\n" * (MAX_BYTES // 10))
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:  # SIZE= in MAIL FROM
            smtp.sendmail("a@example.org", ["support@example.com"], big)
        assert refused.value.smtp_code == 552
    with _client(intake) as smtp:
        # A client that does not announce the size is stopped at the end of DATA.
        smtp.ehlo()
        smtp.esmtp_features.pop("size")
        with pytest.raises(smtplib.SMTPDataError) as refused:
            smtp.sendmail("a@example.org", ["support@example.com"], big)
        assert refused.value.smtp_code == 552
    assert session.scalar(select(InboundMail)) is None


def test_database_down_means_451_so_the_sender_retries(app) -> None:
    dead = Database("postgresql+psycopg://nobody@127.0.0.1:1/nothing?connect_timeout=2")
    handler = IntakeHandler.from_config(dead, app.config)
    service = SmtpIntakeService(handler, host="127.0.0.1", port=0, max_message_bytes=MAX_BYTES)
    service.start()
    try:
        with _client(service) as smtp:
            with pytest.raises(smtplib.SMTPDataError) as refused:
                smtp.sendmail("a@example.org", ["support@example.com"], make_mail())
            assert refused.value.smtp_code == 451
            assert b"4.3.0" in refused.value.smtp_error
    finally:
        service.stop()
        dead.dispose()


def test_intake_services_receive_and_process_end_to_end(app, session) -> None:
    """What `support run` starts: the worker picks up what SMTP accepted."""

    def department() -> str | None:
        ticket = session.scalar(select(Ticket))
        code = ticket.department.code if ticket is not None else None
        session.rollback()
        return code

    running = services(app)
    assert [s.name for s in running] == ["worker", "smtp"]
    for service in running:
        service.start()
    try:
        smtp_service = running[-1]
        with _client(smtp_service) as smtp:
            smtp.sendmail("wang.fang@example.net", ["service@example.com"], make_mail())
        # The worker loads its models before its first claim: over 10 s on a loaded machine.
        wait_until("a ticket", lambda: department() is not None, seconds=120)
    finally:
        for service in reversed(running):
            service.stop()
    assert department() == "service"
    assert process_all(app) == 0


@pytest.mark.parametrize(("mail_from", "replied"), [("", False), ("wang.fang@example.net", True)])
def test_null_envelope_sender_gets_no_auto_reply(app, intake, session, mail_from, replied) -> None:
    # Finding 10: MAIL FROM:<> with human-looking headers was answered; RFC 3834 forbids it.
    from support.desk.models import AuditEvent, OutboundMail

    with _client(intake) as smtp:
        assert smtp.sendmail(mail_from, ["service@example.com"], make_mail()) == {}
    assert session.scalar(select(InboundMail)).envelope_from in (mail_from, "<>")
    session.rollback()
    assert process_all(app) == 1
    ticket = session.scalar(select(Ticket))
    assert ticket is not None
    replies = session.scalars(select(OutboundMail).where(OutboundMail.kind == "auto_reply")).all()
    skipped = session.scalars(
        select(AuditEvent.data).where(AuditEvent.action == "auto_reply_skipped")
    ).all()
    session.rollback()
    assert bool(replies) == replied
    if not replied:
        assert [data["reason"] for data in skipped] == ["null_sender: MAIL FROM:<>"]


def _long_line_mail() -> bytes:
    return (
        b"From: Wang Fang <wang.fang@example.net>\r\n"
        b"To: support@example.com\r\n"
        b"Subject: A very long line\r\n"
        b"Message-ID: <long-line@mail.example.net>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=us-ascii\r\n"
        b"\r\n" + b"word " * 1000 + b"end\r\nThanks\r\n"
    )


def test_long_line_and_bare_lf_mail_are_accepted_and_become_tickets(app, intake, session) -> None:
    """Finding 16: aiosmtpd answered a permanent 500 "Line too long" to both."""
    bare_lf = make_mail(
        subject="Bare LF",
        message_id="<bare-lf@mail.example.net>",
        body="First line\n.leading dot line\nLast line\n",
    ).replace(b"\r\n", b"\n")
    assert b"\r" not in bare_lf
    with _client(intake) as smtp:
        smtp.ehlo()
        for raw in (_long_line_mail(), bare_lf):
            smtp.mail("wang.fang@example.net")
            smtp.rcpt("support@example.com")
            code, _ = smtp.data(raw)
            assert code == 250
    rows = session.scalars(select(InboundMail).order_by(InboundMail.id)).all()
    assert [b"\r\n" in row.raw for row in rows] == [True, True]
    stored = rows[1].raw
    assert b"\n" not in stored.replace(b"\r\n", b"")  # no bare LF is stored
    assert b"\r\n.leading dot line\r\n" in stored  # the transparency dot is removed
    session.rollback()
    assert process_all(app) == 2
    session.expire_all()
    tickets = {t.subject: t for t in session.scalars(select(Ticket))}
    assert set(tickets) == {"A very long line", "Bare LF"}
    [long_message] = [m for m in tickets["A very long line"].messages if m.direction == "in"]
    assert "word " * 999 in long_message.body_text
    [bare_message] = [m for m in tickets["Bare LF"].messages if m.direction == "in"]
    assert ".leading dot line" in bare_message.body_text
    assert "..leading" not in bare_message.body_text


def test_every_refusal_is_logged_bounded_and_escaped(intake, caplog) -> None:
    caplog.set_level("WARNING", logger="mailrouter.intake.smtp")
    with _client(intake) as smtp:
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.sendmail("spam@example.org", ["victim@gmail.example"], make_mail())
        smtp.rset()
        smtp.mail("wang.fang@example.net")
        smtp.rcpt("support@example.com")
        code, _ = smtp.data(b"Subject: big\r\n\r\n" + b"x" * 900 + b"\r\n" + b"y\r\n" * 9000)
        assert code == 552
    lines = [r.getMessage() for r in caplog.records if "SMTP refusal" in r.getMessage()]
    assert any("550 5.1.1 <victim@gmail.example>" in line for line in lines)
    assert any("552" in line for line in lines)
    assert all(len(line) < 1500 and "\n" not in line for line in lines)


def test_refusal_log_values_are_escaped_and_bounded() -> None:
    from mailrouter.intake.smtp import LOG_REFUSAL_CHARS, _for_log

    assert _for_log("a\r\nFAKE LOG LINE\x1b[31m") == "a\\r\\nFAKE LOG LINE\\x1b[31m"
    assert len(_for_log("x" * 100_000)) == LOG_REFUSAL_CHARS + 3


def _answers(service: SmtpIntakeService, *commands: bytes) -> list[bytes]:
    """Each command's answer (last line), sent as raw bytes: smtplib refuses a CR or non-ASCII."""
    with socket.create_connection((service.host, service.port), timeout=10) as connection:
        reader = connection.makefile("rb")
        reader.readline()
        answers = []
        for command in (b"EHLO client.example.net", *commands):
            connection.sendall(command + b"\r\n")
            line = reader.readline()
            while line[3:4] == b"-":
                line = reader.readline()
            answers.append(line)
        return answers[1:]


@pytest.mark.parametrize(
    "sender", ["eve\rFAKE@example.org", "eve\u2028x@example.org", "e\x00@example.org"]
)
def test_an_envelope_sender_with_control_characters_is_refused(intake, session, sender) -> None:
    """It would become a customer's address and reach log lines: a bare CR, NUL or U+2028
    passed aiosmtpd (only LF ends its lines)."""
    encoded = sender.encode()
    mail, rcpt = _answers(intake, b"MAIL FROM:<" + encoded + b"> SMTPUTF8", b"RCPT TO:<a@b.org>")
    assert mail.startswith(b"553 5.1.7")
    recipient = sender.replace("example.org", "example.com").encode()
    ok, bad = _answers(intake, b"MAIL FROM:<a@example.org>", b"RCPT TO:<" + recipient + b">")
    assert ok.startswith(b"250") and bad.startswith(b"553 5.1.3")
    assert session.scalar(select(InboundMail)) is None


def test_the_null_sender_and_ordinary_senders_are_still_accepted(intake, session) -> None:
    with _client(intake) as smtp:
        assert smtp.sendmail("", ["support@example.com"], make_mail()) == {}
        utf8 = ["SMTPUTF8"]
        assert smtp.sendmail("王芳@example.net", ["support@example.com"], make_mail(), utf8) == {}
    assert len(session.scalars(select(InboundMail)).all()) == 2


@pytest.mark.parametrize(
    ("app_settings", "logged"),
    [
        ({"LOG_LEVEL": "DEBUG"}, False),
        ({"LOG_LEVEL": "DEBUG", "LOG_MAIL_PROTOCOL_LEVEL": "DEBUG"}, True),
    ],
)
def test_debug_logging_keeps_the_message_out_of_the_log_unless_asked(
    intake, caplog, logged
) -> None:
    """LOG_LEVEL=DEBUG is for our code: aiosmtpd would log each DATA line, whole customers'
    messages. Only LOG_MAIL_PROTOCOL_LEVEL asks for them."""
    try:
        with caplog.at_level(logging.DEBUG), _client(intake) as smtp:
            smtp.sendmail("a@example.net", ["support@example.com"], make_mail(body="PIN 9981 ZQX"))
    finally:
        apply_log_levels({"LOG_LEVEL": "INFO"})
    assert ("9981 ZQX" in caplog.text) is logged


def test_connections_over_the_limit_get_421_and_hold_nothing(intake, session) -> None:
    """Each connection may hold a message's worth of bytes: without a limit, enough of them
    (each sending a long line and waiting) took the host's memory."""
    intake.controller.sessions.limit = 2
    held = [socket.create_connection((intake.host, intake.port), timeout=10) for _ in range(2)]
    try:
        for sock in held:
            assert sock.recv(200).startswith(b"220")
            sock.sendall(b"A" * 10_000)  # a command line still being sent
        with pytest.raises(smtplib.SMTPConnectError) as refused:
            _client(intake)
        assert refused.value.smtp_code == 421
    finally:
        for sock in held:
            sock.close()
    wait_until("the held connections to close", lambda: intake.controller.sessions.open == 0)
    with _client(intake) as smtp:
        assert smtp.sendmail("wang.fang@example.net", ["sales@example.com"], make_mail()) == {}


def test_the_worker_loads_its_models_before_its_first_claim_and_smtp_never_waits(
    app, session, caplog, monkeypatch
) -> None:
    """After a restart under load the first mails waited up to 183 s, claimed, while the worker
    loaded its models with nothing in the log. Now it loads them first, saying so with the
    time it took; SMTP answers 250 meanwhile, and the mail waits unclaimed in the queue."""
    loading, release = threading.Event(), threading.Event()
    real_warm_up = Worker.warm_up

    def slow_warm_up(worker: Worker) -> None:  # the real loading, held until the test says
        loading.set()
        release.wait(60)
        real_warm_up(worker)

    monkeypatch.setattr(Worker, "warm_up", slow_warm_up)
    caplog.set_level(logging.INFO, logger="mailrouter.intake.worker")
    running = services(app)
    for service in running:
        service.start()
    try:
        assert loading.wait(30), "the worker did not load its models before the mail"
        with _client(running[-1]) as smtp:
            assert (
                smtp.sendmail("wang.fang@example.net", ["service@example.com"], make_mail()) == {}
            )
        row = session.scalar(select(InboundMail))
        assert row is not None and (row.state, row.locked_by, row.attempts) == ("received", None, 0)
        session.rollback()
        release.set()
        wait_until("a ticket", lambda: session.scalar(select(Ticket.id)) or session.rollback())
    finally:
        release.set()
        for service in reversed(running):
            service.stop()
    lines = [r.getMessage() for r in caplog.records if r.name == "mailrouter.intake.worker"]
    loaded = [
        line for line in lines if re.search(r"models loaded in \d+\.\d s \(\d+\.\d s CPU\)", line)
    ]
    assert any("loading the models" in line for line in lines) and loaded, lines


def test_an_intake_too_slow_to_answer_its_first_connection_says_so(app, monkeypatch) -> None:
    """aiosmtpd's own wait running out is a TimeoutError with no strerror: the message said
    "cannot listen ... : None", which sent people looking for a port clash. (Its wait cannot be
    made to run out on cue without leaving its loop half started, so start raises as it does.)"""
    from mailrouter.intake.smtp import READY_TIMEOUT_SECONDS
    from support.core.runner import StartupError

    service = SmtpIntakeService.for_app(app)
    assert service.controller.ready_timeout == READY_TIMEOUT_SECONDS

    def swamped() -> None:
        raise TimeoutError("SMTP server failed to start within allotted time.")

    monkeypatch.setattr(service.controller, "start", swamped)
    with pytest.raises(StartupError, match="did not answer within 30 s") as failed:
        service.start()
    assert "None" not in str(failed.value)
    service.controller.loop.close()  # made by the controller, never run by the faked start


def test_an_smtp_port_in_use_says_which_setting_chooses_another(app, monkeypatch) -> None:
    # As the web port: the README's SUPPORT_SMTP_PORT was not named.
    import socket

    from support.core.runner import StartupError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
        monkeypatch.setitem(app.config, "SMTP_PORT", taken.getsockname()[1])
        service = SmtpIntakeService.for_app(app)
        try:
            with pytest.raises(StartupError) as failed:
                service.start()
        finally:
            service.controller.loop.close()
    message = str(failed.value)
    assert "in use" in message
    assert "SUPPORT_SMTP_PORT" in message and "smtp_port in " in message
