"""Score how forwarded mail is read on the forward fixture set (tests/mailrouter/fixtures/forwards).

Usage: ``PYTHONPATH=. .venv/bin/python bench/forward_mail_score.py [-v]``

Each fixture goes through the worker's reading: ``parse_message``, the ticket subject
(``pipeline.ticket_subject``), the text routing reads (``decisions.customer_text``) and, for
mail that opens a ticket, ``decisions.decide`` with the model a fresh install trains (as
``bench/routing_realistic_eval.py`` does; no history, no department address chosen). It prints,
per fixture and in total: the new text as expected, the forwarded words read (``reads``), words
that must not be read left out (``not_read``), and department and urgency of new tickets.
Threading and the urgency of follow-ups need the database: ``tests/mailrouter/intake/
test_forward_mail.py`` checks them.
"""

from __future__ import annotations

import sys
from typing import Any

from mailrouter.intake.pipeline import ticket_subject
from mailrouter.parsing import ParsedMail, parse_message
from mailrouter.routing.classifier import train
from mailrouter.routing.decisions import customer_text, decide
from mailrouter.routing.labels import load_bootstrap_examples
from mailrouter.settings import SETTINGS
from tests.mailrouter.client_fixtures import normalised
from tests.mailrouter.forward_fixtures import OWN_ADDRESSES, load_forward_cases

DEPARTMENTS = ("sales", "service", "pr", "hr", "finance")


def routing_reads(parsed: ParsedMail) -> str:
    """The text the worker routes by (the forwarded words too once the parser finds them)."""
    forwarded = getattr(parsed, "forwarded_text", None)
    if forwarded is None:  # code from before forwards were read
        return customer_text(parsed.new_text, parsed.text)
    return customer_text(parsed.new_text, parsed.text, forwarded)


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    config: dict[str, Any] = {setting.name: setting.default for setting in SETTINGS}
    bundle = train(
        load_bootstrap_examples(),
        evaluate=True,
        min_confidence=float(config["CLASSIFIER_MIN_CONFIDENCE"]),
    )
    cases = load_forward_cases()
    totals = dict.fromkeys(("new_text", "reads", "not_read", "department", "urgency"), 0)
    counts = dict.fromkeys(totals, 0)
    for case in cases:
        parsed = parse_message(case.raw, own_addresses=OWN_ADDRESSES)
        text = routing_reads(parsed)
        marks = {"new_text": normalised(parsed.new_text) == normalised(case.new_text)}
        if case.reads:
            marks["reads"] = case.reads in text
        if case.not_read:
            marks["not_read"] = case.not_read not in text
        got = ""
        if case.thread == "new":
            decision = decide(
                ticket_subject(parsed),
                text,
                config=config,
                bundle=bundle,
                active_codes=set(DEPARTMENTS),
            )
            marks["department"] = decision.department_code == case.department
            marks["urgency"] = decision.urgency == case.urgency
            got = f"{decision.department_code or '(triage)'}/{decision.urgency}"
        for key, right in marks.items():
            counts[key] += 1
            totals[key] += right
        missed = [key for key, right in marks.items() if not right]
        want = f"{case.department}/{case.urgency}" if case.thread == "new" else case.thread
        print(
            f"{'ok  ' if not missed else 'MISS'} {case.file:<48} want {want:<12} got {got:<14}"
            + (" misses: " + ", ".join(missed) if missed else "")
        )
        if verbose and missed:
            print("     new text: " + normalised(parsed.new_text)[:200].replace("\n", " / "))
            print("     reads:    " + normalised(text)[:300].replace("\n", " / "))
    print()
    for key in totals:
        print(f"{key:<11} {totals[key]}/{counts[key]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
