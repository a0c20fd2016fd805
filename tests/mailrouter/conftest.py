"""Mail intake fixtures: a real Dovecot on loopback, and helpers to write and process mail."""

from __future__ import annotations

import fcntl
import itertools
import os
import pwd
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from mailrouter.intake import queue
from mailrouter.models import InboundMail
from mailrouter.routing.classifier import save_bundle, train
from mailrouter.routing.labels import load_bootstrap_examples
from support.core.db import utcnow
from support.desk.models import OutboundMail, Ticket
from tests.conftest import run_folder

IMAP_USER = "support@example.com"
IMAP_PASSWORD = "imap-test-secret"


#: From this many addresses on, make_mail folds a To or Cc itself.
MANY_ADDRESSES = 100


def make_mail(
    *,
    sender: str = "Wang Fang <wang.fang@example.net>",
    to: str = "support@example.com",
    cc: str | None = None,
    subject: str = "订单 LH20261102 还没发货",
    body: str = "你好，我的订单还没有发货，请问什么时候能发？\n\n谢谢\n王芳\n",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: dict[str, str] | None = None,
    attachment: tuple[str, str, bytes] | None = None,
) -> bytes:
    """A real RFC 5322 message with CRLF line ends, as a mail program would send it.

    A To or Cc of hundreds of plain addresses is folded here, one address a line: the email
    package's own folding of such a header is quadratic (30 s of CPU for 20,000 addresses,
    against 0.5 s for parsing the message)."""
    message = EmailMessage()
    message["From"] = sender
    folded: dict[bytes, bytes] = {}
    for name, value in (("To", to), ("Cc", cc)):
        if value and value.count(",") >= MANY_ADDRESSES and value.isascii() and '"' not in value:
            placeholder = f"{name.lower()}-placeholder@make-mail.invalid"
            lines = ",\r\n ".join(part.strip() for part in value.split(","))
            folded[f"{name}: {placeholder}\r\n".encode()] = f"{name}: {lines}\r\n".encode()
            value = placeholder
        if value or name == "To":  # To as given, even empty
            message[name] = value
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = message_id or make_msgid(domain="mail.example.net")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if attachment:
        filename, content_type, data = attachment
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    raw = message.as_bytes(policy=policy.SMTP)  # CRLF line ends, as on the wire
    for placeholder, header in folded.items():
        assert raw.count(placeholder) == 1
        raw = raw.replace(placeholder, header)
    return raw


def send_over_smtp(app: Flask, session: Any, intake: Any, envelope_from: str, raw: bytes) -> None:
    """Send one mail to service@ through the app's real SMTP intake and process it."""
    session.commit()  # the test's session must not hold SQLite's lock while the intake writes
    with smtplib.SMTP(intake.host, intake.port, timeout=60) as smtp:
        smtp.sendmail(envelope_from, ["service@example.com"], raw)
    assert process_all(app) == 1
    session.expire_all()


def mail_queued_since(session: Any, after: int) -> list[tuple[list[str], str, str]]:
    """(recipients, subject, plain text) of each mail queued after outbox id ``after``."""
    rows = session.scalars(select(OutboundMail).where(OutboundMail.id > after)).all()
    session.commit()
    found = []
    for row in rows:
        message = message_from_bytes(row.raw, policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        found.append(([r.lower() for r in row.recipients], str(message["Subject"]), text))
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_all(app: Flask) -> int:
    """Run one worker until the queue is empty (retries at once, no back-off)."""
    from mailrouter.intake.worker import Worker

    return Worker(app, retry_base_seconds=0).run_until_idle()


def queue_and_process(
    app: Flask,
    session: Any,
    raw: bytes,
    *,
    to: Sequence[str] = ("service@example.com",),
    department_code: str | None = "service",
) -> Ticket:
    """Store one mail as the SMTP intake does (for ``to``, at that department's address),
    process the queue, and return the ticket the mail opened or joined."""
    inbound_id = queue.store_inbound(
        session, channel="smtp", raw=raw, envelope_to=list(to), department_code=department_code
    ).id
    session.commit()
    process_all(app)
    session.expire_all()
    ticket_id = session.get(InboundMail, inbound_id).ticket_id
    assert ticket_id is not None, "the mail is on no ticket"
    ticket = session.get(Ticket, ticket_id)
    assert ticket is not None
    session.commit()
    return ticket


@dataclass(frozen=True)
class Dovecot:
    host: str
    port: int
    user: str
    password: str
    base: Path

    def mailbox(self, folder: str, **extra: object) -> dict:
        """A MAIL_IMAP_MAILBOXES entry for a folder of the test account."""
        return {
            "host": self.host,
            "port": self.port,
            "ssl": False,
            "username": self.user,
            "password": self.password,
            "folder": folder,
            **extra,
        }

    def client(self):
        from imapclient import IMAPClient

        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=60)
        client.login(self.user, self.password)
        return client


_DOVECOT_CONF = """\
protocols = imap
listen = 127.0.0.1
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{base}/mail/%u
# Mail landing as an IDLE begins was announced only at Dovecot's periodic check (30 s by
# default; its inotify watch came too late): a test waiting 30 s for it failed on CI.
mailbox_idle_check_interval = 1 secs
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/users
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={base}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def wait_until(what: str, condition: Callable[[], object], seconds: float = 90) -> None:
    """Wait for `condition` (a thread or process the test started gets there in its own time,
    later on a loaded machine), or fail saying what never happened."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"no {what} in {seconds:g} s"
        time.sleep(0.05)


def _wait_for_greeting(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(100).startswith(b"* OK"):
                    return True
        except OSError:
            time.sleep(0.05)
    return False


_STARTTLS_CONF = """\
ssl = yes
ssl_cert = <{base}/cert.pem
ssl_key = <{base}/key.pem
"""


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """``folder``/cert.pem and key.pem: a certificate for 127.0.0.1 that no system CA signed
    (skips the test where openssl is missing)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed: no certificate for a TLS test server")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
        + ["-keyout", str(key), "-out", str(cert)]
        + ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def _run_dovecot(*, starttls: bool) -> Iterator[Dovecot]:
    """A real Dovecot IMAP server on a free loopback port, in its own temporary folder;
    ``starttls``: it offers STARTTLS with a self-signed certificate for 127.0.0.1 (cert.pem)."""
    binary = shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
    )
    if binary is None:
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd) - IMAP tests skipped")
    try:
        pwd.getpwnam("dovecot")
        pwd.getpwnam("dovenull")
    except KeyError:
        pytest.skip("the dovecot/dovenull users are missing (install the dovecot-core package)")
    if os.geteuid() != 0:
        pytest.skip(
            "this Dovecot test configuration runs as root (see shared/recipes/imap-dovecot.md)"
        )
    # Not under pytest's 0700 temp root: the dovecot user must reach the mail folders.
    base = Path(tempfile.mkdtemp(prefix="support-dovecot-"))
    base.chmod(0o755)
    port = free_port()
    conf = base / "dovecot.conf"
    text = _DOVECOT_CONF.format(base=base, port=port)
    if starttls:
        try:
            self_signed_certificate(base)
        except BaseException:
            shutil.rmtree(base, ignore_errors=True)
            raise
        text = text.replace("ssl = no\n", _STARTTLS_CONF.format(base=base))
    conf.write_text(text)
    (base / "users").write_text(f"{IMAP_USER}:{{PLAIN}}{IMAP_PASSWORD}\n")
    for name in ("mail", "home", "run", "state"):
        (base / name).mkdir()
    for name in ("mail", "home"):
        shutil.chown(base / name, "dovecot", "dovecot")
    # Output to a file: the daemon inherits it, and a pipe would never reach end-of-file.
    with open(base / "start.log", "wb") as output:
        started = subprocess.run(
            [binary, "-c", str(conf)], stdout=output, stderr=subprocess.STDOUT, timeout=30
        )
    if started.returncode != 0 or not _wait_for_greeting(port, 60):
        logs = [base / "start.log", base / "dovecot.log"]
        text = " ".join(f.read_text()[-1500:] for f in logs if f.exists())
        _stop_dovecot(conf, base)
        pytest.skip(f"dovecot did not start: {text.strip()}")
    try:
        yield Dovecot("127.0.0.1", port, IMAP_USER, IMAP_PASSWORD, base)
    finally:
        _stop_dovecot(conf, base)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """A real Dovecot IMAP server without TLS (loopback only)."""
    yield from _run_dovecot(starttls=False)


@pytest.fixture(scope="session")
def dovecot_starttls() -> Iterator[Dovecot]:
    """A real Dovecot IMAP server that offers STARTTLS (certificate: ``base / "cert.pem"``)."""
    yield from _run_dovecot(starttls=True)


_folders = itertools.count(1)


@pytest.fixture
def folder(dovecot: Dovecot) -> str:
    """A fresh, empty folder per test (the Dovecot server is shared by the session)."""
    name = f"intake{next(_folders)}"
    with dovecot.client() as client:
        client.create_folder(name)
    return name


def _stop_dovecot(conf: Path, base: Path) -> None:
    """Stop the server by its own pid file (never by name: other Dovecots may be running)."""
    pid_file = base / "run" / "master.pid"
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
        except (ValueError, ProcessLookupError):
            pass
    deadline = time.monotonic() + 30
    while pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    shutil.rmtree(base, ignore_errors=True)


@dataclass(frozen=True)
class Spamd:
    address: str  # host:port, as SPAMD_ADDRESS takes it


def _spamd_answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(b"PING SPAMC/1.5\r\n\r\n")
            return b"PONG" in sock.recv(100)
    except OSError:
        return False


@pytest.fixture(scope="session")
def spamd() -> Iterator[Spamd]:
    """A real SpamAssassin daemon on a free loopback port (shared/recipes/spamassassin.md),
    without network tests (--local); stopped by its own pid file."""
    binary = shutil.which("spamd") or (
        "/usr/sbin/spamd" if Path("/usr/sbin/spamd").exists() else None
    )
    if binary is None:
        pytest.skip("spamd is not installed (apt-get install spamassassin spamc) - skipped")
    base = Path(tempfile.mkdtemp(prefix="support-spamd-"))
    port = free_port()
    pid_file = base / "spamd.pid"
    command = [
        binary,
        f"--listen=127.0.0.1:{port}",
        "--allowed-ips=127.0.0.1",
        "--max-children=1",
        f"--pidfile={pid_file}",
        "--syslog=stderr",
        "--local",
    ]
    if os.geteuid() == 0:
        command.append("--username=nobody")  # spamd refuses to run its children as root
    log_file = open(base / "spamd.log", "wb")  # the daemon writes it until it stops
    process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90  # it compiles its rules once at start
    while time.monotonic() < deadline and process.poll() is None:
        if _spamd_answers_ping(port):
            break
        time.sleep(0.25)
    else:
        process.kill()
        process.wait(10)
        log_file.close()
        text = (base / "spamd.log").read_text(errors="replace")[-1500:]
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"spamd did not start: {text.strip()}")
    try:
        yield Spamd(f"127.0.0.1:{port}")
    finally:
        process.terminate()  # the parent: it stops its children
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log_file.close()
        shutil.rmtree(base, ignore_errors=True)


def run_cli(app: Flask, *args: str) -> str:
    """Run a `support` command against the test app's database; returns its output."""
    from click.testing import CliRunner

    from mailrouter.intake.cli import COMMANDS
    from support.cli import cli

    for command in COMMANDS:  # the lead registers them in support.cli; harmless twice
        cli.add_command(command)
    env = {
        "SUPPORT_DATABASE_URL": app.config["DATABASE_URL"],
        "SUPPORT_SECRET_KEY": app.config["SECRET_KEY"],
        "SUPPORT_WORKER_LEASE_SECONDS": str(app.config["WORKER_LEASE_SECONDS"]),
    }
    result = CliRunner().invoke(cli, ["--instance", app.instance_path, *args], env=env)
    if result.exit_code != 0:
        raise AssertionError(
            f"support {' '.join(args)} failed:\n{result.output}{result.exception!r}"
        )
    return result.output


# --- The real bootstrap model, trained once per test run ------------------------------------
# The real bootstrap model, trained once per test run and shared by the modules that use it.
#
# Training it costs 4.6 s of CPU (quiet), and test_decisions, test_cli and test_language_parity
# each trained the very same model (the shipped examples, ``evaluate=False``; training is
# deterministic, test_classifier holds it so). The first test process that needs it trains and
# saves it under the run's temporary folder (the one every xdist process of this run shares,
# under a file lock); each module gets its own copy of the file, as before, so a module that
# changes its file changes no other's.

#: What tests/conftest.py configures as the app's SECRET_KEY (the bundle's signing key).
BUNDLE_SECRET_KEY = "test-secret-key-not-for-production"


@pytest.fixture(scope="session")
def trained_bootstrap_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bootstrap model's file, signed with SECRET_KEY: copy it, never change it."""
    run = run_folder(tmp_path_factory)
    path = run / "bootstrap-classifier.pkl"
    with open(run / "bootstrap-classifier.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the others wait for the first to finish training
        if not path.exists():
            save_bundle(
                train(load_bootstrap_examples(), evaluate=False), path, BUNDLE_SECRET_KEY.encode()
            )
    return path


@pytest.fixture(scope="module")
def bundle_file(tmp_path_factory: pytest.TempPathFactory, trained_bootstrap_file: Path) -> Path:
    """The real bootstrap model in a file of this module's own."""
    path = tmp_path_factory.mktemp("model") / "classifier.pkl"
    shutil.copyfile(trained_bootstrap_file, path)
    return path


@pytest.fixture
def model_in_instance(app: Flask, trained_bootstrap_file: Path) -> Path:
    """The run's bootstrap model at the test app's CLASSIFIER_MODEL_PATH, for tests of a serving
    command (`support worker`, `imap-poll`...): one finds no model there and trains it before it
    serves (`ensure_model`, 3-5 s of CPU, 10 at a load of 10), which such a test does not check
    (the training at start has its own tests: test_training, test_key_rotation)."""
    path = Path(app.config["CLASSIFIER_MODEL_PATH"])
    shutil.copyfile(trained_bootstrap_file, path)
    return path
