"""Which FAQ answers are still published: the same answers, in at most two statements a
transaction however many mails of a batch search in it (faq.knowledge._published_ids)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from faq.knowledge import _published_ids
from faq.models import Article, Category
from support.core.db import Database


def _articles(db: Database) -> dict[str, int]:
    with db.session() as session:
        shown = Category(slug="orders", name_en="Orders", name_zh="订单")
        hidden = Category(slug="old", name_en="Old", name_zh="旧", is_published=False)
        articles = {
            name: Article(
                slug=f"{name}-en",
                category=category,
                language="en",
                question=f"About {name}?",
                answer_md="An answer.",
                is_published=published,
            )
            for name, category, published in (
                ("refund", shown, True),
                ("tracking", shown, True),
                ("invoice", shown, True),
                ("draft", shown, False),
                ("archived", hidden, True),
            )
        }
        session.add_all(articles.values())
        session.flush()
        return {name: article.id for name, article in articles.items()}


@contextmanager
def _selects(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_a_batch_of_searches_gets_the_same_answers_in_two_statements(db):
    ids = _articles(db)
    gone = max(ids.values()) + 100  # deleted since the index was written
    # What one mail after another of a batch finds, each search its own hits.
    searches = [
        [ids["refund"]],
        [ids["refund"], ids["draft"]],
        [ids["tracking"], ids["archived"], gone],
        [ids["invoice"], ids["refund"]],
        [gone, ids["draft"], ids["tracking"]],
    ]
    with db.sessionmaker() as session:  # one statement per search, the answers to match
        expected = []
        for hits in searches:
            session.rollback()  # a transaction per search: nothing kept from the one before
            expected.append(_published_ids(session, hits))
    assert expected[2] == {ids["tracking"]}
    assert expected[4] == {ids["tracking"]}

    with _selects(db) as statements, db.read_session() as session:
        found = [_published_ids(session, hits) for hits in searches]
    assert found == expected
    assert len(statements) == 2  # was one per search that hit an article not asked about


def test_one_search_asks_only_for_its_own_hits(db):
    ids = _articles(db)
    with _selects(db) as statements, db.read_session() as session:
        assert _published_ids(session, [ids["draft"], ids["refund"]]) == {ids["refund"]}
        assert _published_ids(session, [ids["refund"]]) == {ids["refund"]}  # known: no read
    assert len(statements) == 1
    assert "IN" in statements[0].upper()  # the web page's one search reads its hits only
