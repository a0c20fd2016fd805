"""A number in a URL that no id column can hold is a 404 on every page, never a database error.

PostgreSQL's INTEGER stops at 2**31 - 1 and answers a larger value with an overflow error (a 500);
SQLite would accept it. A URL value preprocessor stops such numbers before any view runs.
"""

from __future__ import annotations

import pytest

from tests.factories import make_user
from tests.support.staff_helpers import fast_passwords, login

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)

TOO_BIG = 2**31


@pytest.mark.parametrize(
    "path",
    [
        f"/staff/tickets/{TOO_BIG}",
        f"/staff/admin/users/{TOO_BIG}",
        f"/staff/admin/departments/{TOO_BIG}",
        f"/staff/quarantine/{TOO_BIG}",
        f"/staff/tickets/{10**30}",
    ],
)
def test_a_number_beyond_any_id_is_a_404(app, session, client, path) -> None:
    make_user(session, email="admin@example.com", role="admin")
    session.commit()
    login(client, "admin@example.com")
    assert client.get(path).status_code == 404


def test_the_largest_id_still_reaches_the_page(app, session, client) -> None:
    make_user(session, email="admin@example.com", role="admin")
    session.commit()
    login(client, "admin@example.com")
    assert client.get(f"/staff/tickets/{TOO_BIG - 1}").status_code == 404  # no such ticket
