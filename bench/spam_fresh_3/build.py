"""Render the third fresh evaluation set (English spam of today's kinds and English customer
mail close to it, ``*.txt`` as written) into ``*.jsonl`` with each mail's raw bytes.

Usage: ``.venv/bin/python bench/spam_fresh_3/build.py`` (deterministic). Held out: written
before any change of session 10 to the filter, scored once with the shipped model before and
once with the changed model at the end, never trained or tuned on (it lives outside
``bench/spam_data``; ``bench/spam_fresh_eval.py --folder bench/spam_fresh_3`` reports shares
only). Spam: cold outreach of several trades (SEO and backlinks, web design, lead lists, app
development, outsourcing, "partnership" and guest posts), fake invoices and payment notices,
account-security phishing, crypto and investment offers, gift-card scams. Ham: customer mail
close to those (a bulk or business purchase, a reseller or partnership a sales department
wants, a supplier's invoice question, a real password-reset problem, a press request, a job
application). The mail clients are those of ``bench/spam_fresh_2/build.py``, whose ``render``
is reused, and ``write_sets`` of ``bench/spam_fresh/build.py``.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

FOLDER = Path(__file__).resolve().parent


second = runpy.run_path(str(FOLDER.parent / "spam_fresh_2" / "build.py"))


def main() -> int:
    second["fresh"].write_sets(FOLDER, second["render"], "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
