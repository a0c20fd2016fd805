"""The customer's one-click pages: "this answered my question" and "follow your ticket"."""

from __future__ import annotations

import email
import re
from email import policy
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from faq.models import Article, Category, DemandEvent
from mailrouter.outbound import customer_links
from mailrouter.outbound.autoreply import after_new_ticket
from mailrouter.outbound.customer_links import follow_url, solved_url
from support.core.db import utcnow
from support.desk.models import AuditEvent, Message, OutboundMail, Ticket
from support.desk.outbox import enqueue_mail
from tests.factories import make_customer, make_ticket


@pytest.fixture
def client(app):
    if "customer_links" not in app.blueprints:
        customer_links.init_app(app)
    return app.test_client()


@pytest.fixture
def article(session) -> Article:
    category = Category(slug="returns", name_en="Returns")
    found = Article(
        slug="refund-time-en",
        category=category,
        language="en",
        question="How long does a refund take?",
        answer_md="Refunds reach your card within 7 working days.",
    )
    session.add(found)
    session.commit()
    return found


def path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def test_follow_page_shows_status_and_conversation_but_no_internal_notes(app, session, client):
    ticket = make_ticket(session, body="My kettle stopped working after two days.")
    session.add_all(
        [
            Message(ticket=ticket, direction="note", body_text="Customer sounds upset."),
            Message(ticket=ticket, direction="out", body_text="We are sending a new kettle today."),
        ]
    )
    ticket.status = "waiting"
    session.commit()

    response = client.get(path(follow_url(app.config, ticket.reference, "en")))

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ticket.reference in page
    assert "Waiting for your reply" in page
    assert "My kettle stopped working after two days." in page
    assert "We are sending a new kettle today." in page
    assert "Customer sounds upset." not in page
    # Times in the company's zone when the customer's is unknown, with its offset.
    assert "(Asia/Shanghai, UTC+8)" in page
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_follow_page_hides_mail_to_staff_and_bounces(app, session, client):
    ticket = make_ticket(session, body="My kettle stopped working after two days.")
    enqueue_mail(
        session,
        ticket=ticket,
        kind="notification",
        to=["agent@example.com"],
        subject="New ticket (urgency 4)",
        text="Internal: key account, handle first.",
        automatic=True,
        config=app.config,
    )
    session.add(
        Message(
            ticket=ticket,
            direction="in",
            body_text="Delivery to the following recipient failed permanently.",
            is_automatic=True,
            automatic_reason="delivery-status report",
        )
    )
    session.commit()

    page = client.get(path(follow_url(app.config, ticket.reference))).get_data(as_text=True)

    assert "My kettle stopped working after two days." in page
    assert "key account" not in page
    assert "failed permanently" not in page


def test_follow_page_shows_our_answer_and_keeps_the_mail_as_sent_folded(app, session, client):
    # The whole mail (signature, five rating links as bare URLs, the customer's own words
    # quoted again) read as our answer; the answer leads, the mail as sent is one click away.
    ticket = make_ticket(session, subject="Kettle", body="It leaks.")
    ticket.status = "resolved"
    sent = "Sending a new one.\n\nLily\n\n-- \n5 - Excellent: http://x/rate/abc\n\n> It leaks."
    session.add(
        Message(
            ticket=ticket,
            direction="out",
            body_text=sent,
            new_text="Sending a new one.",
            created_at=utcnow(),
        )
    )
    session.commit()

    page = client.get(path(follow_url(app.config, ticket.reference, "en"))).get_data(as_text=True)

    answer = page.split("Our reply", 1)[1].split("</article>", 1)[0]
    shown, folded = answer.split("<details>", 1)
    assert "Sending a new one." in shown and "/rate/" not in shown
    assert "The mail as sent" in folded and "http://x/rate/abc" in folded


def test_follow_page_speaks_the_customers_language(app, session, client):
    ticket = make_ticket(session, subject="水壶坏了", body="水壶坏了")
    ticket.status = "open"
    session.commit()

    page = client.get(path(follow_url(app.config, ticket.reference, "zh"))).get_data(as_text=True)

    assert "处理中" in page
    # Times in the zone's Chinese name, as in the auto-reply: not the programmer's Asia/Shanghai.
    assert re.search(r"\d\d:\d\d（北京时间）", page) and "Asia/Shanghai" not in page


def test_follow_page_in_traditional_shows_the_customers_words_as_written(app, session, client):
    # The page is converted to Traditional as a whole; the customer's 台北市 and 十台 (and the
    # <b> they typed) must not become the converter's 臺北市 and 十臺, nor markup.
    ticket = make_ticket(
        session, subject="台北市的發票", body="我們買了十台空氣清淨機，寄到台北市。<b>謝謝</b>"
    )
    ticket.status = "open"
    session.commit()

    url = path(follow_url(app.config, ticket.reference, "zh-Hant"))
    page = client.get(url).get_data(as_text=True)

    assert "處理中" in page and "处理中" not in page  # the page's own words: Traditional
    assert "我們買了十台空氣清淨機，寄到台北市。&lt;b&gt;謝謝&lt;/b&gt;" in page
    assert "台北市的發票" in page and "臺北市" not in page and "十臺" not in page
    # Times in the mainland's zone are told a Taiwan reader as UTC+8, not Asia/Shanghai.
    assert re.search(r"\d\d:\d\d（UTC\+8）", page) and "Asia/Shanghai" not in page


@pytest.mark.parametrize(
    "make_token",
    [
        lambda app, ref: "not-a-token",
        lambda app, ref: follow_url(app.config, ref).rsplit("/", 1)[1][:-3] + "abc",
        # A "solved" token cannot open the follow page (one salt per action).
        lambda app, ref: urlsplit(solved_url(app.config, ref, 1)).path.rsplit("/", 1)[1],
    ],
    ids=["garbage", "tampered", "other-action"],
)
def test_bad_follow_links_reveal_nothing(app, session, client, make_token):
    ticket = make_ticket(session)
    session.commit()

    response = client.get(f"/t/{make_token(app, ticket.reference)}")

    assert response.status_code == 404
    assert ticket.subject not in response.get_data(as_text=True)


def test_opening_the_solved_link_only_asks(app, session, client, article):
    """Mail scanners fetch every link: a GET must not resolve the ticket."""
    ticket = make_ticket(session)
    session.commit()

    response = client.get(path(solved_url(app.config, ticket.reference, article.id)))

    assert response.status_code == 200
    assert "How long does a refund take?" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Ticket, ticket.id).status == "new"
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_confirming_resolves_the_ticket_once(app, session, client, article):
    ticket = make_ticket(session)
    session.commit()
    link = path(solved_url(app.config, ticket.reference, article.id, "en"))

    first = client.post(link)
    second = client.post(link)

    assert first.status_code == 200 and "Thank you!" in first.get_data(as_text=True)
    assert "already resolved" in second.get_data(as_text=True)
    session.expire_all()
    ticket = session.get(Ticket, ticket.id)
    assert ticket.status == "resolved" and ticket.resolved_at is not None
    assert ticket.resolved_by_article_id == article.id
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "ticket_resolved_by_faq")
    ).all()
    assert len(events) == 1 and events[0].actor_label == "customer"
    demand = session.scalars(select(DemandEvent)).all()
    assert [(d.article_id, d.kind) for d in demand] == [(article.id, "helpful")]


def test_a_closed_ticket_stays_as_staff_left_it(app, session, client, article):
    ticket = make_ticket(session)
    ticket.status, ticket.closed_at = "closed", utcnow()
    session.commit()

    client.post(path(solved_url(app.config, ticket.reference, article.id)))

    session.expire_all()
    ticket = session.get(Ticket, ticket.id)
    assert ticket.status == "closed" and ticket.resolved_by_article_id is None


def test_confirming_needs_the_pages_csrf_token(app, session, client, article):
    app.config["WTF_CSRF_ENABLED"] = True
    ticket = make_ticket(session)
    session.commit()
    link = path(solved_url(app.config, ticket.reference, article.id))

    forged = client.post(link)
    assert forged.status_code == 400

    page = client.get(link).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(link, data={"csrf_token": token}).status_code == 200
    session.expire_all()
    assert session.get(Ticket, ticket.id).status == "resolved"


def test_solved_link_for_an_unknown_article_is_invalid(app, session, client):
    ticket = make_ticket(session)
    session.commit()

    response = client.post(path(solved_url(app.config, ticket.reference, 987654)))

    assert response.status_code == 404
    session.expire_all()
    assert session.get(Ticket, ticket.id).status == "new"


def test_links_in_a_real_auto_reply_work(app, session, client, article):
    customer = make_customer(session, email="li.wei@example.cn", name="Li Wei")
    ticket = make_ticket(
        session,
        customer=customer,
        subject="Refund",
        body="I sent the kettle back. How long does a refund take?",
    )
    after_new_ticket(session, ticket, ticket.messages[0], None, app.config)
    session.commit()
    raw = session.scalar(select(OutboundMail.raw))
    session.commit()  # end the read: on SQLite every transaction holds the write lock
    text = (
        email.message_from_bytes(raw, policy=policy.default)
        .get_body(preferencelist=("plain",))
        .get_content()
    )
    solved = re.search(r"This answered my question: (\S+)", text).group(1)
    follow = re.search(r"http://127\.0\.0\.1:8080/t/\S+", text).group(0)

    follow_page = client.get(path(follow))
    assert follow_page.status_code == 200
    assert "I sent the kettle back." in follow_page.get_data(as_text=True)
    assert client.post(path(solved)).status_code == 200
    session.expire_all()
    assert session.get(Ticket, ticket.id).resolved_by_article_id == article.id


def test_follow_page_links_the_addresses_in_our_replies_not_in_the_customers(app, session, client):
    # "請到 https://... 填寫送修單": in a mail program the address is a link; on the follow
    # page it was text that a phone cannot open. Ours become links (in Traditional too, the
    # address unchanged); the customer's own words stay text.
    ticket = make_ticket(session, body="我看到 https://evil.example.net/login 要我登入")
    form = "https://www.example.tw/repair?model=LK-200&src=mail"
    session.add(
        Message(
            ticket=ticket,
            direction="out",
            body_text=f"請到 {form} 填寫送修單。也可參考（https://www.example.tw/faq）。",
            created_at=utcnow(),
        )
    )
    ticket.status = "open"
    session.commit()
    for language in ("zh-Hant", "en"):
        url = path(follow_url(app.config, ticket.reference, language))
        page = client.get(url).get_data(as_text=True)
        href = form.replace("&", "&amp;")
        assert f'請到 <a href="{href}" rel="nofollow noopener noreferrer">{href}</a> 填寫' in page
        assert '<a href="https://www.example.tw/faq" rel="nofollow noopener noreferrer">' in page
        assert 'href="https://evil.example.net' not in page
        assert "https://evil.example.net/login" in page


def test_the_assignee_hears_that_the_customer_marked_the_ticket_solved(
    app, session, client, article
):
    # A customer clicked the auto-reply's "this answered my question" after the agent had
    # started on the ticket: it left the agent's queue with no word (only its history said it).
    from tests.factories import make_user

    ann = make_user(session, email="ann@example.com", language="zh")
    ticket = make_ticket(session)
    ticket.assignee = ann
    unassigned = make_ticket(session)
    session.commit()
    client.post(path(solved_url(app.config, ticket.reference, article.id, "en")))
    client.post(path(solved_url(app.config, unassigned.reference, article.id, "en")))
    notices = session.scalars(select(OutboundMail).where(OutboundMail.kind == "notification")).all()
    assert [(n.ticket_id, n.recipients) for n in notices] == [(ticket.id, ["ann@example.com"])]
    text = email.message_from_bytes(notices[0].raw, policy=policy.default)
    body = text.get_body(("plain",)).get_content()
    assert "已解决" in notices[0].subject
    assert "How long does a refund take?" in body and "已将此工单标记为已解决" in body
