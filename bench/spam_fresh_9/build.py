"""Render the ninth fresh evaluation set (``*.txt`` as written) into ``*.jsonl``.

Usage: ``.venv/bin/python bench/spam_fresh_9/build.py`` (deterministic). Held out: written in
session 15's second round before any change of that round to the filter and without looking
at the model's features or weights; scored once before and once after, never trained or tuned
on (``bench/spam_fresh_eval.py --folder bench/spam_fresh_9``, shares only). Ham: 80 business
mails a small company's support addresses get, more than half with one or two links (the
sender's site in the signature, invoice and payment portals, tracking pages, Teams, Zoom and
Tencent meeting links, SharePoint, OneDrive, Google Drive and Figma shares, tender pages);
customers, suppliers, carriers, auditors, applicants, press; English and Chinese (Simplified
and Traditional), many HTML-only from Outlook on the web and Alibaba Mail. Spam: phishing
that imitates the same shares, invoices and notices, bank changes, gift-card and wire CEO
fraud, SEO, lead lists, reviews, funding and other cold outreach; 代开发票, 税务 and 工资补贴
phishing, 代运营, 刷单, 贷款, 名錄 and 飆股 in Chinese. The clients and ``render`` are those of
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
