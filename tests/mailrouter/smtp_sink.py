"""A real SMTP server on loopback (aiosmtpd) standing in for the outgoing relay."""

from __future__ import annotations

import email
import socket
import threading
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

#: The relay answers RCPT for this address with 550 (no such user).
UNKNOWN_RECIPIENT = "nobody@unknown.example.net"


@dataclass
class Delivery:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]


@dataclass
class SinkHandler:
    """Accepts mail, except for the DATA replies queued in ``data_replies`` (used in order)."""

    delivered: list[Delivery] = field(default_factory=list)
    data_replies: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == UNKNOWN_RECIPIENT:
            return "550 5.1.1 <nobody@unknown.example.net>: user unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.data_replies:
                reply = self.data_replies.pop(0)
                if not reply.startswith("250"):
                    return reply
            self.delivered.append(
                Delivery(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
            )
        return "250 2.0.0 queued"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sink:
    def __init__(self, *, smtputf8: bool = False) -> None:
        self.handler = SinkHandler()
        self.controller = Controller(
            self.handler,
            hostname="127.0.0.1",
            port=free_port(),
            ready_timeout=30,
            enable_SMTPUTF8=smtputf8,
        )

    @property
    def port(self) -> int:
        return self.controller.port

    @property
    def delivered(self) -> list[Delivery]:
        return self.handler.delivered

    def settings(self) -> dict:
        return {"OUTBOUND_SMTP_HOST": "127.0.0.1", "OUTBOUND_SMTP_PORT": self.port}

    def start(self) -> Sink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
