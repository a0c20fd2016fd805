"""No route lets staff of one department read or change another department's ticket.

Every route of the Flask url map is tried (so a route added later is covered without touching
this file) by an agent and by a lead of Customer Service against a Sales ticket: its page, its
attachment, its mail, its customer, and every combination of the agent's own ticket with Sales'
objects (merge into it, insert its saved reply, follow "next" into it). A GET must not show a
word of the Sales ticket; a POST, PATCH or PUT must leave the Sales ticket, its customer and the
agent's own ticket as they were."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, url_for
from sqlalchemy import func, select

from faq.knowledge import create_article, create_category
from support.auth import issue_api_token
from support.desk import actions, search
from support.desk.models import (
    Attachment,
    AuditEvent,
    Message,
    OutboundMail,
    SavedReply,
    SavedView,
    Ticket,
    TicketTag,
)
from support.desk.outbox import enqueue_mail
from tests.factories import department, make_customer, make_ticket, make_user
from tests.support.staff_helpers import login

#: Written only into the Sales ticket, its files, notes, mail and the Sales saved reply.
SECRET = "Zebrafinch"
#: The name of a customer who wrote only to Sales.
STRANGER = "Quokkaperson"
WRITES = ("POST", "PATCH", "PUT", "DELETE")


@pytest.fixture
def boundary(app, session) -> dict[str, Any]:
    sales_lead = make_user(session, role="lead", departments=("sales",), name="Sally Sales")
    agent = make_user(session, role="agent", departments=("service",), name="Andy Agent")
    lead = make_user(session, role="lead", departments=("service",), name="Lee Lead")
    shared = make_customer(session, name="Wang Fang")
    own = make_ticket(session, customer=shared, subject="Kettle smoking", department_code="service")
    stranger = make_customer(session, name=STRANGER, email="quokka@example.net")
    theirs, lonely = (
        make_ticket(
            session,
            customer=customer,
            department_code="sales",
            subject=f"{SECRET} {what}",
            body=f"My {SECRET} {what}, order 7731.",
        )
        for customer, what in ((shared, "discount"), (stranger, "invoice"))
    )
    message = session.scalar(select(Message).where(Message.ticket_id == theirs.id))
    attachment = Attachment(
        message=message,
        filename=f"{SECRET}.txt",
        content_type="text/plain",
        size=7,
        sha256="",
        data=SECRET.encode(),
    )
    session.add(attachment)
    actions.add_note(session, theirs, sales_lead, f"{SECRET} note: VIP buyer")
    mail = enqueue_mail(
        session,
        ticket=theirs,
        kind="reply",
        to=[shared.email],
        subject=f"Re: {SECRET} discount",
        text=f"{SECRET} discount granted.",
        config=app.config,
    )
    saved = SavedReply(
        scope="department",
        owner_id=sales_lead.id,
        department_id=department(session, "sales").id,
        title=f"{SECRET} reply",
        body=f"{SECRET} saved text",
    )
    session.add(saved)
    # The Sales lead's own inbox view and a tag on the Sales ticket.
    view = SavedView(
        user_id=sales_lead.id, name=f"{SECRET} view", inbox_key="sales", filters={"q": "x"}
    )
    session.add(view)
    session.add(TicketTag(ticket_id=theirs.id, tag="sales-only"))
    category = create_category(session, slug="orders", name_en="Orders")
    article = create_article(
        session, category=category, question="Where is my order?", answer_md="Tracking page."
    )
    search.index_tickets(session, [own.id, theirs.id, lonely.id])
    session.flush()
    world = {
        "agent": agent,
        "lead": lead,
        "own": own.id,
        "theirs": theirs.id,
        "lonely": lonely.id,
        "reference": theirs.reference,
        "stranger": stranger.id,
        "token": issue_api_token(session, agent),
        "ticket_values": {
            "ticket_id": theirs.id,
            "attachment_id": attachment.id,
            "mail_id": mail.id,
            "message_id": message.id,
            "customer_id": stranger.id,
            "reply_id": saved.id,
            "view_id": view.id,
            "article_id": article.id,
            "user_id": sales_lead.id,
            "department_id": department(session, "sales").id,
            "category_id": category.id,
            "inbound_id": 999_999,
            "phrasing_id": 999_999,
            "key": "sales",
            "section": "volume",
            "decision": "approve",
            "slug": "x",
            "token": "x",
            "filename": "app.js",
            "tag": "sales-only",
        },
        "form": {
            "reply-body": f"Answer {SECRET}",
            "reply-send": "1",
            "reply-send_anyway": "1",
            "note-body": "A note",
            "assign-assignee": str(agent.id),
            "department-department": str(department(session, "service").id),
            "urgency-urgency": "5",
            "complaint-complexity": "complex",
            "tier-tier": "vip",
            "merge-target": theirs.reference,
            "ticket_id": [str(theirs.id), str(lonely.id)],
            "action": "resolve",
            "decision": "spam",
            "state": "replying",
            "saved_reply": str(saved.id),
            "insert_saved": "1",
            "tag-tag": "boundary",
            "tag": "sales-only",
            "view-name": f"{SECRET} copy",
            f"rename-{view.id}-name": "Renamed",
        },
    }
    session.commit()
    return world


def _urls(app: Flask, methods: tuple[str, ...], values: dict[str, Any], own: int) -> list:
    """(method, url) for every route with one of `methods`: all parameters naming the other
    department's objects, and again with the agent's own ticket beside the others' objects."""
    found = set()
    for rule in app.url_map.iter_rules():
        for method in sorted(set(methods) & (rule.methods or set())):
            variants = [values]
            if "ticket_id" in rule.arguments:
                variants.append({**values, "ticket_id": own})
            for given in variants:
                with app.test_request_context():
                    url = url_for(rule.endpoint, **{k: given[k] for k in rule.arguments})
                found.add((method, url))
    return sorted(found)


def _state(app: Flask, world: dict[str, Any]) -> dict[str, Any]:
    """What a write through another department's route could have changed: anything of the
    Sales tickets, and whether the agent's own ticket was merged into one of them (the writes
    on the agent's own ticket change it, as they should)."""
    with app.extensions["support_db"].session() as s:
        tickets = [s.get(Ticket, world[k]) for k in ("theirs", "lonely")]
        ids = [t.id for t in tickets]

        def counted(model: Any, column: Any) -> int:
            return s.scalar(select(func.count()).select_from(model).where(column.in_(ids)))

        return {
            "tickets": [
                (
                    t.status,
                    t.assignee_id,
                    t.department_id,
                    t.urgency,
                    t.merged_into_id,
                    t.complaint_complexity,
                    t.customer_id,
                )
                for t in tickets
            ],
            "stranger": s.get(Ticket, world["lonely"]).customer.tier,
            "own_merged_into": s.get(Ticket, world["own"]).merged_into_id,
            "messages": counted(Message, Message.ticket_id),
            "events": counted(AuditEvent, AuditEvent.ticket_id),
            "mail": counted(OutboundMail, OutboundMail.ticket_id),
            "saved": [(r.title, r.body) for r in s.scalars(select(SavedReply))],
            "tags": sorted(
                (t.ticket_id, t.tag)
                for t in s.scalars(select(TicketTag).where(TicketTag.ticket_id.in_(ids)))
            ),
            "views": sorted((v.user_id, v.name) for v in s.scalars(select(SavedView))),
        }


@pytest.mark.parametrize("role", ["agent", "lead"])
def test_no_page_shows_another_departments_ticket(app, client, boundary, role) -> None:
    login(client, boundary[role].email)
    leaks = []
    for _method, url in _urls(app, ("GET",), boundary["ticket_values"], boundary["own"]):
        # Lower case: a search echoes its words, matches whatever the case, and the check
        # looks for the words as written.
        for query in (
            {},
            {"q": SECRET.lower()},
            {"q": STRANGER.lower()},
            {"queue": "sales"},
            {"ticket": boundary["reference"]},  # a mail template's preview
        ):
            response = client.get(url, query_string=query)
            body = response.get_data(as_text=True)
            response.close()  # a static file's
            location = response.headers.get("Location", "")
            if SECRET in body or STRANGER in body:
                leaks.append((url, query, response.status_code))
            if f"/staff/tickets/{boundary['theirs']}" in location:
                leaks.append((url, query, location))
    assert leaks == []


@pytest.mark.parametrize("role", ["agent", "lead"])
def test_no_write_reaches_another_departments_ticket(app, client, boundary, role) -> None:
    login(client, boundary[role].email)
    before = _state(app, boundary)
    changed = []
    for method, url in _urls(app, WRITES, boundary["ticket_values"], boundary["own"]):
        if url in ("/staff/logout", "/staff/account"):
            continue
        response = client.open(url, method=method, data=boundary["form"])
        body = response.get_data(as_text=True)
        if SECRET in body.replace(f"Answer {SECRET}", "") or STRANGER in body:
            changed.append((method, url, "shown", response.status_code))
        after = _state(app, boundary)
        if after != before:
            changed.append((method, url, response.status_code, after))
            before = after
    assert changed == []


def test_the_api_neither_shows_nor_changes_another_departments_ticket(
    app, client, boundary
) -> None:
    headers = {"Authorization": f"Bearer {boundary['token']}"}
    before = _state(app, boundary)
    leaks = []
    for method, url in _urls(app, ("GET", *WRITES), boundary["ticket_values"], boundary["own"]):
        if not url.startswith("/api/"):
            continue
        payload = {"status": "resolved", "urgency": 5, "body": "x", "tier": "vip"}
        if url.endswith("/tags"):
            payload = {"tag": "boundary"}
        response = client.open(
            url,
            method=method,
            headers=headers,
            query_string={"q": SECRET.lower()},
            json=payload if method != "GET" else None,
        )
        body = response.get_data(as_text=True)
        if SECRET in body or STRANGER in body:
            leaks.append((method, url, response.status_code))
    assert leaks == []
    assert _state(app, boundary) == before
