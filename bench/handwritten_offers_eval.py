"""The auto-reply's FAQ offers on mails written by hand in customers' own manner.

Subjects that say the topic, a question that names nothing after the sentences that do, both
scripts of Chinese; not made by mailrouter/outbound/offer_evaluation.py's template. A check that
what helps the templated mails helps real ones too. One choice was made on them
(faq.search.asking.CAUSE_SENTENCES); since the twelfth session the used-up sets are tuning data
for the mails' confidence (below), and only the newest set is held out.

offer_mails_handwritten.jsonl (28 mails) is the default; offer_mails_handwritten_2.jsonl (46
mails, written later: quoted replies, signatures, angry tone, two questions in one mail, 12 no
article answers) was held out until the seventh session's change was scored on it (used up);
offer_mails_handwritten_3.jsonl (49 mails, 14 no article answers, Taiwanese and Cantonese
wording among the Chinese) was held out until the tenth session (used up);
offer_mails_handwritten_4.jsonl (60 mails, 30 English and 30 Chinese in both scripts, 20 no
article answers) was written in the eleventh session before any change and scored once before
and once after one (a share of the mail's words no article has, as a confidence feature: it
gained on the sets above and the templated test half but not here, 18 of 40 expected offered
before and after, so it was not merged; branch h-offers-s11): used up as well, so the next
change to the offers needs a new held-out set written first. Figures on it before the twelfth
session: expected offered 18 of 40, only wrong offers 3, unanswerable offered 3 of 20, precision
21 of 26; after (tuned on it): 22 of 40, 5, 4 of 20, 26 of 33.
offer_mails_handwritten_5.jsonl (60 mails, 30 English and 30 Chinese in both scripts with some
Cantonese and Taiwanese wording, 20 no article answers) was written in the twelfth session before
any change, scored once before and once after the mails' own confidence formula
(faq.matching.MAIL_CONFIDENCE_*): expected offered 25 -> 26 of 40, only wrong 1 -> 1,
unanswerable offered 1 -> 0 of 20, precision 25/27 -> 26/27. Used up now.
offer_mails_handwritten_6.jsonl (48 mails, 24 English and 24 Chinese, 16 no article answers) was
written in the twelfth session after that change was chosen and scored once with the code before
the session and once after it (20 -> 22 of 32 expected offered, only wrong 1 -> 1, unanswerable
offered 3 -> 1 of 16, precision 20/24 -> 22/24); it was the
held-out set until the fourteenth session, which made sets 5 and 6 tuning data.
offer_mails_handwritten_7.jsonl (60 mails, 20 English and 20 Chinese an article answers, 10 and
10 none does; Simplified, Traditional and Cantonese) was written in the fourteenth session before
any change and scored once before and once after (vague questions keep their cause, the mails'
cut moved): expected offered 24 -> 25 of 40, only wrong 1 -> 2, unanswerable offered 1 -> 1 of
20, precision 24/26 -> 25/28. Used up now: tuning data since the fifteenth session.
offer_mails_handwritten_8.jsonl (60 mails, 20 English and 20 Chinese an article answers, 10 and
10 none does) was written in the fifteenth session before any change and scored once before and
once after (the TF-IDF cosine's margin in the mails' formula): 31 -> 31 of 40 expected offered,
only wrong 1 -> 1, unanswerable offered 2 -> 2 of 20, precision 31/34 -> 31/34. Used up now
(tuning data since the sixteenth session).
offer_mails_handwritten_9.jsonl (60 mails, 20 English and 20 Chinese an article answers, two
with two questions, 10 and 10 none does; Simplified, Traditional and Cantonese) was written in
the sixteenth session before any change and scored once before and once after (a mail's first
hit the model ranks second offered at a lower confidence; the typed questions' formula reading
the TF-IDF margin): 27 -> 27 of 40 expected offered, only wrong 2 -> 2, unanswerable offered
2 -> 2 of 20, precision 28/31 -> 28/31 (no mail of it changed). Used up now.
offer_mails_handwritten_10.jsonl (60 mails, 20 English and 20 Chinese an article answers, 7 of
them asking two things, 10 and 10 none does) was written in the sixteenth session after set 9
was scored, before a further change (a mail that asks several things searched line by line, a
line's first hit offered at 0.90; not kept): 33 -> 33 of 40 expected offered, only wrong 1 -> 1,
unanswerable offered 0 -> 0 of 20, precision 34/35 -> 36/41, both answers of a two-question mail
0 -> 2 of 7. Used up too: the next change needs a new held-out set.
offer_mails_handwritten_11.jsonl (60 mails, 20 English and 20 Chinese an article answers, two of
them asking two things, 10 and 10 none does, near-topic ones among them; Simplified,
Traditional, Cantonese and Taiwanese wording) was written in the seventeenth session before any
change, scored once with the code before it and once after one (a mail that asks several
things is offered a close second hit beside an offered first, faq.matching.MAIL_SECOND_*):
expected offered 27 -> 27 of 40, only wrong 1 -> 1, unanswerable offered 1 -> 1 of 20,
precision 28/30 -> 29/31. Used up now: the next change needs a new held-out set.
offer_mails_handwritten_12.jsonl (60 mails, 20 English and 20 Chinese an article answers, three
of them asking two things, 10 and 10 none does; Simplified, Traditional and Cantonese) was
written in the eighteenth session before any change, scored once with the code before it and
once after one (an English mail's first hit between 0.70 and 0.80 offered when the second
English model agrees, faq.matching.MAIL_AGREED_*): expected offered 31 -> 31 of 40, only wrong
0 -> 0, unanswerable offered 1 -> 1 of 20, precision 33/34 -> 33/34 (no mail changed: none of
its English first hits fell between 0.70 and 0.80). Used up now; set 11 did not change either.
offer_mails_handwritten_13.jsonl (77 mails, 20 English and 33 Chinese an article answers, three
of them asking two things, 10 and 14 none does; Simplified, Traditional and Cantonese) was
written in the nineteenth session before any change, scored once with the code before it and
once after one (Chinese mails offered from 0.725 on the mails' fitted formula,
faq.matching.MAIL_LANGUAGE_CUTS): expected offered 31 -> 34 of 53, only wrong 2 -> 2,
unanswerable offered 2 -> 2 of 24, precision 34/36 -> 37/39. Used up now.
offer_mails_handwritten_14.jsonl (80 mails, English-heavy: 36 English and 19 Chinese an article
answers, three of them asking two things, 16 and 9 none does; greetings, signatures, quoted
history, typos) was written in the twentieth session before any change, scored once with the
code before it and once after one (an English mail's first hit the model ranks first needs no
word-search rank, faq.matching.MAIL_WORD_GATE_WAIVED; docs/semantic-search.md). Used up now.
offer_mails_handwritten_15.jsonl (51 English mails: 31 an article answers, 20 none does though
they share its words: press and interview requests, a job reference, a recruiter, suppliers,
partners, a supplier's invoice and quote, "stock", "order" and "available" in other senses) was
written later in the twentieth session before a change (a veto by the second English model on
English mails' offers, bench/mail_english_veto.py) and scored once with the code as it was:
expected offered 29 of 31, only wrong 0, unanswerable offered 1 of 20 (a journalist's interview
request -> the careers article), precision 29/30. The change was not kept (it lost on the tuning
mails), so the set has been scored with the current code only: it is the held-out set, and its
"before" figures stand for the next change.
offer_mails_handwritten_16.jsonl (77 mails, mostly Chinese: 48 Chinese and 4 English an article
answers, 22 and 3 none does though they share its words: points or a coupon given to someone
else, parking at the showroom, what an invoice may say, an internship certificate, a vacuum's app
and wifi, product specifications; Simplified, Traditional and Cantonese, greetings, order numbers,
quoted notices and signatures, typos such as 发漂 and 优惠卷) was written in the twenty-first
session before any change, scored once with the code before it and once after one (a lower
semantic floor for Chinese mails, faq.search.fusion.MIN_SIMILARITY_CHINESE_MAIL, and Chinese
words that name no topic, faq.search.asking.VAGUE_WORDS_CHINESE): expected offered 45 -> 45 of 52,
only wrong 0 -> 0, unanswerable offered 6 -> 6 of 25, precision 45/52 -> 45/52 (no mail's offer
changed). Used up now (tuning data since the twenty-second session); set 15 is still the
held-out English set.
offer_mails_handwritten_17.jsonl (73 mails: 48 an article answers, 25 none does, 14 of them
near-topic, sharing an article's words: points for gifts, an expired coupon, an event at the
showroom, an interview's address, a parcel station, a member card left in a traded-in appliance;
English, Simplified, Traditional and Cantonese) was written in the twenty-second session before
any run and scored once with the code as it was: expected offered 35 of 48, only wrong 4,
unanswerable offered 7 of 25, precision 36/46. The session's change (a Chinese first hit that
shares few of the mail's words judged less sure, branch h-offers-s22 7640f6b) was not kept, so
the set has been scored with the current code only: it is the held-out set, and its figures
stand as "before" for the next change.
offer_mails_handwritten_18.jsonl (74 mails: 49 an article answers, 25 none does, 19 of them
near-topic: points or a coupon given to someone else, points for gifts, a trade-in coupon that
expired or never came, a courier complaint, a chosen courier or delivery hour, repair progress,
an account's name; English, Simplified, Traditional and Cantonese) was written in the
twenty-third session before any change and scored once before and once after it (a Chinese
mail's first hit is not offered when its request names three words or more the article has not
one character of, faq.matching.MAIL_UNASKED_*): expected offered 47 -> 47 of 49, only wrong
1 -> 1, unanswerable offered 8 -> 7 of 25, precision 48/57 -> 48/56; set 17, scored after the
change for the second time: 35 of 48, 4, 7 of 25, 36/46, unchanged. Both are used up now; set 15
is still the held-out English set.
offer_mails_handwritten_19.jsonl (74 mails: 49 an article answers, 25 none does, 22 of them
near-topic: points given to a son or a colleague, a trade-in coupon expired or never credited,
repair progress, the name on an account, a job application's status, carrying a parcel upstairs,
holding a product, extended warranty, a membership level, a refund to a cancelled card, a
complaint about an agent; English, Simplified and Traditional) was written in the twenty-fourth
session before any run and scored once before and once after its change (a mail's first hit is
not offered when its request asks an action its article does not answer,
faq.matching.asks_other_action): expected offered 38 -> 38 of 49, only wrong 0 -> 0,
unanswerable offered 11 -> 5 of 25, precision 42/53 -> 42/47. Its author wrote the action
patterns too, knowing the kinds of near-topic mail sets 17 and 18 hold, so it is a weaker test
of them than a set written by someone else. Used up now, as are 17 and 18.
offer_mails_handwritten_20.jsonl (75 mails, each with an `id`: 48 an article answers, 27 none
does, most near an article's topic: a fapiao's line as office supplies, an English receipt,
third-party filters, two accounts to merge, parking at the showroom, engraving, a regional
distributor; English, Simplified, Traditional with Taiwan and Hong Kong wording) was written
blind in the twenty-fourth session, by a helper that had read neither the matching code nor the
earlier sets, committed before any run and scored once with the code as it was: expected offered
34 of 48, only wrong 0, unanswerable offered 7 of 27, precision 34/43 (35 of 48, 35/44 after
that session's fix for contractions typed without the apostrophe). In the twenty-fifth session
it was the check of a change chosen on calibration and sets 1-19 (the first hit's TF-IDF cosine
in the mails' formula, refitted, faq.matching.MAIL_CONFIDENCE_PER_WORD_COSINE): 35 -> 36 of
48, unanswerable offered 7 -> 5 of 27, precision 35/44 -> 36/44; on sets 1-19 and calibration
662 -> 658 of 818, 30 -> 25 of 412. Used up now.
offer_mails_handwritten_21.jsonl (77 mails: 52 an article answers, four of them asking two
things, 25 none does, 16 of them near-topic: an overdue supplier's invoice, a courier's manners,
repair progress, points moved to a wife or swapped for gifts, parking at the showroom, a job
application's status or an interview moved, a purifier's clicking noise, filters' lifetime, a
delivery hour, what an invoice may say, a trade-in coupon never credited, extended warranty; the
others partnership and sales offers, praise, product specifications, gift wrapping; English,
Simplified, Traditional, Cantonese and Taiwanese wording) was written in the twenty-fifth session
blind (its author read neither the matcher nor the earlier sets), before any change, and scored
once with the code as it was: expected offered 44 of 52, only wrong 1, unanswerable offered 4 of
25, precision 45/51; after the refit of the mails' formula (set 20's paragraph): 44 of 52, only
wrong 1, unanswerable offered 2 of 25, precision 45/49. Used up now: the next change to the
offers needs a new held-out set written first.
offer_mails_handwritten_22.jsonl (80 mails: 30 English, 50 Chinese of which 25 Simplified, 15
Traditional with Taiwanese wording and 10 Cantonese; 52 an article answers, three of them asking
two things both answered, 28 none does, 18 of them near-topic: a complaint about a courier who
left a parcel in the rain, a loan unit during a repair, an invoice split across cost centres or
reissued after the account was deleted, Taiwan's uniform invoice with a company number, points
and coupons not given back after a cancellation or return, a coupon passed to a friend or
extended after expiry, a call before delivery, carrying upstairs, convenience-store pickup in
Taiwan, one account for two people, a hijacked account, a box for a return pickup, the warranty
on a repaired part, repair points in Taiwan, a spare battery; the others praise, product
specifications, a dehumidifier, Christmas offers, an influencer, a survey and an agency's pitch)
was written in the twenty-sixth session blind (its author read neither the matcher nor the
earlier sets), before any change. Scored by the lead in the twenty-sixth session (main
b2553aa1) and again in the twenty-eighth (main 945f9744;
branch h-offers-s28 changed no product code, so main and the branch are the same run):
both times expected offered 37 of 52, only wrong 0, unanswerable offered 7 of 28, precision
37/44.
Used up now (its per-mail lines were printed): the next change needs a new held-out set.
offer_mails_handwritten_23.jsonl (80 mails: 30 English, 25 Simplified, 15 Traditional with
Taiwanese wording, 10 Cantonese; 52 an article answers, 28 none does, 20 of them near-topic) was
written in the twenty-eighth session blind and scored once on main (945f9744): expected offered 36
of 52, only wrong 3, unanswerable offered 9 of 28, precision 36/49 (docs/measurements.md,
h-blind-s28). Its per-mail lines were printed: tuning data from then on.
offer_mails_handwritten_24.jsonl (80 mails, each with an `id`: 30 English, 50 Chinese of which 25
Simplified, 15 Traditional with Taiwanese wording and 10 Cantonese; 52 an article answers, covering
all 30 topics, four of them asking two things both answered, 28 none does, 21 of them near-topic:
a spare glass jug and its shipping time, a courier's fee for carrying upstairs or a remote-area
surcharge in Hong Kong, a parcel station's storage fee, sunglasses left at the showroom or a dog
brought there, a demand for a supervisor over an order, an interview's travel costs, a campus job
fair, review points never credited, a birthday gift for members, warranty on a second-hand
purifier, a repeat fault after repair and a scratched case after repair, a new-user coupon never
given, a fapiao the tax bureau cannot find, a frozen account, a trade-in the courier refused,
Taiwan's customs real-name check, an unofficial Shopee reseller, a stolen credit card; the others
praise and product specifications) was written in the twenty-ninth session blind (its author
read neither the matcher, the tests nor the earlier sets, only this docstring, the demo articles
and one line of set 23), labels first, committed (8af121e7) before any run and scored once with
the code as it was; figures in docs/measurements.md (h-blind-s29). Its per-mail lines were
printed later in that session (h-coverage-s29, which tuned on sets 1-24): tuning data now, so the
next change to the offers needs a new held-out set written first.
offer_mails_handwritten_25.jsonl (80 mails, written blind in the thirtieth session, h-blind-s30:
scored once on main b352ef1e, expected offered 42 of 55, only wrong 1, unanswerable offered 4 of
25, precision 42/48) had its per-mail lines printed in the thirty-first session (h-offers-s31):
tuning data now (bench/offer_causes.py reads it), so the next change to the offers needs a new
held-out set written first.
Sets 1-19 and offer_mails_calibration.jsonl (73 mails, 35 no article answers) are tuning data
(bench/mail_offer_calibration.py fitted the mails' formula on the calibration mails and sets
1-14 and 16; bench/mail_word_cosine.py refits it on calibration and sets 1-19 since the
twenty-fifth session).

    .venv/bin/python bench/handwritten_offers_eval.py [bench/offer_mails_handwritten_2.jsonl]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from intake_bench import prepare  # noqa: E402
from sqlalchemy import select  # noqa: E402

from faq.matching import answers_for  # noqa: E402
from faq.models import Article  # noqa: E402
from faq.search import MAX_QUERY_CHARS, focus  # noqa: E402
from faq.search.embedding import segments  # noqa: E402
from mailrouter.parsing import ParsedMail, parse_message  # noqa: E402
from support.core.db import get_db  # noqa: E402

MAILS = HERE / "offer_mails_handwritten.jsonl"


def as_text(row: dict) -> str:
    """The mail as the auto-reply reads it: subject and new text, through the real parser."""
    parsed = parsed_row(row)
    return f"{parsed.subject}\n{parsed.new_text}".strip()


def parsed_row(row: dict) -> ParsedMail:
    """A row's mail (its subject and body) as the real parser reads it."""
    mail = EmailMessage()
    mail["From"] = "customer@example.net"
    mail["To"] = "support@example.com"
    mail["Subject"] = row["subject"]
    mail.set_content(row["body"])
    return parse_message(mail.as_bytes())


def count_offers(counts: dict[str, int], row: dict, offered: list[str]) -> str:
    """Count one mail's offers in `counts` (offers, good ones, its tag) and return its tag:
    right, wrong (only wrong ones), nothing; for a mail no article answers, false or ok."""
    good = set(row["expect"]) | set(row.get("ok", []))
    counts["offers"] += len(offered)
    counts["good"] += sum(slug in good for slug in offered)
    if row["expect"]:
        if any(slug in row["expect"] for slug in offered):
            tag = "right"
        else:
            tag = "wrong" if offered else "nothing"
    else:
        tag = "false" if any(slug not in good for slug in offered) else "ok"
    counts[tag] = counts.get(tag, 0) + 1
    return tag


def read_mails(argv: Sequence[str] | None, default: Path, doc: str | None) -> list[dict]:
    """The rows of the .jsonl the command line names (else `default`); quiets the logging."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("mails", nargs="?", type=Path, default=default, help="a .jsonl of mails")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    lines = args.mails.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def embedded_sentences(text: str) -> int:
    """How many texts the model embeds for a mail (each new one ~27 ms of CPU)."""
    return len(segments(focus(text)[:MAX_QUERY_CHARS]))


def main(argv: Sequence[str] | None = None) -> None:
    rows = read_mails(argv, MAILS, __doc__)
    app = prepare(None, False)
    database = get_db(app)
    counts = dict.fromkeys(("right", "wrong", "nothing", "false", "offers", "good"), 0)
    answerable = sum(bool(row["expect"]) for row in rows)
    embedded = 0
    with app.app_context(), database.session() as session:
        slugs = dict(session.execute(select(Article.id, Article.slug)).all())
        for row in rows:
            text = as_text(row)
            embedded += embedded_sentences(text)
            matches = answers_for(session, text, row["lang"], offered_only=False)
            offered = [slugs[m.article_id] for m in matches if m.offer]
            tag = count_offers(counts, row, offered)
            top = [(slugs[m.article_id], m.confidence) for m in matches[:2]]
            print(f"{tag:>7}  {row['subject'][:30]:<30} offered {offered}  top {top}")
    database.dispose()
    print(
        f"answerable {answerable}: expected offered {counts['right']}, only wrong "
        f"{counts['wrong']}, nothing {counts['nothing']}; unanswerable {len(rows) - answerable}: "
        f"offered something {counts['false']}; precision {counts['good']}/{counts['offers']}; "
        f"{embedded / len(rows):.2f} sentences embedded per mail"
    )


if __name__ == "__main__":
    main()
