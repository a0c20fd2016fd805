"""docs/deploy.md's systemd units run commands that exist, with options that exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click

from support.cli import cli

DEPLOY = Path(__file__).resolve().parents[1] / "docs" / "deploy.md"


def _unit_commands() -> list[list[str]]:
    """The `support ...` command of each unit: the template's ExecStart and the table's."""
    text = DEPLOY.read_text("utf-8")
    found = [
        shlex.split(line.split("/bin/support", 1)[1])
        for line in text.splitlines()
        if line.startswith("ExecStart=")
    ]
    for row in re.findall(r"^\| `support-[\w-]+\.service`[^|]*\| `support ([^`]+)`", text, re.M):
        found.append(shlex.split(row))
    return found


def test_every_unit_runs_a_command_of_support_help() -> None:
    commands = _unit_commands()
    assert len(commands) >= 6, commands  # the template and the five units of the table
    context = click.Context(cli)
    for words in commands:
        name, *options = words
        command = cli.get_command(context, name)
        assert command is not None, f"`support {name}` is not a command (docs/deploy.md)"
        known = {opt for param in command.params for opt in param.opts}
        for word in options:
            if word.startswith("-"):
                assert word in known, f"`support {name}` has no option {word}"
