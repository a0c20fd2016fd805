"""Train the shipped spam model (mailrouter/spam/shipped_model.npz) from the shared corpus.

Usage: ``.venv/bin/python bench/spam_train.py [--corpora ../shared/corpora] [--out PATH]``

Learns from spamassassin/spam-1 (spam), spamassassin/easy-ham-1 and the project's own
customer mails (ham), and the spam and ham the project wrote in several languages
(``bench/spam_data/``), leaving every fifth mail of each out for ``bench/spam_eval.py``. The
corpus is PDDL/CC0 (see its LICENSE); the written file holds the weights and each training
mail as hashed bucket numbers (no text). Choices of model, features and settings are made
with ``bench/spam_cv.py`` (inside the training part).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

from mailrouter.parsing import parse_message
from mailrouter.spam.features import mail_tokens
from mailrouter.spam.model import SpamModel, shipped_model_path
from mailrouter.spam.shipped_training import label_of, split

DEFAULT_CORPORA = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpora"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--out", type=Path, default=shipped_model_path())
    args = parser.parse_args()
    if not (args.corpora / "spamassassin").is_dir():
        print(f"{args.corpora}/spamassassin is absent; nothing to train on", file=sys.stderr)
        return 2
    started = time.monotonic()
    train, held = split(args.corpora)
    model = SpamModel.empty()
    kinds: Counter[str] = Counter()
    for mail in train:
        tokens = mail_tokens(parse_message(mail.raw), mail.raw)
        model.add(tokens, label=label_of(mail))
        kinds[mail.kind] += 1
    model.refresh()
    model.save(args.out)
    print(f"trained on {len(train)} mails ({dict(kinds)}), {len(held)} held out")
    seconds = time.monotonic() - started
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes) in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
