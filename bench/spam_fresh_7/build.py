"""Render the seventh fresh evaluation set (``*.txt`` as written) into ``*.jsonl``.

Usage: ``.venv/bin/python bench/spam_fresh_7/build.py`` (deterministic). Held out: written in
session 14 before any change of that session to the filter and without looking at the
model's features or weights; scored once before and once after, never trained or tuned on
(``bench/spam_fresh_eval.py --folder bench/spam_fresh_7``, shares only). Ham: what a
company's support addresses really get: customers forwarding a suspicious mail or text to ask
whether it is genuine, suppliers' invoices and statements with a link, recruiters and
applicants, press, partners, mails with one or two links, order confirmations pasted in,
one-liners; English and Chinese (Simplified and Traditional), a share sent HTML-only. Spam:
cold outreach with and without a pitch phrase, SEO, phishing, fake invoices and payment
changes, crypto, loans; 代开发票, 刷单, 贷款, 推广, phishing in Chinese. The clients and
``render`` are those of ``bench/spam_fresh_4/build.py``.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

FOLDER = Path(__file__).resolve().parent


fourth = runpy.run_path(str(FOLDER.parent / "spam_fresh_4" / "build.py"))


def main() -> int:
    fourth["fresh"].write_sets(FOLDER, fourth["render"], "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
