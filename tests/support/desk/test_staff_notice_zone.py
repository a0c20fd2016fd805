"""Staff notices name the company's time zone as customers' mail does (北京时间, UTC+8)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from support.core.db import utcnow
from support.desk import saved_replies
from support.desk.notifications import notify_new_ticket, send_sla_warning
from support.desk.sla import start_clock
from tests.factories import make_ticket, make_user
from tests.support.staff_helpers import login, mail_text, outbound


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


# One rule for readers of Traditional characters (Taiwan, Hong Kong, Macau, abroad): the
# mainland's zone is "UTC+8", the same clock, never 北京時間 (staff read 北京時間 on their pages
# and notices while the customers' mail said UTC+8).


@pytest.mark.parametrize("send", [notify_new_ticket, send_sla_warning])
def test_a_notice_to_a_traditional_reader_says_utc_plus_8(app, session, ticket, send) -> None:
    make_user(session, email="hant@example.com", language="zh-Hant")
    session.commit()
    with app.app_context():
        assert send(session, ticket, app.config)
    session.commit()
    text = _texts(session, ticket)["hant@example.com"]
    assert "（UTC+8）" in text
    assert "北京" not in text and "Asia/Shanghai" not in text


def test_traditional_staff_pages_say_utc_plus_8(app, session, client, ticket) -> None:
    make_user(session, email="lead@example.com", role="lead", language="zh-Hant")
    session.commit()
    login(client, "lead@example.com")
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert "UTC+8" in page and "北京" not in page


def test_the_due_time_placeholder_says_utc_plus_8_to_a_traditional_writer(app, session) -> None:
    agent = make_user(session)
    ticket = make_ticket(session, language="zh", body="我的熱水壺壞了，請問保固怎麼處理？")
    ticket.first_response_due_at = utcnow().replace(
        year=2026, month=5, day=4, hour=2, minute=0, second=0, microsecond=0
    )
    values = saved_replies.placeholder_values(ticket, agent, "Asia/Shanghai")
    assert values["due_time"] == "2026-05-04 10:00（UTC+8）"


def test_every_staff_page_with_times_names_their_zone(app, session, client, ticket) -> None:
    # The dashboard's "Updated 10:05", the ticket's history and the users' last sign-in named
    # no zone, while the ticket's timeline did. (The inbox's due times say "in 59 min" too.)
    make_user(session, email="boss@example.com", role="admin")
    session.commit()
    login(client, "boss@example.com")
    for path in (
        "/staff/dashboard",
        "/staff/admin/users",
        f"/staff/tickets/{ticket.id}",
    ):
        chinese = client.get(f"{path}?lang=zh").get_data(as_text=True)
        assert "北京时间" in chinese, path
        english = client.get(f"{path}?lang=en").get_data(as_text=True)
        assert "Asia/Shanghai, UTC+8" in english, path
    history = client.get(f"/staff/tickets/{ticket.id}?lang=en").get_data(as_text=True)
    history = history[history.index('id="history-title"') :]
    assert "times in Asia/Shanghai, UTC+8" in history[:400]
