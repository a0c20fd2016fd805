"""The ticket search index is kept in step by the paths that write (worker, staff, erasure)
and finds English and Chinese words on the database the tests run on (SQLite or PostgreSQL)."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from mailrouter.intake import queue
from support import migrate
from support.cli import cli
from support.core import fulltext
from support.core.db import utcnow
from support.desk import actions, privacy, search
from support.desk.models import Ticket, TicketSearch, TicketTag
from tests.factories import make_customer, make_ticket, make_user
from tests.mailrouter.conftest import make_mail, process_all


def _deliver(app, session, raw: bytes) -> Ticket:
    queue.store_inbound(
        session,
        channel="smtp",
        raw=raw,
        envelope_from="li.lei@example.net",
        envelope_to=["service@example.com"],
        department_code="service",
    )
    session.commit()
    assert process_all(app) == 1
    session.expire_all()
    return session.scalars(select(Ticket).order_by(Ticket.id.desc())).first()


def _found(session, user, query: str) -> list[int]:
    return [t.id for t in search.search_tickets(session, user, query).tickets]


def test_query_words_match_document_words_in_both_languages() -> None:
    doc = fulltext.document(["我的電熱水壺冒煙了", "Kettle SMOKING, refund please"]).split()
    for query in ("热水壶", "冒烟", "kettle", "smoking", "退款申请" and "refund"):
        assert all(term in doc for term in fulltext.query_terms(query)), query
    assert fulltext.query_terms("x" * 5000) == ["x" * fulltext.MAX_TERM_CHARS]
    assert len(fulltext.query_terms(" ".join(f"w{i}" for i in range(50)))) == 8


def test_new_mail_and_follow_up_are_findable_at_once(app, session) -> None:
    agent = make_user(session, departments=("service",))
    session.commit()
    ticket = _deliver(
        app,
        session,
        make_mail(
            sender="Li Lei <li.lei@example.net>",
            to="service@example.com",
            subject="热水壶坏了",
            body="我买的电热水壶冒烟了，需要退款。\nThe thermostat is broken.\n",
        ),
    )
    assert _found(session, agent, "冒烟") == [ticket.id]
    assert _found(session, agent, "thermostat") == [ticket.id]
    assert _found(session, agent, "Li Lei") == [ticket.id]
    assert _found(session, agent, "li.lei@example.net") == [ticket.id]
    assert _found(session, agent, "thermo") == [ticket.id]  # the last word as a prefix
    assert _found(session, agent, "dishwasher") == []

    actions.add_note(session, ticket, agent, "Customer mentioned a warranty card")
    session.commit()
    assert _found(session, agent, "warranty") == [ticket.id]


def test_search_never_lists_a_department_the_user_may_not_see(app, session) -> None:
    service_agent = make_user(session, departments=("service",))
    sales_agent = make_user(session, departments=("sales",))
    ticket = make_ticket(session, department_code="sales", body="Invoice for the blender")
    search.index_tickets(session, [ticket.id])
    session.commit()
    assert _found(session, sales_agent, "blender") == [ticket.id]
    assert _found(session, service_agent, "blender") == []
    assert search.ticket_by_reference(session, service_agent, ticket.reference) is None
    assert search.ticket_by_reference(session, sales_agent, f"#{ticket.reference}") == ticket


def test_erased_customer_is_not_findable(app, session) -> None:
    admin = make_user(session, role="admin")
    customer = make_customer(session, name="Zhang Wei", email="zhang.wei@example.org")
    ticket = make_ticket(session, customer=customer, body="我的洗碗机漏水 dishwasher leaks")
    search.index_tickets(session, [ticket.id])
    session.commit()
    assert _found(session, admin, "漏水") == [ticket.id]
    assert _found(session, admin, "zhang") == [ticket.id]

    privacy.erase_customer(
        session, customer, privacy.parts_of(app), instance_path=app.instance_path
    )
    session.commit()
    for query in ("漏水", "dishwasher", "zhang", "zhang.wei@example.org", "Kettle"):
        assert _found(session, admin, query) == [], query
    row = session.get(TicketSearch, ticket.id)
    assert row is not None and "dishwasher" not in row.document


def test_reindex_all_rebuilds_every_ticket(app, session) -> None:
    admin = make_user(session, role="admin")
    tickets = [make_ticket(session, body=f"toaster number{i}") for i in range(3)]
    session.commit()
    assert _found(session, admin, "toaster") == []
    assert search.reindex_all(session, batch=2) >= 3
    session.commit()
    assert sorted(_found(session, admin, "toaster")) == sorted(t.id for t in tickets)


def test_upgrade_indexes_only_tickets_without_a_row(app, session) -> None:
    """What `support db upgrade` does after migration 0010: tickets written before it."""
    admin = make_user(session, role="admin")
    indexed = make_ticket(session, body="blender")
    search.index_tickets(session, [indexed.id])
    older = make_ticket(session, body="blender too")
    session.commit()
    assert _found(session, admin, "blender") == [indexed.id]
    assert search.reindex_all(session, missing_only=True) == 1
    session.commit()
    assert _found(session, admin, "blender") == [older.id, indexed.id]  # newest first
    assert search.reindex_all(session, missing_only=True) == 0


def test_upgrade_makes_tags_from_before_tag_search_findable(app, session) -> None:
    """Migration 0020: a ticket tagged while search did not read tags kept a row without
    them; `support db upgrade` writes such rows again, once."""
    admin = make_user(session, role="admin")
    tagged = make_ticket(session, body="it hums all night")
    worded = make_ticket(session, body="the fridge door")
    search.index_tickets(session, [tagged.id, worded.id])
    # Tagged as before search read tags: the tag is there, its word is not in the row.
    session.add(TicketTag(ticket_id=tagged.id, tag="fridge", created_at=utcnow()))
    session.commit()
    assert _found(session, admin, "fridge") == [worded.id]
    session.commit()  # the read's transaction ends: the command writes
    migrate.downgrade(app.extensions["support_db"].engine, "0019")  # the release before 0020
    env = {
        "SUPPORT_DATABASE_URL": app.config["DATABASE_URL"],
        "SUPPORT_SECRET_KEY": app.config["SECRET_KEY"],
    }
    args = ["--instance", app.instance_path, "db", "upgrade"]
    first = CliRunner().invoke(cli, args, env=env)
    assert first.exit_code == 0, first.output
    assert "ticket search: 1 tickets indexed" in first.output
    session.expire_all()
    assert sorted(_found(session, admin, "fridge")) == sorted([tagged.id, worded.id])
    session.commit()
    again = CliRunner().invoke(cli, args, env=env)
    assert again.exit_code == 0 and "tickets indexed" not in again.output


def test_a_new_tickets_row_is_the_one_a_full_reindex_writes(app, session) -> None:
    """The worker writes a new ticket's row from the objects in hand (index_new_ticket); it
    must hold the same words as index_tickets, which reads everything back."""
    ticket = _deliver(
        app,
        session,
        make_mail(
            sender="Wang Fang <li.lei@example.net>",
            to="service@example.com",
            subject="Re: 發票抬頭 needs changing",
            body="请把发票抬头改成「深圳市某某科技有限公司」。\nOrder 12345, invoice INV-77.\n",
        ),
    )
    written = session.get(TicketSearch, ticket.id).document
    assert "发票" in written.split() and "inv" in written.split()
    # The worker segmented the subject and text ahead (new_ticket_words), keyed by the very
    # texts the row is made of; from them or from scratch, the row is the same.
    [message] = [m for m in ticket.messages if m.direction == "in"]
    known = search.new_ticket_words(ticket.subject, message.new_text or message.body_text)
    assert set(known) == {ticket.subject, (message.new_text or message.body_text)[:4000]}
    texts = [(message.subject, message.new_text, message.body_text)]
    assert search._document(ticket, ticket.customer, texts, known) == written
    assert search._document(ticket, ticket.customer, texts) == written
    search.index_tickets(session, [ticket.id])
    session.commit()
    session.expire_all()
    assert session.get(TicketSearch, ticket.id).document == written


def test_a_ticket_is_found_by_its_tags(app, session) -> None:
    """Seen from a fresh start.sh: an agent tagged a ticket "#Fridge" and "到府維修"; searching
    "fridge" found nothing (the tag filter is per inbox, and snoozed tickets are not in it)."""
    from support.desk import tags

    agent = make_user(session, departments=("service",))
    ticket = make_ticket(session, subject="部雪櫃唔凍", body="今日開始完全唔凍")
    other = make_ticket(session, subject="Kettle broken")
    search.index_tickets(session, [ticket.id, other.id])
    session.commit()
    assert _found(session, agent, "fridge") == []
    tags.add_tag(session, ticket, agent, "#Fridge")
    tags.add_tag(session, ticket, agent, "到府維修")
    session.commit()
    assert _found(session, agent, "fridge") == [ticket.id]
    assert _found(session, agent, "#fridge") == [ticket.id]
    assert _found(session, agent, "到府维修") == [ticket.id]
    tags.remove_tag(session, ticket, agent, "fridge")
    session.commit()
    assert _found(session, agent, "fridge") == []
    # A full reindex writes the same row.
    written = session.get(TicketSearch, ticket.id).document
    search.index_tickets(session, [ticket.id])
    session.commit()
    assert session.get(TicketSearch, ticket.id).document == written
