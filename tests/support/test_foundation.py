"""The foundation: configuration layers, start-up errors, health, migrations, `support init`."""

from __future__ import annotations

import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from faq.models import Article
from faq.search import SearchIndex
from mailrouter.routing.classifier import load_bundle, save_bundle
from mailrouter.routing.model_store import DEFAULT_FILENAME as MODEL_FILE
from support.app import SETTINGS, create_app
from support.cli import cli
from support.core.commands import command_line
from support.core.config import DEV_SECRET_KEY, ConfigError, load_config, public_base_url
from support.core.db import get_db, make_engine
from support.desk.models import Department, Ticket, UrgencyLevel, User
from support.migrate import pending_model_changes, upgrade
from tests.conftest import clean_database
from tests.factories import make_ticket, make_user
from tests.mailrouter.conftest import BUNDLE_SECRET_KEY, trained_bootstrap_file
from tests.support.staff_helpers import login

SUPPORT_BIN = str(Path(sys.executable).parent / "support")
#: The run's bootstrap model, trained once a run (signed with BUNDLE_SECRET_KEY).
BOOTSTRAP_MODEL = trained_bootstrap_file.__name__


def test_config_layers_defaults_then_file_then_environment(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('secret_key = "s3cret-from-file"\nhttp_port = 9000\n')
    config = load_config(tmp_path, declared=SETTINGS, environ={"SUPPORT_HTTP_PORT": "9100"})
    assert config["SECRET_KEY"] == "s3cret-from-file"
    assert config["HTTP_PORT"] == 9100
    assert config["SMTP_PORT"] == 2525
    assert config["DATABASE_URL"].startswith("sqlite:///")
    assert config["DATABASE_URL"].endswith("support.db")
    # links in mail lead to the portal as it is served, unless a public address is set
    assert config["PUBLIC_BASE_URL"] == "http://127.0.0.1:9100"


def test_public_base_url_set_wins_and_a_wildcard_host_is_reached_on_loopback(
    tmp_path: Path,
) -> None:
    environ = {"SUPPORT_SECRET_KEY": "k", "SUPPORT_HTTP_HOST": "0.0.0.0"}
    assert load_config(tmp_path, declared=SETTINGS, environ=environ)["PUBLIC_BASE_URL"] == (
        "http://127.0.0.1:8080"
    )
    environ["SUPPORT_PUBLIC_BASE_URL"] = "https://help.example.com"
    config = load_config(tmp_path, declared=SETTINGS, environ=environ)
    assert config["PUBLIC_BASE_URL"] == "https://help.example.com"
    # written with a trailing slash, links still get one slash before their path
    environ["SUPPORT_PUBLIC_BASE_URL"] = "https://help.example.com/support/"
    config = load_config(tmp_path, declared=SETTINGS, environ=environ)
    assert public_base_url(config) + "/faq" == "https://help.example.com/support/faq"


def test_list_settings_from_environment(tmp_path: Path) -> None:
    config = load_config(
        tmp_path,
        declared=SETTINGS,
        environ={"SUPPORT_SECRET_KEY": "k", "SUPPORT_MAIL_DOMAINS": "example.com, example.cn"},
    )
    assert config["MAIL_DOMAINS"] == ["example.com", "example.cn"]


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"SUPPORT_SECRET_KEY": "k", "SUPPORT_NOPE": "1"}, "SUPPORT_NOPE"),
        ({"SUPPORT_SECRET_KEY": "k", "SUPPORT_HTTP_PORT": "eighty"}, "HTTP_PORT"),
        ({"SUPPORT_SECRET_KEY": "k", "SUPPORT_DATABASE_URL": "oracle://x"}, "DATABASE_URL"),
        ({"SUPPORT_SECRET_KEY": "k", "SUPPORT_DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({}, "SECRET_KEY"),
    ],
)
def test_bad_configuration_names_the_problem(tmp_path: Path, environ: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path, declared=SETTINGS, environ=environ)


def test_unknown_key_in_config_file(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('secret_key = "k"\nhttp_prot = 1\n')
    # A new admin's typo: the setting they meant is named, as they would write it.
    with pytest.raises(ConfigError, match="http_prot.*did you mean 'http_port'"):
        load_config(tmp_path, declared=SETTINGS, environ={})


def test_a_config_file_typed_by_hand_says_which_line_and_how_to_write_it(tmp_path: Path) -> None:
    # A new admin changing the demo's company name wrote it without quotes and was told
    # "Invalid value (at line 4, column 16)", TOML's words, with nothing of the fix.
    (tmp_path / "config.toml").write_text(
        'secret_key = "k"\n# your names\n\ncompany_name = Acme Ltd\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path, declared=SETTINGS, environ={})
    message = str(raised.value)
    assert "line 4" in message and "company_name = Acme Ltd" in message
    assert 'company_name = "Acme Ltd"' in message  # the line as it should be written


def test_development_mode_may_run_without_secret(tmp_path: Path) -> None:
    config = load_config(tmp_path, declared=SETTINGS, environ={"SUPPORT_DEVELOPMENT": "1"})
    assert config["SECRET_KEY"]


def test_a_wsgi_server_finds_the_instance_folder_of_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `gunicorn wsgi:app` calls create_app() with no folder: under a systemd unit that sets
    # SUPPORT_INSTANCE_PATH, the app must read that folder's config.toml, not ./instance.
    instance = tmp_path / "srv-instance"
    instance.mkdir()
    (instance / "config.toml").write_text(
        'secret_key = "from-the-instance"\ncompany_name = "Instance Co"\n', encoding="utf-8"
    )
    elsewhere = tmp_path / "app"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("SUPPORT_INSTANCE_PATH", str(instance))
    app = create_app()
    get_db(app).dispose()
    assert app.instance_path == str(instance.resolve())
    assert app.config["COMPANY_NAME"] == "Instance Co"
    assert not (elsewhere / "instance").exists()


def test_healthz_reports_database(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["database"] == "ok"


def test_healthz_503_when_database_unreachable(tmp_path: Path) -> None:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "k",
            "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
        },
        instance_path=tmp_path,
    )
    response = app.test_client().get("/healthz")
    get_db(app).dispose()
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_migrations_match_models(db) -> None:
    assert pending_model_changes(db.engine) == []


def test_timestamps_are_aware_utc(session) -> None:
    ticket = make_ticket(session)
    session.commit()
    session.expire_all()
    assert ticket.created_at.tzinfo is not None
    assert ticket.created_at.utcoffset() == UTC.utcoffset(None)


def test_reference_data_has_five_departments_and_levels(session) -> None:
    codes = set(session.scalars(select(Department.code)))
    assert codes == {"sales", "service", "pr", "hr", "finance"}
    targets = {u.level: u.first_response_minutes for u in session.scalars(select(UrgencyLevel))}
    assert targets == {1: 1440, 2: 1440, 3: 1440, 4: 240, 5: 60}


def test_unknown_page_is_a_friendly_404(client) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert b"<html" in response.data
    assert "Page not found (404)" in client.get("/no/such/page?lang=en").get_data(as_text=True)
    assert "<title>页面不存在（404）" in client.get("/no/such/page?lang=zh").get_data(as_text=True)
    # A mistyped link's page follows a Traditional reader's script like the portal's pages.
    taiwan = {"Accept-Language": "zh-TW"}
    page = client.get("/no/such/page", headers=taiwan).get_data(as_text=True)
    assert "<title>頁面不存在（404）" in page
    staff = client.get("/staff/no/such/page", headers=taiwan).get_data(as_text=True)
    # So does a staff page for whoever has not chosen a language on their account page.
    assert "頁面不存在" in staff


def test_a_staff_404_leads_back_to_the_inbox(client, session) -> None:
    # A purged ticket's old link or a mistyped id sent staff to the customers' help centre.
    make_user(session, email="agent@example.com")
    session.commit()
    login(client, "agent@example.com")
    staff = client.get("/staff/tickets/99999?lang=en").get_data(as_text=True)
    assert '<a href="/staff/">Back to the inbox</a>' in staff
    assert "Back to the help centre" not in staff
    # With the staff header (it had the customers' portal's: FAQ search, "Ask us"), so the
    # ticket search, the inboxes and sign-out are where they are on every staff page.
    assert 'id="staff-search"' in staff and "Sign out" in staff and "Staff desk" in staff
    assert 'id="site-search"' not in staff and ">Ask us<" not in staff
    portal = client.get("/no/such/page?lang=en").get_data(as_text=True)
    assert '<a href="/">Back to the help centre</a>' in portal


@pytest.fixture
def model_of_init(request: pytest.FixtureRequest, monkeypatch, tmp_path: Path) -> Path:
    """The folder a `support init` test gives, holding the run's bootstrap model already (with
    the key it is signed with, as SUPPORT_SECRET_KEY): init then finds a usable model and
    trains none (with its evaluation, 3-5 s of CPU quiet, twice each test with two backends),
    which the tests taking this do not check; test_init_is_safe_to_run_twice checks the
    training and trains."""
    instance = tmp_path / "fresh-instance"
    instance.mkdir()
    shutil.copyfile(request.getfixturevalue(BOOTSTRAP_MODEL), instance / MODEL_FILE)
    monkeypatch.setenv("SUPPORT_SECRET_KEY", BUNDLE_SECRET_KEY)
    return instance


@pytest.mark.usefixtures("demo_faq_vectors")  # the demo FAQ's article texts, embedded once a run
def test_init_is_safe_to_run_twice(
    app, database_url: str, tmp_path: Path, monkeypatch, caplog
) -> None:
    clean_database(get_db(app))
    monkeypatch.setenv("SUPPORT_DATABASE_URL", database_url)
    monkeypatch.setenv("SUPPORT_FAQ_INDEX_DIR", str(tmp_path / "index"))
    rebuilds: list[SearchIndex] = []
    rebuild = SearchIndex.rebuild

    def counted_rebuild(index: SearchIndex, *args, **kwargs) -> int:
        rebuilds.append(index)
        return rebuild(index, *args, **kwargs)

    monkeypatch.setattr(SearchIndex, "rebuild", counted_rebuild)
    instance = tmp_path / "fresh-instance"
    runner = CliRunner()
    first = runner.invoke(cli, ["--instance", str(instance), "init", "--password", "pw-123456"])
    assert first.exit_code == 0, first.output
    # The FAQ index is built once (the demo import's commit built it; it was built again after,
    # 50 s then 0.7 s), and is usable at the end with every demo article in it.
    assert len(rebuilds) == 1
    [index] = rebuilds
    assert not index.needs_rebuild()
    assert "search index: 60 articles indexed" in first.output
    assert (instance / "config.toml").exists()
    # Where to send mail and where the pages are: the output says so.
    assert "service@example.com (Customer Service)" in first.output
    assert "general: support@example.com" in first.output
    assert "/staff/" in first.output and "SMTP intake at" in first.output
    # Nothing listens yet: `support run` says "ready:" once its ports answer, init must not.
    assert "ready:" not in first.output and "serves" not in first.output
    # It trains the classifier itself: no line telling a new user to run `support train`.
    assert "trained the bootstrap classifier" in first.output
    assert not [r for r in caplog.records if "support train" in r.getMessage()]
    assert first.output.splitlines()[-1].startswith(
        "staff pages: sign in as admin@example.com with the password you chose"
    )
    second = runner.invoke(cli, ["--instance", str(instance), "init"])
    assert second.exit_code == 0, second.output
    assert len(rebuilds) == 1  # the index is current: nothing to build
    assert "search index: 60 articles indexed" in second.output
    assert "sign in as" not in second.output  # no new admin, nothing to sign in with
    # start.sh runs init each time: the password shown once is long gone, so it says how to
    # set a new one (`support create-user` refused the address, and nothing else would).
    # As it can be typed: ./start.sh puts nothing on PATH ("support: command not found").
    assert second.output.splitlines()[-1] == (
        "staff pages: administrators admin@example.com"
        f" (a lost password: `{command_line()} --instance {instance} set-password"
        " admin@example.com` sets a new one)"
    )
    # With the folder it was given: `.venv/bin/support run` alone would serve ./instance.
    assert f"next: `{command_line()} --instance {instance} run` starts the FAQ" in second.output
    with get_db(app).session() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 1
        assert s.scalar(select(func.count()).select_from(Department)) == 5
        # The demo FAQ gives the desk's own addresses, which its SMTP intake accepts: a customer
        # who wrote to the contact article's support@lumenhome.example was refused.
        answers = "\n".join(s.scalars(select(Article.answer_md)))
        assert "lumenhome.example" not in answers
        assert "support@example.com" in answers  # the general address
        assert "sales@example.com" in answers and "jobs@example.com" in answers


def test_init_from_start_sh_does_not_tell_to_run_what_start_sh_runs_next(
    app, database_url: str, tmp_path: Path, monkeypatch, model_of_init: Path
) -> None:
    """./start.sh's first run printed "next: `.venv/bin/support run` starts ..." and then ran
    it itself; a manual `support init` still says it (`test_init_is_safe_to_run_twice`)."""
    clean_database(get_db(app))
    monkeypatch.setenv("SUPPORT_DATABASE_URL", database_url)
    monkeypatch.setenv("SUPPORT_FAQ_INDEX_DIR", str(tmp_path / "index"))
    start_sh = (Path(__file__).resolve().parents[2] / "start.sh").read_text()
    assert "\n.venv/bin/support init --then-run\nexec .venv/bin/support run\n" in start_sh
    result = CliRunner().invoke(
        cli, ["--instance", str(model_of_init), "init", "--no-demo", "--then-run"]
    )
    assert result.exit_code == 0, result.output
    assert "next:" not in result.output and " run`" not in result.output
    assert result.output.splitlines()[-1].startswith("staff pages: sign in as admin@example.com")


def test_init_repeats_the_generated_password_last(
    app, database_url: str, tmp_path: Path, monkeypatch, model_of_init: Path
) -> None:
    """The one-time password came before the demo's sixty log lines, out of a terminal's view
    by the end; the last line says how to sign in again."""
    clean_database(get_db(app))
    monkeypatch.setenv("SUPPORT_DATABASE_URL", database_url)
    monkeypatch.setenv("SUPPORT_FAQ_INDEX_DIR", str(tmp_path / "index"))
    result = CliRunner().invoke(cli, ["--instance", str(model_of_init), "init", "--no-demo"])
    assert result.exit_code == 0, result.output
    password = re.search(r"admin password \(shown once\): (\S+)", result.output).group(1)
    assert result.output.splitlines()[-1] == (
        f"staff pages: sign in as admin@example.com with the password {password}"
        " (change it on your account page; set your name there too: it signs your replies)"
    )


def test_init_names_the_first_admin_as_told(
    app, database_url: str, tmp_path: Path, monkeypatch, model_of_init: Path
):
    """`--admin-name` names the first admin, who then signs replies with it (without it the
    account is "Administrator", which signs nothing and asks for a name on every staff page)."""
    clean_database(get_db(app))
    monkeypatch.setenv("SUPPORT_DATABASE_URL", database_url)
    monkeypatch.setenv("SUPPORT_FAQ_INDEX_DIR", str(tmp_path / "index"))
    instance = str(model_of_init)
    args = ["--instance", instance, "init", "--no-demo", "--admin-name", " Li Lei "]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "set your name" not in result.output
    assert "trained the bootstrap classifier" not in result.output  # it took model_of_init's
    with get_db(app).session() as s:
        admin = s.scalars(select(User)).one()
        assert admin.name == "Li Lei" and admin.signature_name == "Li Lei"
        assert not admin.needs_name


def test_start_after_init_no_demo_loads_no_demo(
    app, database_url: str, tmp_path: Path, monkeypatch, model_of_init: Path
) -> None:
    """A company sets up with `support init --no-demo` and then starts as the README says,
    `./start.sh`, whose plain `support init` loaded the demo's eight tickets and sixty FAQ
    articles into the real desk (and mailed auto-replies to the demo's customers)."""
    clean_database(get_db(app))
    monkeypatch.setenv("SUPPORT_DATABASE_URL", database_url)
    monkeypatch.setenv("SUPPORT_FAQ_INDEX_DIR", str(tmp_path / "index"))
    instance = str(model_of_init)
    runner = CliRunner()
    first = runner.invoke(cli, ["--instance", instance, "init", "--no-demo"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(cli, ["--instance", instance, "init"])  # what ./start.sh runs
    assert again.exit_code == 0, again.output
    assert not [line for line in again.output.splitlines() if line.startswith("demo")]
    with get_db(app).session() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 0
        assert s.scalar(select(func.count()).select_from(Article)) == 0
    assert "Lumen Home" not in Path(instance, "config.toml").read_text(encoding="utf-8")


def test_python_dash_m_support_is_the_support_command() -> None:
    """Where no console script is on PATH (a bare checkout, a container), ``python -m support``
    runs the same CLI."""
    result = subprocess.run(
        [sys.executable, "-m", "support", "--help"],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: support ")
    commands = result.stdout.split("Commands:")[1]
    listed = set(re.findall(r"^  (\S+)", commands, flags=re.MULTILINE))  # not wrapped lines
    # every command, those loaded on demand too (support.cli.SupportGroup; whether this process
    # loaded them already depends on the tests run before it in the process)
    assert listed == set(cli.list_commands(click.Context(cli)))
    assert cli.lazy and set(cli.lazy) <= listed


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def migrated_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A development instance's SQLite database with the schema in place, migrated once a
    module: the serving tests copy it. A `support db upgrade` subprocess each (its own start
    and imports, 2-4 s of CPU) was the upgrade, which none of them tests; this is the same
    upgrade() the command runs on a fresh database (`_index_missing_tickets` finds nothing).

    Beside it, the run's bootstrap model signed with the development key (MODEL_FILE): a
    serving command finding no model trains one before it serves (`ensure_model`, with its
    evaluation: 3-5 s of CPU quiet, in each test's process), which none of them tests."""
    path = tmp_path_factory.mktemp("migrated") / "support.db"
    bundle = load_bundle(request.getfixturevalue(BOOTSTRAP_MODEL), BUNDLE_SECRET_KEY.encode())
    assert bundle is not None
    save_bundle(bundle, path.with_name(MODEL_FILE), DEV_SECRET_KEY.encode())
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
    finally:
        engine.dispose()  # the last connection's close checkpoints WAL into the file
    assert not path.with_name("support.db-wal").exists()
    return path


def _migrated_instance(instance: Path, http_port: int, database: Path) -> dict[str, str]:
    """An instance folder with the schema in place (a copy of `database`, the default
    database file's place) and a model (`migrated_database`'s); returns the environment to
    run it with."""
    env = {
        **os.environ,
        "SUPPORT_DEVELOPMENT": "1",
        "SUPPORT_HTTP_PORT": str(http_port),
        "SUPPORT_SMTP_PORT": str(_free_port()),
    }
    instance.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(database, instance / "support.db")
    shutil.copyfile(database.with_name(MODEL_FILE), instance / MODEL_FILE)
    return env


def test_run_refuses_a_port_in_use_with_one_line(tmp_path: Path, migrated_database: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = _migrated_instance(tmp_path, port, migrated_database)
        result = subprocess.run(
            [SUPPORT_BIN, "--instance", str(tmp_path), "run"],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,  # its start alone took over 60 s at a load of 19 on two cores
        )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{port}" in result.stderr and "HTTP_PORT" in result.stderr


@pytest.mark.parametrize(
    ("command", "listeners"),
    [("run", {"web", "smtp"}), ("web", {"web"}), ("smtp", {"smtp"})],
)
def test_each_serving_command_says_ready_only_once_its_ports_answer(
    tmp_path: Path, migrated_database: Path, command: str, listeners: set[str]
) -> None:
    """`./start.sh` printed "ready: ... serves" from `support init`, ~10 s before `support run`
    listened: a new user's first try was refused. The line now comes from `support run` once
    its listeners are bound, so its ports answer the moment it is printed; `support web` and
    `support smtp` (one host's part each) said nothing at all and now say the same of theirs.
    Each then stops on SIGTERM with status 0."""
    http_port = _free_port()
    env = _migrated_instance(tmp_path, http_port, migrated_database)
    smtp_port = int(env["SUPPORT_SMTP_PORT"])
    log_path = tmp_path / "run.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [SUPPORT_BIN, "--instance", str(tmp_path), command],
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    assert process.stdout is not None
    try:
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 300  # its start took over 120 s at a load of 28
        line = ""
        while not line.startswith("ready:"):
            assert time.monotonic() < deadline, f"no ready line:\n{log_path.read_text()}"
            if selector.select(timeout=1):
                line = process.stdout.readline()
                assert line, f"`support {command}` ended:\n{log_path.read_text()}"
        # At once, no retry: refused here means the line came before the listeners.
        if "smtp" in listeners:
            with socket.create_connection(("127.0.0.1", smtp_port), timeout=10) as smtp:
                assert smtp.recv(512).startswith(b"220 "), "no SMTP greeting"
        if "web" in listeners:
            url = f"http://127.0.0.1:{http_port}/healthz"
            with urllib.request.urlopen(url, timeout=10) as response:
                assert response.status == 200
        assert (f"http://127.0.0.1:{http_port}/staff/" in line) == ("web" in listeners), line
        assert (f":{smtp_port}" in line) == ("smtp" in listeners), line
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    # SIGTERM (systemd's stop) ends it cleanly, saying so.
    assert process.returncode == 0, log_path.read_text()
    assert "stopped" in output + log_path.read_text()


def test_readme_configuration_table_matches_the_declarations() -> None:
    """The README's table is generated (`support config-table`); a new setting must be in it."""
    from support.core.config import settings_table_markdown

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    missing = [
        line for line in settings_table_markdown(SETTINGS).splitlines() if line not in readme
    ]
    assert missing == [], "run `support config-table` and update the README"


def test_reference_data_is_read_once_per_transaction_and_again_after_it(session) -> None:
    """The worker reads departments once per batch; an admin's change shows in the next one."""
    from sqlalchemy import select

    from support.desk.models import Department
    from support.desk.outbox import own_addresses

    config = {"MAIL_GENERAL_ADDRESS": "support@example.com"}
    sales = session.scalars(select(Department).where(Department.code == "sales")).one()
    before = own_addresses(session, config)
    assert sales.email_address in before
    assert own_addresses(session, config) is before  # not read again in this transaction
    sales.email_address = "orders@example.com"
    session.commit()
    after = own_addresses(session, config)
    assert "orders@example.com" in after and after is not before
    session.rollback()


def test_reference_data_read_before_a_transaction_began_is_read_again_in_the_next(db) -> None:
    from support.core.db import once_per_transaction

    def load() -> int:
        loads.append(1)
        return len(loads)

    loads: list[int] = []
    seen = []
    with db.sessionmaker() as session:
        for _transaction in range(3):  # each call comes before its transaction has begun
            seen.append(once_per_transaction(session, "k", load))
            seen.append(once_per_transaction(session, "k", load))
            session.commit()
    assert seen == [1, 1, 2, 2, 3, 3]
