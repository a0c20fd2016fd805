"""Every `support` command that serves refuses to start while the schema is behind the code:
after installing a release and before `support db upgrade`, a worker restarted by systemd
would otherwise fail each message it takes until quarantine."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

import mailrouter.intake.cli
import mailrouter.intake.worker
import support.cli
from mailrouter.intake.imap import ImapMailbox
from support.app import SETTINGS
from support.cli import cli, ensure_instance_config
from support.core.commands import command_line
from support.core.config import company_name, load_config
from support.core.db import Database, get_db
from support.core.passwords import verify_password
from support.desk.models import User

SERVING = [["smtp"], ["worker"], ["worker", "--until-idle"], ["web"], ["periodic"], ["run"]]


@pytest.fixture
def started(monkeypatch) -> list[object]:
    """What the commands would have run (nothing is served in these tests)."""
    calls: list[object] = []
    for module in (mailrouter.intake.cli, support.cli):
        monkeypatch.setattr(module, "run_services", calls.append)
    monkeypatch.setattr(
        mailrouter.intake.worker.Worker, "run_until_idle", lambda self: calls.append(self) or 0
    )
    return calls


def _schema_stamped(app, revision: str) -> Iterator[None]:
    """The database stamped at `revision` for the test, then put back."""
    database: Database = app.extensions["support_db"]
    with database.engine.begin() as conn:
        current = conn.scalar(text("SELECT version_num FROM alembic_version"))
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": revision})
    yield
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": current})


@pytest.fixture
def schema_behind(app) -> Iterator[None]:
    """The database one migration behind the code, as between `pip install` and `db upgrade`."""
    yield from _schema_stamped(app, "0009")


def _support(app, *args: str):
    env = {
        "SUPPORT_DATABASE_URL": app.config["DATABASE_URL"],
        "SUPPORT_SECRET_KEY": app.config["SECRET_KEY"],
    }
    return CliRunner().invoke(cli, ["--instance", app.instance_path, *args], env=env)


@pytest.mark.parametrize("args", SERVING, ids=" ".join)
@pytest.mark.usefixtures("schema_behind")
def test_a_serving_command_refuses_a_schema_behind_the_code(app, started, args) -> None:
    result = _support(app, *args)
    assert result.exit_code == 2, result.output
    assert f"run `{command_line()} --instance {app.instance_path} db upgrade`" in result.output
    assert started == []


@pytest.fixture
def schema_ahead(app) -> Iterator[None]:
    """The database migrated by a later release than the one installed: a host that was down
    while the others were upgraded, started again on its old release."""
    yield from _schema_stamped(app, "0099_a_later_release")


@pytest.mark.parametrize("args", [["worker"], ["web"], ["db", "upgrade"]], ids=" ".join)
@pytest.mark.usefixtures("schema_ahead")
def test_a_schema_of_a_later_release_asks_for_that_release(app, started, args) -> None:
    # Following docs/deploy.md: the old release said "run `support db upgrade`", and that
    # command then failed with alembic's "Can't locate revision" traceback.
    result = _support(app, *args)
    assert result.exit_code == 2, result.output
    assert "0099_a_later_release" in result.output
    assert "newer than this release" in result.output
    assert "db upgrade`" not in result.output
    assert started == []


def test_a_serving_command_starts_on_an_up_to_date_schema(app, started) -> None:
    result = _support(app, "worker", "--until-idle")
    assert result.exit_code == 0, result.output
    assert len(started) == 1


def test_create_user_sets_the_language_of_their_pages_and_mail(app, session) -> None:
    # An English-speaking lead made on the command line got the desk's default (Chinese) SLA
    # warnings and escalations, with no way to say otherwise short of the web form.
    result = _support(
        app, "create-user", "dana@example.com", "--name", "Dana", "--role", "lead",
        "--department", "service", "--language", "en", "--password", "x" * 12,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    user = session.scalar(select(User).where(User.email == "dana@example.com"))
    assert user is not None and user.language == "en"
    session.commit()
    refused = _support(app, "create-user", "x@example.com", "--name", "X", "--language", "fr")
    assert refused.exit_code == 2 and "fr" in refused.output


@pytest.mark.parametrize("args", [["imap-poll"], ["run"]], ids=" ".join)
def test_a_mistyped_imap_mailbox_is_one_clear_line(app, started, args) -> None:
    # Following config.toml's example with `user` for `username`, `support run` (./start.sh)
    # and `support imap-poll` ended in a traceback: "ValueError: IMAP mailbox entry lacks
    # username", with no word of the setting or of the key mistyped.
    mailboxes = '[{"host": "imap.example.com", "user": "me", "password": "pw"}]'
    result = CliRunner().invoke(
        cli,
        ["--instance", app.instance_path, *args],
        env={
            "SUPPORT_DATABASE_URL": app.config["DATABASE_URL"],
            "SUPPORT_SECRET_KEY": app.config["SECRET_KEY"],
            "SUPPORT_MAIL_IMAP_MAILBOXES": mailboxes,
        },
    )
    assert result.exit_code == 2, result.output
    assert "error: MAIL_IMAP_MAILBOXES" in result.output
    assert "unknown keys: user" in result.output and "username" in result.output
    assert started == []


def test_create_user_refuses_what_would_make_an_account_nobody_can_use(app, session) -> None:
    # `create-user Bad-Address` made an account "bad-address" (no mail reaches it, no sign-in
    # page takes it); `--department jobs` (the HR address is jobs@) said "unknown department
    # 'jobs'" without the codes a new admin could use instead.
    not_mail = _support(app, "create-user", "Bad-Address", "--name", "X")
    assert not_mail.exit_code == 1 and "not a mail address" in not_mail.output
    wrong = _support(app, "create-user", "lin@example.com", "--name", "Lin", "--department", "jobs")
    assert wrong.exit_code == 1
    assert "unknown department 'jobs'" in wrong.output and "hr (Human Resources)" in wrong.output
    short = _support(app, "create-user", "lin@example.com", "--name", "Lin", "--password", "abc")
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    session.expire_all()
    assert session.scalars(select(User.email)).all() == []
    session.rollback()  # the command writes next (SQLite: one writer)
    # Made as README's first try without --department, an agent saw an empty inbox, unsaid.
    alone = _support(app, "create-user", "lin@example.com", "--name", "Lin")
    assert alone.exit_code == 0, alone.output
    assert "works no department's inbox" in alone.output and "--department" in alone.output
    placed = _support(app, "create-user", "tom@example.com", "--name", "T", "--department", "hr")
    assert placed.exit_code == 0 and "no department" not in placed.output


def test_ready_reminds_a_new_desk_how_to_sign_in(app, session) -> None:
    # ./start.sh's first run prints the admin's password, then `support run` writes some 35 log
    # lines (the demo's mail, the jobs' leases) before "ready:": the password had scrolled
    # out of view just as the new user went to sign in.
    admin = User(email="boss@example.com", name="Boss", role="admin", password_hash="x")
    session.add(admin)
    session.commit()
    hint = support.cli.first_sign_in_hint(app)
    assert hint is not None and "boss@example.com" in hint
    assert f"`{command_line()} set-password boss@example.com`" in hint
    admin.last_login_at = admin.created_at
    session.commit()
    assert support.cli.first_sign_in_hint(app) is None  # once someone has, nothing


def test_a_new_demo_instance_names_the_demo_company_in_each_language(tmp_path) -> None:
    """The demo's pages said Lumen Home in Chinese while its FAQ said 流明家居; a new demo
    instance's config.toml holds both names, where an admin changes them."""
    demo, plain = tmp_path / "demo", tmp_path / "plain"
    assert ensure_instance_config(demo, demo=True)
    assert ensure_instance_config(plain)
    config = load_config(demo, declared=SETTINGS, environ={})
    assert company_name(config, "zh") == "流明家居"
    assert company_name(config, "zh-Hant") == "流明家居"
    assert company_name(config, "en") == "Lumen Home"
    config = load_config(plain, declared=SETTINGS, environ={"SUPPORT_COMPANY_NAME": "Acme"})
    assert company_name(config, "zh") == "Acme"  # no Chinese name: the one name everywhere


def test_set_password_lets_an_admin_who_lost_it_back_in(app, session) -> None:
    # The demo admin's password is printed once among a start's log lines; create-user refused
    # the address and nothing else could give the account a new one.
    admin = User(email="admin@example.com", name="Admin", role="admin", password_hash="x")
    session.add(admin)
    session.commit()
    generation = admin.session_generation or 0
    again = _support(app, "create-user", "Admin@example.com", "--name", "A", "--role", "admin")
    assert again.exit_code == 1
    assert (
        f"`{command_line()} --instance {app.instance_path} set-password admin@example.com`"
        in again.output
    )
    result = _support(app, "set-password", "Admin@Example.com")
    assert result.exit_code == 0, result.output
    password = result.output.split("password (shown once): ")[1].split()[0]
    session.expire_all()
    admin = session.scalar(select(User).where(User.email == "admin@example.com"))
    assert verify_password(admin.password_hash, password)
    assert admin.session_generation == generation + 1  # signed out everywhere
    session.commit()  # no read left open: the command writes
    chosen = _support(app, "set-password", "admin@example.com", "--password", "a-new-pass-1")
    assert chosen.exit_code == 0 and "shown once" not in chosen.output, chosen.output
    session.expire_all()
    assert verify_password(session.get(User, admin.id).password_hash, "a-new-pass-1")
    session.commit()
    short = _support(app, "set-password", "admin@example.com", "--password", "short")
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    unknown = _support(app, "set-password", "nobody@example.com")
    assert (
        unknown.exit_code == 1 and f"--instance {app.instance_path} create-user" in unknown.output
    )


def test_a_new_config_shows_how_to_write_what_getting_started_asks_for(tmp_path) -> None:
    """Getting started sends a new admin to config.toml for their mail domain and outgoing
    relay, and the pages name the keys; the file held only the secret key and the company's
    names, so the TOML of a list (mail_domains) or a port was a guess. It shows each, commented
    out, and each line uncommented is a valid setting."""
    instance = tmp_path / "instance"
    assert ensure_instance_config(instance, demo=True)
    written = (instance / "config.toml").read_text(encoding="utf-8")
    defaults = load_config(instance, declared=SETTINGS, environ={})
    assert defaults["MAIL_DOMAINS"] == ["example.com"] and defaults["OUTBOUND_SMTP_HOST"] == ""
    examples = [line[2:] for line in written.splitlines() if re.match(r"# [a-z_]+ = ", line)]
    keys = {line.split(" = ")[0] for line in examples}
    assert {
        "mail_domains",
        "mail_general_address",
        "outbound_smtp_host",
        "outbound_smtp_port",
        "outbound_smtp_tls",
        "outbound_smtp_user",
        "outbound_smtp_password",
        "http_port",
        "smtp_port",
        # A mailbox to read over IMAP: the README's table gives `[{host, port, ...}]`, and the
        # TOML of a list of tables was a guess too.
        "mail_imap_mailboxes",
    } <= keys
    (instance / "config.toml").write_text(written + "\n".join(examples) + "\n", encoding="utf-8")
    config = load_config(instance, declared=SETTINGS, environ={})
    assert config["MAIL_DOMAINS"] != ["example.com"]
    assert config["MAIL_GENERAL_ADDRESS"].rpartition("@")[2] in config["MAIL_DOMAINS"]
    assert config["OUTBOUND_SMTP_HOST"] and config["OUTBOUND_SMTP_TLS"] in ("starttls", "tls")
    [mailbox] = [ImapMailbox.from_dict(entry) for entry in config["MAIL_IMAP_MAILBOXES"]]
    assert mailbox.host and mailbox.ssl and mailbox.department == "service"


def test_db_backup_copies_the_sqlite_database_while_it_is_in_use(app, session, tmp_path) -> None:
    """The README had no backup for the one-machine desk: copying support.db by hand while it
    runs may miss what its write-ahead log holds. `support db backup FILE` makes a consistent
    copy, for its owner only; on PostgreSQL it points to pg_dump."""
    session.add(User(email="li.na@example.com", name="李娜", role="agent", password_hash="x"))
    session.commit()
    target = tmp_path / "backups" / "support.db"
    with get_db(app).read_session() as reading:  # another process's open transaction
        reading.execute(text("SELECT count(*) FROM users"))
        result = _support(app, "db", "backup", str(target))
    if get_db(app).dialect != "sqlite":
        assert result.exit_code == 1 and "pg_dump" in result.output
        assert not target.exists()
        return
    assert result.exit_code == 0, result.output
    assert "config.toml" in result.output  # the secret key goes with it
    assert target.stat().st_mode & 0o077 == 0
    copy = sqlite3.connect(target)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        row = copy.execute("SELECT name FROM users WHERE email = 'li.na@example.com'").fetchone()
        assert row == ("李娜",)
        assert copy.execute("SELECT version_num FROM alembic_version").fetchone()
    finally:
        copy.close()
    assert [p.name for p in target.parent.iterdir()] == ["support.db"]  # nothing left aside
