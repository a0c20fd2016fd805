"""The test harness's reused URL builders and parsed rules (tests/url_builders.py) are werkzeug's
own."""

from __future__ import annotations

from flask import url_for
from werkzeug.routing import Rule

from tests.url_builders import (
    builders_made,
    rules_parsed,
    werkzeugs_own_builder,
    werkzeugs_own_compile,
)


def test_every_rule_of_a_second_app_builds_with_the_code_werkzeug_writes_for_it(app) -> None:
    rules = list(app.url_map.iter_rules())
    assert len(rules) > 50 and builders_made() >= len(rules)
    for rule in rules:
        for append_unknown, bound in ((False, rule._build), (True, rule._build_unknown)):
            fresh = werkzeugs_own_builder(rule, append_unknown)
            assert bound.__func__.__code__ == fresh.__code__, rule.rule


def test_urls_with_values_and_query_strings_come_out_as_before(app) -> None:
    with app.test_request_context():
        assert url_for("static", filename="app.js") == "/static/app.js"
        page = url_for("static", filename="a b.css", v="1&2")
        assert page == "/static/a%20b.css?v=1%262"


def _converter_state(rule: Rule) -> dict:
    return {
        name: (type(c), c.regex, c.weight, c.part_isolating, c.map is rule.map)
        for name, c in rule._converters.items()
    }


def test_every_rule_of_a_second_app_is_parsed_as_werkzeug_parses_it(app) -> None:
    rules = list(app.url_map.iter_rules())
    assert len(rules) > 50 and rules_parsed() >= len({rule.rule for rule in rules})
    for rule in rules:
        fresh = rule.empty()
        fresh.map = rule.map
        fresh.merge_slashes, fresh.subdomain = rule.merge_slashes, rule.subdomain
        werkzeugs_own_compile(fresh)
        assert rule._parts == fresh._parts, rule.rule
        assert rule._trace == fresh._trace, rule.rule
        assert rule.arguments == fresh.arguments, rule.rule
        assert _converter_state(rule) == _converter_state(fresh), rule.rule
        assert all(c.map is rule.map for c in rule._converters.values())


def test_a_second_app_matches_urls_with_values_to_the_same_endpoints(app) -> None:
    adapter = app.url_map.bind("localhost")
    assert adapter.match("/static/css/app.css") == ("static", {"filename": "css/app.css"})
    assert adapter.match("/staff/tickets/42") == ("staff.ticket_page", {"ticket_id": 42})
    assert adapter.match("/api/v1/tickets/7/tags/vip", method="DELETE")[1] == {
        "ticket_id": 7,
        "tag": "vip",
    }
