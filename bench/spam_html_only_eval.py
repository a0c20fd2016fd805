"""The built-in filter on the held-out own and written mail re-sent HTML-only, as Outlook on
the web and Alibaba Mail send a mail written in rich text.

Usage: ``.venv/bin/python bench/spam_html_only_eval.py [--corpora ../shared/corpora]``

``bench/spam_eval.py`` judges the held-out mails as text (so its figures compare with earlier
ones) and ``bench/spam_cv.py`` judges training mails of which some are sent HTML-only
(``shipped_training.sent_as_rich_text``); this judges the same held-out mails as
``spam_eval`` with their text sent as HTML only: shares at 5 points or more (held) and under 3
(answered), legitimate and spam.
"""

from __future__ import annotations

import argparse
import html
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mailrouter.parsing import parse_message
from mailrouter.spam.features import cold_pitch, mail_tokens
from mailrouter.spam.model import load_model, shipped_model_path
from mailrouter.spam.shipped_training import split
from mailrouter.spam.verdict import builtin_points

DEFAULT_CORPORA = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpora"


def as_rich_text(raw: bytes) -> bytes | None:
    """The mail's sender, subject and text as an HTML-only mail; None for an HTML advert."""
    parsed = parse_message(raw)
    text = parsed.text or ""
    if parsed.headers.get("content-type", "").lower().startswith("text/html"):
        return None
    inner = "".join(f"<div>{html.escape(line) or '<br>'}</div>" for line in text.split("\n"))
    subject = (parsed.subject or "").replace("\r", " ").replace("\n", " ")
    return (
        f"From: {parsed.from_address}\r\nTo: support@example.com\r\nSubject: {subject}\r\n"
        "Date: Thu, 03 Dec 2026 09:12:00 -0500\r\nMessage-ID: <rich@mail.example.net>\r\n"
        'MIME-Version: 1.0\r\nContent-Type: text/html; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        f"<html><body>{inner}</body></html>\r\n"
    ).encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    args = parser.parse_args()
    if not (args.corpora / "spamassassin").is_dir():
        print(f"{args.corpora}/spamassassin is absent; nothing to evaluate", file=sys.stderr)
        return 2
    model = load_model(shipped_model_path())
    assert model is not None
    _train, held = split(args.corpora)
    counts: dict[str, Counter[str]] = {}
    for mail in held:
        if not mail.kind.startswith(("own", "written")):
            continue
        raw = as_rich_text(mail.raw)
        if raw is None:
            continue
        parsed = parse_message(raw)
        odds, _chosen, _weights = model.log_odds(mail_tokens(parsed, raw))
        score = builtin_points(odds, pitch=cold_pitch(parsed))
        c = counts.setdefault("spam" if mail.is_spam else "legitimate", Counter())
        c["mails"] += 1
        c["held"] += score >= 5
        c["answered"] += score < 3
    for kind, c in sorted(counts.items()):
        n, held_n, low = c["mails"], c["held"], c["answered"]
        print(
            f"{kind:<11} {n:>4} mails sent HTML-only: held (>= 5) {held_n} "
            f"({100 * held_n / n:.1f}%), under 3 {low} ({100 * low / n:.1f}%)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
