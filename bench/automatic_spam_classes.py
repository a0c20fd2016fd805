"""What becomes of each corpus message that opens no thread: a ticket, set aside as automatic
mail, or held as spam, by the pipeline's rule before and after out-of-office replies were set
aside despite the learned filter (``pipeline._sets_aside_despite_spam``, session 31).

Usage: ``.venv/bin/python bench/automatic_spam_classes.py [--corpora PATH] [--fixtures]``

The built-in filter judges each message (the shipped model, no spamd, as the worker does
without one); the envelope is taken as SMTP from the Return-Path (the null sender for "<>").
"Before" is the rule that set aside only a mail system's report; "after" also sets aside what
``automatic.is_auto_reply`` recognises. It prints the count of each class per folder, before
and after, and every message that changed class.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpora_check import DEFAULT_CORPORA, folder_of, read_corpus_file
from mailrouter.automatic import automatic_reason, bounce_info, is_auto_reply
from mailrouter.intake.pipeline import _sets_aside_despite_spam
from mailrouter.models import ClaimedMail
from mailrouter.parsing import parse_message
from mailrouter.spam.verdict import builtin_verdict, shipped_model

CONFIG = {"SPAM_SUSPECTED_SCORE": 5.0, "SPAM_CERTAIN_SCORE": 12.0}
OWN = ["support@example.com", "service@example.com", "sales@example.com"]
FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "mailrouter" / "fixtures" / "realmail"


def outcome(raw: bytes, *, after: bool, model) -> str:
    parsed = parse_message(raw)
    spam = builtin_verdict(parsed, CONFIG, model, raw)
    reason = automatic_reason(parsed, OWN)
    return_path = parsed.headers.get("return-path") or ""
    inbound = ClaimedMail(
        id=0,
        channel="smtp",
        raw=raw,
        envelope_from="" if return_path.replace(" ", "") == "<>" else parsed.from_address,
        department_code=None,
        meta={},
        received_at=datetime.now(UTC),
    )
    if reason:
        bounce = bounce_info(parsed, raw)
        auto_reply = after and bounce is None and is_auto_reply(parsed)
        if spam.is_spam and not _sets_aside_despite_spam(
            inbound, parsed, bounce, spam, auto_reply=auto_reply
        ):
            return "spam held"
        return "set aside"
    return "spam held" if spam.is_spam else "ticket"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--fixtures", action="store_true", help="also the realmail fixtures")
    args = parser.parse_args()
    model = shipped_model()
    paths = sorted(args.corpora.resolve().rglob("*.eml"))
    if not paths:
        print(f"no corpora at {args.corpora}")
        return 2
    groups = [(folder_of(p, args.corpora.resolve()), p) for p in paths]
    if args.fixtures:
        groups += [("fixtures/realmail", p) for p in sorted(FIXTURES.glob("*.eml"))]
    counts: dict[str, tuple[Counter[str], Counter[str]]] = {}
    changed = []
    for folder, path in groups:
        raw = read_corpus_file(path)
        before = outcome(raw, after=False, model=model)
        after = outcome(raw, after=True, model=model)
        pair = counts.setdefault(folder, (Counter(), Counter()))
        pair[0][before] += 1
        pair[1][after] += 1
        if before != after:
            changed.append(f"{folder}/{path.name}: {before} -> {after}")
    classes = ("ticket", "set aside", "spam held")
    print(f"{'folder':32} " + "  ".join(f"{c:>20}" for c in classes))
    for folder, (before, after) in counts.items():
        cells = "  ".join(f"{f'{before[c]} -> {after[c]}':>20}" for c in classes)
        print(f"{folder:32} {cells}")
    print(f"\n{len(changed)} changed class:")
    print("\n".join(changed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
