"""Render the eighth fresh evaluation set (``*.txt`` as written) into ``*.jsonl``.

Usage: ``.venv/bin/python bench/spam_fresh_8/build.py`` (deterministic). Held out: written in
session 15 before any change of that session to the filter and without looking at the
model's features or weights; scored once before and once after, never trained or tuned on
(``bench/spam_fresh_eval.py --folder bench/spam_fresh_8``, shares only). Ham: the business
mail a small company's support addresses get: customers, suppliers' price notices, delivery
plans and invoices, partners, carriers' shipping notices (UPS, FedEx, DHL, SF Express, JD
Logistics), job applicants and references, press and bloggers, tenders; a realistic share
with one or two links and signatures with a URL; English and Chinese (Simplified and
Traditional), a large share sent HTML-only by Outlook on the web and Alibaba Mail. Spam:
phishing (mailbox, e-signature, carriers, banks, payroll), fake invoices and bank changes,
CEO fraud, SEO, lead-gen and other cold outreach with and without a pitch phrase, loans,
crypto; 代开发票, 推广, 刷单, 贷款 and phishing in Chinese. The clients and ``render`` are
those of ``bench/spam_fresh_4/build.py``.
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
