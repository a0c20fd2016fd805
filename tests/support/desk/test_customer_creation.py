"""A new customer from the worker on PostgreSQL: one INSERT, no savepoints, and the clashes a
savepoint used to catch (the address created meanwhile, the number assigned already) still
handled."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from support.core.direct_insert import KEY_BLOCKS, KeyBlocks
from support.desk.customers import find_or_create_customer
from support.desk.models import Customer
from tests.factories import make_customer


@pytest.fixture
def worker_session(db, session):
    """The worker's kind of session: keys drawn ahead (PostgreSQL only)."""
    if db.dialect != "postgresql":
        pytest.skip("keys are drawn ahead on PostgreSQL only")
    session.info[KEY_BLOCKS] = KeyBlocks(size=4)
    statements: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    session.info["test.statements"] = statements
    return session


def _writes(session) -> list[str]:
    return [
        s.split()[0] for s in session.info["test.statements"] if not s.lstrip().startswith("SELECT")
    ]


def test_a_new_customer_is_one_insert_without_savepoints(worker_session) -> None:
    session = worker_session
    customer, created = find_or_create_customer(
        session, "New.Sender@Example.net", "New Sender", looked_up=(None,)
    )
    assert created and customer in session
    assert customer.number == f"C{customer.id:06d}"
    assert _writes(session) == ["INSERT"]  # no SAVEPOINT, RELEASE or UPDATE around it
    session.commit()
    assert session.scalar(select(Customer.email).where(Customer.id == customer.id)) == (
        "new.sender@example.net"
    )


def test_an_address_created_meanwhile_is_used_and_the_transaction_goes_on(
    db, worker_session
) -> None:
    session = worker_session
    with db.session() as other:  # another worker, committed after this one read "no customer"
        existing = make_customer(other, email="racer@example.net")
        existing_id = existing.id
    customer, created = find_or_create_customer(
        session, "racer@example.net", "Racer", looked_up=(None,)
    )
    assert not created and customer.id == existing_id
    make_customer(session)  # the transaction is still usable
    session.commit()
    count = select(func.count()).where(Customer.email == "racer@example.net")
    assert session.scalar(count) == 1


def test_a_number_assigned_already_gives_the_next_free_one(db, worker_session) -> None:
    session = worker_session
    blocks: KeyBlocks = session.info[KEY_BLOCKS]
    with db.session() as other:  # the number the next key drawn ahead would give, imported
        probe = blocks.take(other, Customer.__table__)
        make_customer(other, number=f"C{probe + 1:06d}")
    customer, created = find_or_create_customer(session, "numbered@example.net", "N")
    assert created
    session.commit()
    numbers = session.scalars(select(Customer.number)).all()
    assert len(numbers) == len(set(numbers)) == 2
    assert customer.number != f"C{probe + 1:06d}"
