"""Each test's app reuses what werkzeug made for the same URL rules before: the builders and the
parsed rules.

The suite builds an app per test (a clean one is what each test is about), and building one spent
most of its time in werkzeug writing, parsing and compiling a Python function per URL rule: two
builders for each of about 110 rules, 0.3 s of the 0.37 an app took (profiled; a quarter of the
whole suite's CPU). A builder is a plain function of the rule's text, its parsed parts, its
defaults and whether unknown values go into the query string; werkzeug binds it to the rule
afterwards. So a builder made once for that key is the very function werkzeug would make again.
Production builds one app per process and is left alone; ``tests/test_url_builders.py`` holds
the reused builders to the URLs fresh ones build.

Parsing each rule's text into the parts the URL matcher walks (``Rule.compile``: a regular
expression and a weight per part, from the rule's text and its converters' classes) was then
half of what remained of making an app (~10 ms of CPU of ~60 at load, 118 rules); a rule with
the same text, host, slashes setting and converter classes gets the parts parsed before, and
converters of its own made with the same arguments, as ``compile`` would make them.
``tests/test_url_builders.py`` holds a second app's rules to freshly compiled ones.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from werkzeug.routing.rules import Rule, RulePart

_made: dict[Hashable, Callable[..., tuple[str, str]]] = {}
_werkzeugs_own = Rule._compile_builder
_werkzeugs_own_compile = Rule.compile


class _Parsed:
    """What ``Rule.compile`` made of a rule's text: its parts, trace, and the converters it
    asked for (variable, converter name, arguments), to make again for each new rule."""

    def __init__(self, rule: Rule, converters: list[tuple[str, str, tuple, dict]]) -> None:
        self.parts: list[RulePart] = list(rule._parts)
        self.trace: list[tuple[bool, str]] = list(rule._trace)
        self.converters = converters


_parsed: dict[Hashable, _Parsed] = {}


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


def _compile_key(rule: Rule) -> Hashable:
    """What ``Rule.compile`` reads besides the map's converters' arguments: the text (the domain
    part's too), the map's kind of matching, merging slashes, and the converter classes."""
    assert rule.map is not None, "rule not bound"
    converters = tuple(sorted(rule.map.converters.items()))
    return (
        rule.rule,
        rule.map.host_matching,
        rule.host,
        rule.subdomain,
        rule.merge_slashes,
        converters,
    )


def _compile(self: Rule) -> None:
    key = _compile_key(self)
    parsed = _parsed.get(key)
    if parsed is None:
        asked: list[tuple[str, str, tuple, dict]] = []
        own = self.get_converter

        def recording(variable: str, name: str, args: tuple, kwargs: Any) -> Any:
            asked.append((variable, name, args, dict(kwargs)))
            return own(variable, name, args, kwargs)

        self.get_converter = recording  # type: ignore[method-assign]
        try:
            _werkzeugs_own_compile(self)
        finally:
            del self.get_converter
        _parsed[key] = _Parsed(self, asked)
        return
    self._parts = list(parsed.parts)
    self._trace = list(parsed.trace)
    self._converters = {}
    for variable, name, args, kwargs in parsed.converters:
        self._converters[variable] = self.get_converter(variable, name, args, kwargs)
        self.arguments.add(variable)
    self._build = self._compile_builder(False).__get__(self, None)
    self._build_unknown = self._compile_builder(True).__get__(self, None)


def reuse_url_builders() -> None:
    """Make every later app of this process reuse builders and parsed rules (called once, by
    tests/conftest.py)."""
    Rule._compile_builder = _reused  # type: ignore[method-assign]
    Rule.compile = _compile  # type: ignore[method-assign]


def rules_parsed() -> int:
    return len(_parsed)


def werkzeugs_own_compile(rule: Rule) -> None:
    _werkzeugs_own_compile(rule)


def builders_made() -> int:
    return len(_made)


def werkzeugs_own_builder(rule: Rule, append_unknown: bool) -> Any:
    return _werkzeugs_own(rule, append_unknown)
