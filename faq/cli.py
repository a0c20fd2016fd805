"""`support faq ...`: import, export, evaluate and reindex the knowledge base."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from sqlalchemy import select

from faq.evaluate import evaluate, read_eval_csv
from faq.importexport import (
    ImportFileError,
    export_articles,
    import_articles,
    read_import_file,
    write_export_file,
)
from faq.index_sync import rebuild_index
from faq.knowledge import search_faq
from faq.models import Article
from faq.phrasings import learn_from_searches
from support.core.commands import with_app
from support.core.db import get_db


@click.group("faq")
def faq() -> None:
    """FAQ articles and their search index."""


@faq.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_app
def import_command(app: Flask, file: Path) -> None:
    """Create or update articles from FILE (.json or .csv); repeatable (matched by slug)."""

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
    """Measure search on FILE (CSV: query,expected slug): Recall@1, Recall@5, MRR@10.

    Uses the live index built from the database, searching as the portal does.
    """

    try:
        rows = read_eval_csv(file)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    with get_db(app).sessionmaker() as session:
        known = {slug for (slug,) in session.execute(_published_slugs())}
    unknown = sorted({expected for _q, expected in rows} - known)
    if unknown:
        click.echo(f"warning: not published articles (always misses): {', '.join(unknown)}")

    def ranked(query: str) -> list[str]:
        results, _language = search_faq(query, language="auto", limit=10, app=app)
        return [hit.slug for hit in results.hits]

    report = evaluate(rows, ranked)
    click.echo(f"queries:   {report.n}")
    click.echo(f"Recall@1:  {report.recall_at_1:.3f}")
    click.echo(f"Recall@5:  {report.recall_at_5:.3f}")
    click.echo(f"MRR@10:    {report.mrr_at_10:.3f}")
    if show_misses and report.misses:
        click.echo(f"misses ({len(report.misses)}; expected not first):")
        for miss in report.misses:
            got = ", ".join(miss.got_top3) or "(nothing)"
            click.echo(f"  {miss.query!r}\n    expected {miss.expected}; got {got}")


def _published_slugs():

    return select(Article.slug).where(Article.is_published.is_(True))


@faq.command("reindex")
@with_app
def reindex_command(app: Flask) -> None:
    """Rebuild the search index from the database (safe while the portal runs)."""

    count = rebuild_index(app)
    click.echo(f"search index rebuilt: {count} published articles")


@faq.command("learn")
@with_app
def learn_command(app: Flask) -> None:
    """Turn finished successful searches into proposed phrasings now (`support run` does this
    every few minutes)."""

    with get_db(app).session() as session:
        count = learn_from_searches(session)
    click.echo(f"{count} phrasing proposals")


COMMANDS: list[click.Command] = [faq]
