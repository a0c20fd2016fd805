"""Production password hashing: argon2id at its full cost, and a sign-in bringing an older,
cheaper hash up to it.

The rest of the suite hashes at a test-sized cost (tests/conftest.py); the tests marked
`real_password_cost` here hash as production does, so they fail if its cost is ever lowered.
"""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, Type, extract_parameters
from sqlalchemy import select

from support.core.passwords import hash_password, verify_password
from support.desk.models import User
from tests.factories import make_user
from tests.support.staff_helpers import PASSWORD, login

#: The least production may hash with: argon2-cffi's default, RFC 9106's low-memory profile
#: (64 MiB, 3 passes, 4 lanes, a 16-byte salt and a 32-byte hash).
FLOOR = {"memory_cost": 65536, "time_cost": 3, "parallelism": 4, "salt_len": 16, "hash_len": 32}


def _below_floor(password_hash: str) -> dict[str, int]:
    """The parameters of ``password_hash`` below FLOOR (empty: it is at least as costly)."""
    found = extract_parameters(password_hash)
    return {
        name: getattr(found, name) for name, least in FLOOR.items() if getattr(found, name) < least
    }


@pytest.mark.real_password_cost
def test_passwords_are_hashed_with_argon2id_at_the_production_cost() -> None:
    password_hash = hash_password(PASSWORD)
    assert extract_parameters(password_hash).type is Type.ID
    assert _below_floor(password_hash) == {}
    assert verify_password(password_hash, PASSWORD)
    assert not verify_password(password_hash, PASSWORD + "!")


@pytest.mark.real_password_cost
def test_signing_in_rehashes_a_cheaper_hash_at_the_production_cost(app, session, client) -> None:
    """A password hashed before the cost was raised is hashed again at the first sign-in that
    knows it: the stored hash is then as costly as a new one."""
    old = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    user = make_user(session, email="ann@example.com")
    user.password_hash = old
    session.commit()
    login(client, "ann@example.com")
    session.expire_all()
    stored = session.scalar(select(User.password_hash).where(User.id == user.id))
    session.commit()
    assert stored != old and _below_floor(stored) == {}
    assert verify_password(stored, PASSWORD)


@pytest.mark.real_password_cost
def test_signing_in_keeps_a_hash_at_the_production_cost(app, session, client) -> None:
    user = make_user(session, email="ann@example.com")
    session.commit()
    made = user.password_hash
    assert _below_floor(made) == {}
    login(client, "ann@example.com")
    session.expire_all()
    assert session.scalar(select(User.password_hash).where(User.id == user.id)) == made
    session.commit()


def test_other_tests_hash_at_a_test_sized_cost() -> None:
    """The suite's default (tests/conftest.py): still argon2id, far below the floor."""
    password_hash = hash_password(PASSWORD)
    assert extract_parameters(password_hash).type is Type.ID
    assert _below_floor(password_hash).keys() == {"memory_cost", "time_cost", "parallelism"}
