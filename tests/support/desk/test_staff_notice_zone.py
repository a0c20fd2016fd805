"""Staff notices name the company's time zone as customers' mail does (北京时间, UTC+8)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from support.core.db import utcnow
from support.desk.notifications import notify_new_ticket, send_sla_warning
from support.desk.sla import start_clock
from tests.factories import make_ticket, make_user
from tests.support.staff_helpers import fast_passwords, login, mail_text, outbound

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)


@pytest.fixture
def ticket(app, session):
    make_user(session, email="zh@example.com", language="zh")
    make_user(session, email="en@example.com", language="en")
    ticket = make_ticket(session, subject="Kettle broken")
    start_clock(ticket, app.config, now=utcnow() - timedelta(minutes=5))
    session.commit()
    return ticket


def _texts(session, ticket, kind="notification") -> dict[str, str]:
    return {mail.recipients[0]: mail_text(mail) for mail in outbound(session, ticket, kind)}


@pytest.mark.parametrize("send", [notify_new_ticket, send_sla_warning])
def test_a_notice_names_the_zone_as_the_customers_mail_does(app, session, ticket, send) -> None:
    assert app.config["COMPANY_TIMEZONE"] == "Asia/Shanghai"
    with app.app_context():  # as in the worker: each mail translated for its reader
        assert send(session, ticket, app.config)
    session.commit()
    texts = _texts(session, ticket)
    assert "（北京时间）" in texts["zh@example.com"]
    assert "Asia/Shanghai" not in texts["zh@example.com"]
    assert "(Asia/Shanghai, UTC+8)" in texts["en@example.com"]


def test_staff_pages_name_the_zone_as_the_notices_do(app, session, client, ticket) -> None:
    # The ticket page said "Asia/Shanghai" and "时间为 Asia/Shanghai 时区" on a Chinese page.
    make_user(session, email="lead@example.com", role="lead")
    session.commit()
    login(client, "lead@example.com")
    chinese = client.get(f"/staff/tickets/{ticket.id}?lang=zh").get_data(as_text=True)
    assert "北京时间" in chinese and "（时间均为北京时间）" in chinese
    assert "Asia/Shanghai" not in chinese
    english = client.get(f"/staff/tickets/{ticket.id}?lang=en").get_data(as_text=True)
    assert "(times in Asia/Shanghai, UTC+8)" in english
    sent = client.get("/staff/mail?lang=zh").get_data(as_text=True)
    assert "（北京时间）" in sent and "Asia/Shanghai" not in sent
