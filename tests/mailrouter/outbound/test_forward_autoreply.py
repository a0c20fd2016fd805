"""Forwards and the auto-reply: it answers the sender of the mail we got (the forwarder),
never an address of the forwarded mail (that would relay our mail to a third party), and it
offers the FAQ answers the forwarded mail asks for. The ticket page shows both parts."""

from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy import select

from mailrouter.parsing import parse_message
from support.desk.models import Customer, Message, OutboundMail
from tests.factories import make_user
from tests.mailrouter.forward_fixtures import load_forward_cases
from tests.mailrouter.outbound.test_autoreply import (  # noqa: F401 - fixtures
    add_articles,
    app_settings,
    receive,
    send_all,
    sign_in,
    sink,
)

CASES = {case.file: case for case in load_forward_cases()}
#: Forwards whose forwarded mail names other people's addresses (a tenant, a solicitor).
RELAY_FILES = ("outlook-desktop-en-fyi-gas-smell.eml", "thunderbird-en-attached-forward-legal.eml")


def test_the_auto_reply_goes_to_the_forwarder_never_to_the_forwarded_mail_s_people(
    app,
    db,
    sink,  # noqa: F811 - the fixture imported above
) -> None:
    for file in RELAY_FILES:
        raw = CASES[file].raw
        parsed = parse_message(raw)
        receive(app, db, raw, sender=parsed.from_address)
    send_all(app)
    forwarders = sorted(parse_message(CASES[file].raw).from_address for file in RELAY_FILES)
    assert sorted(rcpt for d in sink.delivered for rcpt in d.rcpt_tos) == forwarders
    with db.session() as session:
        queued = [r for mail in session.scalars(select(OutboundMail)) for r in mail.recipients]
        customers = sorted(session.scalars(select(Customer.email)))
        forwarded = " ".join(session.scalars(select(Message.forwarded_text)))
    assert sorted(queued) == forwarders
    assert customers == forwarders
    # The third parties the forwarded mail names were read, and get nothing.
    assert "strong smell of gas" in forwarded and "we will issue proceedings" in forwarded
    for third_party in ("sarah.collins84@hotmail.co.uk", "d.oneill@oneill-legal.example.ie"):
        assert third_party in (CASES[RELAY_FILES[0]].raw + CASES[RELAY_FILES[1]].raw).decode()
        assert all(third_party not in d.rcpt_tos for d in sink.delivered)


def _forward(comment: str, forwarded_body: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Wang Fang <wang.fang@example.cn>"
    message["To"] = "service@example.com"
    message["Subject"] = "Fwd: my kettle order 5521"
    message["Message-ID"] = "<fwd-5521@mail.example.cn>"
    message.set_content(
        f"{comment}\n\n---------- Forwarded message ---------\n"
        "From: Li Ming <li.ming@family.example>\nDate: Mon, 23 Nov 2026 at 09:00\n"
        "Subject: kettle\nTo: <wang.fang@example.cn>\n\n\n"
        f"{forwarded_body}\n"
    )
    return message.as_bytes()


def test_the_auto_reply_offers_the_answers_the_forwarded_mail_asks_for(
    app,
    db,
    sink,  # noqa: F811 - the fixture imported above
) -> None:
    add_articles(app, db)
    raw = _forward("FYI", "I returned the kettle last week. How long does a refund take?")
    receive(app, db, raw)
    send_all(app)
    [delivery] = sink.delivered
    assert delivery.rcpt_tos == ["wang.fang@example.cn"]
    text = delivery.message.get_body(preferencelist=("plain",)).get_content()
    assert "How long does a refund take?" in text


def test_the_ticket_page_shows_the_comment_and_the_forwarded_mail(app, db, client) -> None:
    raw = _forward("请处理", "水壶漏水，底座有水渍。")
    processed = receive(app, db, raw)
    with db.session() as session:
        admin = make_user(session, role="admin")
        ticket_id = processed.ticket_id
    sign_in(app, client, admin)
    client.set_cookie("lang", "en")
    page = client.get(f"/staff/tickets/{ticket_id}").get_data(as_text=True)
    assert "请处理" in page
    block = page.split('data-testid="forwarded-mail"', 1)[1].split("</section>", 1)[0]
    assert "Forwarded mail" in block and "水壶漏水，底座有水渍。" in block
    client.set_cookie("lang", "zh")
    page = client.get(f"/staff/tickets/{ticket_id}").get_data(as_text=True)
    assert "转来的邮件" in page
    client.post("/staff/account", data={"language-language": "zh-Hant", "language-submit": "1"})
    page = client.get(f"/staff/tickets/{ticket_id}").get_data(as_text=True)
    assert '<html lang="zh-Hant">' in page and "轉來的郵件" in page
