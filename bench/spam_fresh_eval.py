"""The built-in spam filter on fresh mail written after the model: an evaluation set only.

Usage: ``.venv/bin/python bench/spam_fresh_eval.py [--model PATH] [--folder bench/spam_fresh_2]
[--trust mx.example.com]``

``bench/spam_fresh/*.jsonl`` (rendered by ``bench/spam_fresh/build.py`` as Gmail, QQ Mail,
163.com, Outlook, Foxmail, iPhone Mail or bulk-mail software send them) holds Chinese customer
mail (Simplified and Traditional), English customer mail and Chinese spam that no model was
trained or tuned on: they are outside ``bench/spam_data``, which ``shipped_training`` reads.
Reported are shares only (held at 5 points or more, ticket without auto-reply at 3 to 5,
answered below 3), per file and per mail client, and the cost per verdict; deliberately no
list of misses, so that the set is not tuned on. ``--folder`` scores another such set:
``bench/spam_fresh_2`` (``build.py`` there) holds English customer mail and English spam
(phishing, SEO and lead-gen offers, crypto, fake invoices, cold "partnership" outreach) written
before an English training batch (session 9's, never merged) and sent as Gmail,
Outlook, iPhone Mail, Thunderbird, Yahoo Mail, Apple Mail, a PHP mailer or a bulk-mail service
send them.

``--trust HOST`` reads the mails as an install whose MTA is HOST does (SPAM_TRUSTED_RELAYS and
SPAM_TRUSTED_AUTHSERV_IDS): the Authentication-Results HOST wrote count (``bench/spam_fresh_10``
has them), a sender they call forged gets ``verdict.FORGED_SENDER_POINTS`` and is never
answered, so it counts in "3-5 no reply" when its score is under 3.

``--scenario FILE`` (``bench/spam_fresh_11/scenario.json``) reads the mails as an install with a
history: ``trust`` as ``--trust``; ``wrote_to``, the addresses staff have written to on tickets
not marked spam (a suspected mail from such an address becomes a ticket without an auto-reply,
as ``intake.pipeline`` does: counted in "3-5 no reply"); ``authenticated_senders``, the
install's ``SPAM_AUTHENTICATED_SENDERS`` (a listed sender's mail is never held: counted in "3-5
no reply" when its score is 3 or more, as the intake gives it no auto-reply then). With a
scenario the rows are also split by each mail's ``kind``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mailrouter.parsing import parse_message
from mailrouter.spam.features import cold_pitch, mail_tokens
from mailrouter.spam.header_block import read_header_block
from mailrouter.spam.model import SpamModel, load_model, shipped_model_path
from mailrouter.spam.reputation import correspondent_domain, listed_sender
from mailrouter.spam.trusted import SenderCheck, Trust, sender_check
from mailrouter.spam.verdict import builtin_points

FOLDER = Path(__file__).resolve().parent / "spam_fresh"
SUSPECTED, NO_AUTOREPLY, CERTAIN = 5.0, 3.0, 12.0


def spared(score: float, check: SenderCheck | None, sender: str, scenario: dict[str, Any]) -> bool:
    """Whether the intake makes a ticket (without an auto-reply) of a mail the filter would
    hold, because staff have written to its sender or, its domain authenticated, to another
    address there (``pipeline._known_correspondent``)."""
    forged = check is not None and check.forged
    if not SUSPECTED <= score < CERTAIN or forged:
        return False
    wrote_to = {a.lower() for a in scenario.get("wrote_to", ())}
    if sender.lower() in wrote_to:
        return True
    domain = correspondent_domain(check.authenticated if check else "")
    return (
        bool(domain)
        and sender.lower().rpartition("@")[2] == domain
        and any(a.endswith("@" + domain) for a in wrote_to)
    )


def listed(check: SenderCheck | None, sender: str, scenario: dict[str, Any]) -> bool:
    """Whether SPAM_AUTHENTICATED_SENDERS vouches for the mail (never held)."""
    authenticated = check.authenticated if check else ""
    return listed_sender(sender, authenticated, scenario.get("authenticated_senders", ()))


def points(
    model: SpamModel, raw: bytes, trust: Trust | None = None
) -> tuple[float, SenderCheck | None]:
    """The built-in score, and what a trusted result says of the sender (None: nothing)."""
    parsed = parse_message(raw)
    odds, _chosen, _weights = model.log_odds(mail_tokens(parsed, raw))
    check = (
        sender_check(read_header_block(raw), trust, parsed.from_address)
        if trust and trust.configured
        else None
    )
    forged = check is not None and check.forged
    return builtin_points(odds, pitch=cold_pitch(parsed), forged=forged), check


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=shipped_model_path())
    parser.add_argument("--folder", type=Path, default=FOLDER, help="a folder of rendered *.jsonl")
    parser.add_argument("--trust", default="", help="our MTA's host name and authserv-id")
    parser.add_argument("--scenario", type=Path, help="a JSON install history (see above)")
    args = parser.parse_args()
    scenario = json.loads(args.scenario.read_text("utf-8")) if args.scenario else {}
    host = scenario.get("trust", args.trust)
    trust = Trust.from_settings([host], [host])
    model = load_model(args.model)
    if model is None:
        print(f"{args.model}: no usable model", file=sys.stderr)
        return 2
    print(f"{'set':<30} {'mails':>5} {'held >=5':>13} {'3-5 no reply':>13} {'< 3':>13}")
    costs: list[float] = []
    for path in sorted(args.folder.glob("*.jsonl")):
        rows: dict[str, Counter[str]] = {}
        for line in path.read_text("utf-8").splitlines():
            item = json.loads(line)
            raw = item["raw"].encode("utf-8")
            started = time.perf_counter()
            score, check = points(model, raw, trust)
            costs.append((time.perf_counter() - started) * 1000)
            forged = check is not None and check.forged
            quiet = score >= NO_AUTOREPLY or forged
            band = "held" if score >= SUSPECTED else "quiet" if quiet else "ok"
            sender = _sender(raw) if scenario else ""
            if band == "held" and (
                listed(check, sender, scenario) or spared(score, check, sender, scenario)
            ):
                band = "quiet"
            keys = [path.stem, f"  {path.stem} {item['client']}"]
            if scenario:
                keys.append(f"  {path.stem} kind {item.get('kind', '?')}")
            for key in keys:
                rows.setdefault(key, Counter())[band] += 1
        for key in sorted(rows):
            c = rows[key]
            n = sum(c.values())

            def cell(band: str, c: Counter[str] = c, n: int = n) -> str:
                return f"{c[band]} ({100 * c[band] / n:.1f}%)".rjust(13)

            print(f"{key:<30} {n:>5} {cell('held')} {cell('quiet')} {cell('ok')}")
    print(
        f"cost per mail (parse + tokens + score): mean {statistics.mean(costs):.2f} ms,"
        f" p95 {sorted(costs)[int(len(costs) * 0.95)]:.2f} ms"
    )
    return 0


def _sender(raw: bytes) -> str:
    return parse_message(raw).from_address


if __name__ == "__main__":
    sys.exit(main())
