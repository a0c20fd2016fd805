"""Customers' sentences do not outlive QUERY_LIFETIME_SECONDS as vectors (README, "Data
protection"): a mail's sentences, matched against the FAQ as the worker matches them, are kept
with an expiry in the process and in the host's file of embedded texts, and dropped from both
once it passes, while the articles' vectors stay."""

from __future__ import annotations

import sqlite3

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from faq import index_sync
from faq.matching import answers_for
from faq.search import embedding
from faq.search.shared_vectors import FILE_NAME

MAIL = "Hello, my Vesta kettle from order 55123 leaks at the base. Can I get it replaced?"


def _rows(app: Flask) -> list[tuple[str, float | None]]:
    path = index_sync.index_path(app).parent / FILE_NAME
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT model, expires_at FROM vectors").fetchall()
    connection.close()
    return rows


def test_a_mails_sentences_expire_in_the_process_and_the_hosts_file(
    app: Flask, session: Session, demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.app_context():
        index = index_sync.get_index(app, session=session)
        models = [model for model in (index.embedder, index.english) if model is not None]
        assert models
        index.vectors()  # the articles' vectors (passages)
        before = set(index.embedder._expires)
        answers_for(session, MAIL, "en")
        embedded = set(index.embedder._expires) - before  # the mail's sentences
        assert embedded
        assert any(expires_at is not None for _model, expires_at in _rows(app))

        later = embedding.time.time() + embedding.QUERY_LIFETIME_SECONDS + 1
        for model in models:
            monkeypatch.setattr(model, "_clock", lambda: later)
            model.forget_expired()  # what each process's sweeper thread does every minute

        assert not embedded & index.embedder._cache.keys()
        assert not any(model._expires for model in models)
        assert all(expires_at is None for _model, expires_at in _rows(app))
