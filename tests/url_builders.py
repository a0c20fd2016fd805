"""Each test's app reuses the URL builders werkzeug generated for the same rules before.

The suite builds an app per test (a clean one is what each test is about), and building one spent
most of its time in werkzeug writing, parsing and compiling a Python function per URL rule: two
builders for each of about 110 rules, 0.3 s of the 0.37 an app took (profiled; a quarter of the
whole suite's CPU). A builder is a plain function of the rule's text, its parsed parts, its
defaults and whether unknown values go into the query string; werkzeug binds it to the rule
afterwards. So a builder made once for that key is the very function werkzeug would make again.
Production builds one app per process and is left alone; ``tests/test_url_builders.py`` holds
the reused builders to the URLs fresh ones build.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from werkzeug.routing.rules import Rule

_made: dict[Hashable, Callable[..., tuple[str, str]]] = {}
_werkzeugs_own = Rule._compile_builder


def _key(rule: Rule, append_unknown: bool) -> Hashable | None:
    """What the builder depends on; None when a default cannot be part of a key."""
    defaults = rule.defaults or {}
    try:
        resolved = tuple(
            sorted((name, _converter(rule, name), repr(defaults[name])) for name in defaults)
        )
        return (rule.rule, rule.host, rule.subdomain, tuple(rule._trace), resolved, append_unknown)
    except TypeError:
        return None


def _converter(rule: Rule, name: str) -> str:
    """A defaulted part's converter as far as it shapes the constant put in its place."""
    converter = rule._converters.get(name)
    if converter is None:
        return ""
    settings = {k: v for k, v in vars(converter).items() if k != "map"}
    return f"{type(converter).__qualname__}{sorted(settings.items())!r}"


def _reused(self: Rule, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
    key = _key(self, append_unknown)
    if key is None:
        return _werkzeugs_own(self, append_unknown)
    builder = _made.get(key)
    if builder is None:
        builder = _made[key] = _werkzeugs_own(self, append_unknown)
    return builder


def reuse_url_builders() -> None:
    """Make every later app of this process reuse builders (called once, by tests/conftest.py)."""
    Rule._compile_builder = _reused  # type: ignore[method-assign]


def builders_made() -> int:
    return len(_made)


def werkzeugs_own_builder(rule: Rule, append_unknown: bool) -> Any:
    return _werkzeugs_own(rule, append_unknown)
