"""Delivery through a real aiosmtpd server on loopback."""

import email
import socket
from datetime import timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from mailrouter.compose import compose_message, message_bytes
from mailrouter.outbound.relay import (
    PermanentDeliveryError,
    RelayConfig,
    TemporaryDeliveryError,
    next_retry_delay,
    send_via_relay,
)
from tests.mailrouter.conftest import self_signed_certificate

UNKNOWN_USER = "nobody@example.cn"
BUSY_USER = "busy@example.cn"


class RecordingHandler:
    """Accepts mail unless told otherwise, and keeps what it accepted."""

    def __init__(self, data_reply: str = "250 OK") -> None:
        self.data_reply = data_reply
        self.delivered: list[tuple[str, list[str], bytes]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == UNKNOWN_USER:
            return "550 5.1.1 no such user"
        if address == BUSY_USER:
            return "452 4.2.2 mailbox full"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply.startswith("250"):
            self.delivered.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return self.data_reply


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    """Start a server with the given handler (and options); stop it after the test."""
    controllers = []

    def start(handler, **smtp_options):
        controller = Controller(
            handler, hostname="127.0.0.1", port=free_port(), ready_timeout=30, **smtp_options
        )
        controller.start()
        controllers.append(controller)
        return RelayConfig(
            host="127.0.0.1", port=controller.port, timeout=30, helo_name="desk.example.com"
        )

    yield start
    for controller in controllers:
        controller.stop()


def auto_reply():
    return compose_message(
        from_name="客服部",
        from_address="service@example.com",
        to=["王芳 <wang@example.cn>"],
        subject="[#SUP-000123] 已收到：订单破损",
        text="您的来信已安全送达。\n",
        html=None,
        message_id="<SUP-000123.abcdefgh.abcdefghijklmnop@example.com>",
        in_reply_to="<original@mail.example.cn>",
        references=[],
        automatic=True,
    )


def test_message_is_delivered(smtp_server):
    handler = RecordingHandler()
    config = smtp_server(handler)

    refused = send_via_relay(
        config, auto_reply(), "bounces@example.com", ["wang@example.cn", "li@example.cn"]
    )

    assert refused == {}
    [(mail_from, rcpt_tos, content)] = handler.delivered
    assert mail_from == "bounces@example.com"
    assert rcpt_tos == ["wang@example.cn", "li@example.cn"]
    received = email.message_from_bytes(content, policy=policy.default)
    assert received["Subject"] == "[#SUP-000123] 已收到：订单破损"
    assert received["Auto-Submitted"] == "auto-replied"
    assert received.get_content().splitlines() == ["您的来信已安全送达。"]


def test_stored_bytes_are_sent_unchanged(smtp_server):
    handler = RecordingHandler()
    config = smtp_server(handler)
    raw = message_bytes(auto_reply())

    send_via_relay(config, raw, "bounces@example.com", ["wang@example.cn"])

    [(_from, _rcpt, content)] = handler.delivered
    assert content.replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")


def test_non_ascii_recipient_uses_smtputf8(smtp_server):
    handler = RecordingHandler()
    config = smtp_server(handler)

    send_via_relay(config, auto_reply(), "bounces@example.com", ["王芳@example.cn"])

    assert handler.delivered[0][1] == ["王芳@example.cn"]


def test_an_international_domain_needs_no_smtputf8(smtp_server):
    # user@bücher.de was refused by a relay without SMTPUTF8 ("cannot deliver to non-ASCII
    # addresses"), though its domain has an ASCII form every relay takes.
    handler = RecordingHandler()
    config = smtp_server(handler, enable_SMTPUTF8=False)

    send_via_relay(config, auto_reply(), "bounces@例子.公司", ["user@bücher.de"])

    [(mail_from, rcpt_tos, _content)] = handler.delivered
    assert mail_from == "bounces@xn--fsqu00a.xn--55qx5d"
    assert rcpt_tos == ["user@xn--bcher-kva.de"]


def test_a_non_ascii_mailbox_still_needs_smtputf8(smtp_server):
    config = smtp_server(RecordingHandler(), enable_SMTPUTF8=False)

    with pytest.raises(PermanentDeliveryError, match="no SMTPUTF8"):
        send_via_relay(config, auto_reply(), "bounces@example.com", ["王芳@例子.公司"])


def test_4xx_reply_is_a_temporary_failure(smtp_server):
    config = smtp_server(RecordingHandler("451 4.3.0 try later"))

    with pytest.raises(TemporaryDeliveryError) as caught:
        send_via_relay(config, auto_reply(), "bounces@example.com", ["wang@example.cn"])

    assert caught.value.smtp_code == 451
    assert "451 4.3.0 try later" in caught.value.reason


def test_5xx_reply_is_a_permanent_failure(smtp_server):
    config = smtp_server(RecordingHandler("550 5.1.1 no such user"))

    with pytest.raises(PermanentDeliveryError) as caught:
        send_via_relay(config, auto_reply(), "bounces@example.com", ["wang@example.cn"])

    assert caught.value.smtp_code == 550
    assert "550 5.1.1 no such user" in caught.value.reason


def test_all_recipients_refused_with_5xx_is_permanent(smtp_server):
    config = smtp_server(RecordingHandler())

    with pytest.raises(PermanentDeliveryError) as caught:
        send_via_relay(config, auto_reply(), "bounces@example.com", [UNKNOWN_USER])

    assert f"{UNKNOWN_USER}: 550 5.1.1 no such user" in caught.value.reason


def test_recipients_refused_with_any_4xx_is_temporary(smtp_server):
    config = smtp_server(RecordingHandler())

    with pytest.raises(TemporaryDeliveryError) as caught:
        send_via_relay(config, auto_reply(), "bounces@example.com", [UNKNOWN_USER, BUSY_USER])

    assert "452 4.2.2 mailbox full" in caught.value.reason


def test_partly_refused_recipients_are_reported_not_retried(smtp_server):
    handler = RecordingHandler()
    config = smtp_server(handler)

    refused = send_via_relay(
        config, auto_reply(), "bounces@example.com", ["wang@example.cn", UNKNOWN_USER]
    )

    assert refused == {UNKNOWN_USER: "550 5.1.1 no such user"}
    assert handler.delivered[0][1] == ["wang@example.cn"]


def test_connection_refused_is_temporary():
    config = RelayConfig(host="127.0.0.1", port=free_port(), timeout=2, helo_name="desk.local")

    with pytest.raises(TemporaryDeliveryError) as caught:
        send_via_relay(config, auto_reply(), "bounces@example.com", ["wang@example.cn"])

    assert "ConnectionRefusedError" in caught.value.reason


def test_silent_server_times_out_as_temporary():
    with socket.socket() as silent:  # accepts connections but never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        config = RelayConfig(
            host="127.0.0.1", port=silent.getsockname()[1], timeout=0.5, helo_name="desk.local"
        )

        with pytest.raises(TemporaryDeliveryError):
            send_via_relay(config, auto_reply(), "bounces@example.com", ["wang@example.cn"])


def check_login(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"s3cret"
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535


def test_login_with_relay_credentials(smtp_server):
    handler = RecordingHandler()
    config = smtp_server(handler, authenticator=check_login, auth_require_tls=False)
    good = RelayConfig(**{**vars(config), "username": "desk", "password": "s3cret"})
    bad = RelayConfig(**{**vars(config), "username": "desk", "password": "wrong"})

    send_via_relay(good, auto_reply(), "bounces@example.com", ["wang@example.cn"])
    assert len(handler.delivered) == 1

    # A wrong password is fixed in the settings, not in the message: retry later.
    with pytest.raises(TemporaryDeliveryError) as caught:
        send_via_relay(bad, auto_reply(), "bounces@example.com", ["wang@example.cn"])
    assert caught.value.smtp_code == 535
    assert len(handler.delivered) == 1


def test_relay_config_repr_hides_the_password():
    config = RelayConfig(host="smtp.example.com", username="desk", password="s3cret")
    assert "s3cret" not in repr(config)


def test_retry_delay_doubles_up_to_one_hour():
    delays = [next_retry_delay(attempts) for attempts in range(1, 10)]

    assert delays[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert delays[6] == timedelta(hours=1)  # 64 min capped
    assert all(d <= timedelta(hours=1) for d in delays)
    assert next_retry_delay(0) == timedelta(minutes=1)
    assert next_retry_delay(10_000) == timedelta(hours=1)


def _self_signed(tmp_path):
    """A certificate for 127.0.0.1 that no system CA signed, and a server context with it."""
    import ssl

    cert, key = self_signed_certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    return cert, server_context


def test_a_relay_with_its_own_certificate_is_trusted_through_the_ca_file(
    smtp_server, tmp_path, monkeypatch
):
    """A company relay with a self-signed certificate: without OUTBOUND_SMTP_CA_FILE the only
    way was SSL_CERT_FILE, which replaces the system's CAs for the whole process."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    cert, server_context = _self_signed(tmp_path)
    handler = RecordingHandler()
    config = smtp_server(handler, tls_context=server_context, require_starttls=True)
    unverified = RelayConfig(**{**vars(config), "security": "starttls"})
    trusted = RelayConfig(**{**vars(unverified), "ca_file": str(cert)})

    with pytest.raises(TemporaryDeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
        send_via_relay(unverified, auto_reply(), "bounces@example.com", ["wang@example.cn"])
    assert handler.delivered == []

    send_via_relay(trusted, auto_reply(), "bounces@example.com", ["wang@example.cn"])
    assert len(handler.delivered) == 1


def test_a_missing_ca_file_is_refused_when_the_sender_starts(tmp_path):
    from mailrouter.outbound.sender import OutboxSender

    config = {"OUTBOUND_SMTP_HOST": "relay.example.com", "OUTBOUND_SMTP_CA_FILE": "/nope.pem"}
    with pytest.raises(ValueError, match="OUTBOUND_SMTP_CA_FILE: no certificate file"):
        OutboxSender(None, config, outbox_dir=tmp_path)  # type: ignore[arg-type]
