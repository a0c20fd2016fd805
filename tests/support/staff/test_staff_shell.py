"""Every staff GET route answers (200, a redirect or 403, never 500) with the one staff shell:
complete, role-aware navigation, counts, the user's name, sign-out and the ticket search."""

from __future__ import annotations

import re

import pytest
from flask import Flask, url_for

from faq.knowledge import create_article, create_category
from support.desk import search
from tests.factories import make_customer, make_ticket, make_user
from tests.support.staff_helpers import login


def staff_get_urls(app: Flask, values: dict[str, dict[str, int | str]]) -> list[str]:
    """Every GET route under /staff, parameters filled from `values` (per endpoint, then "*")."""
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/staff") or "GET" not in (rule.methods or ()):
            continue
        if rule.endpoint == "auth.login":
            continue
        given = {**values["*"], **values.get(rule.endpoint, {})}
        missing = [name for name in rule.arguments if name not in given]
        assert not missing, f"no demo value for {missing} of {rule.rule}"
        with app.test_request_context():
            urls.append(url_for(rule.endpoint, **{k: given[k] for k in rule.arguments}))
    return sorted(set(urls))


@pytest.fixture
def world(app, session, client):
    from sqlalchemy import select

    from mailrouter.intake import queue
    from mailrouter.models import InboundMail
    from mailrouter.outbound.reply_templates import list_template_keys
    from support.desk.models import Attachment, Department, Message, SavedReply
    from support.desk.outbox import enqueue_mail
    from tests.support.staff.test_attachment_pictures import png

    admin = make_user(session, role="admin", name="Ada Admin")
    agent = make_user(session, role="agent", departments=("service",), name="Andy Agent")
    customer = make_customer(session, name="Wang Fang")
    ticket = make_ticket(session, customer=customer, subject="Kettle smoking")
    message = session.scalar(select(Message).where(Message.ticket_id == ticket.id))
    picture = png()  # a picture: its download and its /picture page both answer
    attachment = Attachment(
        message=message,
        filename="a.png",
        content_type="image/png",
        size=len(picture),
        sha256="",
        data=picture,
    )
    session.add(attachment)
    mail = enqueue_mail(
        session,
        ticket=ticket,
        kind="reply",
        to=[customer.email],
        subject="Re",
        text="On it.",
        config=app.config,
    )
    inbound = queue.store_inbound(
        session,
        channel="smtp",
        raw=b"Subject: x\r\n\r\nx",
        envelope_from="a@b.c",
        envelope_to=["support@example.com"],
    )
    session.get(InboundMail, inbound.id).state = "quarantined"
    category = create_category(session, slug="orders", name_en="Orders")
    article = create_article(
        session, category=category, question="Where is my order?", answer_md="Tracking page."
    )
    saved = SavedReply(
        scope="everyone", owner_id=admin.id, title="Thanks", body="Hi {customer_name}"
    )
    session.add(saved)
    search.index_tickets(session, [ticket.id])
    session.flush()
    values: dict[str, dict[str, int | str]] = {
        "*": {
            "ticket_id": ticket.id,
            "customer_id": customer.id,
            "attachment_id": attachment.id,
            "user_id": agent.id,
            "department_id": session.scalar(select(Department.id)),
            "inbound_id": inbound.id,
            "mail_id": mail.id,
            "key": "service",
            "section": "volume",
            "article_id": article.id,
            "category_id": category.id,
            "reply_id": saved.id,
        },
        "outbox_views.template_edit": {"key": list_template_keys()[0]},
    }
    session.commit()
    return {"admin": admin, "agent": agent, "ticket": ticket, "values": values}


@pytest.mark.parametrize("role", ["admin", "agent"])
def test_every_staff_get_route_answers_without_an_error(app, client, world, role) -> None:
    login(client, world[role].email)
    failures = []
    for url in staff_get_urls(app, world["values"]):
        response = client.get(url)
        if response.status_code >= 500 or response.status_code not in (200, 302, 303, 403):
            failures.append((url, response.status_code))
        if response.status_code == 200 and response.mimetype == "text/html":
            html = response.get_data(as_text=True)
            if "<header" in html:
                assert 'action="/staff/search"' in html, url
                assert world[role].name in html and "Sign out" in html, url
                # The name at the top says where one is and leads to the inbox, not the portal.
                brand = '<a class="brand" href="/staff/">'
                assert brand in html and "· Staff desk</a>" in html, url
                assert '· <a href="/">Help centre</a></footer>' in html, url  # not "Ask us"
    assert failures == []


def test_shell_navigation_is_complete_and_role_aware(client, world) -> None:
    login(client, world["admin"].email)
    html = client.get("/staff/faq/").get_data(as_text=True)
    for href in (
        "/staff/faq/",
        "/staff/mail",
        "/staff/templates",
        "/staff/quarantine/",
        "/staff/spam/",
        "/staff/classifier/",
        "/staff/dashboard",
        "/staff/reports",
        "/staff/admin/users",
    ):
        assert f'href="{href}"' in html, href
    assert "Staff login" not in html and "Sign out" in html
    client.set_cookie("lang", "zh")
    chinese = client.get("/staff/faq/").get_data(as_text=True)
    assert "· 员工工作台</a>" in chinese and "员工登录" not in chinese  # not the portal's link
    client.set_cookie("lang", "en")
    assert re.search(r'class="count"[^>]*>\d+<', html)

    client.post("/staff/logout")
    login(client, world["agent"].email)
    html = client.get("/staff/mail").get_data(as_text=True)
    assert 'href="/staff/faq/"' in html and "Andy Agent" in html
    for href in ("/staff/admin/users", "/staff/classifier/", "/staff/dashboard"):
        assert f'href="{href}"' not in html, href


def test_header_search_jumps_by_reference_and_searches_bodies(client, world, session) -> None:
    login(client, world["agent"].email)
    ticket = world["ticket"]
    response = client.get("/staff/search", query_string={"q": ticket.reference.lower()})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/staff/tickets/{ticket.id}")
    html = client.get("/staff/search", query_string={"q": "kettle"}).get_data(as_text=True)
    assert ticket.reference in html
    html = client.get("/staff/search", query_string={"q": "q" * 5000, "page": "99999"})
    assert html.status_code == 200


def test_no_staff_page_or_download_is_kept_in_a_cache(app, client, world) -> None:
    """Staff pages, CSVs and exports hold customers' mail: a browser's or proxy's cache kept
    them on disk, and the Back button showed a ticket after sign-out."""
    login(client, world["admin"].email)
    kept = []
    for url in staff_get_urls(app, world["values"]):
        response = client.get(url)
        if "no-store" not in response.headers.get("Cache-Control", ""):
            kept.append((url, response.status_code))
    assert kept == []
    client.post("/staff/logout")
    assert "no-store" in client.get("/staff/login").headers["Cache-Control"]
    assert "no-store" in client.get("/api/v1/openapi.json").headers["Cache-Control"]
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")  # the portal


def test_saved_replies_are_in_the_navigation_for_everyone_who_may_write_them(client, world) -> None:
    """Every signed-in user may write personal saved replies (support.desk.saved_replies
    .may_create): the page is in the tools next to the mail templates, not only on a ticket."""
    for who in ("agent", "admin"):
        login(client, world[who].email)
        html = client.get("/staff/mail").get_data(as_text=True)
        assert 'href="/staff/saved-replies"' in html, who
        page = client.get("/staff/saved-replies").get_data(as_text=True)
        assert re.search(r'href="/staff/saved-replies"[^>]*aria-current="page"', page), who
        client.post("/staff/logout")
