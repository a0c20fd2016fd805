"""Render the eleventh fresh evaluation set (``*.txt`` as written) into ``*.jsonl``.

Usage: ``.venv/bin/python bench/spam_fresh_11/build.py`` (deterministic). Held out: written in
session 16 before the reputation change it measures (a DKIM-verified domain staff have written
to; ``SPAM_AUTHENTICATED_SENDERS``) and without looking at the model's features or weights;
scored once before and once after, never trained or tuned on
(``bench/spam_fresh_eval.py --folder bench/spam_fresh_11 --scenario
bench/spam_fresh_11/scenario.json``, shares only).

The scenario (``scenario.json``): a company whose staff have written to eight addresses (six
business domains, one of them Chinese, and one Gmail customer) and whose admin lists six
automatic senders as ``SPAM_AUTHENTICATED_SENDERS``. Each mail has a ``kind:`` line.
Ham, 40: ``known-domain`` (a colleague of a correspondent, the domain's DKIM signature
verified), ``known-address`` (the correspondent himself), ``listed`` (notices of a listed
sender, aligned DKIM and DMARC pass), ``new`` (senders no one here knows, signed or not).
Spam, 30: ``own-domain`` (signed by the spammer's own domain: every check passes),
``forged-known`` (From a correspondent's or listed domain, DMARC or SPF fail), ``lookalike``
(a look-alike of a correspondent's or listed domain, signed by it), ``compromised`` (from a
correspondent's domain without a DKIM signature, as a stolen mailbox sends through webmail
relays), ``freemail`` (Gmail, signed by gmail.com like every Gmail mail, while staff have
written to one Gmail customer). ``auth:`` lines and rendering are those of
``bench/spam_fresh_10/build.py``.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

FOLDER = Path(__file__).resolve().parent

tenth = runpy.run_path(str(FOLDER.parent / "spam_fresh_10" / "build.py"))


def main() -> int:
    tenth["fourth"]["fresh"].write_sets(FOLDER, tenth["render"], "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
