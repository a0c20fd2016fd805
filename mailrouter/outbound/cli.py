"""`support outbox ...`: look at, retry and send outgoing mail from the command line."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import select

from support.core.commands import with_app
from support.core.db import get_db
from support.desk.models import OUTBOUND_STATES, OutboundMail


@click.group("outbox")
def outbox() -> None:
    """Outgoing mail: list, retry failed mail, send what is due."""


@outbox.command("list")
@click.option("--state", type=click.Choice(OUTBOUND_STATES), help="Only mail in this state.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@with_app
def list_command(app: Flask, state: str | None, limit: int) -> None:
    """Show the newest outgoing mail, with the reason for failures."""

    with get_db(app).sessionmaker() as session:
        query = select(OutboundMail).order_by(OutboundMail.id.desc()).limit(limit)
        if state:
            query = query.where(OutboundMail.state == state)
        rows = session.scalars(query).all()
        if not rows:
            click.echo("no outgoing mail")
        for mail in rows:
            click.echo(
                f"{mail.id:>6}  {mail.state:<8} {mail.kind:<12} "
                f"{mail.created_at:%Y-%m-%d %H:%M}  {', '.join(mail.recipients)}  {mail.subject}"
            )
            if mail.last_error and mail.state in ("failed", "pending"):
                click.echo(f"        {mail.last_error}")


@outbox.command("retry")
@click.argument("mail_id", type=int)
@with_app
def retry_command(app: Flask, mail_id: int) -> None:
    """Queue a failed mail again (it is sent by the running service or `outbox send`)."""
    from support.desk.outbox import retry_mail

    with get_db(app).session() as session:
        mail = session.get(OutboundMail, mail_id)
        if mail is None:
            raise click.ClickException(f"no outgoing mail {mail_id}")
        try:
            retry_mail(session, mail)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"mail {mail_id} queued again")


@outbox.command("send")
@with_app
def send_command(app: Flask) -> None:
    """Send every mail that is due now, once (what `support run` does every second)."""
    from mailrouter.outbound.sender import OutboxSender

    report = OutboxSender.for_app(app).run_once()
    click.echo(f"sent {report.sent}, will retry {report.retrying}, failed {report.failed}")
    for error in report.errors:
        click.echo(f"  {error}", err=True)


COMMANDS: list[click.Command] = [outbox]
