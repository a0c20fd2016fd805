"""faq.search hands out its parts' names on first use (PEP 562): what the package names is
what its parts define, and importing the package imports none of the search engine."""

from __future__ import annotations

import importlib
import subprocess
import sys

import faq.search as search


def test_each_name_is_the_one_its_part_defines() -> None:
    assert sorted(search._HOMES) == sorted(search.__all__)
    for name in search.__all__:
        part = importlib.import_module(f"faq.search.{search._HOMES[name]}")
        assert getattr(search, name) is getattr(part, name), name


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        search.NoSuchName  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchName" in str(exc)
    else:
        raise AssertionError("faq.search.NoSuchName exists")


def test_importing_the_package_imports_no_search_engine() -> None:
    probe = (
        "import sys\n"
        "from faq import search\n"
        "print(' '.join(m for m in ('whoosh', 'scipy', 'faq.search.engine') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.split() == []
