"""Demo content for `support init`: a living system for a newcomer to look at."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Flask


def load_demo_content(app: Flask) -> Iterator[str]:
    """Load the demo FAQ and demo tickets once; yields lines describing what was done."""
    yield "demo content: nothing to load yet"
