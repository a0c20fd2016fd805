"""Render the tenth fresh evaluation set (``*.txt`` as written) into ``*.jsonl``.

Usage: ``.venv/bin/python bench/spam_fresh_10/build.py`` (deterministic). Held out: written in
session 16 before any change of that session to the filter and without looking at the model's
features or weights; scored once before and once after, never trained or tuned on
(``bench/spam_fresh_eval.py --folder bench/spam_fresh_10``, shares only). Ham: 60 business mails
(36 English, 24 Chinese), most with a link; 18 are automatic notices of well-known senders
(carriers, payment receipts, e-signatures, meeting invitations, cloud, shop and approval
notices); some replies written as a new mail ("Re:"/"回复：" without In-Reply-To). Spam: 40
(26 English, 14 Chinese): notices forged in the same brands' names (From the brand's own
domain without a valid signature, or DKIM-signed by a look-alike domain), bank-change and
CEO fraud, leads, SEO, loans, 代开发票, 刷单, 名录, 飙股.

What is new here: an ``auth:`` line holds the results our MTA (Postfix with OpenDKIM and
OpenDMARC, authserv-id ``mx.example.com``) wrote, clauses separated by ``;``; each clause
becomes one ``Authentication-Results: mx.example.com; ...`` header on top of the mail, as
the milters prepend them, and a DKIM result names the signing domain, which the sender's
``DKIM-Signature`` (below our Received) then carries. Mails without ``auth:`` come through a
relay that adds none. The clients and ``render`` are those of ``bench/spam_fresh_4/build.py``.
"""

from __future__ import annotations

import random
import re
import runpy
import sys
from pathlib import Path

FOLDER = Path(__file__).resolve().parent
AUTHSERV_ID = "mx.example.com"

fourth = runpy.run_path(str(FOLDER.parent / "spam_fresh_4" / "build.py"))
_D = re.compile(r"\bheader\.d=([A-Za-z0-9.\-]+)")
_S = re.compile(r"\bheader\.s=([A-Za-z0-9.\-_]+)")


def render(mail: dict[str, str], number: int, stem: str) -> bytes:
    raw = bytes(fourth["render"](mail, number, stem))
    clauses = [c.strip() for c in mail.get("auth", "").split(";") if c.strip()]
    if not clauses:
        return raw
    rng = random.Random(f"{stem}-{number}-auth")
    results = [f"Authentication-Results: {AUTHSERV_ID}; {c}".encode() for c in clauses]
    first, _crlf, rest = raw.partition(b"\r\n")
    signed = []
    for clause in clauses:
        domain, selector = _D.search(clause), _S.search(clause)
        if clause.startswith("dkim=") and domain:
            b = fresh_b64(rng, 172)
            signed.append(
                (
                    f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain.group(1)};"
                    f"\r\n\ts={selector.group(1) if selector else 's1'}; t=1764806400;"
                    f"\r\n\th=from:to:subject:date:message-id:mime-version;"
                    f"\r\n\tbh={fresh_b64(rng, 43)}=;\r\n\tb={b[:76]}\r\n\t {b[76:]}"
                ).encode()
            )
    return b"\r\n".join([*reversed(results), first, *signed, rest])


def fresh_b64(rng: random.Random, n: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    return "".join(rng.choice(alphabet) for _ in range(n))


def main() -> int:
    fourth["fresh"].write_sets(FOLDER, render, "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
