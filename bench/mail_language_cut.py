"""Choose a language's cut for the mails' offers (faq.matching.MAIL_LANGUAGE_CUTS) on tuning mails.

For every cut in CUTS, the auto-reply's offers (faq.matching.answers_for, the whole decision: the
gates, the close second, the English second opinion) on the tuning mails of that language: the
calibration mails and hand-written sets 1-14, 16 (mail_offer_calibration.HANDWRITTEN; `--without`
leaves sources out, as the nineteenth session chose on sets 1-10), each search run once and
replayed for each cut.
Prints per cut the expected offered, the false offers (unanswerable mails offered anything not
acceptable) and the precision; then each source left out in turn, scored at the cut chosen on the
others (the most right offers less FALSE_WEIGHT per false offer, the higher cut on a tie); then the
templated tuning half at each cut, as a check. Never run it on a held-out set (the newest
offer_mails_handwritten_N.jsonl, the templated test half).

    .venv/bin/python bench/mail_language_cut.py [--language zh] [--without NAME ...]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from handwritten_offers_eval import as_text  # noqa: E402
from intake_bench import prepare  # noqa: E402
from mail_offer_calibration import HANDWRITTEN  # noqa: E402
from sqlalchemy import select  # noqa: E402

import faq.matching  # noqa: E402
from faq.matching import OFFER_CONFIDENCE, answers_for  # noqa: E402
from faq.models import Article  # noqa: E402
from mailrouter.outbound.offer_evaluation import TUNE, build_cases  # noqa: E402
from support.core.db import get_db  # noqa: E402

TEMPLATED = "templated tuning half"
CUTS = (0.6, 0.625, 0.65, 0.675, 0.7, 0.725, 0.75, 0.775, 0.8)
FALSE_WEIGHT = 2.0  # a false offer weighs two right ones (as the eighteenth session's choice)


class Mail:
    """A tuning mail and what the auto-reply offers it at each cut."""

    def __init__(self, source: str, text: str, expect: Sequence[str], ok: Sequence[str]) -> None:
        self.source = source
        self.text = text
        self.expect = set(expect)
        self.good = set(expect) | set(ok)
        self.offered: dict[float, list[str]] = {}

    def tag(self, cut: float) -> str:
        """right / wrong / nothing for an answerable mail, false / ok for one no article answers."""
        offered = self.offered[cut]
        if self.expect:
            if self.expect & set(offered):
                return "right"
            return "wrong" if offered else "nothing"
        return "false" if set(offered) - self.good else "ok"


def read_mails(names: Sequence[str], language: str) -> list[Mail]:
    mails = []
    for name in names:
        for line in (HERE / name).read_text(encoding="utf-8").splitlines():
            row = json.loads(line) if line.strip() else None
            if row and row["lang"] == language:
                mails.append(Mail(name, as_text(row), row["expect"], row.get("ok", [])))
    return mails


def templated_mails(language: str) -> list[Mail]:
    return [
        Mail(TEMPLATED, c.text, [c.expected] if c.expected else [], list(c.acceptable))
        for c in build_cases()
        if c.half == TUNE and c.language == language
    ]


def cached(search: Callable) -> Callable:
    """The search, run once per text and language (the cut does not change the ranking)."""
    memo: dict[tuple, object] = {}

    def run(session, text, *, language, limit):
        key = (text, language, limit)
        if key not in memo:
            memo[key] = search(session, text, language=language, limit=limit)
        return memo[key]

    return run


def replay(mails: list[Mail], language: str) -> None:
    """Fill each mail's offers at every cut."""
    app = prepare(None, False)
    database = get_db(app)
    faq.matching.suggest_articles = cached(faq.matching.suggest_articles)
    with app.app_context(), database.session() as session:
        slugs = dict(session.execute(select(Article.id, Article.slug)).all())
        for cut in CUTS:
            faq.matching.MAIL_LANGUAGE_CUTS[language] = cut
            for mail in mails:
                matches = answers_for(session, mail.text, language)
                mail.offered[cut] = [slugs[m.article_id] for m in matches]
    database.dispose()


def counts(mails: Sequence[Mail], cut: float) -> tuple[int, int, int, int, int, int]:
    """Right, answerable, false, unanswerable, good offers, offers."""
    tags = [mail.tag(cut) for mail in mails]
    answerable = sum(bool(mail.expect) for mail in mails)
    offers = sum(len(mail.offered[cut]) for mail in mails)
    good = sum(slug in mail.good for mail in mails for slug in mail.offered[cut])
    return (
        tags.count("right"),
        answerable,
        tags.count("false"),
        len(mails) - answerable,
        good,
        offers,
    )


def line(mails: Sequence[Mail], cut: float) -> str:
    right, answerable, false, unanswerable, good, offers = counts(mails, cut)
    return f"{right}/{answerable} expected, {false}/{unanswerable} false, precision {good}/{offers}"


def choose(mails: Sequence[Mail]) -> float:
    """The cut with the most right offers less FALSE_WEIGHT per false offer (higher on a tie)."""

    def score(cut: float) -> tuple[float, float]:
        right, _a, false, _u, _g, _o = counts(mails, cut)
        return (right - FALSE_WEIGHT * false, cut)

    return max(CUTS, key=score)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--language", default="zh")
    parser.add_argument("--without", nargs="*", default=[], help="tuning sources to leave out")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    sources = [name for name in HANDWRITTEN if name not in args.without]
    mails = read_mails(sources, args.language)
    templated = templated_mails(args.language)
    replay(mails + templated, args.language)
    print(f"{args.language} tuning mails ({len(mails)}), fitted on all:")
    for cut in CUTS:
        print(f"  cut {cut:.3f}: {line(mails, cut)}")
    print(f"each source left out in turn (now: {line(mails, OFFER_CONFIDENCE)}):")
    leave_one_out(mails, sources, choose, lambda cut: f"cut {cut:.3f}")
    print(f"{TEMPLATED} ({len(templated)} {args.language} mails), a check:")
    for cut in CUTS:
        print(f"  cut {cut:.3f}: {line(templated, cut)}")


def leave_one_out(
    mails: Sequence[Mail],
    sources: Sequence[str],
    chooser: Callable[[Sequence[Mail]], float],
    name: Callable[[float], str],
) -> None:
    """Print each source's figures at the choice (`chooser`) made on the other sources, and
    their sum."""
    left_out: dict[float, list[Mail]] = {}
    for source in sources:
        part = [mail for mail in mails if mail.source == source]
        choice = chooser([mail for mail in mails if mail.source != source])
        left_out.setdefault(choice, []).extend(part)
        print(f"  {source:36} {name(choice):28} {line(part, choice)}")
    totals = [counts(part, choice) for choice, part in left_out.items()]
    summed = [sum(column) for column in zip(*totals, strict=True)]
    print(
        f"  left out, summed: {summed[0]}/{summed[1]} expected, {summed[2]}/{summed[3]} false, "
        f"precision {summed[4]}/{summed[5]}"
    )


if __name__ == "__main__":
    main()
