"""Score new-text extraction on the mail-client fixture set (tests/mailrouter/fixtures/clients).

Usage: ``PYTHONPATH=. .venv/bin/python bench/client_mail_score.py [-v] [clients|clients-heldout]``

Prints how many fixtures yield exactly the customer's new text (after ``normalised``), and
for each miss what came out. Threading needs the database: it is scored by
``tests/mailrouter/intake/test_client_mail_threads.py``.
"""

from __future__ import annotations

import sys

from mailrouter.parsing import parse_message
from tests.mailrouter.client_fixtures import load_cases, normalised


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    cases = load_cases(*[arg for arg in argv if not arg.startswith("-")])
    right = 0
    for case in cases:
        parsed = parse_message(case.raw)
        got, want = normalised(parsed.new_text), normalised(case.new_text)
        if got == want:
            right += 1
            continue
        print(f"MISS {case.folder}/{case.file} ({case.client})")
        if verbose:
            print("  want: " + want.replace("\n", "\n        "))
            print("  got:  " + got[:600].replace("\n", "\n        "))
    print(f"new text right: {right}/{len(cases)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
