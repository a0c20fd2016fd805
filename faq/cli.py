"""`support faq ...` commands."""

import click

COMMANDS: list[click.Command] = []
