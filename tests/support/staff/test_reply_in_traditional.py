"""An agent's Simplified answer went out inside a Traditional quote to a customer who writes
Traditional. The reply box offers, for such a customer only, a one-click conversion of the
agent's text (the project's one converter, support.core.text); nothing is rewritten unasked."""

from __future__ import annotations

from sqlalchemy import func, select

from support.desk.models import OutboundMail
from tests.factories import make_customer, make_ticket, make_user
from tests.support.staff_helpers import login, mail_text

TRADITIONAL_MAIL = "我的電熱水壺不能加熱了，請問還在保固期內嗎？訂單號碼是 88231。"
SIMPLIFIED_ANSWER = "您好，您的电热水壶还在保修期内，请把订单号发给我们。"
IN_TRADITIONAL = "您好，您的電熱水壺還在保固期內，請把訂單號發給我們。"  # Taiwan: 保固


def _tickets(session):
    taiwan = make_ticket(
        session,
        customer=make_customer(session, email="chen@example.tw"),
        body=TRADITIONAL_MAIL,
        language="zh",
    )
    mainland = make_ticket(
        session,
        customer=make_customer(session, email="li@example.cn"),
        body="我的电热水壶不能加热了，请问还在保修期内吗？",
        language="zh",
    )
    return taiwan, mainland


def test_the_conversion_is_offered_only_for_a_customer_who_writes_traditional(
    client, session
) -> None:
    agent = make_user(session)
    taiwan, mainland = _tickets(session)
    session.commit()
    login(client, agent.email)
    page = client.get(f"/staff/tickets/{taiwan.id}?lang=zh").get_data(as_text=True)
    assert 'data-testid="to-traditional"' in page and 'value="转为繁体"' in page
    assert "客户使用繁体字。" in page
    hant = client.get(f"/staff/tickets/{taiwan.id}?lang=zh&script=hant").get_data(as_text=True)
    assert 'value="轉為繁體"' in hant
    english = client.get(f"/staff/tickets/{taiwan.id}?lang=en").get_data(as_text=True)
    assert 'value="Convert to Traditional characters"' in english
    page = client.get(f"/staff/tickets/{mainland.id}?lang=zh").get_data(as_text=True)
    assert 'data-testid="to-traditional"' not in page


def test_the_agents_text_is_converted_on_their_click_and_nothing_is_sent(client, session) -> None:
    agent = make_user(session)
    taiwan, _mainland = _tickets(session)
    session.commit()
    login(client, agent.email)
    # Without JavaScript: the form's button brings the page back with the text converted.
    page = client.post(
        f"/staff/tickets/{taiwan.id}/reply",
        data={"reply-body": SIMPLIFIED_ANSWER, "reply-to_traditional": "1"},
    ).get_data(as_text=True)
    assert f"{IN_TRADITIONAL}</textarea>" in page
    assert "Your text is now in Traditional characters: read it before sending." in page
    # With it: the reply box asks for the text alone.
    converted = client.post(
        f"/staff/tickets/{taiwan.id}/reply-in-traditional", data={"text": SIMPLIFIED_ANSWER}
    )
    assert converted.get_json() == {"text": IN_TRADITIONAL}
    assert "no-store" in converted.headers["Cache-Control"]
    assert session.scalar(select(func.count()).select_from(OutboundMail)) == 0
    session.commit()  # SQLite: a read transaction would block the app's next write
    # Sending converts nothing by itself.
    client.post(
        f"/staff/tickets/{taiwan.id}/reply",
        data={"reply-body": SIMPLIFIED_ANSWER, "reply-send": "1"},
    )
    [mail] = session.scalars(select(OutboundMail).where(OutboundMail.kind == "reply"))
    session.commit()
    assert SIMPLIFIED_ANSWER in mail_text(mail)


def test_the_conversion_is_refused_for_a_ticket_the_agent_may_not_see(client, session) -> None:
    agent = make_user(session, departments=("service",))
    sales = make_ticket(session, department_code="sales", body=TRADITIONAL_MAIL, language="zh")
    session.commit()
    login(client, agent.email)
    url = f"/staff/tickets/{sales.id}/reply-in-traditional"
    assert client.post(url, data={"text": SIMPLIFIED_ANSWER}).status_code == 404
