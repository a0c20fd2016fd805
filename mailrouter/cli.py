"""Mail commands: `support smtp`, `support worker`, `support imap-poll`, `support train`, ..."""

import click

COMMANDS: list[click.Command] = []
