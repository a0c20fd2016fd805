"""The test harness's reused URL builders (tests/url_builders.py) are werkzeug's own."""

from __future__ import annotations

from flask import url_for

from tests.url_builders import builders_made, werkzeugs_own_builder


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
