"""What every feature's click commands share: the app they run against.

The `support` command (``support.cli``) puts an ``AppLoader`` in the click context; a feature
command decorated with ``with_app`` builds the app from it on first use, so ``--help`` works
without any configuration and no feature module imports the shell's CLI. A caller may also hand
a ready app in as the context object (``CliRunner().invoke(group, args, obj=app)``).

Commands that serve (listeners, workers, periodic jobs) use ``with_ready_app``: they refuse to
start while the database schema is behind the code, as after installing a release before
`support db upgrade` (a worker would fail every message into quarantine meanwhile).
"""

from __future__ import annotations

import shlex
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any

import click
from flask import Flask

from support.core.db import get_db


def _no_check(_app: Flask) -> None:
    return None


@dataclass
class AppLoader:
    """Builds the app for a command; ``support.cli`` sets it with the instance folder chosen."""

    build: Callable[[], Flask]
    #: Raises (StartupError) when the app may not serve yet; the shell supplies it because it
    #: owns the migrations.
    check_ready: Callable[[Flask], None] = _no_check


def _with_app(function: Callable[..., Any], *, ready: bool) -> Callable[..., Any]:
    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        given = ctx.find_object(Flask)
        if given is not None:
            with given.app_context():
                return function(given, *args, **kwargs)
        loader = ctx.find_object(AppLoader)
        if loader is None:
            raise click.UsageError("this command runs under the `support` command")
        app = loader.build()
        try:
            with app.app_context():
                if ready:
                    loader.check_ready(app)
                return function(app, *args, **kwargs)
        finally:
            get_db(app).dispose()

    return wrapper


def with_app(function: Callable[..., Any]) -> Callable[..., Any]:
    """Pass the app as the first argument and run the command inside its app context."""
    return _with_app(function, ready=False)


def with_ready_app(function: Callable[..., Any]) -> Callable[..., Any]:
    """As ``with_app``, for commands that serve: first check that the app may run (schema)."""
    return _with_app(function, ready=True)


def command_line(*, absolute: bool = False, instance: str | Path | None = None) -> str:
    """This installation's `support` command as a person can type it, for printed hints.

    `support` where PATH finds this installation's console script. ./start.sh installs into
    .venv/ and puts nothing on PATH ("support set-password ..." answered "command not found"):
    then the script's path, from the working directory (`.venv/bin/support`) unless `absolute`
    (a page is read by someone whose shell may be anywhere); `python -m support` without it.

    With the instance folder the command was given (`--instance`, or SUPPORT_INSTANCE_PATH,
    which the reader's shell may not have), or the one passed in: a hint without it, copied
    as printed, ran against ./instance, another desk or none.
    """
    command = _script(absolute=absolute)
    folder = instance if instance is not None else _instance_given()
    if folder is None:
        return command
    return f"{command} --instance {shlex.quote(str(folder))}"


def _instance_given() -> str | Path | None:
    """The `--instance` of the running `support` command, if one was given."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return None
    given = ctx.find_root().params.get("instance")
    return given if isinstance(given, (str, Path)) else None


def _script(*, absolute: bool) -> str:
    bin_dir = Path(sys.executable).parent
    script = bin_dir / "support"
    if not script.is_file():
        return f"{bin_dir / Path(sys.executable).name} -m support"
    found = shutil.which("support")
    if found is not None and Path(found).resolve() == script.resolve():
        return "support"
    if not absolute:
        try:
            return str(script.relative_to(Path.cwd()))
        except ValueError:
            pass
    return str(script)
