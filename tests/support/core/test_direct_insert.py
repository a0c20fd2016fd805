"""insert_new: rows written without the unit of work must equal what a flush would write."""

from __future__ import annotations

import pytest
from sqlalchemy import event, inspect, select

from support.core.db import utcnow
from support.core.direct_insert import KEY_BLOCKS, KeyBlocks, insert_new, insert_new_unless_taken
from support.desk.models import Attachment, Customer, Message, Ticket, UrgencyLevel
from tests.factories import department, make_customer


def _new_ticket(session, customer) -> tuple[Ticket, Message, Attachment]:
    ticket = Ticket(
        customer_id=customer.id,
        subject="退款 refund",
        created_at=utcnow(),
    )
    ticket.department = department(session, "finance")
    ticket.urgency_level = session.get(UrgencyLevel, 4)
    message = Message(ticket=ticket, direction="in", subject="退款", body_text="where is it?")
    message.attachments = [
        Attachment(filename="a.pdf", content_type="application/pdf", size=3, sha256="", data=b"abc")
    ]
    return ticket, message, message.attachments[0]


def _reference(key: int) -> dict[str, str]:
    return {"reference": f"SUP-{key:05d}"}


def _committed_without_blocks(db, session, ids: list[int]) -> None:
    """Commit, leave the blocks, and check the tickets were stored with their message and
    attachment and the reference of their key."""
    session.commit()
    session.info.pop(KEY_BLOCKS)
    with db.session() as other:
        stored = other.scalars(select(Ticket).where(Ticket.id.in_(ids)).order_by(Ticket.id)).all()
        assert [(t.reference, len(t.messages), len(t.messages[0].attachments)) for t in stored] == [
            (f"SUP-{i:05d}", 1, 1) for i in ids
        ]


def test_rows_carry_defaults_and_foreign_keys_from_relationships(app, db, session) -> None:
    customer = make_customer(session)
    session.commit()
    ticket, message, attachment = _new_ticket(session, customer)

    insert_new(session, ticket, message, attachment, derived={ticket: _reference})

    assert not session.new and not session.dirty  # nothing left for a flush to write
    assert ticket.reference == f"SUP-{ticket.id:05d}"
    session.commit()
    with db.session() as other:  # what the database holds, not the session's objects
        stored = other.get(Ticket, ticket.id)
        assert stored.reference == f"SUP-{ticket.id:05d}"  # derived from the database's id
        assert stored.department.code == "finance"
        assert stored.urgency == 4  # the foreign key of urgency_level
        assert (stored.status, stored.channel, stored.sla_paused_seconds) == ("new", "email", 0)
        assert stored.classification == {}
        assert stored.updated_at is not None
        [stored_message] = stored.messages
        assert stored_message.id == message.id
        assert stored_message.references == [] and stored_message.is_automatic is False
        assert [a.data for a in stored_message.attachments] == [b"abc"]


def test_written_objects_are_loaded_and_tracked_by_the_session(app, session) -> None:
    customer = make_customer(session)
    ticket, message, attachment = _new_ticket(session, customer)
    statements: list[str] = []
    event.listen(session.get_bind(), "before_cursor_execute", lambda *a: statements.append(a[2]))

    insert_new(session, ticket, message, attachment)
    reads = (ticket.status, ticket.messages, message.ticket, attachment.message_id, ticket.assignee)

    assert reads[1] == [message] and reads[2] is ticket
    assert [s.split()[0] for s in statements] == ["INSERT"] * 3  # nothing loaded again
    ticket.status = "open"
    session.flush()
    assert session.scalar(select(Ticket.status).where(Ticket.id == ticket.id)) == "open"


def test_only_new_objects_and_written_parents(app, session) -> None:
    customer = make_customer(session)
    with pytest.raises(ValueError, match="not new"):
        insert_new(session, customer)
    ticket, message, _attachment = _new_ticket(session, customer)
    ticket.id = None
    with pytest.raises(ValueError, match="unwritten"):
        insert_new(session, message)  # its ticket has no id yet


def test_objects_written_in_a_rolled_back_savepoint_leave_the_session(app, session) -> None:
    """The worker rolls a failing message back to its savepoint and goes on with the next one,
    which may be given the same ids: the session must not keep the rows that are gone."""
    customer = make_customer(session)
    kept, kept_message, kept_attachment = _new_ticket(session, customer)
    with session.begin_nested():
        insert_new(session, kept, kept_message, kept_attachment)  # released: stays
    with pytest.raises(RuntimeError), session.begin_nested():
        ticket, message, attachment = _new_ticket(session, customer)
        insert_new(session, ticket, message, attachment)
        raise RuntimeError("the message failed")

    assert kept in session and kept_message in session
    assert ticket not in session and message not in session and attachment not in session
    again, again_message, again_attachment = _new_ticket(session, customer)
    again.id, again.reference = ticket.id, ticket.reference  # the same id again, given
    insert_new(session, again, again_message, again_attachment)
    session.commit()
    assert session.scalar(select(Ticket.subject).where(Ticket.id == again.id)) == "退款 refund"


def test_an_outer_rollback_forgets_what_released_savepoints_wrote(app, session) -> None:
    customer = make_customer(session)
    session.commit()
    ticket, message, attachment = _new_ticket(session, customer)
    with session.begin_nested():
        insert_new(session, ticket, message, attachment)
    ticket_id = ticket.id
    session.rollback()
    assert ticket not in session and message not in session
    assert session.get(Ticket, ticket_id) is None


def test_ids_come_from_the_database_one_statement_each_plus_derived(app, session) -> None:
    customer = make_customer(session)
    first, first_message, first_attachment = _new_ticket(session, customer)
    insert_new(session, first, first_message, first_attachment, derived={first: _reference})
    second, message, attachment = _new_ticket(session, customer)
    statements: list[str] = []
    event.listen(session.get_bind(), "before_cursor_execute", lambda *a: statements.append(a[2]))
    insert_new(session, second, message, attachment, derived={second: _reference})

    assert second.id > first.id
    assert [s.split()[0] for s in statements] == ["INSERT", "UPDATE", "INSERT", "INSERT"]
    assert "max(" not in " ".join(statements).lower()
    session.commit()
    assert session.scalar(select(Ticket.reference).where(Ticket.id == second.id)) == (
        f"SUP-{second.id:05d}"
    )


def test_keys_drawn_ahead_are_the_sequences_own_and_need_no_answer(app, db, session) -> None:
    """The worker's PostgreSQL path: keys come in blocks from the table's sequence, the INSERTs
    carry key and derived columns (no RETURNING, no UPDATE), and the rows are stored as before."""
    if db.dialect != "postgresql":
        pytest.skip("keys are drawn ahead from PostgreSQL sequences only")
    customer = make_customer(session)
    session.commit()
    blocks = KeyBlocks(size=4)
    session.info[KEY_BLOCKS] = blocks
    statements: list[str] = []
    event.listen(session.get_bind(), "before_cursor_execute", lambda *a: statements.append(a[2]))
    tickets = []
    for _ in range(5):  # more than one block
        ticket, message, attachment = _new_ticket(session, customer)
        insert_new(session, ticket, message, attachment, derived={ticket: _reference})
        tickets.append(ticket)

    ids = [t.id for t in tickets]
    assert ids == sorted(ids) and len(set(ids)) == 5  # in the order written
    assert [t.reference for t in tickets] == [f"SUP-{i:05d}" for i in ids]
    verbs = [s.split()[0] for s in statements]
    assert verbs.count("UPDATE") == 0 and verbs.count("INSERT") == 15
    assert not any("RETURNING" in s for s in statements)
    # A block of 4 for each table as it is first met, then one draw for all three.
    assert sum("nextval" in s for s in statements) == 3 + 1
    _committed_without_blocks(db, session, ids)
    # Rows written the usual way get keys after the blocks': no clash.
    later, message, attachment = _new_ticket(session, customer)
    insert_new(session, later, message, attachment, derived={later: _reference})
    assert later.id > max(ids)


def test_an_awaited_insert_or_a_session_without_blocks_uses_returning(app, db, session) -> None:
    customer = make_customer(session)
    session.commit()
    session.info[KEY_BLOCKS] = KeyBlocks()
    statements: list[str] = []
    event.listen(session.get_bind(), "before_cursor_execute", lambda *a: statements.append(a[2]))
    ticket, message, attachment = _new_ticket(session, customer)
    insert_new(session, ticket, message, attachment, derived={ticket: _reference}, awaited=True)
    writes = [s for s in statements if s.split()[0] in ("INSERT", "UPDATE")]
    assert [s.split()[0] for s in writes] == ["INSERT", "UPDATE", "INSERT", "INSERT"]
    assert all("RETURNING" in s for s in writes if s.startswith("INSERT"))
    assert not any("nextval" in s for s in statements)
    assert ticket.reference == f"SUP-{ticket.id:05d}"


def test_insert_unless_taken_writes_a_row_or_nothing_without_a_savepoint(app, db, session) -> None:
    """A unique key held by another row writes nothing and leaves the transaction usable."""
    taken = make_customer(session, email="taken@example.org", number="C900001")
    session.commit()
    statements: list[str] = []
    event.listen(session.get_bind(), "before_cursor_execute", lambda *a: statements.append(a[2]))
    fresh = Customer(id=taken.id + 100, email="fresh@example.org", number="C900002")
    clash = Customer(id=taken.id + 101, email="taken@example.org", number="C900003")

    assert insert_new_unless_taken(session, fresh) is True
    assert insert_new_unless_taken(session, clash) is False

    assert fresh in session and inspect(clash).transient
    assert not any("SAVEPOINT" in s for s in statements)
    session.commit()  # the clash did not fail the transaction
    emails = session.scalars(select(Customer.email).order_by(Customer.email)).all()
    assert emails == ["fresh@example.org", "taken@example.org"]


def test_core_statements_skip_the_sessions_execute_but_not_its_transaction(app, db, session):
    # The worker's Core writes go through the session's connection (execute_core): in the
    # session's transaction (a rollback takes them back), never through Session.execute.
    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    from support.core.db import execute_core
    from support.desk.models import AuditEvent

    customer = make_customer(session)
    session.commit()
    ticket, message, attachment = _new_ticket(session, customer)  # reads through the session
    through_session: list[object] = []
    original = Session.execute

    def counted(self, statement, *args, **kwargs):
        through_session.append(statement)
        return original(self, statement, *args, **kwargs)

    Session.execute = counted  # type: ignore[method-assign]
    try:
        insert_new(session, ticket, message, attachment, derived={ticket: _reference})
        values = {"created_at": utcnow(), "action": "test.core", "actor_label": "system"}
        execute_core(session, insert(AuditEvent.__table__), values)
    finally:
        Session.execute = original  # type: ignore[method-assign]
    assert through_session == []
    ticket_id = ticket.id
    session.rollback()
    with db.session() as other:
        assert other.get(Ticket, ticket_id) is None
        assert other.scalars(select(AuditEvent).where(AuditEvent.action == "test.core")).all() == []
    with pytest.raises(ValueError):
        execute_core(session, select(Ticket))


def test_the_column_plans_are_the_mappers_own_lookups_for_every_model(app) -> None:
    """The plan cached per mapper (a speed-up: the lookups cost more than SQLite's INSERT)
    holds what looking each column and relationship up on every row gave, for every model
    the worker or anything else can hand to insert_new: so the rows written are the same."""
    from sqlalchemy.orm import RelationshipDirection

    from support.core.db import Base
    from support.core.direct_insert import _parent_attribute, _plan_for

    # insert_new takes single-column keys only (as before its plans)
    mappers = [m for m in Base.registry.mappers if len(m.local_table.primary_key.columns) == 1]
    assert len(mappers) > 20
    for mapper in mappers:
        plan = _plan_for(mapper)
        (key,) = mapper.local_table.primary_key.columns
        assert plan.key_attribute == mapper.get_property_by_column(key).key
        assert [(c, a, p, d) for c, a, p, d in plan.columns] == [
            (c, mapper.get_property_by_column(c).key, bool(c.primary_key), c.default)
            for c in mapper.local_table.columns
        ]
        many_to_one = [
            r for r in mapper.relationships if r.direction is RelationshipDirection.MANYTOONE
        ]
        assert [r for r, _ in plan.parents] == many_to_one
        for relationship, pairs in plan.parents:
            assert list(pairs) == [
                (mapper.get_property_by_column(local).key, remote)
                for local, remote in relationship.local_remote_pairs
            ]
            parent_mapper = relationship.mapper
            for _, remote in pairs:
                parent = parent_mapper.class_manager.new_instance()
                assert (
                    _parent_attribute(parent, remote)
                    == parent_mapper.get_property_by_column(remote).key
                )
        assert _plan_for(mapper) is plan


def test_one_draw_refills_the_blocks_of_every_table_drawn_before(app, db, session) -> None:
    """A new ticket takes keys of three tables (four with an auto-reply, five with a new
    customer); each block running out was a round trip of its own. A draw now tops up every
    table's block too, so the worker waits for one draw where it waited for three."""
    if db.dialect != "postgresql":
        pytest.skip("keys are drawn ahead from PostgreSQL sequences only")
    customer = make_customer(session)
    session.commit()
    session.info[KEY_BLOCKS] = KeyBlocks(size=4)
    ticket, message, attachment = _new_ticket(session, customer)  # the blocks learn the tables
    insert_new(session, ticket, message, attachment, derived={ticket: _reference})
    statements: list[str] = []
    event.listen(session.get_bind(), "before_cursor_execute", lambda *a: statements.append(a[2]))
    tickets = []
    for _ in range(8):
        ticket, message, attachment = _new_ticket(session, customer)
        insert_new(session, ticket, message, attachment, derived={ticket: _reference})
        tickets.append(ticket)

    assert sum("nextval" in s for s in statements) == 2  # was 2 blocks of 4 for each table: 6
    ids = [t.id for t in tickets]
    assert ids == sorted(ids) and len(set(ids)) == 8
    message_ids = [t.messages[0].id for t in tickets]
    assert message_ids == sorted(message_ids)
    _committed_without_blocks(db, session, ids)
