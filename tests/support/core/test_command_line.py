"""The `support` command as a person can type it, in the hints the desk prints.

./start.sh installs into .venv/ and puts nothing on PATH, so init's last line, "a lost
password: `support set-password admin@example.com` sets a new one", answered "support: command
not found" when typed as printed (as did `support run`, create-user's hint and the admin page's
"give them a password now with: support set-password ...")."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from support.core.commands import command_line


@pytest.fixture
def venv(tmp_path: Path, monkeypatch) -> Path:
    """A checkout with .venv/bin/python and .venv/bin/support, the shell in the checkout."""
    bin_dir = tmp_path / "checkout" / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("python", "support"):
        (bin_dir / name).write_text("#!/bin/sh\n")
        (bin_dir / name).chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(bin_dir / "python"))
    monkeypatch.chdir(tmp_path / "checkout")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    return bin_dir


def test_a_script_not_on_path_is_given_by_its_path_from_the_working_directory(venv) -> None:
    assert command_line() == ".venv/bin/support"


def test_a_page_gives_the_whole_path(venv) -> None:
    # A page is read by someone whose shell may be anywhere.
    assert command_line(absolute=True) == str(venv / "support")


def test_outside_the_checkout_the_whole_path(venv, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert command_line() == str(venv / "support")


def test_the_plain_name_where_path_finds_this_installation(venv, monkeypatch) -> None:
    monkeypatch.setenv("PATH", f"{venv}:/usr/bin:/bin")
    assert command_line() == "support"
    assert command_line(absolute=True) == "support"


def test_another_installation_on_path_is_not_this_one(venv, tmp_path: Path, monkeypatch) -> None:
    other = tmp_path / "other-bin"
    other.mkdir()
    (other / "support").write_text("#!/bin/sh\n")
    (other / "support").chmod(0o755)
    monkeypatch.setenv("PATH", f"{other}:/usr/bin:/bin")
    assert command_line() == ".venv/bin/support"


def test_without_the_console_script_python_m(venv) -> None:
    (venv / "support").unlink()
    assert command_line() == f"{venv / 'python'} -m support"


def test_the_instance_folder_the_command_was_given_goes_with_it(venv, tmp_path: Path) -> None:
    # `support --instance /srv/support/instance init` printed "next: `.venv/bin/support run`":
    # typed as printed, that ran against ./instance (another desk, or a new empty one).
    @click.command()
    @click.option("--instance")
    def shell(instance: str | None) -> None:
        click.echo(command_line())

    runner = CliRunner()
    assert runner.invoke(shell, []).output.strip() == ".venv/bin/support"
    given = runner.invoke(shell, ["--instance", "/srv/support/my instance"])
    assert given.output.strip() == ".venv/bin/support --instance '/srv/support/my instance'"

    # From the environment (a systemd unit's SUPPORT_INSTANCE_PATH), which the shell that
    # reads the hint has not.
    @click.command()
    @click.option("--instance", envvar="SUPPORT_INSTANCE_PATH")
    def unit(instance: str | None) -> None:
        click.echo(command_line())

    from_env = runner.invoke(unit, [], env={"SUPPORT_INSTANCE_PATH": "/srv/support/instance"})
    assert from_env.output.strip() == ".venv/bin/support --instance /srv/support/instance"


def test_a_page_names_its_desks_instance_folder(venv) -> None:
    assert command_line(absolute=True, instance="/srv/support/instance") == (
        f"{venv / 'support'} --instance /srv/support/instance"
    )
