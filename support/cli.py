"""The `support` command: set up, run and administer the system."""

from __future__ import annotations

import importlib
import logging
import secrets
import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask
from sqlalchemy.exc import OperationalError

from support.core.commands import AppLoader, command_line, with_app, with_ready_app
from support.core.config import (
    INSTANCE_PATH_ENV,
    ConfigError,
    default_instance_path,
    public_base_url,
    settings_table_markdown,
)
from support.core.db import get_db, utcnow
from support.core.leases import holders as lease_holders
from support.core.runner import (
    StartupError,
    end_process,
    ready_line,
    run_services,
    services_stopped,
)
from support.core.web import OWN_LANGUAGES

# The app, the migrations, the classifier and the search engine are imported by the commands
# that use them: importing them all took 5 s of CPU before `support --help` printed a line.

log = logging.getLogger(__name__)


#: Each feature's commands (support.app.COMMANDS), by name: the module holding a command is
#: imported when the command runs or its help is shown (click's lazily loaded subcommands).
FEATURE_COMMANDS = {
    "faq": "faq.cli:faq",
    "smtp": "mailrouter.intake.cli:smtp_command",
    "worker": "mailrouter.intake.cli:worker_command",
    "imap-poll": "mailrouter.intake.cli:imap_poll_command",
    "quarantine": "mailrouter.intake.cli:quarantine_group",
    "outbox": "mailrouter.outbound.cli:outbox",
    "train": "mailrouter.routing.cli:train_command",
    "classify": "mailrouter.routing.cli:classify_command",
    "spam": "mailrouter.spam.cli:spam_group",
    "sla-check": "support.staff.cli:sla_check",
    "create-api-token": "support.staff.cli:create_api_token",
    "report": "support.staff.cli:report",
    "customer": "support.staff.cli:customer",
    "purge": "support.staff.cli:purge",
}


class SupportGroup(click.Group):
    """Turns the errors a user can cause (bad config, unreachable database) into one clear line,
    and loads each feature's command on first use (FEATURE_COMMANDS)."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module, attribute = self.lazy[cmd_name].split(":")
            command = getattr(importlib.import_module(module), attribute)
            if not isinstance(command, click.Command) or command.name != cmd_name:
                raise RuntimeError(f"{self.lazy[cmd_name]} is not the command {cmd_name}")
            self.add_command(command)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ConfigError, StartupError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            click.echo(f"error: cannot use the database: {reason}", err=True)
            sys.exit(2)


def _instance_option() -> Path:
    return Path(
        click.get_current_context().find_root().params.get("instance") or default_instance_path()
    )


def load_app() -> Flask:
    """The app for the instance folder chosen with --instance (or ./instance)."""
    from support import app as application

    return application.create_app(instance_path=_instance_option())


@click.group(cls=SupportGroup, lazy=FEATURE_COMMANDS)
@click.option(
    "--instance",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=INSTANCE_PATH_ENV,
    help="Instance folder (config, SQLite database, index). Default: ./instance",
)
@click.pass_context
def cli(ctx: click.Context, instance: Path | None) -> None:
    """Email and FAQ self-service support system."""
    if ctx.obj is None:
        ctx.obj = AppLoader(load_app, check_ready=_check_ready)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)


#: The demo company's names in a new demo instance's config.toml: there an admin sees where
#: the name on every page and mail comes from, and that Chinese readers get their own.
DEMO_COMPANY_NAMES = (
    "# The demo company: put your own names here (company_name_zh on Chinese pages and mail).\n"
    'company_name = "Lumen Home"\n'
    'company_name_zh = "流明家居"\n'
)


#: What Getting started sends a new admin here for, written out (the pages name the keys; the
#: TOML of a list or a port was a guess). Uncommented, each line is a valid setting.
CONFIG_EXAMPLES = """
# Your own mail domain: mail to other domains is refused. Then give each department an
# address there on the staff Departments page.
# mail_domains = ["mycompany.com"]
# mail_general_address = "support@mycompany.com"

# Outgoing mail: until outbound_smtp_host is set, mail is only written to instance/outbox/.
# outbound_smtp_host = "smtp.mycompany.com"
# outbound_smtp_port = 587
# outbound_smtp_tls = "starttls"
# outbound_smtp_user = "support@mycompany.com"
# outbound_smtp_password = "..."

# Or read an existing mailbox over IMAP (`support run` polls it; department is optional:
# without it the mail is classified as mail to the general address is).
# mail_imap_mailboxes = [{host = "imap.mycompany.com", username = "support@mycompany.com", \
password = "...", department = "service"}]

# Other ports for the web pages and the SMTP intake (or SUPPORT_HTTP_PORT=... ./start.sh).
# http_port = 8080
# smtp_port = 2525

# Restart after a change (Ctrl-C, then ./start.sh: your data stays).
"""


def ensure_instance_config(instance: Path, *, demo: bool = False) -> bool:
    """Create instance/config.toml with a fresh secret key once (and, for the demo, the demo
    company's names); returns True when created."""
    instance.mkdir(parents=True, exist_ok=True)
    config_file = instance / "config.toml"
    if config_file.exists():
        return False
    config_file.write_text(
        "# Per-deployment settings (see the README's configuration table).\n"
        f'secret_key = "{secrets.token_urlsafe(48)}"\n'
        + (DEMO_COMPANY_NAMES if demo else "")
        + CONFIG_EXAMPLES,
        encoding="utf-8",
    )
    config_file.chmod(0o600)
    return True


@cli.command()
@click.option("--password", help="Password of the first admin (generated and printed if omitted).")
@click.option("--admin-email", default="admin@example.com", show_default=True)
@click.option(
    "--admin-name",
    default="",
    help="The first admin's own name, which signs their replies (set it later on the account"
    " page; until then replies carry the team's name only).",
)
@click.option(
    "--demo/--no-demo",
    default=None,
    help="Load demo FAQ and tickets. Default: on a new desk only (./start.sh runs init at each"
    " start, and a desk made with --no-demo stays without).",
)
@click.option(
    "--then-run",
    is_flag=True,
    hidden=True,
    help="Said by ./start.sh, which runs `support run` next: no line telling to run it.",
)
@click.pass_context
def init(
    ctx: click.Context,
    password: str | None,
    admin_email: str,
    admin_name: str,
    demo: bool | None,
    then_run: bool,
) -> None:
    """Create instance/, the schema, departments, urgency levels, an admin and demo content.

    Safe to run twice: existing data is left alone.
    """
    from sqlalchemy import func, select

    from faq import index_sync
    from mailrouter.routing.training import ensure_model
    from support import migrate
    from support.demo import load_demo_content
    from support.desk.models import UNNAMED_ADMIN, Department, User
    from support.desk.seed import create_user, seed_reference_data

    instance = _instance_option()
    if ensure_instance_config(instance, demo=demo is not False):
        click.echo(f"created {instance / 'config.toml'} with a new secret key")
    app = load_app()

    database = get_db(app)
    migrate.upgrade(database.engine)
    click.echo(f"database schema is up to date ({database.dialect})")
    with app.app_context(), database.session() as session:
        domain = app.config["MAIL_DOMAINS"][0] if app.config["MAIL_DOMAINS"] else "example.com"
        seed_reference_data(session, mail_domain=domain)
        departments = session.scalars(select(Department).order_by(Department.id))
        click.echo(  # a new user's first question: where do I send mail to try it?
            "mail addresses: "
            + ", ".join(f"{d.email_address} ({d.name})" for d in departments)
            + f"; general: {app.config['MAIL_GENERAL_ADDRESS']}"
        )
        sign_in = name_hint = lost_password = ""
        new_desk = not session.scalar(
            select(func.count()).select_from(User).where(User.role == "admin")
        )
        if new_desk:
            _user, chosen = create_user(
                session,
                email=admin_email,
                name=admin_name.strip() or UNNAMED_ADMIN,
                password=password,
                role="admin",
            )
            click.echo(f"admin account: {admin_email}")
            if not admin_name.strip():
                name_hint = "; set your name there too: it signs your replies"
            if password is None:
                click.echo(f"admin password (shown once): {chosen}")
            # Said again last: the demo's log lines pushed the password out of a terminal's view.
            sign_in = f"sign in as {admin_email} with " + (
                "the password you chose" if password is not None else f"the password {chosen}"
            )
        else:  # run again (start.sh does, each time): the password was shown once, long ago
            admins = session.scalars(
                select(User.email).where(User.role == "admin", User.is_active.is_(True))
            ).all()
            if admins:
                lost_password = (
                    f"staff pages: administrators {', '.join(admins[:3])} (a lost password:"
                    f" `{command_line()} set-password {admins[0]}` sets a new one)"
                )

    with app.app_context():
        if ensure_model(app):
            click.echo("trained the bootstrap classifier")
        # Not on a desk already set up: `init --no-demo` and then ./start.sh (its plain
        # `support init`) put the demo's tickets and FAQ into the company's real desk.
        if demo if demo is not None else new_desk:
            for line in load_demo_content(app):
                click.echo(line)
        else:
            click.echo(f"search index: {index_sync.ensure_index(app)} articles indexed")
    _index_missing_tickets(app)
    database.dispose()
    # Not "ready": nothing listens yet. `support run` says "ready:" once its ports answer.
    base = public_base_url(app.config)
    if not then_run:
        click.echo(
            f"next: `{command_line()} run` starts the FAQ portal at {base}/,"
            f" the staff pages at {base}/staff/"
            f" and the SMTP intake at {app.config['SMTP_HOST']}:{app.config['SMTP_PORT']},"
            " and says when they are ready"
        )
    if sign_in:
        click.echo(f"staff pages: {sign_in} (change it on your account page{name_hint})")
    elif lost_password:
        click.echo(lost_password)


@cli.command()
@with_ready_app
def run(app: Flask) -> None:
    """Serve the portal, SMTP intake, worker and periodic checks in one process."""
    from mailrouter.intake.smtp import SmtpIntakeService
    from support import app as application

    services = application.services(app)

    def say_ready() -> None:
        smtp = [s.listening() for s in services if isinstance(s, SmtpIntakeService)]
        click.echo(ready_line([*_portal_at(app), *smtp]))
        hint = first_sign_in_hint(app)
        if hint:
            click.echo(hint)

    run_services(services, on_ready=say_ready)


def first_sign_in_hint(app: Flask) -> str | None:
    """Who signs in first, said under "ready:" while no administrator ever has: on a new
    desk the password `support init` printed has scrolled away behind `run`'s log lines."""
    from sqlalchemy import select

    from support.desk.models import User

    with get_db(app).session() as session:
        admins = session.scalars(
            select(User.email).where(User.role == "admin", User.is_active.is_(True))
        ).all()
        signed_in = session.scalar(
            select(User.id).where(User.role == "admin", User.last_login_at.is_not(None)).limit(1)
        )
    if not admins or signed_in is not None:
        return None
    return (
        f"staff pages: sign in as {admins[0]} with the password `support init` printed above"
        f" (a new one: `{command_line()} set-password {admins[0]}`)"
    )


def _portal_at(app: Flask) -> list[str]:
    """Where the portal and staff pages answer, for the "ready:" line (a new user tries the
    portal at once): the public address links are made of (PUBLIC_BASE_URL)."""
    base = public_base_url(app.config)
    return [f"the FAQ portal at {base}/", f"the staff pages at {base}/staff/"]


@cli.command()
@with_ready_app
def web(app: Flask) -> None:
    """Serve the portal and staff pages only (HTTP_HOST:HTTP_PORT), e.g. behind nginx."""
    from support import app as application

    run_services(
        application.web_services(app), on_ready=lambda: click.echo(ready_line(_portal_at(app)))
    )


@cli.command()
@with_ready_app
def periodic(app: Flask) -> None:
    """Run the background jobs only: outbox, SLA checks, retraining, purges.

    Safe on every host: each job runs in one process at a time across all of them (leases).
    """
    from support import app as application

    run_services(application.periodic_services(app))


@cli.command()
@with_app
def leases(app: Flask) -> None:
    """Which process (host:pid) runs each periodic job, until when, and when it last ran."""

    found = lease_holders(get_db(app))
    if not found:
        click.echo("no periodic job has run yet")
    now = utcnow()
    for name, (holder, expires_at, last_run_at) in sorted(found.items()):
        state = "held" if expires_at > now else "free (its holder stopped or died)"
        last = last_run_at.isoformat(timespec="seconds") if last_run_at else "never"
        click.echo(f"{name}: {holder}, {state} until {expires_at:%H:%M:%S} UTC, last run {last}")


def _refuse_a_later_schema(app: Flask) -> None:
    from support import migrate

    later = migrate.later_revisions(get_db(app).engine)
    if later:
        raise StartupError(
            f"the database schema ({', '.join(later)}) is newer than this release: install the "
            "release the other hosts run (docs/deploy.md, Upgrades)"
        )


def _check_ready(app: Flask) -> None:
    """What every serving command needs first: the schema of this release, and a model."""
    from mailrouter.routing.training import ensure_model
    from support import migrate

    _refuse_a_later_schema(app)
    if migrate.pending_heads(get_db(app).engine):
        raise StartupError(
            f"the database schema is not up to date: run `{command_line()} db upgrade`"
        )
    ensure_model(app)


#: Fewest characters of a password given on the command line, as on the users page.
MIN_PASSWORD_CHARS = 10


def _check_password_length(password: str | None) -> None:
    if password is not None and len(password) < MIN_PASSWORD_CHARS:
        raise click.ClickException(f"a password needs at least {MIN_PASSWORD_CHARS} characters")


@cli.command("create-user")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["agent", "lead", "admin"]), default="agent")
@click.option("--department", "departments", multiple=True, help="Department code (repeatable).")
@click.option("--triage/--no-triage", default=False, help="May work the triage inbox.")
@click.option("--password", help="Password (generated and printed if omitted).")
@click.option(
    "--language",
    type=click.Choice(OWN_LANGUAGES),
    help="Language of their pages and mail (default: the browser's for pages, and for mail the "
    "language of the page they last opened; DEFAULT_LANGUAGE before their first).",
)
@with_app
def create_user_command(
    app: Flask,
    email: str,
    name: str,
    role: str,
    departments: tuple[str, ...],
    triage: bool,
    password: str | None,
    language: str | None,
) -> None:
    """Create a staff account."""
    from support.desk.seed import create_user

    _check_password_length(password)
    try:
        with get_db(app).session() as session:
            user, chosen = create_user(
                session,
                email=email,
                name=name,
                password=password,
                role=role,
                department_codes=departments,
                can_triage=triage,
                language=language,
            )
    except ValueError as exc:
        hint = ""
        if "exists already" in str(exc):
            hint = (
                f" (a new password for it: `{command_line()} set-password {email.strip().lower()}`)"
            )
        raise click.ClickException(f"{exc}{hint}") from None
    click.echo(f"created {role} {user.email}")
    if password is None:
        click.echo(f"password (shown once): {chosen}")
    if role != "admin" and not departments:  # access.visible_department_ids: their inbox is empty
        click.echo(
            f"note: {user.email} works no department's inbox, only tickets given to them"
            f"{' and triage' if user.can_triage else ''}: add --department CODE when creating"
            " an account, or tick departments on the staff Users page"
        )


@cli.command("set-password")
@click.argument("email")
@click.option("--password", help="The new password (generated and printed if omitted).")
@with_app
def set_password_command(app: Flask, email: str, password: str | None) -> None:
    """Give a staff account a new password: for the one admin who lost the password that
    `support init` printed once (other accounts' are set on the users page). Ends the account's
    sessions and API token, and its failed sign-ins no longer count."""
    from sqlalchemy import select

    from support.auth import forget_login_failures, set_password
    from support.desk.models import User

    _check_password_length(password)
    address = email.strip().lower()
    chosen = password or secrets.token_urlsafe(12)
    with get_db(app).session() as session:
        user = session.scalar(select(User).where(User.email == address))
        if user is None:
            raise click.ClickException(
                f"no staff account has the address {address}"
                f" (`{command_line()} create-user` makes one)"
            )
        set_password(user, chosen)
        forget_login_failures(session, address)
    click.echo(f"new password set for {address}; its sessions are signed out")
    if password is None:
        click.echo(f"password (shown once): {chosen}")


@cli.group()
def db() -> None:
    """Database schema and backups."""


@db.command("upgrade")
@with_app
def db_upgrade(app: Flask) -> None:
    """Apply all migrations."""
    from support import migrate

    _refuse_a_later_schema(app)
    migrate.upgrade(get_db(app).engine)
    click.echo("database schema is up to date")
    _index_missing_tickets(app)


def _index_missing_tickets(app: Flask) -> None:
    """Tickets without a search row get one: those written before the search index existed
    (migration 0010), and tagged ones whose row predates the tags' words (migration 0020)."""
    from support.desk import search

    with app.app_context(), get_db(app).session() as session:
        indexed = search.reindex_all(session, missing_only=True)
    if indexed:
        click.echo(f"ticket search: {indexed} tickets indexed")


@db.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_app
def db_backup(app: Flask, file: Path) -> None:
    """Copy the SQLite database to FILE, safely while the desk runs (PostgreSQL: pg_dump)."""

    database = get_db(app)
    if database.dialect != "sqlite":
        raise click.ClickException(
            f"the database is {database.dialect}: back it up with pg_dump (docs/deploy.md, Backups)"
        )
    database.backup_sqlite(file)
    click.echo(
        f"copied the database to {file}; keep {Path(app.instance_path) / 'config.toml'} with it"
        " (its secret key signs the links in mail already sent)"
    )


@db.command("revision")
@click.option("-m", "--message", required=True)
@with_app
def db_revision(app: Flask, message: str) -> None:
    """(Developers) autogenerate a migration from the models."""
    from support import migrate

    migrate.make_revision(get_db(app).engine, message)


@cli.command("config-table")
def config_table() -> None:
    """Print the configuration table (Markdown) for the README."""
    from support import app as application

    click.echo(settings_table_markdown(application.SETTINGS))


def main() -> None:
    """The `support` console script (and `python -m support`)."""
    try:
        cli(prog_name="support")
    except SystemExit as exc:
        if exc.code in (0, None) and services_stopped():
            end_process(0)  # a serving command stopped cleanly (SIGTERM): no teardown
        raise
