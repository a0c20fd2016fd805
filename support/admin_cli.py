"""Staff-side commands: `support sla-check`, ..."""

import click

COMMANDS: list[click.Command] = []
