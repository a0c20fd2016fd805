"""Mails written in pinyin (no Chinese keyboard at hand): their language and FAQ offers.

bench/pinyin_mails.jsonl: 38 mails in pinyin written by hand for this bench (spaced, joined,
tone marks, tone digits, a few English words among them; 30 an article answers, 8 none does)
and 12 English "near twins" that name people and places in pinyin ("Zhang Wei from Wuhan") or
are made of English words that are pinyin syllables ("Hang on, can you ping me"), which must
stay English. Each mail goes through the real parser (its language is the reply's) and the
auto-reply's one FAQ entry point (faq.matching.answers_for) on the demo FAQ, as the intake
does. Prints per mail the language, the offers and the first hits; then, for the pinyin mails,
expected offered / only wrong / nothing, unanswerable offered, precision, and the twins kept
English. Only "-zh" articles count as right for a pinyin mail (its reply is Chinese).

    .venv/bin/python bench/pinyin_offers_eval.py [bench/pinyin_mails.jsonl]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from handwritten_offers_eval import count_offers, parsed_row, read_mails  # noqa: E402
from intake_bench import prepare  # noqa: E402
from sqlalchemy import select  # noqa: E402

from faq.matching import answers_for  # noqa: E402
from faq.models import Article  # noqa: E402
from support.core.db import get_db  # noqa: E402

MAILS = HERE / "pinyin_mails.jsonl"


def parsed_mail(row: dict) -> tuple[str, str]:
    """The mail's text as the auto-reply reads it and its language, through the real parser."""
    parsed = parsed_row(row)
    return f"{parsed.subject}\n{parsed.new_text}".strip(), parsed.language or "en"


def main(argv: Sequence[str] | None = None) -> None:
    rows = read_mails(argv, MAILS, __doc__)
    app = prepare(None, False)
    database = get_db(app)
    counts = dict.fromkeys(("right", "wrong", "nothing", "false", "ok", "offers", "good"), 0)
    pinyin = [row for row in rows if row["kind"] == "pinyin"]
    answerable = sum(bool(row["expect"]) for row in pinyin)
    chinese = english_twins = twins = 0
    cpu = 0.0
    with app.app_context(), database.session() as session:
        slugs = dict(session.execute(select(Article.id, Article.slug)).all())
        answers_for(session, "warm up 你好", "zh")
        for row in rows:
            started = time.process_time()
            text, language = parsed_mail(row)
            matches = answers_for(session, text, language, offered_only=False)
            cpu += time.process_time() - started
            offered = [slugs[m.article_id] for m in matches if m.offer]
            top = [(slugs[m.article_id], m.confidence) for m in matches[:2]]
            if row["kind"] == "twin":
                twins += 1
                english_twins += language == "en"
                print(f"{'twin ' + language:>9}  {row['id']} offered {offered}  top {top}")
                continue
            chinese += language == "zh"
            tag = count_offers(counts, row, offered)
            print(f"{tag + ' ' + language:>9}  {row['id']} offered {offered}  top {top}")
    database.dispose()
    offers = counts["offers"]
    share = f" = {counts['good'] / offers:.2f}" if offers else ""
    print(
        f"pinyin mails {len(pinyin)} (read as Chinese: {chinese}); answerable {answerable}: "
        f"expected offered {counts['right']}, only wrong {counts['wrong']}, nothing "
        f"{counts['nothing']}; unanswerable {len(pinyin) - answerable}: offered something "
        f"{counts['false']}; precision {counts['good']}/{offers}{share}; "
        f"near twins kept English {english_twins}/{twins}; "
        f"CPU {1000 * cpu / len(rows):.1f} ms a mail (parse + offers)"
    )


if __name__ == "__main__":
    main()
