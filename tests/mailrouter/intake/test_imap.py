"""IMAP intake against a real Dovecot: each message stored once, marked only after storage."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from imapclient import SEEN
from sqlalchemy import select

from mailrouter.intake.imap import ImapMailbox, ImapPoller, ImapPollerService
from mailrouter.models import ImapCursor, InboundMail
from support.app import create_app
from support.cli import cli
from support.core.db import Database
from support.core.logs import apply_log_levels
from tests import conftest
from tests.mailrouter.conftest import free_port, make_mail, wait_until

PROJECT_ROOT = Path(__file__).resolve().parents[3]


def _append(dovecot, folder: str, *raws: bytes, seen: bool = False) -> None:
    with dovecot.client() as client:
        for raw in raws:
            client.append(folder, raw, flags=[SEEN] if seen else [])


def _flags(dovecot, folder: str) -> dict[int, tuple]:
    with dovecot.client() as client:
        client.select_folder(folder, readonly=True)
        uids = client.search(["ALL"])
        if not uids:
            return {}
        return {uid: data[b"FLAGS"] for uid, data in client.fetch(uids, ["FLAGS"]).items()}


def _poller(db, dovecot, folder: str, **extra) -> ImapPoller:
    return ImapPoller(db, ImapMailbox.from_dict(dovecot.mailbox(folder, **extra)), poll_seconds=1)


def _stored(session) -> list[InboundMail]:
    rows = list(session.scalars(select(InboundMail).order_by(InboundMail.id)))
    session.commit()
    return rows


def test_each_message_is_fetched_once_across_restarts(db, session, dovecot, folder) -> None:
    _append(dovecot, folder, make_mail(subject="one"), make_mail(subject="two"))
    assert _poller(db, dovecot, folder, department="sales").poll() == 2

    # A restart is a new poller: the cursor in the database says where it stopped.
    assert _poller(db, dovecot, folder, department="sales").poll() == 0
    _append(dovecot, folder, make_mail(subject="three"))
    assert _poller(db, dovecot, folder, department="sales").poll() == 1

    rows = _stored(session)
    assert [r.channel for r in rows] == ["imap"] * 3
    assert {r.department_code for r in rows} == {"sales"}
    assert len({r.source_key for r in rows}) == 3
    assert all(b"Subject:" in r.raw for r in rows)
    assert all(SEEN in flags for flags in _flags(dovecot, folder).values())


def test_seen_is_set_only_after_the_message_is_stored(app, session, dovecot, folder) -> None:
    _append(dovecot, folder, make_mail(subject="keep me"))
    dead = Database("postgresql+psycopg://nobody@127.0.0.1:1/nothing?connect_timeout=2")
    try:
        with pytest.raises(Exception):  # noqa: B017 - any database error will do
            _poller(dead, dovecot, folder).poll()
    finally:
        dead.dispose()
    assert all(SEEN not in flags for flags in _flags(dovecot, folder).values())

    assert _poller(app.extensions["support_db"], dovecot, folder).poll() == 1
    assert all(SEEN in flags for flags in _flags(dovecot, folder).values())
    assert len(_stored(session)) == 1


def test_first_contact_reads_unseen_mail_only(db, session, dovecot, folder) -> None:
    _append(dovecot, folder, make_mail(subject="read long ago"), seen=True)
    _append(dovecot, folder, make_mail(subject="new"))
    assert _poller(db, dovecot, folder).poll() == 1
    [row] = _stored(session)
    assert b"Subject: new" in row.raw


def test_uidvalidity_change_rereads_without_duplicates(db, session, dovecot, folder) -> None:
    old = make_mail(subject="already stored")
    _append(dovecot, folder, old)
    poller = _poller(db, dovecot, folder)
    assert poller.poll() == 1
    cursor = session.scalar(select(ImapCursor))
    old_validity = cursor.uidvalidity
    session.commit()

    # The server rebuilds the mailbox: same folder name, new UIDVALIDITY, UIDs start over.
    with dovecot.client() as client:
        client.delete_folder(folder)
        client.create_folder(folder)
    _append(dovecot, folder, old, make_mail(subject="arrived after the rebuild"))

    assert poller.poll() == 1
    rows = _stored(session)
    assert len(rows) == 2
    assert b"arrived after the rebuild" in rows[1].raw
    session.expire_all()
    cursor = session.scalar(select(ImapCursor))
    assert cursor.uidvalidity != old_validity
    session.commit()


def test_move_to_folder_after_storage(db, session, dovecot, folder) -> None:
    _append(dovecot, folder, make_mail(subject="move me"))
    assert _poller(db, dovecot, folder, move_to=f"{folder}-done").poll() == 1
    assert _flags(dovecot, folder) == {}
    assert len(_flags(dovecot, f"{folder}-done")) == 1
    assert len(_stored(session)) == 1


@pytest.fixture
def app_settings(request) -> dict:
    dovecot = request.getfixturevalue("dovecot")
    folder = request.getfixturevalue("folder")
    return {"MAIL_IMAP_MAILBOXES": [dovecot.mailbox(folder)], "MAIL_IMAP_POLL_SECONDS": 60}


def test_service_picks_up_new_mail_at_once_with_idle(app, session, dovecot, folder, caplog) -> None:
    service = ImapPollerService(app)
    with caplog.at_level(logging.INFO, logger="mailrouter.intake.imap"):
        service.start()
        try:
            wait_until("IMAP connection", lambda: "connected (IDLE)" in caplog.text)
            _append(dovecot, folder, make_mail(subject="pushed"))
            # Before the 60 s IDLE renewal (a poll): IDLE delivered it. 50 s, not 30: the wait
            # is as long as a loaded machine needs, and still tells IDLE from the poll.
            wait_until("pushed mail", lambda: _stored(session), seconds=50)
        finally:
            service.stop()
    [row] = _stored(session)
    assert b"pushed" in row.raw


def test_mail_that_comes_in_during_a_pass_is_read_at_once(db, session, dovecot, folder) -> None:
    """The server announces such mail in its answer to one of the pass's commands, and IDLE
    does not announce it again: it waited for the IDLE renewal (a minute)."""
    came_in = threading.Event()

    class MailComesInWhileStoring(ImapPoller):
        def _store(self, *args, **kwargs) -> bool:
            if not came_in.is_set():
                came_in.set()
                _append(dovecot, folder, make_mail(subject="during the pass"))
            return super()._store(*args, **kwargs)

    _append(dovecot, folder, make_mail(subject="before"))
    mailbox = ImapMailbox.from_dict(dovecot.mailbox(folder))
    poller = MailComesInWhileStoring(db, mailbox, poll_seconds=60)
    stop = threading.Event()
    thread = threading.Thread(target=poller.run, args=(stop,))
    thread.start()
    try:
        wait_until("mail that came in during the pass", lambda: len(_stored(session)) == 2)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert [b"before" in r.raw for r in _stored(session)] == [True, False]


def test_mail_announced_in_the_answer_to_the_last_search_is_not_left_to_idle(
    db, dovecot, folder
) -> None:
    """Mail delivered just before the pass's last SEARCH: the server searches the mailbox as it
    was and announces the new message (EXISTS) in the same answer; IDLE does not announce it
    again, so without looking at that answer it waited for the IDLE renewal (a minute)."""
    poller = _poller(db, dovecot, folder)
    with poller.connect() as client:
        assert poller.poll_once(client) == 0
        _append(dovecot, folder, make_mail(subject="just before the search"))
        assert poller._more_arrived(client)
        assert poller.poll_once(client) == 1
        assert not poller._more_arrived(client)


def _reconnect_waits(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "reconnecting in" in r.getMessage()]


def test_unreachable_server_is_retried_with_backoff(db, caplog) -> None:
    mailbox = ImapMailbox.from_dict(
        {
            "host": "127.0.0.1",
            "port": free_port(),
            "ssl": False,
            "username": "u",
            "password": "s3cr3t-pw",
        }
    )
    poller = ImapPoller(db, mailbox, poll_seconds=1)
    stop = threading.Event()
    thread = threading.Thread(target=poller.run, args=(stop,))
    with caplog.at_level(logging.WARNING, logger="mailrouter.intake.imap"):
        thread.start()
        # Stopped during the second wait (2 s), so no third attempt comes.
        wait_until("second reconnection", lambda: len(_reconnect_waits(caplog)) >= 2)
        stop.set()
        thread.join(timeout=60)
    first, second = _reconnect_waits(caplog)  # after 1 s, then 2 s: the back-off grows
    assert "ConnectionRefusedError" in first.getMessage()
    assert "reconnecting in 1s" in first.getMessage()
    assert "reconnecting in 2s" in second.getMessage()
    assert second.created - first.created >= 1  # it waited the second it said
    assert not any("s3cr3t-pw" in r.getMessage() for r in caplog.records)


def test_mailbox_entry_is_validated() -> None:
    with pytest.raises(ValueError, match="password"):
        ImapMailbox.from_dict({"host": "imap.example.com", "username": "u"})
    with pytest.raises(ValueError, match="unknown keys: foldr"):
        ImapMailbox.from_dict({"host": "h", "username": "u", "password": "p", "foldr": "x"})
    mailbox = ImapMailbox.from_dict({"host": "h", "username": "u", "password": "secret"})
    assert (mailbox.port, mailbox.ssl, mailbox.folder) == (993, True, "INBOX")
    assert "secret" not in repr(mailbox)


def _imap_poll_once(app) -> str:
    """`support imap-poll --once` in a process of its own settings (a cron job, say)."""
    env = {
        "SUPPORT_DATABASE_URL": app.config["DATABASE_URL"],
        "SUPPORT_SECRET_KEY": app.config["SECRET_KEY"],
        "SUPPORT_MAIL_IMAP_MAILBOXES": json.dumps(app.config["MAIL_IMAP_MAILBOXES"]),
    }
    result = CliRunner().invoke(
        cli, ["--instance", app.instance_path, "imap-poll", "--once"], env=env
    )
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.usefixtures("model_in_instance")
def test_imap_poll_once_leaves_a_mailbox_another_process_reads(
    app, db, session, dovecot, folder
) -> None:
    """The long-running poller holds the mailbox's lease: `--once` read it all the same, so
    both downloaded each message and, with move_to, both copied it into the folder."""
    _append(dovecot, folder, make_mail(subject="while the service reads"))
    [entry] = app.config["MAIL_IMAP_MAILBOXES"]
    # A lease that outlasts a loaded machine's `--once` start (CI once took over 40 s here).
    running = ImapPoller(db, ImapMailbox.from_dict(entry), poll_seconds=5, lease_seconds=600)
    assert running._hold_lease()  # as `support run` holds it between its passes
    output = _imap_poll_once(app)
    assert "another process reads this mailbox" in output
    assert _stored(session) == []
    assert all(SEEN not in flags for flags in _flags(dovecot, folder).values())

    running._lease.release()  # that process stopped: `--once` reads now
    assert "1 new message(s)" in _imap_poll_once(app)
    assert len(_stored(session)) == 1


@pytest.mark.parametrize(("protocol_level", "logged"), [("", False), ("DEBUG", True)])
def test_debug_logging_keeps_the_imap_conversation_out_unless_asked(
    app, database_url, tmp_path, dovecot, folder, caplog, protocol_level, logged
) -> None:
    """LOG_LEVEL=DEBUG (debugging our code) let imapclient log every line it read: whole
    customers' messages. Only LOG_MAIL_PROTOCOL_LEVEL asks for them."""
    instance = tmp_path / "debug"
    settings = {**conftest.test_settings(database_url, instance), "LOG_LEVEL": "DEBUG"}
    settings["LOG_MAIL_PROTOCOL_LEVEL"] = protocol_level
    debug_app = create_app(settings, instance_path=instance)
    try:
        _append(dovecot, folder, make_mail(subject="private", body="my card ends 4242 ZQX"))
        with caplog.at_level(logging.DEBUG):
            assert _poller(debug_app.extensions["support_db"], dovecot, folder).poll() == 1
    finally:
        apply_log_levels({"LOG_LEVEL": "INFO"})
        # Its own engine: closed here, not by the garbage collector in a later test (where
        # PostgreSQL's open connection turned into a ResourceWarning error).
        debug_app.extensions["support_db"].dispose()
    assert "stored UID 1" in caplog.text  # our own lines are there
    assert ("4242 ZQX" in caplog.text) is logged


def test_a_stop_ends_the_pass_after_the_message_in_hand(db, session, dovecot, folder) -> None:
    """SIGTERM during a long pass (a first contact with thousands of messages) waited for the
    whole pass; now the pass ends after the message in hand, and the next poller, here or on
    another host, goes on from the cursor: each message stored once."""
    stop = threading.Event()

    class StoppedWhileStoring(ImapPoller):
        def _store(self, *args, **kwargs) -> bool:
            stored = super()._store(*args, **kwargs)
            stop.set()  # as SIGTERM would, while the first message is in hand
            return stored

    _append(dovecot, folder, make_mail(subject="before"))
    poller = _poller(db, dovecot, folder)
    assert poller.poll() == 1  # known mailbox: the cursor moves with each message
    _append(dovecot, folder, *(make_mail(subject=f"pass {n}") for n in range(3)))
    mailbox = ImapMailbox.from_dict(dovecot.mailbox(folder))
    stopped = StoppedWhileStoring(db, mailbox, poll_seconds=60)
    thread = threading.Thread(target=stopped.run, args=(stop,))
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert len(_stored(session)) == 2  # "before" and the message in hand, no more
    assert _poller(db, dovecot, folder).poll() == 2
    rows = _stored(session)
    assert len(rows) == len({r.source_key for r in rows}) == 4
    assert all(SEEN in flags for flags in _flags(dovecot, folder).values())


@pytest.mark.usefixtures("model_in_instance")
def test_sigterm_ends_imap_poll_within_seconds(app, dovecot, folder, tmp_path) -> None:
    """`support imap-poll` as systemd runs it: SIGTERM while it idles, exit 0 within seconds."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SUPPORT_")},
        "SUPPORT_DATABASE_URL": app.config["DATABASE_URL"],
        "SUPPORT_SECRET_KEY": app.config["SECRET_KEY"],
        "SUPPORT_MAIL_IMAP_MAILBOXES": json.dumps(app.config["MAIL_IMAP_MAILBOXES"]),
        "SUPPORT_CLASSIFIER_MODEL_PATH": app.config["CLASSIFIER_MODEL_PATH"],
        "SUPPORT_FAQ_INDEX_DIR": app.config["FAQ_INDEX_DIR"],
        "SUPPORT_FAQ_SEMANTIC_MODEL": "",
    }
    log_path = tmp_path / "imap-poll.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "support", "--instance", app.instance_path, "imap-poll"],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(
            "the poller's IDLE", lambda: "connected (IDLE)" in log_path.read_text(), seconds=180
        )
        sent = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=60)
        print(f"imap-poll exited {time.monotonic() - sent:.1f} s after SIGTERM")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert code == 0, log_path.read_text()[-3000:]
