"""The `support` command as a person can type it, in the hints the desk prints.

./start.sh installs into .venv/ and puts nothing on PATH, so init's last line, "a lost
password: `support set-password admin@example.com` sets a new one", answered "support: command
not found" when typed as printed (as did `support run`, create-user's hint and the admin page's
"give them a password now with: support set-password ...")."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

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
