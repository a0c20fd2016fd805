"""IMAP intake when things go wrong, against a real Dovecot: a dropped connection, a process
killed between storing and marking, a server that cannot give a message, a message over the
size limit, a refused sign-in, and two pollers (two hosts) reading one mailbox."""

from __future__ import annotations

import logging
import subprocess
import threading
import time

import pytest
from imapclient import SEEN, IMAPClient
from sqlalchemy import func, select

from mailrouter.intake.imap import ImapMailbox, ImapPoller
from mailrouter.models import InboundMail
from support.desk.models import Ticket
from tests.mailrouter.conftest import make_mail, process_all
from tests.mailrouter.intake.test_imap import _append, _flags, _poller, _stored


class Killed(Exception):
    """Stands for the process dying at this point: nothing after it runs."""


def _kick(dovecot) -> None:
    """The server drops every connection of the account (a real disconnect, not a mock)."""
    subprocess.run(
        ["doveadm", "-c", str(dovecot.base / "dovecot.conf"), "kick", dovecot.user],
        check=True,
        capture_output=True,
    )


def _dies_after_first_store(poller: ImapPoller) -> ImapPoller:
    """The first message is committed, then the process dies before marking it."""
    real_store = poller._store

    def store(*args, **kwargs):
        real_store(*args, **kwargs)
        raise Killed  # BODY.PEEK set no flag, so a clean logout after it changes nothing

    poller._store = store  # type: ignore[method-assign]
    return poller


def _subjects(session) -> list[str]:
    return sorted(
        line.split(b":", 1)[1].strip().decode()
        for row in _stored(session)
        for line in row.raw.splitlines()
        if line.startswith(b"Subject:")
    )


def test_death_during_first_contact_does_not_import_mail_read_long_ago(
    db, session, dovecot, folder
) -> None:
    _append(dovecot, folder, make_mail(subject="read before"), seen=True)
    _append(dovecot, folder, make_mail(subject="new one"))
    _append(dovecot, folder, make_mail(subject="read after"), seen=True)
    with pytest.raises(Killed):
        _dies_after_first_store(_poller(db, dovecot, folder)).poll()

    assert _poller(db, dovecot, folder).poll() == 0  # stored already; now marked
    assert _subjects(session) == ["new one"]  # was: "read after" became a ticket too
    assert all(SEEN in flags for flags in _flags(dovecot, folder).values())


@pytest.mark.parametrize("move", [False, True])
def test_death_between_storing_and_marking_is_finished_at_restart(
    db, session, dovecot, folder, move
) -> None:
    extra = {"move_to": f"{folder}-done"} if move else {}
    assert _poller(db, dovecot, folder, **extra).poll() == 0  # first contact: nothing yet
    _append(dovecot, folder, make_mail(subject="first"), make_mail(subject="second"))
    with pytest.raises(Killed):
        _dies_after_first_store(_poller(db, dovecot, folder, **extra)).poll()

    assert _poller(db, dovecot, folder, **extra).poll() == 1
    assert _subjects(session) == ["first", "second"]
    if move:
        assert _flags(dovecot, folder) == {}  # was: "first" stayed in the folder for ever
        assert len(_flags(dovecot, f"{folder}-done")) == 2
    else:
        assert all(SEEN in flags for flags in _flags(dovecot, folder).values())


def test_connection_dropped_mid_pass_loses_and_repeats_nothing(
    db, session, dovecot, folder
) -> None:
    assert _poller(db, dovecot, folder).poll() == 0
    _append(dovecot, folder, *(make_mail(subject=f"mail {n}") for n in range(4)))
    poller = _poller(db, dovecot, folder)
    real_store = poller._store
    calls = []

    def store(*args, **kwargs):
        result = real_store(*args, **kwargs)
        calls.append(1)
        if len(calls) == 2:
            _kick(dovecot)  # the server hangs up before we mark the second one
            time.sleep(0.5)  # doveadm only asks: let the server really close the line
        return result

    poller._store = store  # type: ignore[method-assign]
    with pytest.raises(Exception):  # noqa: B017 - whatever imaplib raises on a dropped line
        poller.poll()

    assert len(_stored(session)) == 2
    assert _poller(db, dovecot, folder).poll() == 2
    assert _subjects(session) == [f"mail {n}" for n in range(4)]
    assert all(SEEN in flags for flags in _flags(dovecot, folder).values())


class _Flaky(ImapPoller):
    """The server answers FETCH without the body of the UIDs in ``withheld``."""

    withheld: set[int]

    def connect(self) -> IMAPClient:
        client = super().connect()
        real_fetch = client.fetch

        def fetch(messages, data, modifiers=None):
            response = real_fetch(messages, data, modifiers)
            if any(b"BODY" in (item.encode() if isinstance(item, str) else item) for item in data):
                for uid in self.withheld:
                    response.pop(uid, None)
            return response

        client.fetch = fetch  # type: ignore[method-assign]
        return client


def _first_withheld(db, dovecot, folder: str, *subjects: str) -> tuple[_Flaky, list[int]]:
    """Messages after the cursor, the first of which the server will not give."""
    assert _poller(db, dovecot, folder).poll() == 0
    _append(dovecot, folder, *(make_mail(subject=subject) for subject in subjects))
    uids = sorted(_flags(dovecot, folder))
    poller = _Flaky(db, ImapMailbox.from_dict(dovecot.mailbox(folder)), poll_seconds=1)
    poller.withheld = {uids[0]}
    return poller, uids


def test_message_the_server_does_not_give_is_tried_again_not_skipped(
    db, session, dovecot, folder, caplog
) -> None:
    poller, _uids = _first_withheld(db, dovecot, folder, "stubborn", "after it")
    with caplog.at_level(logging.WARNING, logger="mailrouter.intake.imap"):
        with pytest.raises(Exception, match="gave no content"):
            poller.poll()
    assert _stored(session) == []  # nothing after it either: the cursor stays before it

    poller.withheld = set()  # the server recovered
    assert poller.poll() == 2  # was: "vanished", the cursor moved on, the mail never came in
    assert _subjects(session) == ["after it", "stubborn"]


def test_message_the_server_never_gives_is_left_unread_after_a_few_tries(
    db, session, dovecot, folder, caplog
) -> None:
    poller, uids = _first_withheld(db, dovecot, folder, "broken", "fine")
    with caplog.at_level(logging.WARNING, logger="mailrouter.intake.imap"):
        for _ in range(2):
            with pytest.raises(Exception, match="gave no content"):
                poller.poll()
        assert poller.poll() == 1  # the mailbox is not blocked for ever
    assert _subjects(session) == ["fine"]
    flags = _flags(dovecot, folder)
    assert SEEN not in flags[uids[0]]  # left for a person to read in the mailbox
    assert any(
        r.levelno == logging.ERROR and f"UID {uids[0]}" in r.getMessage() for r in caplog.records
    )


def test_message_over_the_size_limit_is_not_downloaded(
    db, session, dovecot, folder, caplog
) -> None:
    big = make_mail(subject="huge", body="x" * 200 + "\n" + ("y" * 70 + "\n") * 3000)
    _append(dovecot, folder, big, make_mail(subject="small"))
    uids = sorted(_flags(dovecot, folder))
    poller = ImapPoller(
        db, ImapMailbox.from_dict(dovecot.mailbox(folder)), poll_seconds=1, max_message_bytes=50_000
    )
    fetched: list[int] = []
    real_connect = poller.connect

    def connect() -> IMAPClient:
        client = real_connect()
        real_fetch = client.fetch

        def fetch(messages, data, modifiers=None):
            if any("BODY" in str(item) for item in data):
                fetched.extend(messages)
            return real_fetch(messages, data, modifiers)

        client.fetch = fetch  # type: ignore[method-assign]
        return client

    poller.connect = connect  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING, logger="mailrouter.intake.imap"):
        assert poller.poll() == 1
    assert uids[0] not in fetched  # was: read into memory whole, then stored "anyway"
    assert _subjects(session) == ["small"]
    assert SEEN not in _flags(dovecot, folder)[uids[0]]  # still there for a person
    [error] = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert f"UID {uids[0]}" in error and "MAIL_MAX_MESSAGE_BYTES" in error
    assert poller.poll() == 0  # and not reported again at every pass


@pytest.mark.parametrize("failure", ["password", "tls"])
def test_refused_sign_in_waits_long_and_says_why(db, dovecot, caplog, failure) -> None:
    entry = dovecot.mailbox("INBOX")
    if failure == "password":
        entry["password"] = "wrong-Pa55word"
    else:
        entry["ssl"] = True  # the server speaks plain IMAP on this port
    poller = ImapPoller(db, ImapMailbox.from_dict(entry), poll_seconds=1)
    stop = threading.Event()
    thread = threading.Thread(target=poller.run, args=(stop,))
    with caplog.at_level(logging.WARNING, logger="mailrouter.intake.imap"):
        thread.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(
            "reconnecting" in r.getMessage() for r in caplog.records
        ):
            time.sleep(0.05)
        stop.set()
        thread.join(timeout=60)
    [line] = [r.getMessage() for r in caplog.records if "reconnecting" in r.getMessage()]
    assert "reconnecting in 60s" in line  # was 1 s, then 2, 4...: a lockout on the server
    assert ("user name or password" if failure == "password" else "TLS") in line
    assert dovecot.user in line  # which mailbox: the key names the account
    assert "wrong-Pa55word" not in caplog.text and dovecot.password not in caplog.text


def _wait_until(condition, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not condition():
        time.sleep(0.1)


def test_two_pollers_on_one_mailbox_make_each_message_one_ticket(
    app, db, session, dovecot, folder
) -> None:
    """Two hosts running `support run` with the same mailbox: one reads, the other stands by
    and takes over when the first stops."""
    count = 12
    done = f"{folder}-done"
    with dovecot.client() as client:
        client.create_folder(done)
    entry = ImapMailbox.from_dict(dovecot.mailbox(folder, move_to=done))
    pollers = [ImapPoller(db, entry, poll_seconds=1, lease_seconds=3) for _ in range(2)]
    stops = [threading.Event(), threading.Event()]
    threads = [
        threading.Thread(target=p.run, args=(s,)) for p, s in zip(pollers, stops, strict=True)
    ]
    for thread in threads:
        thread.start()
    try:
        _append(dovecot, folder, *(make_mail(subject=f"question {n}") for n in range(count)))
        _wait_until(lambda: len(_flags(dovecot, done)) >= count)
        [reader] = [n for n, p in enumerate(pollers) if p._lease_held]
        stops[reader].set()  # that host stops (its lease is released)
        threads[reader].join(timeout=60)
        _append(dovecot, folder, *(make_mail(subject=f"later {n}") for n in range(count)))
        _wait_until(lambda: len(_flags(dovecot, done)) >= 2 * count)
    finally:
        for stop in stops:
            stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert _flags(dovecot, folder) == {}
    assert len(_flags(dovecot, done)) == 2 * count  # was up to 35: both copied some messages
    assert session.scalar(select(func.count()).select_from(InboundMail)) == 2 * count
    session.commit()
    process_all(app)
    assert session.scalar(select(func.count()).select_from(Ticket)) == 2 * count


def test_a_server_that_refuses_the_move_does_not_hold_up_intake(
    db, session, dovecot, folder, caplog
) -> None:
    """A move_to the server will not create (here: Dovecot's separator is ".", not "/"),
    a full quota, a read-only folder: the mail is stored all the same, and the move is tried
    again at the next connection. It stopped the pass after each message, and the back-off
    grew to five minutes a message."""
    poller = _poller(db, dovecot, folder, move_to="Archive/support")
    assert poller.poll() == 0
    _append(dovecot, folder, *(make_mail(subject=f"mail {n}") for n in range(3)))
    with caplog.at_level(logging.WARNING, logger="mailrouter.intake.imap"):
        assert _poller(db, dovecot, folder, move_to="Archive/support").poll() == 3
    assert _subjects(session) == ["mail 0", "mail 1", "mail 2"]
    assert len(_flags(dovecot, folder)) == 3  # still there, for the next try
    assert any("could not" in r.getMessage() for r in caplog.records)


def _login_lines(server) -> list[str]:
    log_file = server.base / "dovecot.log"
    return [line for line in log_file.read_text().splitlines() if "Login: user=" in line]


def test_a_server_offering_starttls_gets_the_password_only_inside_tls(
    db, session, dovecot_starttls, monkeypatch
) -> None:
    """``ssl: false`` on port 143 is how mail programs reach STARTTLS servers; the poller
    sent LOGIN with the password in clear text even when the server offered STARTTLS."""
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot_starttls.base / "cert.pem"))  # trusted
    earlier = len(_login_lines(dovecot_starttls))  # the server is the session's
    _append(dovecot_starttls, "INBOX", make_mail(subject="over TLS"))
    mailbox = ImapMailbox.from_dict(dovecot_starttls.mailbox("INBOX"))
    assert ImapPoller(db, mailbox, poll_seconds=1).poll() == 1
    # Two logins: the test's own client (clear text on loopback: ", secured,") and the
    # poller's. Dovecot's log process may write them in either order, and a moment late.
    deadline = time.monotonic() + 60
    lines = _login_lines(dovecot_starttls)[earlier:]
    while len(lines) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
        lines = _login_lines(dovecot_starttls)[earlier:]
    assert len(lines) == 2, lines
    assert [", TLS," in line for line in lines].count(True) == 1, lines  # was ", secured," both


def test_a_starttls_certificate_that_does_not_verify_gets_no_password(
    db, dovecot_starttls, caplog
) -> None:
    before = len(_login_lines(dovecot_starttls))
    mailbox = ImapMailbox.from_dict(dovecot_starttls.mailbox("INBOX"))
    poller = ImapPoller(db, mailbox, poll_seconds=1)
    stop = threading.Event()
    thread = threading.Thread(target=poller.run, args=(stop,))
    with caplog.at_level(logging.WARNING, logger="mailrouter.intake.imap"):
        thread.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "reconnecting" not in caplog.text:
            time.sleep(0.05)
        stop.set()
        thread.join(timeout=60)
    assert "TLS failed" in caplog.text and "reconnecting in 60s" in caplog.text
    assert "ca_file" in caplog.text  # says how to trust a certificate of ours
    assert len(_login_lines(dovecot_starttls)) == before  # no sign-in at all


def test_a_servers_own_certificate_is_trusted_through_ca_file(
    db, session, dovecot_starttls, monkeypatch
) -> None:
    """A self-signed company IMAP server: the mailbox's ``ca_file`` trusts its certificate
    without SSL_CERT_FILE (which would replace the system's CAs for the whole process)."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    _append(dovecot_starttls, "INBOX", make_mail(subject="own certificate"))
    entry = dovecot_starttls.mailbox("INBOX", ca_file=str(dovecot_starttls.base / "cert.pem"))
    assert ImapPoller(db, ImapMailbox.from_dict(entry), poll_seconds=1).poll() == 1
    assert ", TLS," in _login_lines(dovecot_starttls)[-1]


def test_a_missing_ca_file_is_refused_at_start(dovecot) -> None:
    entry = dovecot.mailbox("INBOX", ca_file="/nowhere/cert.pem")
    with pytest.raises(ValueError, match="no certificate file"):
        ImapMailbox.from_dict(entry)
