"""A spam model on the development data, counted by score at one or more held thresholds.

Usage: ``.venv/bin/python bench/spam_dev_figures.py [--model PATH] [--held 5,6,7]
[--corpora ../shared/corpora] [--credit 0,1,2]``

Groups: ``bench/spam_eval.py``'s held-out mail that is not list mail (``held-out``; mail of a
written file first added in the working tree is the split's too, counted with the rest), the
same own and written mail sent HTML-only (``html-only``, as ``bench/spam_html_only_eval.py``),
and the development sets ``bench/spam_fresh`` to ``_7`` and ``bench/spam_dev`` by language
(``dev-en``, ``dev-zh``). For each: legitimate mail held (at the threshold or more) and at 3
to the threshold (a ticket without an auto-reply), spam not held and answered (under 3). Never
pass a held-out fresh set (``_8`` and later): those are scored only by
``bench/spam_fresh_eval.py``, once before and once after a change.

``--credit`` lowers every mail's score by each given number of points in turn, as
``verdict.AUTHENTICATED_POINTS`` lowers mail that a trusted Authentication-Results says is
from its From domain. The development mails carry no trusted results, so this is the worst
case for spam: as if every spammer signed his own domain (the hole the credit must not open).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from spam_html_only_eval import as_rich_text

from mailrouter.automatic import automatic_reason
from mailrouter.parsing import parse_message
from mailrouter.spam.features import cold_pitch, mail_tokens
from mailrouter.spam.model import SpamModel, load_model, shipped_model_path
from mailrouter.spam.shipped_training import split, written_mails
from mailrouter.spam.verdict import builtin_points

BENCH = Path(__file__).resolve().parent
DEFAULT_CORPORA = BENCH.parent / ".." / "shared" / "corpora"
DEVELOPMENT = [BENCH / "spam_fresh"] + [BENCH / f"spam_fresh_{n}" for n in range(2, 8)]


def points(model: SpamModel, raw: bytes) -> float:
    parsed = parse_message(raw)
    odds, _chosen, _weights = model.log_odds(mail_tokens(parsed, raw))
    return builtin_points(odds, pitch=cold_pitch(parsed))


def scored(model: SpamModel, corpora: Path) -> dict[str, list[tuple[float, bool]]]:
    """(score, is spam) per group."""
    groups: dict[str, list[tuple[float, bool]]] = {}
    _train, held = split(corpora)
    for mail in held:
        if automatic_reason(parse_message(mail.raw), ["support@example.com"]):
            continue
        groups.setdefault("held-out", []).append((points(model, mail.raw), mail.is_spam))
        rich = as_rich_text(mail.raw) if mail.kind.startswith(("own", "written")) else None
        if rich is not None:
            groups.setdefault("html-only", []).append((points(model, rich), mail.is_spam))
    for folder in DEVELOPMENT:
        for path in sorted(folder.glob("*.jsonl")):
            group = f"dev-{path.stem.rsplit('-', 1)[1]}"
            for line in path.read_text("utf-8").splitlines():
                raw = json.loads(line)["raw"].encode("utf-8")
                groups.setdefault(group, []).append((points(model, raw), "spam" in path.stem))
    for _kind, mails in written_mails(BENCH / "spam_dev"):
        for mail in mails:
            groups.setdefault("dev-en", []).append((points(model, mail.raw), mail.is_spam))
    return groups


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=shipped_model_path())
    parser.add_argument("--held", default="5", help="held thresholds, comma-separated")
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument(
        "--credit", default="0", help="points taken off every mail, comma-separated"
    )
    args = parser.parse_args()
    model = load_model(args.model)
    if model is None or not (args.corpora / "spamassassin").is_dir():
        print("no usable model or no corpus", file=sys.stderr)
        return 2
    groups = scored(model, args.corpora)
    credits = [float(x) for x in args.credit.split(",")]
    for held, credit in ((float(h), c) for h in args.held.split(",") for c in credits):
        print(
            f"held from {held:g} points"
            + (f", every mail {credit:g} points lower" if credit else "")
        )
        for group, rows in groups.items():
            ham = [score - credit for score, spam in rows if not spam]
            spam = [score - credit for score, is_spam in rows if is_spam]
            print(
                f"  {group:<10} legitimate held {sum(s >= held for s in ham)}/{len(ham)},"
                f" at 3-{held:g} {sum(3 <= s < held for s in ham)}"
                f" | spam not held {sum(s < held for s in spam)}/{len(spam)},"
                f" answered {sum(s < 3 for s in spam)}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
