"""Demand ranking: real signals, decay, dedup of views, bots ignored, order of the home page."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, update

from faq.demand import (
    current_demand,
    decayed,
    fold_all_pending_demand,
    is_bot,
    most_asked,
    ranked_categories,
    record_demand,
    record_demand_many,
)
from faq.models import Article, DemandEvent
from support.core.db import utcnow


@pytest.fixture
def app_settings() -> dict:
    return {"FAQ_HOME_CACHE_SECONDS": 0}  # see the order change at once (tested below with a cache)


def _order_of_categories(html: str) -> list[str]:
    return re.findall(r'data-category="([^"]+)"', html)


def test_a_signal_counts_half_after_one_half_life(app, session, kb):
    category = kb.category("delivery")
    article = kb.article(category, "When will my order arrive?")
    start = utcnow()
    record_demand(session, article.id, "email_match", now=start)  # weight 3
    halfway = start + timedelta(days=app.config["FAQ_HALF_LIFE_DAYS"])
    assert current_demand(article, halfway) == pytest.approx(1.5)
    record_demand(session, article.id, "view", now=halfway)  # weight 1, fresh
    assert current_demand(article, halfway) == pytest.approx(2.5)
    assert current_demand(article, halfway + timedelta(days=30)) == pytest.approx(1.25)
    assert decayed(4.0, start, start + timedelta(days=60), 30.0) == pytest.approx(1.0)


def test_a_late_signal_is_added_at_its_own_age(app, session, kb):
    article = kb.article(kb.category("delivery"), "Where is my parcel?")
    now = utcnow()
    record_demand(session, article.id, "view", now=now)
    record_demand(session, article.id, "view", now=now - timedelta(days=30))
    assert current_demand(article, now) == pytest.approx(1.5)


def test_repeated_views_by_one_visitor_count_once_per_window(app, session, kb):
    article = kb.article(kb.category("delivery"), "Where is my parcel?")
    now = utcnow()
    assert record_demand(session, article.id, "view", visitor="v1", now=now) is not None
    assert (
        record_demand(session, article.id, "view", visitor="v1", now=now + timedelta(minutes=5))
        is None
    )
    assert record_demand(session, article.id, "view", visitor="v2", now=now) is not None
    later = now + timedelta(minutes=app.config["FAQ_VIEW_DEDUP_MINUTES"] + 1)
    assert record_demand(session, article.id, "view", visitor="v1", now=later) is not None
    assert article.view_count == 3


def test_demand_leaves_the_articles_last_updated_time_alone(app, session, kb):
    """Customers reading or mailing about an article do not edit it: "last updated" stays."""
    article = kb.article(kb.category("delivery"), "Where is my parcel?")
    edited = utcnow() - timedelta(days=3)
    session.execute(update(Article).where(Article.id == article.id).values(updated_at=edited))
    session.commit()

    record_demand(session, article.id, "view", visitor="v1")
    record_demand_many(session, [article.id], "email_match", visitor="ticket:SUP-00001")
    session.commit()

    stored = session.execute(
        select(Article.updated_at, Article.demand_score, Article.view_count).where(
            Article.id == article.id
        )
    ).one()
    assert stored.updated_at == edited
    assert stored.demand_score == pytest.approx(4.0) and stored.view_count == 1


def test_several_articles_count_at_once_in_three_statements(app, db, session, kb):
    category = kb.category("delivery")
    asked_before, fresh, untouched = (kb.article(category, f"Question {n}?") for n in range(3))
    start = utcnow()
    record_demand(session, asked_before.id, "helpful", now=start)  # 3, halved below
    session.commit()
    later = start + timedelta(days=app.config["FAQ_HALF_LIFE_DAYS"])
    statements: list[str] = []

    def capture(conn, cursor, statement, *args) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE for the transaction
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        signals = record_demand_many(
            session,
            [fresh.id, asked_before.id, fresh.id, 999_999],  # a repeat and an unknown article
            "email_match",
            visitor="ticket:SUP-00042",
            now=later,
        )
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    assert len(statements) == 3, statements  # one locking read, one UPDATE, one INSERT

    assert [(s.article_id, s.kind, s.weight) for s in signals] == [
        (asked_before.id, "email_match", 3.0),
        (fresh.id, "email_match", 3.0),
    ]
    # The loaded objects show the new values at once, and the database agrees.
    assert current_demand(asked_before, later) == pytest.approx(1.5 + 3.0)
    assert current_demand(fresh, later) == pytest.approx(3.0)
    session.commit()
    session.expire_all()
    assert current_demand(asked_before, later) == pytest.approx(4.5)
    assert current_demand(fresh, later) == pytest.approx(3.0)
    assert untouched.demand_score == 0.0 and asked_before.demand_at == later
    events = session.execute(
        select(DemandEvent.article_id, DemandEvent.visitor).where(DemandEvent.created_at == later)
    ).all()
    assert sorted(events) == sorted(
        [(asked_before.id, "ticket:SUP-00042"), (fresh.id, "ticket:SUP-00042")]
    )


def test_many_views_skip_the_articles_this_visitor_just_viewed(app, session, kb):
    category = kb.category("delivery")
    seen, unseen = kb.article(category, "Seen?"), kb.article(category, "Unseen?")
    now = utcnow()
    record_demand(session, seen.id, "view", visitor="v1", now=now)
    counted = record_demand_many(
        session, [seen.id, unseen.id], "view", visitor="v1", now=now + timedelta(minutes=1)
    )
    assert [s.article_id for s in counted] == [unseen.id]
    assert (seen.view_count, unseen.view_count) == (1, 1)


def test_two_workers_adding_demand_at_once_lose_nothing(app, db, kb):
    """Overlapping sets in opposite orders, at the same moment: no lost signal, no deadlock."""
    category = kb.category("delivery")
    first, second = kb.article(category, "First?"), kb.article(category, "Second?")
    kb.commit()
    now, rounds = utcnow(), 5
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(ids: list[int]) -> None:
        try:
            for _ in range(rounds):
                barrier.wait(timeout=60)
                with db.session() as session:
                    record_demand_many(session, ids, "email_match", now=now)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    orders = ([first.id, second.id], [second.id, first.id])
    threads = [threading.Thread(target=worker, args=(ids,)) for ids in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    with db.session() as session:
        scores = session.scalars(select(Article.demand_score).order_by(Article.id)).all()
        events = session.scalar(select(func.count()).select_from(DemandEvent))
    assert scores == [pytest.approx(2 * rounds * 3.0)] * 2
    assert events == 2 * rounds * 2


def test_unknown_kind_is_refused(session, kb):
    article = kb.article(kb.category("delivery"), "Where is my parcel?")
    with pytest.raises(ValueError, match="unknown demand kind"):
        record_demand(session, article.id, "guess")


@pytest.mark.parametrize(
    ("agent", "bot"),
    [
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", True),
        ("Mozilla/5.0 (compatible; bingbot/2.0)", True),
        ("curl/8.5.0", True),
        ("python-requests/2.32", True),
        ("", True),
        (None, True),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Safari/604.1", False),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0 Safari/537.36 Edg/126.0", False),
    ],
)
def test_bots_are_recognised_by_user_agent(agent, bot):
    assert is_bot(agent) is bot


def test_views_from_browsers_count_and_from_crawlers_do_not(app, session, kb, browser_headers):
    article = kb.article(kb.category("delivery"), "Where is my parcel?")
    kb.commit()

    def views() -> int:
        count = session.scalar(select(Article.view_count).where(Article.id == article.id))
        session.commit()  # end the read: SQLite lets one transaction at a time in
        return count

    client = app.test_client()
    crawler = {"User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"}
    client.get(f"/a/{article.slug}", headers=crawler)
    assert views() == 0
    client.get(f"/a/{article.slug}", headers=browser_headers)
    client.get(f"/a/{article.slug}", headers=browser_headers)  # same visitor (cookie), same window
    assert views() == 1
    app.test_client().get(f"/a/{article.slug}", headers=browser_headers)
    assert views() == 2
    visitors = session.scalars(select(DemandEvent.visitor)).all()
    assert len(set(visitors)) == 2 and all(len(v) == 32 for v in visitors)


def test_home_page_orders_categories_by_their_articles_demand(app, session, kb, browser_headers):
    delivery = kb.category("delivery", "Delivery")
    returns = kb.category("returns", "Returns")
    kb.category("empty", "Empty category")  # nothing in it: not shown
    parcel = kb.article(delivery, "Where is my parcel?")
    refund = kb.article(returns, "How long does a refund take?")
    kb.article(returns, "Can I return a used item?")
    record_demand(session, parcel.id, "email_match")
    kb.commit()
    client = app.test_client()
    html = client.get("/?lang=en", headers=browser_headers).get_data(as_text=True)
    assert _order_of_categories(html) == ["delivery", "returns"]
    for _ in range(2):
        record_demand(session, refund.id, "email_match")
    session.commit()
    html = client.get("/?lang=en", headers=browser_headers).get_data(as_text=True)
    assert _order_of_categories(html) == ["returns", "delivery"]
    # Within the category the asked question comes first, and the unasked one is still listed.
    block = html[html.index('data-category="returns"') :]
    assert block.index("How long does a refund take?") < block.index("Can I return a used item?")


def test_category_page_lists_every_article_most_asked_first(app, session, kb, browser_headers):
    returns = kb.category("returns")
    articles = [kb.article(returns, f"Question number {n}?") for n in range(8)]
    record_demand(session, articles[5].id, "helpful")
    record_demand(session, articles[2].id, "view")
    kb.commit()
    html = (
        app.test_client().get("/c/returns?lang=en", headers=browser_headers).get_data(as_text=True)
    )
    positions = [html.index(f"Question number {n}?") for n in range(8)]
    assert positions[5] < positions[2] < min(p for n, p in enumerate(positions) if n not in (2, 5))


def test_ranking_uses_decayed_demand_not_totals(app, session, kb):
    old_favourite = kb.article(kb.category("old"), "An old favourite?")
    new_trend = kb.article(kb.category("new"), "A new trend?")
    now = utcnow()
    record_demand(
        session, old_favourite.id, "email_match", weight=10, now=now - timedelta(days=150)
    )
    record_demand(session, new_trend.id, "view", now=now)
    ranked = ranked_categories(session, "en", now=now)
    assert [b.category.slug for b in ranked] == ["new", "old"]  # 10 / 2^5 < 1


def test_most_asked_counts_only_the_last_seven_days_and_no_seed(app, session, kb):
    category = kb.category("delivery")
    recent = kb.article(category, "Recent question?")
    old = kb.article(category, "Old question?")
    seeded = kb.article(category, "Seeded question?")
    now = utcnow()
    record_demand(session, recent.id, "view", now=now - timedelta(days=1))
    record_demand(session, old.id, "email_match", weight=50, now=now - timedelta(days=8))
    record_demand(session, seeded.id, "seed", weight=500, now=now)
    assert [a.slug for a in most_asked(session, "en", now=now)] == [recent.slug]


def test_pinned_notice_is_shown_on_top_and_nothing_is_hidden(app, session, kb, browser_headers):
    category = kb.category("service")
    notice = kb.article(category, "Holiday opening hours", is_published=True)
    kb.article(category, "How do I reset my password?")
    notice.is_pinned = True
    kb.commit()
    html = app.test_client().get("/?lang=en", headers=browser_headers).get_data(as_text=True)
    assert html.index("Holiday opening hours") < html.index('data-category="service"')
    block = html[html.index('data-category="service"') :]
    assert "Holiday opening hours" in block and "How do I reset my password?" in block


def test_seeded_demand_orders_the_demo_home_page(app, session, demo, browser_headers):
    html = app.test_client().get("/?lang=zh", headers=browser_headers).get_data(as_text=True)
    order = _order_of_categories(html)
    assert len(order) == 6
    totals = {
        slug: sum(
            a["demand_seed"]
            for a in demo["articles"]
            if a["category"] == slug and a["language"] == "zh"
        )
        for slug in order
    }
    assert [totals[s] for s in order] == sorted(totals.values(), reverse=True)
    assert session.scalar(select(func.count()).select_from(Article)) == 60


@pytest.mark.parametrize("app_settings", [{"FAQ_HOME_CACHE_SECONDS": 60}])
def test_home_ranking_is_reused_briefly_but_edits_show_at_once(app, session, kb, browser_headers):
    delivery = kb.category("delivery")
    returns = kb.category("returns")
    kb.article(delivery, "Where is my parcel?")
    refund = kb.article(returns, "How long does a refund take?")
    kb.commit()
    client = app.test_client()
    assert _order_of_categories(client.get("/?lang=en", headers=browser_headers).text) == [
        "delivery",
        "returns",
    ]
    record_demand(session, refund.id, "email_match")
    session.commit()
    # Within the cache time the ranking is reused: demand moves over weeks, not seconds.
    html = client.get("/?lang=en", headers=browser_headers).text
    assert _order_of_categories(html) == ["delivery", "returns"]
    # An edit of the knowledge base is shown at once.
    kb.article(returns, "Can I return a used kettle?")
    kb.commit()
    html = client.get("/?lang=en", headers=browser_headers).text
    assert _order_of_categories(html) == ["returns", "delivery"]
    assert "Can I return a used kettle?" in html


def test_deferred_signals_wait_for_the_fold_and_then_count_as_if_added_at_once(app, db, kb):
    """The worker's signals touch no article row; the fold gives the scores direct adding gives."""
    category = kb.category("delivery")
    deferred, direct = kb.article(category, "Deferred?"), kb.article(category, "Direct?")
    kb.commit()
    start = utcnow()
    steps = [(start, "email_match", 1), (start + timedelta(days=3), "email_match", 2)]
    steps += [(start + timedelta(days=1), "view", 0)]  # a web signal between, added at once
    with db.session() as session:
        for when, kind, _ in steps:
            if kind == "view":
                for article_id in (deferred.id, direct.id):
                    record_demand(session, article_id, "view", now=when)
            else:
                record_demand_many(session, [deferred.id], kind, now=when, deferred=True)
                record_demand_many(session, [direct.id], kind, now=when)
    with db.session() as session:
        before = session.get(Article, deferred.id)
        assert (before.demand_score, before.view_count) == (pytest.approx(1.0), 1)  # the view only
        pending = session.scalar(select(func.count()).where(DemandEvent.pending))
        assert pending == 2

    assert fold_all_pending_demand(app) == 2
    assert fold_all_pending_demand(app) == 0  # folded once, never twice
    with db.session() as session:
        folded, expected = session.get(Article, deferred.id), session.get(Article, direct.id)
        later = start + timedelta(days=10)
        assert current_demand(folded, later) == pytest.approx(current_demand(expected, later))
        assert folded.view_count == expected.view_count == 1
        assert session.scalar(select(func.count()).where(DemandEvent.pending)) == 0


def test_a_deferred_signal_for_a_deleted_article_is_skipped_not_an_error(app, db, kb):
    article = kb.article(kb.category("delivery"), "Soon gone?")
    kb.commit()
    with db.session() as session:
        record_demand_many(session, [article.id, 999_999], "email_match", deferred=True)
    with db.session() as session:
        kinds = session.scalars(select(DemandEvent.article_id)).all()
    assert kinds == [article.id]


def test_the_mail_workers_signal_takes_no_lock_on_the_article(app, db, kb):
    """Another transaction holding the article's row does not make the worker's signal wait."""
    article = kb.article(kb.category("delivery"), "Popular?")
    kb.commit()
    statements: list[str] = []
    with db.session() as session:
        event.listen(
            session.connection(),
            "before_cursor_execute",
            lambda *args: statements.append(args[2]),
        )
        record_demand_many(session, [article.id], "email_match", deferred=True)
    assert len(statements) == 1
    assert statements[0].lstrip().upper().startswith("INSERT")
    assert "FOR UPDATE" not in statements[0].upper()


def test_run_folds_demand_periodically(app):
    from support.app import periodic_services

    names = [service.name for service in periodic_services(app)]
    assert "faq-demand" in names
