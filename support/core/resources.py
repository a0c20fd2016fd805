"""Where the shipped templates are, in a source checkout and in an installed wheel.

The design keeps every template in the top-level ``templates/`` folder (one folder per feature).
The wheel ships that folder as ``support/templates/`` (see ``pyproject.toml``), so both layouts
are looked up here and nowhere else.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


@cache
def templates_dir() -> Path:
    installed = _PACKAGE_DIR / "templates"
    if installed.is_dir():
        return installed
    return _PACKAGE_DIR.parent / "templates"


def static_dir() -> Path:
    return templates_dir() / "static"
