"""`support spam train|purge|check`: retrain the filter on staff decisions, purge old held
spam now, and show the verdict on one mail (with the words that decided it)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from support.core.commands import with_app
from support.core.db import get_db


@click.group("spam")
def spam_group() -> None:
    """The spam filter."""


@spam_group.command("train")
@click.option("--force", is_flag=True, help="Retrain even when no decision is new.")
@with_app
def train_command(app: Flask, force: bool) -> None:
    """Rebuild the install's model: the shipped one plus staff's spam / not-spam decisions."""
    from mailrouter.spam import learning

    result = learning.retrain(get_db(app), app.config, app.instance_path, force=force)
    click.echo(result.message)


@spam_group.command("purge")
@with_app
def purge_command(app: Flask) -> None:
    """Delete held spam past SPAM_KEEP_DAYS / SPAM_CERTAIN_KEEP_DAYS now."""
    from mailrouter.spam import learning

    with get_db(app).session() as session:
        count = learning.purge_held_spam(session, app.config)
    click.echo(f"{count} held spam mails deleted")


@spam_group.command("check")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--no-spamd", is_flag=True, help="Do not ask spamd even when SPAMD_ADDRESS is set.")
@with_app
def check_command(app: Flask, path: Path, no_spamd: bool) -> None:
    """The verdict on one .eml file, as the worker would judge it."""
    from mailrouter.parsing import parse_message
    from mailrouter.spam import verdict

    raw = path.read_bytes()
    result = verdict.judge(
        raw, parse_message(raw), app.config, instance_path=app.instance_path, ask_spamd=not no_spamd
    )
    click.echo(f"{result.level} (score {result.score}, {result.source})")
    for reason in result.reasons:
        click.echo(f"  {reason}")
    if result.sender_unverified:
        click.echo(f"unverified sender: {result.sender_unverified}")


COMMANDS: list[click.Command] = [spam_group]
