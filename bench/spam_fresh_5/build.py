"""Render the fifth fresh evaluation set (customer mail and spam sent HTML-only, as Outlook on
the web and Alibaba Mail send a mail written in rich text) into ``*.jsonl``.

Usage: ``.venv/bin/python bench/spam_fresh_5/build.py`` (deterministic). Held out: written in
session 12 after ``bench/spam_fresh_4`` showed (by client, shares only) that its held customer
mails were all HTML-only, and before any change for it; scored once before and once after,
never trained or tuned on (``bench/spam_fresh_eval.py --folder bench/spam_fresh_5``). The
clients and ``render`` are those of ``bench/spam_fresh_4/build.py`` (``owa``, ``alimail``).
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
