"""The spam filter on held-out real mail: what reaches an inbox, what gets an auto-reply.

Usage: ``.venv/bin/python bench/spam_eval.py [--corpora ../shared/corpora] [--no-pipeline]``

The held-out part (every fifth file of spamassassin/spam-1 and easy-ham-1 by sorted name, and
every fifth of the project's own customer mails in both languages and of the mails it wrote
in other languages, ``bench/spam_data/``; see
``mailrouter/spam/shipped_training.py``) was never trained on. Two tables:

1. the verdict alone (``mailrouter.spam.verdict.judge`` with the shipped model): spam caught,
   legitimate mail flagged, and the cost per message;
2. the whole intake (``--no-pipeline`` skips it): each held-out mail is queued to the general
   address of a fresh SQLite instance set up as `support init` does and processed by the
   worker; counted are tickets (a department's inbox or triage) and auto-replies.

Legitimate mail is the held-out easy-ham that is not list mail (list mail is never answered
and never a ticket) plus the own customer mails.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import select

from mailrouter.automatic import automatic_reason
from mailrouter.intake import queue
from mailrouter.intake.worker import Worker
from mailrouter.models import InboundMail
from mailrouter.parsing import parse_message
from mailrouter.spam import verdict
from mailrouter.spam.shipped_training import LabelledMail, split
from support.core.db import get_db
from support.desk.models import OutboundMail

DEFAULT_CORPORA = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpora"
CONFIG = {"SPAM_SUSPECTED_SCORE": 5.0, "SPAM_CERTAIN_SCORE": 12.0, "SPAM_FILTER_ENABLED": True}
GENERAL = "support@example.com"


def group_of(mail: LabelledMail, automatic: str | None) -> str:
    if mail.kind.startswith("written-"):  # written-spam-zh -> "written spam, zh"
        _written, label, language = mail.kind.split("-", 2)
        return f"written {label}, {language}" + (" (list mail)" if automatic else "")
    if mail.is_spam:
        return "spam"
    if mail.kind == "easy-ham":
        return "easy-ham (list mail)" if automatic else "easy-ham (not list mail)"
    return mail.kind.replace("own-", "own customer mail, ")


def verdict_table(held: list[LabelledMail], instance: Path) -> None:
    rows: dict[str, Counter[str]] = {}
    costs: list[float] = []
    scores: list[tuple[float, bool]] = []  # (score, is spam) of mail that is not list mail
    warm = held[0].raw  # the first verdict loads the shipped model: not a per-message cost
    verdict.judge(warm, parse_message(warm), CONFIG, instance_path=instance, ask_spamd=False)
    for mail in held:
        parsed = parse_message(mail.raw)
        automatic = automatic_reason(parsed, [GENERAL])
        started = time.perf_counter()
        result = verdict.judge(mail.raw, parsed, CONFIG, instance_path=instance, ask_spamd=False)
        costs.append((time.perf_counter() - started) * 1000)
        rows.setdefault(group_of(mail, automatic), Counter())[result.level] += 1
        if not automatic and result.score is not None:
            scores.append((result.score, mail.is_spam))
    print("\n1. verdicts of the built-in filter (shipped model) on the held-out mail")
    print_levels(rows, "group", 34)
    costs.sort()
    print(
        f"cost per message (verdict only, after parsing): mean {statistics.mean(costs):.2f} ms,"
        f" p50 {costs[len(costs) // 2]:.2f} ms, p95 {costs[int(len(costs) * 0.95)]:.2f} ms"
    )
    band_table(scores)


def band_table(scores: list[tuple[float, bool]]) -> None:
    """What SPAM_NO_AUTOREPLY_SCORE would do (mail that is not list mail): the legitimate mail
    not held that it leaves unanswered, and the spam not held that it still lets be answered."""
    suspected = CONFIG["SPAM_SUSPECTED_SCORE"]
    legit = [score for score, spam in scores if not spam and score < suspected]
    spam = [score for score, is_spam in scores if is_spam]
    print(f"\nno auto-reply from (score < {suspected:g}): legitimate unanswered, spam answered")
    for band in (1.0, 2.0, 3.0, 4.0, suspected):
        unanswered = sum(band <= score for score in legit)
        answered = sum(score < band for score in spam)
        print(
            f"{band:>5g}  legitimate {unanswered}/{len(legit)}"
            f" ({100 * unanswered / len(legit):.1f}%)"
            f"  spam {answered}/{len(spam)} ({100 * answered / len(spam):.1f}%)"
        )


def pipeline_table(held: list[LabelledMail]) -> None:
    from intake_bench import prepare  # the instance as `support init` sets it up

    logging.disable(logging.WARNING)
    app = prepare(None, False)
    database = get_db(app)
    groups: dict[int, str] = {}
    with database.session() as session:
        for mail in held:
            parsed = parse_message(mail.raw)
            inbound = queue.store_inbound(
                session,
                channel="smtp",
                raw=mail.raw,
                envelope_from=parsed.from_address or "unknown@example.org",
                envelope_to=[GENERAL],
            )
            groups[inbound.id] = group_of(mail, automatic_reason(parsed, [GENERAL]))
    Worker(app, retry_base_seconds=0).run_until_idle()
    with database.read_session() as session:
        rows = session.execute(
            select(InboundMail.id, InboundMail.ticket_id, InboundMail.spam_state)
        ).all()
        replied = set(
            session.scalars(select(OutboundMail.ticket_id).where(OutboundMail.kind == "auto_reply"))
        )
    table: dict[str, Counter[str]] = {}
    for inbound_id, ticket_id, spam_state in rows:
        c = table.setdefault(groups[inbound_id], Counter())
        c["mails"] += 1
        c["ticket"] += ticket_id is not None
        c["auto-reply"] += ticket_id in replied
        c["held as spam"] += spam_state in ("suspected", "certain")
    print("\n2. through the whole intake (worker, SQLite), mail to the general address")
    print(f"{'group':<34} {'mails':>6} {'ticket':>12} {'auto-reply':>12} {'held as spam':>14}")
    for group in sorted(table):
        c = table[group]
        n = c["mails"]

        def cell(key: str, width: int, c: Counter[str] = c, n: int = n) -> str:
            return f"{c[key]} ({100 * c[key] / n:.1f}%)".rjust(width)

        print(
            f"{group:<34} {n:>6} {cell('ticket', 12)} {cell('auto-reply', 12)}"
            f" {cell('held as spam', 14)}"
        )


def print_levels(rows: dict[str, Counter], label: str, width: int) -> None:
    """A table of verdict levels (ham, suspected, certain) per group, with the share flagged."""
    header = f"{'mails':>6} {'ham':>6} {'suspected':>10} {'certain':>8} {'spam %':>7}"
    print(f"{label:<{width}} {header}")
    for group in sorted(rows):
        c = rows[group]
        total = sum(c.values())
        flagged = c["suspected"] + c["certain"]
        print(
            f"{group:<{width}} {total:>6} {c['ham']:>6} {c['suspected']:>10} {c['certain']:>8}"
            f" {100 * flagged / total:>6.1f}%"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--no-pipeline", action="store_true")
    args = parser.parse_args()
    if not (args.corpora / "spamassassin").is_dir():
        print(f"{args.corpora}/spamassassin is absent; nothing to evaluate", file=sys.stderr)
        return 2
    _train, held = split(args.corpora)
    print(f"held out: {Counter(m.kind for m in held)}")
    verdict_table(held, Path("/nonexistent-instance"))
    if not args.no_pipeline:
        pipeline_table(held)
    return 0


if __name__ == "__main__":
    sys.exit(main())
