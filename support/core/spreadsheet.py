"""CSV cells that a spreadsheet opens as text, never as a formula (CSV injection).

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to
Excel and LibreOffice (``=HYPERLINK(...)`` links anywhere; older versions ran commands). Words
customers chose reach our exports: names and subjects in the reports, phrasings the FAQ learnt
from their searches in the FAQ export. Such a cell is written with a leading apostrophe, which
the spreadsheet shows as text; `read_cell` takes it off again, so an export imports as it was.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _is_formula_like(text: str) -> bool:
    # Apostrophes skipped: "'=x" is written "''=x" and read back as "'=x".
    return text.lstrip("'")[:1] in FORMULA_STARTS


def safe_cell(value: Any) -> Any:
    """A value as written into a CSV cell (None: empty)."""
    if value is None:
        return ""
    if isinstance(value, str) and _is_formula_like(value):
        return "'" + value
    return value


def read_cell(text: str) -> str:
    """A cell's text as `safe_cell` was given it."""
    if text.startswith("'") and _is_formula_like(text):
        return text[1:]
    return text
