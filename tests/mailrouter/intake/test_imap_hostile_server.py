"""An IMAP server that lies: it says a message has 2 kB, then answers the FETCH with a literal
of 3 GB. imaplib reads an announced literal whole into memory; the poller refuses one over
MAIL_MAX_MESSAGE_BYTES before reading it. (Dovecot tells the truth, so a scripted server.)"""

from __future__ import annotations

import socket
import threading

import pytest
from imapclient.exceptions import IMAPClientAbortError

from mailrouter.intake.imap import ImapMailbox, ImapPoller

ANNOUNCED = 3 * 1024**3
#: The most the scripted server sends before it gives up (the client read it all before).
MOST_SENT = 16 * 1024 * 1024


class LyingServer(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sent = 0

    def run(self) -> None:
        with self.listener:
            connection, _ = self.listener.accept()
        with connection, connection.makefile("rb") as lines:
            connection.sendall(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] lying server\r\n")
            for line in lines:
                tag, _, rest = line.decode("ascii", "replace").partition(" ")
                command = rest.split(" ", 1)[0].upper().strip()
                if command == "CAPABILITY":
                    connection.sendall(b"* CAPABILITY IMAP4rev1\r\n%s OK done\r\n" % tag.encode())
                elif command == "SELECT":
                    connection.sendall(
                        b"* 1 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n%s OK [READ-WRITE] ok\r\n"
                        % tag.encode()
                    )
                elif command in ("UID", "FETCH"):
                    self._stream(connection)
                    return
                else:  # LOGIN, LOGOUT, anything else
                    connection.sendall(b"%s OK done\r\n" % tag.encode())

    def _stream(self, connection: socket.socket) -> None:
        connection.sendall(b"* 1 FETCH (UID 1 BODY[] {%d}\r\n" % ANNOUNCED)
        chunk = b"x" * 65536
        try:
            while self.sent < MOST_SENT:
                connection.sendall(chunk)
                self.sent += len(chunk)
        except OSError:
            pass  # the client hung up


def test_a_literal_larger_than_the_limit_is_refused_before_it_is_read(db) -> None:
    server = LyingServer()
    server.start()
    mailbox = ImapMailbox.from_dict(
        {"host": "127.0.0.1", "port": server.port, "ssl": False, "username": "u", "password": "p"}
    )
    poller = ImapPoller(db, mailbox, poll_seconds=1, max_message_bytes=1_000_000)
    client = poller.connect()
    client.select_folder("INBOX")
    with pytest.raises(IMAPClientAbortError, match="announced a literal of 3221225472 bytes"):
        client.fetch([1], ["BODY.PEEK[]"])
    client.shutdown()
    server.join(timeout=60)
    assert server.sent < MOST_SENT  # it stopped reading: the rest never reached memory
