"""`support faq ...`: import, export, evaluate and reindex the knowledge base."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import func, select

from support.core.commands import with_app
from support.core.db import get_db

# The search engine, the models and the importers are imported by the commands that use them:
# `support --help` and `support faq --help` show this module's help texts.


@click.group("faq")
def faq() -> None:
    """FAQ articles and their search index."""


@faq.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_app
def import_command(app: Flask, file: Path) -> None:
    """Create or update articles from FILE (.json or .csv); repeatable (matched by slug).

    A CSV needs the columns slug, category (a category's slug: a new one is made), question
    and answer (Markdown); language (en, zh) is en and published true unless given. `support
    faq export FILE.csv` writes every column, a file to start from.
    """
    from faq.importexport import ImportFileError, import_articles, read_import_file

    try:
        data = read_import_file(file)
        with get_db(app).session() as session:
            counts = import_articles(session, data)
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(counts.summary())


@faq.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_app
def export_command(app: Flask, file: Path) -> None:
    """Write every category and article to FILE (.json or .csv)."""
    from faq.importexport import ImportFileError, export_articles, write_export_file

    with get_db(app).sessionmaker() as session:
        data = export_articles(session)
    try:
        write_export_file(file, data)
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"exported {len(data['articles'])} articles to {file}")


@faq.command("evaluate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--show-misses/--no-show-misses", default=True, show_default=True)
@with_app
def evaluate_command(app: Flask, file: Path, show_misses: bool) -> None:
    """Measure search on FILE (CSV: query,expected slug): Recall@1, Recall@5, MRR@10, and the
    auto-reply's offers: precision, coverage, false-offer rate.

    Uses the live index built from the database, searching as the portal does and matching as
    the auto-reply does. An empty expected slug means no article answers the query.
    """
    from faq.evaluate import evaluate, evaluate_shown, read_eval_csv
    from faq.knowledge import search_faq
    from faq.matching import answers_for, first_page
    from faq.models import Article
    from support.core.text import detect_language

    try:
        rows = read_eval_csv(file)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    with get_db(app).sessionmaker() as session:
        known = {slug for (slug,) in session.execute(_published_slugs())}
    unknown = sorted({expected for _q, expected in rows if expected} - known)
    if unknown:
        click.echo(f"warning: not published articles (always misses): {', '.join(unknown)}")

    def ranked(query: str) -> list[str]:
        results, _language = search_faq(query, language="auto", limit=10, app=app)
        return [hit.slug for hit in results.hits]

    def shown(query: str) -> list[str]:
        results, _language = search_faq(query, language="auto", limit=10, app=app)
        return [hit.slug for hit in first_page(results).hits]

    with app.app_context(), get_db(app).sessionmaker() as session:
        slugs = dict(session.execute(select(Article.id, Article.slug)).all())

        def offered(query: str) -> list[str]:
            language = detect_language(query, min_cjk_share=0)
            return [slugs[m.article_id] for m in answers_for(session, query, language)]

        report = evaluate(rows, ranked, offered)
        on_page = evaluate_shown(rows, shown)
    click.echo(f"queries:   {report.n} answerable, {len(rows) - report.n} no article answers")
    click.echo(f"Recall@1:  {report.recall_at_1:.3f}")
    click.echo(f"Recall@5:  {report.recall_at_5:.3f}")
    click.echo(f"MRR@10:    {report.mrr_at_10:.3f}")
    click.echo(f"results page (before 'show all'): {on_page.summary()}")
    offers = report.offers
    assert offers is not None
    click.echo(f"auto-reply offers: {offers.offered}")
    click.echo(f"  precision:        {offers.precision:.3f} (offered articles that are right)")
    click.echo(f"  coverage:         {offers.coverage:.3f} (answerable: right article offered)")
    click.echo(
        f"  false-offer rate: {offers.false_offer_rate:.3f} "
        f"(of {offers.unanswerable} no article answers: offered anything)"
    )
    if show_misses and report.misses:
        click.echo(f"misses ({len(report.misses)}; expected not first):")
        for miss in report.misses:
            got = ", ".join(miss.got_top3) or "(nothing)"
            click.echo(f"  {miss.query!r}\n    expected {miss.expected}; got {got}")
    if show_misses and offers.wrong:
        click.echo(f"wrong offers ({len(offers.wrong)}):")
        for miss in offers.wrong:
            got = ", ".join(miss.got_top3)
            click.echo(f"  {miss.query!r}\n    expected {miss.expected or '(none)'}; offered {got}")


def _published_slugs():
    from faq.models import Article

    return select(Article.slug).where(Article.is_published.is_(True))


@faq.command("reindex")
@with_app
def reindex_command(app: Flask) -> None:
    """Rebuild the search index from the database (safe while the portal runs)."""
    from faq.index_sync import rebuild_index

    with get_db(app).sessionmaker() as session:
        total = session.scalar(select(func.count()).select_from(_published_slugs().subquery()))
    started = time.perf_counter()
    with click.progressbar(
        length=total or 0, label="indexing articles", file=sys.stderr, show_pos=True
    ) as bar:
        count = rebuild_index(app, progress=bar.update)
    seconds = time.perf_counter() - started
    rate = f", {count / seconds:.1f} articles/s" if seconds > 0 and count else ""
    click.echo(f"search index rebuilt: {count} published articles in {seconds:.1f}s{rate}")


@faq.command("status")
@with_app
def status_command(app: Flask) -> None:
    """Whether this host's search index has applied every article change (exit status 1 when
    it has not: a host normally follows within FAQ_SYNC_SECONDS of an edit)."""
    from faq.index_sync import current_generation, index_path
    from faq.search import SearchIndex

    with get_db(app).read_session() as session:
        database = current_generation(session)
    where = index_path(app)
    applied = SearchIndex(where).synced_generation()
    if applied == database:
        click.echo(f"search index {where}: caught up (FAQ generation {database})")
        return
    if applied is None:
        click.echo(
            f"search index {where}: no generation recorded (missing, or built before the change "
            "log): the next process that searches rebuilds it, or run `support faq reindex`"
        )
    elif applied < database:
        behind = database - applied
        click.echo(
            f"search index {where}: {behind} generation{'s' if behind != 1 else ''} behind "
            f"(index {applied}, database {database}): is `support web` running on this host?"
        )
    else:
        click.echo(
            f"search index {where}: at generation {applied}, ahead of the database's {database} "
            "(a restored backup): run `support faq reindex`"
        )
    sys.exit(1)


@faq.command("learn")
@with_app
def learn_command(app: Flask) -> None:
    """Turn finished successful searches into proposed phrasings now (`support run` does this
    every few minutes)."""
    from faq.phrasings import learn_from_searches

    with get_db(app).session() as session:
        count = learn_from_searches(session)
    click.echo(f"{count} phrasing proposals")


COMMANDS: list[click.Command] = [faq]
