"""A Taiwan agent works in Traditional characters: their pages and their notices (繁體, chosen on
their account page), in Taiwan's words, with what customers wrote quoted as written."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from mailrouter.intake.staff_replies import strip_notification_quote
from support.core.db import utcnow
from support.desk.notifications import notify_new_ticket
from tests.factories import make_customer, make_ticket, make_user
from tests.support.staff_helpers import PASSWORD, login, mail_text, outbound

#: A mainland customer's words: a Traditional page or notice quotes them as written.
SUBJECT = "发票还没收到"
BODY = "我的订单已经付款一周了，发票还没收到。"


def _ticket(session):
    customer = make_customer(session, name="李娜", email="li@example.cn")
    return make_ticket(session, customer=customer, subject=SUBJECT, body=BODY, urgency=4)


def test_an_agent_who_chose_traditional_gets_the_inbox_and_ticket_in_traditional(
    app, session, client
) -> None:
    # Staff pages and notices were Simplified only: a Taiwan agent worked in Simplified.
    agent = make_user(session, email="ann@example.com")
    ticket = _ticket(session)
    session.commit()
    login(client, "ann@example.com")  # the helper's cookie asks for English pages
    client.post("/staff/account", data={"language-language": "zh-Hant", "language-submit": "1"})
    session.refresh(agent)
    assert agent.language == "zh-Hant"
    session.commit()  # SQLite: a read transaction would block the app's writes
    inbox = client.get("/staff/", follow_redirects=True).get_data(as_text=True)
    assert '<html lang="zh-Hant">' in inbox
    for word in ("緊急程度", "負責人", "客戶"):
        assert word in inbox
    for word in ("紧急程度", "负责人", "客户"):
        assert word not in inbox
    assert SUBJECT in inbox and "發票還沒收到" not in inbox  # the customer's, as written
    assert 'class="lang-switch"' not in inbox  # changed on the account page, not here
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert "回覆" in page and "回复" not in page
    assert BODY in page and SUBJECT in page
    account = client.get("/staff/account").get_data(as_text=True)
    assert '<option selected value="zh-Hant">繁體中文</option>' in account
    # Simplified is named in Simplified on a Traditional page.
    assert '<option value="zh">&#31616;&#20307;中文</option>' in account


def test_an_agent_who_chose_simplified_keeps_simplified_pages(app, session, client) -> None:
    make_user(session, email="ann@example.com", language="zh")
    _ticket(session)
    session.commit()
    login(client, "ann@example.com")
    inbox = client.get("/staff/", headers={"Accept-Language": "zh-TW"}, follow_redirects=True)
    inbox = inbox.get_data(as_text=True)
    assert '<html lang="zh-Hans">' in inbox and "紧急程度" in inbox and "緊急程度" not in inbox


def test_the_sign_in_page_follows_the_browser_with_the_script_switch(app, client) -> None:
    taiwan = client.get("/staff/login", headers={"Accept-Language": "zh-TW,zh;q=0.9"})
    page = taiwan.get_data(as_text=True)
    assert '<html lang="zh-Hant">' in page and "員工登入" in page and "员工登录" not in page
    assert "&#31616;&#20307;</a>" in page  # the switch back to Simplified
    mainland = client.get("/staff/login", headers={"Accept-Language": "zh-CN"})
    page = mainland.get_data(as_text=True)
    assert "员工登录" in page and ">繁體</a>" in page
    switched = client.get("/staff/login?script=hant", headers={"Accept-Language": "zh-CN"})
    assert "員工登入" in switched.get_data(as_text=True)


def test_an_agent_who_chose_traditional_gets_notices_in_traditional(app, session) -> None:
    make_user(session, email="ann@example.com", language="zh-Hant")
    make_user(session, email="bob@example.com", language="zh")
    ticket = _ticket(session)
    with app.app_context():
        notify_new_ticket(session, ticket, app.config)
    mails = {m.recipients[0]: m for m in outbound(session, ticket, "notification")}
    taiwan, mainland = mails["ann@example.com"], mails["bob@example.com"]
    text = mail_text(taiwan)
    assert f"新工單（4 · 重要）：{SUBJECT}" in taiwan.subject  # the subject as written
    assert "請在此行以上回覆" in text and "緊急程度：4 · 重要" in text
    assert "工單：" in text and "部門：客戶服務部" in text
    assert BODY in text and "李娜" in text
    assert "工单" not in text and "紧急" not in text
    assert f"新工单（4 · 重要）：{SUBJECT}" in mainland.subject
    assert "请在此行以上回复" in mail_text(mainland)
    # Answering the notice by mail: the Traditional marker line ends the agent's words too.
    reply = f"好的，馬上處理。\n\n{text}"
    assert strip_notification_quote(reply) == "好的，馬上處理。"


def test_an_admin_reading_traditional_previews_what_a_mainland_customer_gets(
    app, session, client
) -> None:
    # The preview is the customer's mail: on a Traditional page it must not be converted.
    make_user(session, email="admin@example.com", role="admin", language="zh-Hant")
    reference = _ticket(session).reference
    session.commit()
    login(client, "admin@example.com")
    page = client.post(
        "/staff/templates/default.zh.txt",
        data={
            "source": "{{ customer_name }}，您好！感谢您联系我们，工单编号：{{ ticket_reference }}",
            "action": "preview",
            "ticket": reference,
        },
    ).get_data(as_text=True)
    assert f"李娜，您好！感谢您联系我们，工单编号：{reference}" in page
    assert "預覽" in page  # the page's own words are Traditional


def test_the_faq_search_by_the_reply_box_reads_in_the_agents_script(app, session, client) -> None:
    from faq.models import Article, Category

    make_user(session, email="ann@example.com", language="zh-Hant")
    ticket = _ticket(session)
    category = Category(slug="invoices", name_en="Invoices", name_zh="发票")
    session.add(
        Article(
            slug="invoice-zh",
            category=category,
            language="zh",
            question="发票什么时候寄出？",
            answer_md="订单发货后三个工作日内寄出纸质发票。",
        )
    )
    session.commit()
    login(client, "ann@example.com")
    found = client.get(f"/staff/tickets/{ticket.id}/faq-answers?q=发票").get_json()
    assert found["answers"][0]["question"] == "發票什麼時候寄出？"
    assert found["answers"][0]["preview"].startswith("訂單出貨後")


@pytest.mark.parametrize(
    ("browser", "expected", "absent"),
    [
        ("en-US,en;q=0.9", "Reply above this line", "请在此行以上回复"),
        ("zh-TW,zh;q=0.9", "請在此行以上回覆", "请在此行以上回复"),
    ],
)
def test_an_agent_on_default_gets_notices_in_the_language_of_their_pages(
    app, session, client, browser, expected, absent
) -> None:
    """ "Default" meant the browser for the pages but the desk's default (Chinese, Simplified)
    for the mail: an agent reading English pages got every notice in Chinese."""
    agent = make_user(session, email="ann@example.com")
    session.commit()
    client.post("/staff/login", data={"email": "ann@example.com", "password": PASSWORD})
    client.get("/staff/", headers={"Accept-Language": browser}, follow_redirects=True)
    session.refresh(agent)
    assert agent.language is None  # still "Default"
    ticket = _ticket(session)
    with app.app_context():
        notify_new_ticket(session, ticket, app.config)
    [mail] = outbound(session, ticket, "notification")
    assert expected in mail_text(mail) and absent not in mail_text(mail)
    assert BODY in mail_text(mail)  # the customer's words as written


def test_a_taiwan_agent_reads_taiwans_words_for_save_and_bytes(app, session, client) -> None:
    # The Traditional pages said 保存 (Taiwan: 儲存) and 字節 (位元組); the customer's own
    # 保存 stays as they wrote it.
    from sqlalchemy import select

    from support.desk.models import Attachment, Message

    make_user(session, email="ann@example.com", language="zh-Hant")
    customer = make_customer(session, name="李娜", email="li@example.cn")
    written = "照片保存不了，茶叶保存期限也没写。"
    ticket = make_ticket(session, customer=customer, subject="无法保存", body=written)
    message = session.scalar(select(Message).where(Message.ticket_id == ticket.id))
    session.add(
        Attachment(message=message, filename="a.txt", content_type="text/plain", size=13, sha256="")
    )
    session.commit()
    login(client, "ann@example.com")
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert "13 位元組" in page and "字節" not in page
    assert written in page and "無法保存" not in page and "儲存不了" not in page
    editor = client.get("/staff/faq/categories/new").get_data(as_text=True)
    assert '<html lang="zh-Hant">' in editor
    assert ">儲存</button>" in editor and ">保存</button>" not in editor


def test_ages_in_the_inbox_read_as_chinese_and_the_intake_has_one_name(
    app, session, client
) -> None:
    """An age in a Chinese list reads "8 分钟前" (not a bare duration) and a brand-new ticket
    "刚刚" (not "0 分钟"); the intake's menu entry has the name its page has."""
    make_user(session, email="admin@example.com", role="admin", language="zh")
    old = _ticket(session)
    new = make_ticket(session, customer=old.customer, subject="又一个问题", body="还有一个问题。")
    old.created_at = utcnow() - timedelta(minutes=8)
    new.created_at = utcnow()
    session.commit()
    login(client, "admin@example.com")
    inbox = client.get("/staff/inbox/service").get_data(as_text=True)
    assert re.search(r'class="age"[^>]*>8 分钟前<', inbox)
    assert re.search(r'class="age"[^>]*>刚刚<', inbox)
    assert "0 分钟" not in inbox
    assert "隔离区" not in inbox and ">邮件接收</a>" in inbox
