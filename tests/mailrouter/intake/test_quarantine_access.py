"""The quarantine pages follow the ticket access rule: a lead reads held mail of their own
departments only, mail without a department only when they may triage, and never mail that
is queued or already a ticket. Anything else is a 404, never a 403."""

from __future__ import annotations

import pytest

from mailrouter.intake import queue
from mailrouter.intake import views as intake_views
from mailrouter.models import InboundMail
from tests.factories import make_ticket, make_user
from tests.mailrouter.conftest import make_mail
from tests.support.staff_helpers import login


@pytest.fixture
def staff_client(app, client):
    if "quarantine" not in app.blueprints:
        intake_views.init_app(app)
    return client


def _store(session, n: int, *, state: str, department_code: str | None, ticket=None) -> int:
    raw = make_mail(
        sender=f"Customer <c{n}@example.net>",
        subject=f"Secret {n}",
        body=f"Body of secret message {n}.",
        message_id=f"<secret-{n}@mail.example.net>",
    )
    inbound = queue.store_inbound(session, channel="smtp", raw=raw, department_code=department_code)
    inbound.state = state
    inbound.ticket_id = ticket.id if ticket is not None else None
    session.flush()
    return inbound.id


@pytest.fixture
def mail(app, session) -> dict[str, int]:
    hr_ticket = make_ticket(session, department_code="hr")
    untriaged = make_ticket(session, department_code=None)
    ids = {
        "service": _store(session, 1, state="quarantined", department_code="service"),
        "hr": _store(session, 2, state="quarantined", department_code="hr"),
        "hr_set_aside": _store(session, 3, state="processed", department_code="hr"),
        "hr_by_ticket": _store(
            session, 4, state="quarantined", department_code=None, ticket=hr_ticket
        ),
        "none": _store(session, 5, state="quarantined", department_code=None),
        "none_by_ticket": _store(
            session, 6, state="quarantined", department_code=None, ticket=untriaged
        ),
        "service_processed": _store(
            session, 7, state="processed", department_code="service", ticket=make_ticket(session)
        ),
        "service_queued": _store(session, 8, state="received", department_code="service"),
    }
    session.commit()
    return ids


def _sign_in(app, client, **fields) -> None:
    with app.extensions["support_db"].session() as s:
        user = make_user(s, **fields)
        email = user.email
    login(client, email)


def _status(client, inbound_id: int) -> tuple[int, int]:
    return (
        client.get(f"/staff/quarantine/{inbound_id}").status_code,
        client.get(f"/staff/quarantine/{inbound_id}/raw").status_code,
    )


def test_a_lead_reads_only_held_mail_of_their_department(app, staff_client, mail) -> None:
    _sign_in(app, staff_client, role="lead", departments=("service",))
    assert _status(staff_client, mail["service"]) == (200, 200)
    for other in ("hr", "hr_set_aside", "hr_by_ticket", "none", "none_by_ticket"):
        assert _status(staff_client, mail[other]) == (404, 404), other
    # Not held: processed into a ticket, or still queued.
    assert _status(staff_client, mail["service_processed"]) == (404, 404)
    assert _status(staff_client, mail["service_queued"]) == (404, 404)
    assert _status(staff_client, 999_999) == (404, 404)
    assert staff_client.post(f"/staff/quarantine/{mail['hr']}/replay").status_code == 404

    page = staff_client.get("/staff/quarantine/").get_data(as_text=True)
    assert f'/staff/quarantine/{mail["service"]}"' in page
    for other in ("hr", "hr_set_aside", "hr_by_ticket", "none"):
        assert f'/staff/quarantine/{mail[other]}"' not in page, other


def test_mail_without_a_department_is_for_triage(app, staff_client, mail) -> None:
    _sign_in(app, staff_client, role="lead", departments=("hr",), can_triage=True)
    for visible in ("hr", "hr_set_aside", "hr_by_ticket", "none", "none_by_ticket"):
        assert _status(staff_client, mail[visible]) == (200, 200), visible
    assert _status(staff_client, mail["service"]) == (404, 404)


def test_admins_see_all_held_mail_but_not_the_rest(app, staff_client, mail, session) -> None:
    _sign_in(app, staff_client, role="admin", departments=())
    for name in ("service", "hr", "hr_set_aside", "hr_by_ticket", "none", "none_by_ticket"):
        assert _status(staff_client, mail[name]) == (200, 200), name
    assert _status(staff_client, mail["service_processed"]) == (404, 404)
    assert _status(staff_client, mail["service_queued"]) == (404, 404)
    assert session.get(InboundMail, mail["service_queued"]).state == "received"
