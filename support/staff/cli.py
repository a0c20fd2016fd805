"""Staff-side commands: `support sla-check`, `support create-api-token`, `support report`,
`support customer set-tier|import|export|erase`, `support purge`."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from support.core.atomic_files import write_atomically
from support.core.commands import with_app
from support.core.db import get_db, utcnow
from support.desk.models import CUSTOMER_TIERS, Customer, Department, User

# Reports, privacy, retention and SLA checks are imported by the commands that use them:
# `support --help` shows this module's help texts.


@click.command("sla-check")
@click.option(
    "--now",
    "now_text",
    metavar="ISO-TIME",
    help="Pretend it is this moment (timezone-aware ISO 8601), e.g. to test a calendar.",
)
@with_app
def sla_check(app: Flask, now_text: str | None) -> None:
    """Warn about tickets nearing their response target and escalate breaches (once each)."""
    from support.desk.sla import run_check

    now = None
    if now_text:
        now = datetime.fromisoformat(now_text)
        if now.tzinfo is None:
            raise click.BadParameter(
                "give a time zone, e.g. 2026-05-04T09:00+08:00", param_hint="--now"
            )
    report = run_check(app, now)
    click.echo(f"response targets: {report.summary()}")


@click.command("create-api-token")
@click.argument("email")
@with_app
def create_api_token(app: Flask, email: str) -> None:
    """Create (or replace) the API token of a staff account; it is shown once."""
    from support.auth import issue_api_token

    with get_db(app).session() as session:
        user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
        if user is None or not user.is_active:
            raise click.ClickException(f"no active staff account {email}")
        token = issue_api_token(session, user, actor_label="cli")
    click.echo(f"API token for {user.email} (shown once; the previous token no longer works):")
    click.echo(token)


@click.command("report")
@click.option(
    "--start", type=click.DateTime(["%Y-%m-%d"]), help="First day (default: 30 days ago)."
)
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), help="Last day (default: today).")
@click.option(
    "--section",
    type=click.Choice(["first_response", "backlog", "volume", "satisfaction", "deflection"]),
    default="first_response",
    show_default=True,
)
@click.option("--department", "codes", multiple=True, help="Department code (repeatable).")
@with_app
def report(
    app: Flask,
    start: datetime | None,
    end: datetime | None,
    section: str,
    codes: tuple[str, ...],
) -> None:
    """Print one report section as CSV (the same figures as the reports page)."""
    from support.staff.reports import Period, build_report, csv_rows, to_csv

    zone = ZoneInfo(app.config["COMPANY_TIMEZONE"])
    today: date = utcnow().astimezone(zone).date()
    period = Period.from_dates(
        start.date() if start else None, end.date() if end else None, zone, today
    )
    with get_db(app).session() as session:
        query = select(Department).order_by(Department.name)
        if codes:
            query = query.where(Department.code.in_(codes))
        departments = list(session.scalars(query))
        if codes and len(departments) != len(set(codes)):
            raise click.ClickException("unknown department code")
        built = build_report(session, departments, period, utcnow())
        click.echo(to_csv(csv_rows(built, section)), nl=False)


COMMANDS: list[click.Command] = [sla_check, create_api_token, report]


# --- customers: tiers, imports and their personal data (support.desk.privacy) --------------------


@click.group("customer")
def customer() -> None:
    """Customers: tiers (key accounts), imports, and their personal data (export, erase)."""


def _customer_or_fail(session: Session, email: str) -> Customer:
    from support.desk import privacy

    found = privacy.find_customer(session, email)
    if found is None:
        raise click.ClickException(f"no customer with the address {email}")
    return found


@customer.command("set-tier")
@click.argument("email")
@click.argument("tier", type=click.Choice(CUSTOMER_TIERS, case_sensitive=False))
@with_app
def customer_set_tier(app: Flask, email: str, tier: str) -> None:
    """Make a customer a key account (key, vip) or a standard one; open tickets get the
    tier's response targets (SLA_TIER_TARGETS)."""
    from support.desk.customers import customer_by_address, set_tier

    with get_db(app).session() as session:
        found = customer_by_address(session, email)
        if found is None:
            raise click.ClickException(f"no customer with the address {email!r}")
        recomputed = set_tier(session, found, tier, app.config)
        click.echo(f"{found.email}: tier {found.tier}; {recomputed} open ticket(s) recomputed")


@customer.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_app
def customer_import(app: Flask, csv_file: Path) -> None:
    """Create or update customers from a CSV with the columns email, name, company, tier,
    language (only email is required; empty cells change nothing)."""
    from support.desk.customers import CustomerError, import_customers

    with csv_file.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if "email" not in (reader.fieldnames or []):
            raise click.ClickException("the CSV needs an 'email' column")
        try:
            with get_db(app).session() as session:
                result = import_customers(session, reader, app.config)
        except (CustomerError, csv.Error, UnicodeDecodeError) as exc:
            raise click.ClickException(f"{csv_file}: {exc}") from exc
    for error in result.errors[:50]:
        click.echo(error, err=True)
    click.echo(f"{result.created} created, {result.updated} updated, {len(result.errors)} skipped")


@customer.command("export")
@click.argument("email")
@click.option(
    "--output", type=click.Path(dir_okay=False, writable=True), help="Write to FILE, not stdout."
)
@click.option("--raw", is_flag=True, help="Include the raw mail bytes (base64).")
@with_app
def customer_export(app: Flask, email: str, output: str | None, raw: bool) -> None:
    """Everything stored about the customer with EMAIL, as JSON."""
    from support.desk import privacy

    with get_db(app).read_session() as session:
        found = _customer_or_fail(session, email)
        text = privacy.export_json(
            privacy.export_customer(session, found, privacy.parts_of(app), include_raw=raw)
        )
    if output:
        # Readable by its owner only (as `faq export`'s file): it holds the customer's mail.
        write_atomically(output, (text + "\n").encode("utf-8"))
        click.echo(f"exported {email} to {output}", err=True)
    else:
        click.echo(text)


@customer.command("erase")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_app
def customer_erase(app: Flask, email: str, yes: bool) -> None:
    """Erase the personal data of the customer with EMAIL (statistics stay, under a pseudonym)."""
    from support.desk import privacy

    if not yes:
        click.confirm(
            f"Erase every message, address and name of {email}? This cannot be undone", abort=True
        )
    with get_db(app).session() as session:
        found = _customer_or_fail(session, email)
        counts = privacy.erase_customer(
            session,
            found,
            privacy.parts_of(app),
            instance_path=app.instance_path,
            actor_label="cli",
        )
        customer_id = found.id
    summary = ", ".join(f"{key} {value}" for key, value in sorted(counts.items()) if value)
    click.echo(f"customer {customer_id} erased ({summary or 'nothing else stored'})")


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
@with_app
def purge(app: Flask, dry_run: bool) -> None:
    """Apply the retention limits (RETENTION_*): drop old raw mail, anonymise old tickets."""
    from support.desk import retention

    report = retention.purge(app, dry_run=dry_run)
    for line in report.lines():
        click.echo(line)
    if dry_run and report.total():
        click.echo("(dry run: nothing was changed)")


COMMANDS += [customer, purge]
