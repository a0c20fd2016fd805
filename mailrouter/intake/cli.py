"""Intake commands (`support smtp`, `support worker`, `support imap-poll`, `support quarantine`)
and the intake's services for `support run`."""

from __future__ import annotations

import click
from flask import Flask

from support.core.commands import with_app, with_ready_app
from support.core.db import get_db
from support.core.runner import Service, ready_line, run_services

# The listeners, the worker (and through it the classifier) and the queue are imported by the
# commands that use them: `support --help` shows this module's help texts.


def services(app: Flask) -> list[Service]:
    """For `support run`, in start order: the worker first, the listeners that fill it last
    (so on shutdown they stop taking mail before the worker stops)."""
    from mailrouter.intake.imap import ImapPollerService
    from mailrouter.intake.smtp import SmtpIntakeService
    from mailrouter.intake.worker import WorkerService

    found: list[Service] = [WorkerService(app)]
    if app.config["MAIL_IMAP_MAILBOXES"]:
        found.append(ImapPollerService(app))
    found.append(SmtpIntakeService.for_app(app))
    return found


@click.command("smtp")
@with_ready_app
def smtp_command(app: Flask) -> None:
    """Receive mail over SMTP (SMTP_HOST:SMTP_PORT) into the intake queue."""
    from mailrouter.intake.smtp import SmtpIntakeService

    service = SmtpIntakeService.for_app(app)
    run_services([service], on_ready=lambda: click.echo(ready_line([service.listening()])))


@click.command("worker")
@click.option("--threads", default=1, show_default=True, help="Worker threads in this process.")
@click.option("--until-idle", is_flag=True, help="Process what is due, then exit.")
@with_ready_app
def worker_command(app: Flask, threads: int, until_idle: bool) -> None:
    """Turn queued mail into tickets. Run as many as you like, also on several hosts."""
    from mailrouter.intake.worker import Worker, WorkerService

    if until_idle:
        worker = Worker(app)
        try:
            count = worker.run_until_idle()
        finally:
            worker.close()
        click.echo(f"processed {count} message(s)")
        return
    run_services([WorkerService(app, threads=threads)])


@click.command("imap-poll")
@click.option("--once", is_flag=True, help="Read each mailbox once, then exit.")
@with_ready_app
def imap_poll_command(app: Flask, once: bool) -> None:
    """Read the MAIL_IMAP_MAILBOXES into the intake queue (IDLE where the server offers it)."""
    from mailrouter.intake.imap import ImapPollerService

    service = ImapPollerService(app)
    if not service.pollers:
        raise click.ClickException("no MAIL_IMAP_MAILBOXES configured")
    if once:
        for poller in service.pollers:
            stored = poller.poll_if_free()
            if stored is None:
                click.echo(f"{poller.mailbox.key}: another process reads this mailbox; skipped")
            else:
                click.echo(f"{poller.mailbox.key}: {stored} new message(s)")
        return
    run_services([service])


@click.group("quarantine")
def quarantine_group() -> None:
    """Mail the worker could not process, and automatic mail that belongs to no ticket."""


@quarantine_group.command("list")
@with_app
def quarantine_list(app: Flask) -> None:
    """List quarantined and set-aside mail, and the queue's counts."""
    from mailrouter.intake import queue

    with get_db(app).sessionmaker() as session:
        counts = queue.queue_counts(session)
        click.echo(
            "queue: " + (", ".join(f"{s} {n}" for s, n in sorted(counts.items())) or "empty")
        )
        rows = queue.quarantined(session)
        click.echo(f"quarantined: {len(rows)}")
        for row in rows:
            error = (row.last_error or "").strip().splitlines()
            click.echo(
                f"  {row.id}\t{row.received_at:%Y-%m-%d %H:%M}\t{row.envelope_from or '<>'}\t"
                f"{row.attempts} attempts\t{error[-1] if error else ''}"
            )
        aside = queue.set_aside(session)
        click.echo(f"automatic mail without a ticket: {len(aside)}")
        for row in aside:
            reason = (row.meta or {}).get("detail", "")
            click.echo(
                f"  {row.id}\t{row.received_at:%Y-%m-%d %H:%M}\t{row.envelope_from}\t{reason}"
            )


@quarantine_group.command("show")
@click.argument("inbound_id", type=int)
@click.option("--raw", "show_raw", is_flag=True, help="Print the message exactly as received.")
@with_app
def quarantine_show(app: Flask, inbound_id: int, show_raw: bool) -> None:
    """Show one message's state, error and (with --raw) bytes."""
    from mailrouter.models import InboundMail

    with get_db(app).sessionmaker() as session:
        row = session.get(InboundMail, inbound_id)
        if row is None:
            raise click.ClickException(f"no inbound mail {inbound_id}")
        if show_raw:
            click.echo(row.raw.decode("utf-8", "replace"), nl=False)
            return
        for label, value in (
            ("id", row.id),
            ("state", row.state),
            ("channel", row.channel),
            ("received", row.received_at.isoformat()),
            ("from", row.envelope_from or "<>"),
            ("to", ", ".join(row.envelope_to)),
            ("message-id", row.header_message_id or ""),
            ("size", row.size),
            ("attempts", row.attempts),
            ("ticket", row.ticket_id or ""),
            ("outcome", (row.meta or {}).get("outcome", "")),
        ):
            click.echo(f"{label}: {value}")
        if row.last_error:
            click.echo("error:\n" + row.last_error)


@quarantine_group.command("replay")
@click.argument("inbound_id", type=int)
@click.option(
    "--as-ticket", is_flag=True, help="Make a ticket even of automatic mail (set-aside mail)."
)
@with_app
def quarantine_replay(app: Flask, inbound_id: int, as_ticket: bool) -> None:
    """Queue a message again; the worker takes it with a fresh attempt budget."""
    from mailrouter.intake import queue

    try:
        with get_db(app).session() as session:
            queue.replay(session, inbound_id, actor_label="cli", as_ticket=as_ticket)
    except (LookupError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"inbound mail {inbound_id} queued again")


COMMANDS: list[click.Command] = [
    smtp_command,
    worker_command,
    imap_poll_command,
    quarantine_group,
]
