"""scripts/venv.sh, which ./start.sh and ./test.sh source first: a first install says what it is
doing before pip runs (minutes on a busy machine, silent before), and a later start says nothing."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _checkout(tmp_path: Path) -> Path:
    """A copy of the script beside a pyproject.toml, with a stand-in for the venv's python
    that writes down how it was called instead of installing anything."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "venv.sh", tmp_path / "scripts" / "venv.sh")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\necho "$@" >> "{tmp_path}/calls"\n')
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    return tmp_path


def _source(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", 'source scripts/venv.sh ""'],
        cwd=root,
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def test_a_first_install_says_what_it_does_before_pip_runs(tmp_path: Path) -> None:
    root = _checkout(tmp_path)

    first = _source(root)

    assert "installing the project and its packages into .venv" in first.stderr
    assert "install --quiet -e" in (root / "calls").read_text()
    again = _source(root)  # installed, pyproject.toml unchanged: nothing to say or do
    assert again.stderr == ""
    assert (root / "calls").read_text().count("install --quiet -e") == 1
