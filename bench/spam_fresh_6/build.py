"""Render the sixth fresh evaluation set (``*.txt`` as written) into ``*.jsonl``.

Usage: ``.venv/bin/python bench/spam_fresh_6/build.py`` (deterministic). Held out: written in
session 13 before any change of that session to the filter and without looking at the
model's features or weights; scored once before and once after, never trained or tuned on
(``bench/spam_fresh_eval.py --folder bench/spam_fresh_6``, shares only). Ham: the businessy
mail a small company's public addresses receive (accounts payable and receivable, W-9 and
other tax forms, remit-to and bank-detail changes, purchase orders, RFQs, resellers and
distributors, applications to HR, press and event invitations, one-liners), English and
Chinese (Simplified and Traditional), a share sent HTML-only. Spam: SEO and guest posts, lead
lists, fake invoices and shared documents, mailbox-full and password phishing, CEO fraud,
crypto, loans, sextortion, 发票代开, 推广, 刷单. The clients and ``render`` are those of
``bench/spam_fresh_4/build.py``.
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
