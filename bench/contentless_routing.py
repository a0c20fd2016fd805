"""Mails that say nothing (a greeting, "test", "see attached", only a signature, an empty body)
go to triage; every other mail is routed as before.

Sends through the worker's path (``routing_realistic_eval.raw_mail``, parsing, ``decide`` with
the default settings and the model a fresh install trains) the 1,187 example mails (the 680
shipped training rows and the 507 hand-written mails of ``routing_mails_realistic*.jsonl``) and
``contentless_mails.jsonl`` (38 short mails written before the change: 22 say nothing, 16 say
something). ``--save FILE`` writes every example mail's department and urgency; ``--compare
FILE`` lists the mails whose decision changed since.

    .venv/bin/python bench/contentless_routing.py [--save FILE | --compare FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from routing_realistic_eval import DEPARTMENTS, SET_PATHS, raw_mail  # noqa: E402

from mailrouter.intake.pipeline import ticket_subject  # noqa: E402
from mailrouter.parsing import parse_message  # noqa: E402
from mailrouter.routing.classifier import train  # noqa: E402
from mailrouter.routing.decisions import customer_text, decide  # noqa: E402
from mailrouter.routing.labels import load_bootstrap_examples  # noqa: E402
from mailrouter.settings import SETTINGS  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save", type=Path)
    parser.add_argument("--compare", type=Path)
    args = parser.parse_args()
    config = {setting.name: setting.default for setting in SETTINGS}
    examples = load_bootstrap_examples()
    bundle = train(examples, evaluate=False, min_confidence=config["CLASSIFIER_MIN_CONFIDENCE"])

    options: dict[str, Any] = {"config": config, "bundle": bundle, "active_codes": set(DEPARTMENTS)}

    def route(subject: str, body: str) -> tuple[str, int]:
        parsed = parse_message(raw_mail({"subject": subject, "body": body}))
        text = customer_text(parsed.new_text, parsed.text)
        decision = decide(ticket_subject(parsed), text, sender_name=parsed.from_name, **options)
        return decision.department_code or "(triage)", decision.urgency

    mails = [(f"bootstrap {n}", e.subject, e.body) for n, e in enumerate(examples, 1)]
    for number, path in SET_PATHS.items():
        for line, text in enumerate(path.read_text("utf-8").splitlines(), 1):
            if text.strip():
                row = json.loads(text)
                mails.append((f"set {number} line {line}", row["subject"], row["body"]))
    decided = {name: route(subject, body) for name, subject, body in mails}
    triaged = sum(code == "(triage)" for code, _level in decided.values())
    print(f"example mails: {len(decided)}, to triage {triaged}")
    if args.save:
        args.save.write_text(json.dumps(decided, ensure_ascii=False, indent=0), "utf-8")
    if args.compare:
        before = json.loads(args.compare.read_text("utf-8"))
        changed = [name for name in decided if tuple(before[name]) != decided[name]]
        print(f"changed since {args.compare}: {len(changed)}")
        for name in changed:
            print(f"  {name}: {before[name]} -> {list(decided[name])}")

    right = {True: 0, False: 0}
    rows = [
        json.loads(line)
        for line in (HERE / "contentless_mails.jsonl").read_text("utf-8").splitlines()
    ]
    for row in rows:
        code, level = route(row["subject"], row["body"])
        right[row["says_nothing"]] += (code == "(triage)") == row["says_nothing"]
        if (code == "(triage)") != row["says_nothing"]:
            print(f"  miss: {row['subject']!r} {row['body'][:50]!r} -> {code} {level}")
    nothing = sum(row["says_nothing"] for row in rows)
    print(
        f"contentless_mails: say nothing, to triage {right[True]} of {nothing}; "
        f"say something, routed as the model says {right[False]} of {len(rows) - nothing}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
