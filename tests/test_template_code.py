"""The test apps' shared compiled templates (tests/template_code.py) give each environment the
page it would compile itself, and compile again whatever differs: the source or the settings."""

from __future__ import annotations

from jinja2 import DictLoader, Environment

from tests.template_code import SharedTemplateCode

PAGES = {
    "base.html": "<title>{% block title %}{% endblock %}</title>{{ greet(name) }}",
    "page.html": '{% extends "base.html" %}{% block title %}{{ title|shout }}{% endblock %}',
}


def _environment(shared: SharedTemplateCode, pages: dict, **settings) -> Environment:
    environment = Environment(loader=DictLoader(pages), bytecode_cache=shared, **settings)
    return environment


def test_a_second_environment_reuses_the_code_with_its_own_globals_and_filters() -> None:
    shared = SharedTemplateCode()
    first = _environment(shared, PAGES)
    first.globals["greet"] = lambda name: f"hello {name}"
    first.filters["shout"] = str.upper
    assert first.get_template("page.html").render(title="faq", name="a") == (
        "<title>FAQ</title>hello a"
    )
    assert shared.compiled == 2  # the page and its base

    second = _environment(shared, PAGES)
    second.globals["greet"] = lambda name: f"你好 {name}"
    second.filters["shout"] = lambda text: text + "!"
    assert second.get_template("page.html").render(title="faq", name="b") == (
        "<title>faq!</title>你好 b"
    )
    assert shared.compiled == 2  # nothing compiled again


def test_an_edited_template_or_other_settings_compile_again() -> None:
    shared = SharedTemplateCode()
    _environment(shared, PAGES).get_template("base.html")
    edited = {**PAGES, "base.html": "<h1>{% block title %}{% endblock %}</h1>"}
    assert _environment(shared, edited).get_template("base.html").render() == "<h1></h1>"
    assert shared.compiled == 2
    trimmed = _environment(shared, PAGES, trim_blocks=True, autoescape=True)
    trimmed.get_template("base.html")
    assert shared.compiled == 3
