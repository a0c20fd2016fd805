"""Learning phrasings: successful searches, helpful votes and emails propose; staff or evidence
approve; approved phrasings make search find the article."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from faq.knowledge import search_faq
from faq.models import Phrasing, SearchQuery
from faq.phrasings import (
    approve_phrasing,
    clean_phrasing,
    learn_from_searches,
    propose_phrasing,
    reject_phrasing,
)
from support.core.db import utcnow


@pytest.fixture
def app_settings() -> dict:
    # Word search only: these tests check that a phrasing's words become findable when it is
    # approved (the semantic ranking finds "courier waybill" near "Where is my parcel?" anyway).
    return {
        "FAQ_PHRASING_AUTO_APPROVE": 3,
        "FAQ_SEARCH_SESSION_MINUTES": 30,
        "FAQ_SEMANTIC_MODEL": "",
    }


@pytest.fixture
def parcel(kb):
    article = kb.article(
        kb.category("delivery"), "Where is my parcel?", "Look your package up online."
    )
    kb.commit()
    return article


def _found(app, text: str) -> list[str]:
    results, _language = search_faq(text, language="en", app=app)
    return [hit.slug for hit in results.hits]


def test_a_proposal_is_approved_after_enough_evidence_and_then_found(app, session, parcel):
    with app.app_context():  # as the worker and the CLI run: the index and settings are the app's
        assert _found(app, "courier waybill") == []
        for n in range(1, 3):
            phrasing = propose_phrasing(session, parcel.id, "courier waybill?", "email")
            session.commit()
            assert (phrasing.status, phrasing.evidence_count) == ("proposed", n)
            assert _found(app, "courier waybill") == []  # proposals are not indexed
        phrasing = propose_phrasing(session, parcel.id, "Courier  waybill", "search")
        session.commit()
        assert (phrasing.status, phrasing.evidence_count) == ("approved", 3)
        assert session.scalars(select(Phrasing)).all() == [phrasing]  # one row, not three
        assert _found(app, "courier waybill") == [parcel.slug]


def test_staff_approval_indexes_at_once_and_rejection_sticks(app, session, parcel):
    kept = propose_phrasing(session, parcel.id, "courier lost my box", "search")
    dropped = propose_phrasing(session, parcel.id, "cheap kettles", "search")
    approve_phrasing(session, kept)
    reject_phrasing(session, dropped)
    session.commit()
    assert _found(app, "courier lost my box") == [parcel.slug]
    assert propose_phrasing(session, parcel.id, "cheap kettles", "search") is None
    assert dropped.status == "rejected" and dropped.evidence_count == 1


def test_unusable_texts_are_not_proposed(session, parcel):
    assert (
        propose_phrasing(session, parcel.id, "Where is my parcel", "search") is None
    )  # the question
    assert propose_phrasing(session, parcel.id, "  ", "search") is None
    assert propose_phrasing(session, 999_999, "where is it", "search") is None
    with pytest.raises(ValueError, match="unknown phrasing source"):
        propose_phrasing(session, parcel.id, "where is it", "rumour")


def test_a_long_email_contributes_its_first_sentence_only():
    mail = "Where is my parcel? " + "I ordered a kettle last week and it has not come. " * 10
    assert clean_phrasing(mail) == "Where is my parcel?"
    assert clean_phrasing("x" * 500) is None


def _search(session, visitor: str, text: str, at, clicked=None) -> SearchQuery:
    query = SearchQuery(
        query=text, visitor=visitor, result_count=1, created_at=at, clicked_article_id=clicked
    )
    session.add(query)
    session.flush()
    return query


def test_a_search_that_ended_on_an_article_is_learned_once(app, session, parcel):
    now = utcnow()
    start = now - timedelta(hours=2)
    _search(session, "happy", "package not arrived", start, clicked=parcel.id)
    # This visitor opened the article but searched again: the article did not answer them.
    _search(session, "unhappy", "parcel broken", start, clicked=parcel.id)
    _search(session, "unhappy", "damaged parcel refund", start + timedelta(minutes=3))
    # Too recent: the visitor may still search again.
    _search(session, "pending", "box missing", now - timedelta(minutes=5), clicked=parcel.id)
    session.commit()
    assert learn_from_searches(session, now=now) == 1
    session.commit()
    texts = session.scalars(select(Phrasing.text)).all()
    assert texts == ["package not arrived"]
    assert learn_from_searches(session, now=now + timedelta(minutes=1)) == 0  # counted once
    session.commit()
    assert learn_from_searches(session, now=now + timedelta(hours=1)) == 1  # now "box missing"


def test_helpful_vote_after_a_search_proposes_its_words(app, session, parcel, browser_headers):
    client = app.test_client()
    html = client.get("/search?q=package+gone&lang=en", headers=browser_headers).get_data(
        as_text=True
    )
    assert "Where is my parcel?" in html
    query_id = session.scalars(select(SearchQuery.id)).one()
    session.commit()
    client.get(f"/a/{parcel.slug}?sq={query_id}", headers=browser_headers)
    client.post(f"/a/{parcel.slug}/feedback", data={"helpful": "yes"}, headers=browser_headers)
    proposals = session.scalars(select(Phrasing)).all()
    session.commit()
    assert [(p.text, p.source, p.status) for p in proposals] == [
        ("package gone", "helpful", "proposed")
    ]
    # The later sweep over finished searches does not count the same evidence again.
    assert learn_from_searches(session, now=utcnow() + timedelta(hours=1)) == 0
    session.commit()
    assert session.scalars(select(Phrasing.evidence_count)).one() == 1
