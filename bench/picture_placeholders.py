"""What pasted pictures change in routing: each realistic mail with and without placeholders.

Usage: ``PYTHONPATH=$PWD .venv/bin/python bench/picture_placeholders.py``

Every mail of ``bench/routing_mails_realistic*.jsonl`` (the hand-written sets, labels beside
them) is decided twice as ``bench/routing_realistic_eval.py`` decides it (the worker's
parse, subject and customer text, ``decisions.decide`` with a freshly trained bootstrap model):
as written, and with two pictures pasted under its first paragraph as Gmail writes them in the
plain text ("[image: IMG_2034.JPG]", "[image: Screenshot 2026-12-01 at 10.14.32.png]"). A
picture adds no words, so nothing should change; counted are the mails whose department (or
triage), urgency or language (``ParsedMail.language``, which picks the auto-reply's language)
differ, and the mails where a picture's words ("image", "png", "screenshot") are among the
words that decided the department or urgency (``reasons``) and were not before.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections import Counter
from email.message import EmailMessage
from pathlib import Path

from mailrouter.intake.pipeline import ticket_subject
from mailrouter.parsing import parse_message
from mailrouter.routing.classifier import train
from mailrouter.routing.decisions import customer_text, decide
from mailrouter.routing.labels import load_bootstrap_examples
from mailrouter.settings import SETTINGS

FOLDER = Path(__file__).resolve().parent
PICTURES = "[image: IMG_2034.JPG]\n[image: Screenshot 2026-12-01 at 10.14.32.png]"
DEPARTMENTS = {"sales", "service", "pr", "hr", "finance"}
PICTURE_WORDS = re.compile(r"\b(?:image|img|jpg|png|screenshot|2034|10\.14\.32)\b", re.I)


def mails() -> list[dict]:
    found = []
    for path in sorted(FOLDER.glob("routing_mails_realistic*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            if line.strip():
                found.append(json.loads(line))
    return found


def with_pictures(body: str) -> str:
    first, sep, rest = body.partition("\n\n")
    return f"{first}\n\n{PICTURES}{sep}{rest}" if sep else f"{body}\n\n{PICTURES}"


def raw_mail(subject: str, body: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Customer <customer@mail.example>"
    message["To"] = "support@example.com"
    message["Subject"] = subject
    message.set_content(body)
    return message.as_bytes()


def main() -> int:
    config = {setting.name: setting.default for setting in SETTINGS}
    bundle = train(
        load_bootstrap_examples(),
        evaluate=False,
        min_confidence=float(config["CLASSIFIER_MIN_CONFIDENCE"]),
    )
    changed: Counter[str] = Counter()
    began = time.process_time()
    every = mails()
    for mail in every:
        seen = []
        for body in (mail["body"], with_pictures(mail["body"])):
            parsed = parse_message(raw_mail(mail["subject"], body))
            decision = decide(
                ticket_subject(parsed),
                customer_text(parsed.new_text, parsed.text),
                config=config,
                bundle=bundle,
                active_codes=DEPARTMENTS,
            )
            reasons = [
                *decision.classification["department"].get("reasons", []),
                *decision.classification["urgency"].get("reasons", []),
            ]
            words = {str(word).lower() for word in reasons if PICTURE_WORDS.search(str(word))}
            seen.append((decision.department_code, decision.urgency, parsed.language, words))
        (department, urgency, language, words), (department2, urgency2, language2, words2) = seen
        changed["department"] += department != department2
        changed["urgency"] += urgency != urgency2
        changed["language"] += language != language2
        changed[f"language {mail['language'][:2]}"] += language != language2
        changed["picture words decided"] += bool(words2 - words)
        changed["any"] += (department, urgency, language) != (department2, urgency2, language2)
    n = len(every)
    print(f"{n} mails, each decided as written and with two pictures pasted")
    for key in (
        "department",
        "urgency",
        "language",
        "language en",
        "language zh",
        "picture words decided",
        "any",
    ):
        print(f"  {key:<24} changed {changed[key]:>4} ({changed[key] / n:.1%})")
    print(f"CPU {time.process_time() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
