"""Working a ticket from its page: reply, note, assign, move, merge, wait, resolve, reopen."""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from faq.models import Article, Category, DemandEvent
from support.core.db import utcnow
from support.desk.models import Attachment, AuditEvent, Message, Ticket, TrainingExample
from support.desk.notifications import notify_new_ticket
from support.desk.sla import breached_clause, sla_state, start_clock
from tests.factories import make_customer, make_ticket, make_user
from tests.support.staff_helpers import login, mail_text, outbound


@pytest.fixture
def desk(app, session):
    """An agent (alias "Lily") and a lead of Customer Service, and a threaded ticket."""
    agent = make_user(session, email="agent@example.com", name="Li Hua", display_alias="Lily")
    lead = make_user(session, email="lead@example.com", role="lead")
    customer = make_customer(session, name="Wang Fang", company="ACME", is_key_account=True)
    created = utcnow() - timedelta(minutes=30)
    ticket = make_ticket(session, customer=customer, subject="Kettle broken", created_at=created)
    first = ticket.messages[0]
    first.message_id = "cust-1@example.org"
    first.references = ["root@example.org"]
    first.created_at = created
    start_clock(ticket, app.config, now=created)
    session.commit()
    return agent, lead, ticket


def test_reply_to_a_mail_without_message_id_threads_on_our_acknowledgement(
    app, session, client, desk
) -> None:
    # The customer's mail came without a Message-ID: the parser made one up that their mail
    # program never saw. The answer goes into the thread of our auto-reply, which they have.
    agent, _lead, ticket = desk
    first = ticket.messages[0]
    first.message_id = "generated.0123abcd@support.invalid"
    first.references = []
    session.add(
        Message(
            ticket=ticket,
            direction="auto",
            message_id="SUP-ACK.abc@example.com",
            subject="Received",
            created_at=first.created_at + timedelta(seconds=5),
        )
    )
    session.commit()
    login(client, agent.email)
    client.post(
        f"/staff/tickets/{ticket.id}/reply",
        data={"reply-body": "A new kettle is on its way.", "reply-then": "open", "reply-send": "1"},
    )
    [mail] = outbound(session, ticket, "reply")
    raw = mail.raw.decode()
    assert "support.invalid" not in raw
    assert "In-Reply-To: <SUP-ACK.abc@example.com>" in raw
    assert "References: <SUP-ACK.abc@example.com>" in raw


def _reload(session, ticket: Ticket) -> Ticket:
    """The ticket as the app left it (commit before the next request: SQLite locks)."""
    session.refresh(ticket)
    return ticket


def _actions(session, ticket_id: int) -> list[str]:
    rows = session.scalars(
        select(AuditEvent.action).where(AuditEvent.ticket_id == ticket_id).order_by(AuditEvent.id)
    ).all()
    session.commit()
    return list(rows)


def test_reply_goes_out_from_the_department_in_the_customers_thread(
    app, session, client, desk
) -> None:
    agent, _lead, ticket = desk
    login(client, agent.email)
    response = client.post(
        f"/staff/tickets/{ticket.id}/reply",
        data={
            "reply-body": "We will send a new kettle today.",
            "reply-then": "open",
            "reply-send": "1",
        },
    )
    assert response.status_code == 302
    [mail] = outbound(session, ticket, "reply")
    raw = mail.raw.decode()
    assert mail.envelope_from == "service@example.com" and mail.recipients == [
        ticket.customer.email
    ]
    assert '"Lily (Customer Service)" <service@example.com>' in raw
    assert "In-Reply-To: <cust-1@example.org>" in raw
    assert "References: <root@example.org> <cust-1@example.org>" in raw
    assert f"[#{ticket.reference}]" in mail.subject
    assert "Li Hua" not in raw and "agent@example.com" not in raw
    message = session.scalar(select(Message).where(Message.outbound_mail_id == mail.id))
    assert message.new_text == "We will send a new kettle today." and message.author_id == agent.id
    assert "Lily" in message.body_text  # signed with the alias
    fresh = _reload(session, ticket)
    assert fresh.status == "open"
    assert fresh.first_response_at is not None and fresh.first_response_seconds >= 1700
    assert "ticket.replied" in _actions(session, ticket.id)
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert "We will send a new kettle today." in page


def test_the_reply_box_says_what_is_signed_below_it(app, session, client, desk) -> None:
    """Seen from a fresh start.sh: an agent ended a reply "Best, Lei" and the customer read
    the name twice, the desk's signature below theirs. The page says what is added."""
    agent, _lead, ticket = desk
    login(client, agent.email)
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert "Added below your text: Lily · Customer Service" in page
    assert 'aria-describedby="reply-signature"' in page
    client.post(
        f"/staff/tickets/{ticket.id}/reply",
        data={"reply-body": "A new kettle goes out today.", "reply-send": "1"},
    )
    [mail] = outbound(session, ticket, "reply")
    text = mail_text(mail).replace("\r\n", "\n")
    assert "A new kettle goes out today.\n\nLily\nCustomer Service\n" in text
    chinese = client.get(f"/staff/tickets/{ticket.id}?lang=zh").get_data(as_text=True)
    assert "回复末尾会自动加上：Lily · " in chinese


def test_who_answers_an_unassigned_ticket_owns_it(app, session, client, desk) -> None:
    # As in Help Scout and Zendesk: the answered ticket is not left for a colleague to answer
    # again; an assigned one stays with its assignee.
    agent, lead, ticket = desk
    theirs = make_ticket(session, customer=ticket.customer, subject="Lid cracked")
    theirs.assignee = lead
    session.commit()
    login(client, agent.email)
    for answered in (ticket, theirs):
        client.post(
            f"/staff/tickets/{answered.id}/reply",
            data={"reply-body": "On its way.", "reply-then": "open", "reply-send": "1"},
        )
    assert _reload(session, ticket).assignee_id == agent.id
    assert "ticket.assigned" in _actions(session, ticket.id)
    assert _reload(session, theirs).assignee_id == lead.id


def test_risky_phrases_warn_but_can_be_sent_anyway(app, session, client, desk) -> None:
    agent, _lead, ticket = desk
    login(client, agent.email)
    data = {"reply-body": "Calm down, that is not my job.", "reply-send": "1"}
    warned = client.post(f"/staff/tickets/{ticket.id}/reply", data=data)
    html = warned.get_data(as_text=True)
    assert warned.status_code == 200 and 'data-testid="reply-warnings"' in html
    assert "Calm down, that is not my job." in html  # the draft is kept
    assert outbound(session, ticket) == []
    session.commit()
    sent = client.post(f"/staff/tickets/{ticket.id}/reply", data={**data, "reply-send_anyway": "1"})
    assert sent.status_code == 302
    assert len(outbound(session, ticket, "reply")) == 1
    assert "ticket.reply_warnings_overridden" in _actions(session, ticket.id)


def test_reply_and_resolve_carries_the_rating_links(app, session, client, desk) -> None:
    agent, _lead, ticket = desk
    login(client, agent.email)
    client.post(
        f"/staff/tickets/{ticket.id}/reply",
        data={"reply-body": "Fixed, enjoy your tea.", "reply-then": "resolved", "reply-send": "1"},
    )
    [mail] = outbound(session, ticket)
    text = session.scalar(select(Message).where(Message.outbound_mail_id == mail.id)).body_text
    links = [line.split(": ", 1)[1] for line in text.splitlines() if "/rate/" in line]
    assert len(links) == 5
    assert _reload(session, ticket).status == "resolved"
    session.commit()
    for link in links:  # a mail scanner opens every link: that must record nothing
        assert client.get(link.removeprefix("http://127.0.0.1:8080")).status_code == 200
    assert _reload(session, ticket).satisfaction_rating is None
    session.commit()
    path = links[0].removeprefix("http://127.0.0.1:8080")
    page = client.get(path).get_data(as_text=True)
    assert 'checked id="score-0" name="score" type="radio" value="5"' in page  # preselected
    assert "out of 5" not in page  # nothing reads as saved before the POST
    rated = client.post(path, data={})
    assert rated.status_code == 200 and "5 out of 5" in rated.get_data(as_text=True)
    assert _reload(session, ticket).satisfaction_rating == 5


def test_note_is_internal(app, session, client, desk) -> None:
    agent, _lead, ticket = desk
    login(client, agent.email)
    client.post(f"/staff/tickets/{ticket.id}/note", data={"note-body": "Customer called too."})
    assert outbound(session, ticket) == []
    note = session.scalar(select(Message).where(Message.direction == "note"))
    assert note.body_text == "Customer called too." and note.author_id == agent.id
    session.commit()
    assert "Customer called too." in client.get(f"/staff/tickets/{ticket.id}").get_data(
        as_text=True
    )
    assert "ticket.note_added" in _actions(session, ticket.id)


def test_assignment_rules(app, session, client, desk) -> None:
    agent, lead, ticket = desk
    colleague = make_user(session, email="col@example.com")
    stranger = make_user(session, email="sales@example.com", departments=("sales",))
    session.commit()
    login(client, agent.email)
    client.post(f"/staff/tickets/{ticket.id}/take")
    assert _reload(session, ticket).assignee_id == agent.id
    session.commit()
    client.post(f"/staff/tickets/{ticket.id}/assign", data={"assign-assignee": colleague.id})
    assert _reload(session, ticket).assignee_id == agent.id  # agents cannot hand work out
    session.commit()
    client.post("/staff/logout")
    login(client, lead.email)
    client.post(f"/staff/tickets/{ticket.id}/assign", data={"assign-assignee": colleague.id})
    assert _reload(session, ticket).assignee_id == colleague.id
    session.commit()
    client.post(f"/staff/tickets/{ticket.id}/assign", data={"assign-assignee": stranger.id})
    assert _reload(session, ticket).assignee_id == colleague.id
    session.commit()
    assert _actions(session, ticket.id).count("ticket.assigned") == 2


def test_taking_a_new_ticket_opens_it_and_keeps_its_clock_and_queue(app, session, client, desk):
    # As commercial desks do: "new" means nobody has it yet. The response target stays, and
    # the ticket stays in the open inboxes and the SLA checks (both count new and open alike).
    agent, _lead, ticket = desk
    due = ticket.first_response_due_at
    assert ticket.status == "new" and due is not None
    login(client, agent.email)
    client.post(f"/staff/tickets/{ticket.id}/take")
    taken = _reload(session, ticket)
    assert taken.assignee_id == agent.id and taken.status == "open"
    assert taken.first_response_due_at == due and taken.first_response_at is None
    assert _actions(session, ticket.id)[-2:] == ["ticket.assigned", "ticket.status_changed"]
    session.commit()
    mine = client.get("/staff/inbox/mine").get_data(as_text=True)
    assert ticket.reference in mine
    later = utcnow() + timedelta(days=9)
    assert sla_state(taken, later) == "breached"
    assert session.scalar(select(Ticket.id).where(breached_clause(later))) == ticket.id


def test_a_refused_assignee_is_not_named(app, session, client, desk) -> None:
    # Leads pick from their own department's list; an id from elsewhere must not tell them
    # who that is (the page's form accepts any user id).
    _agent, lead, ticket = desk
    stranger = make_user(
        session, email="zhao.sales@example.com", name="Zhao Min", departments=("sales",)
    )
    session.commit()
    login(client, lead.email)
    page = client.post(
        f"/staff/tickets/{ticket.id}/assign",
        data={"assign-assignee": stranger.id},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "That person cannot take this ticket" in page
    assert "Zhao Min" not in page and "zhao.sales" not in page
    assert _reload(session, ticket).assignee_id is None
    session.commit()


def test_department_correction_is_training_data(app, session, client, desk) -> None:
    agent, _lead, ticket = desk
    ticket.assignee = agent
    session.commit()
    login(client, agent.email)
    from tests.factories import department

    sales_id = department(session, "sales").id
    session.commit()
    response = client.post(
        f"/staff/tickets/{ticket.id}/department", data={"department-department": sales_id}
    )
    assert response.headers["Location"] == "/staff/"  # the agent no longer sees it
    fresh = _reload(session, ticket)
    assert fresh.department.code == "sales" and fresh.assignee_id is None
    example = session.scalar(select(TrainingExample))
    assert (example.source, example.department_code, example.ticket_id) == (
        "correction",
        "sales",
        ticket.id,
    )
    assert example.body == "My kettle stopped working after two days."
    assert "ticket.department_changed" in _actions(session, ticket.id)


def test_triage_decision_is_recorded_as_triage(app, session, client) -> None:
    triager = make_user(session, email="tri@example.com", departments=(), can_triage=True)
    ticket = make_ticket(session, department_code=None, needs_triage=True)
    from tests.factories import department

    service_id = department(session, "service").id
    session.commit()
    login(client, triager.email)
    client.post(
        f"/staff/tickets/{ticket.id}/department", data={"department-department": service_id}
    )
    fresh = _reload(session, ticket)
    assert fresh.department_id == service_id and not fresh.needs_triage
    assert fresh.first_response_due_at is not None
    assert session.scalar(select(TrainingExample.source)) == "triage"


def test_urgency_change_restarts_the_clock(app, session, client, desk) -> None:
    agent, _lead, ticket = desk
    login(client, agent.email)
    done = client.post(
        f"/staff/tickets/{ticket.id}/urgency",
        data={"urgency-urgency": "5"},
        follow_redirects=True,
    )
    assert "Urgency set to 5 · Emergency." in done.get_data(as_text=True)
    fresh = _reload(session, ticket)
    assert fresh.urgency == 5
    assert fresh.first_response_due_at == fresh.created_at + timedelta(minutes=60)
    example = session.scalar(select(TrainingExample))
    assert (example.source, example.urgency) == ("correction", 5)
    assert "ticket.urgency_changed" in _actions(session, ticket.id)


def test_merge_moves_the_conversation(app, session, client, desk) -> None:
    agent, _lead, ticket = desk
    duplicate = make_ticket(
        session, customer=ticket.customer, subject="Kettle again", body="Still broken!"
    )
    with app.app_context():
        assert notify_new_ticket(session, duplicate, app.config)  # mail to staff about it
    session.commit()
    login(client, agent.email)
    response = client.post(
        f"/staff/tickets/{duplicate.id}/merge",
        data={"merge-target": ticket.reference, "merge-confirm": "1"},
    )
    assert response.headers["Location"] == f"/staff/tickets/{ticket.id}"
    merged = _reload(session, duplicate)
    assert merged.status == "closed" and merged.merged_into_id == ticket.id
    bodies = {m.body_text for m in _reload(session, ticket).messages}
    assert "Still broken!" in bodies
    session.commit()
    follow = client.get(f"/staff/tickets/{duplicate.id}")
    assert follow.headers["Location"] == f"/staff/tickets/{ticket.id}"
    assert "ticket.merged_from" in _actions(session, ticket.id)
    # Our notifications to staff moved with the messages, and stay out of the conversation.
    page = client.get(f"/staff/tickets/{ticket.id}?lang=en").get_data(as_text=True)
    assert "Still broken!" in page
    assert "New ticket (urgency" not in page and "新工单" not in page


def test_a_merge_keeps_the_higher_urgency_and_the_earlier_due_time(
    app, session, client, desk
) -> None:
    """The duplicate was raised to "important" (and came first): merged into a normal ticket,
    it must not fall back to normal, nor its customer wait longer."""
    agent, _lead, ticket = desk  # urgency 2, created 30 minutes ago
    earlier = utcnow() - timedelta(hours=3)
    duplicate = make_ticket(
        session, customer=ticket.customer, subject="Kettle again", urgency=4, created_at=earlier
    )
    start_clock(duplicate, app.config, now=earlier)
    due = duplicate.first_response_due_at
    session.commit()
    login(client, agent.email)
    client.post(
        f"/staff/tickets/{duplicate.id}/merge",
        data={"merge-target": ticket.reference, "merge-confirm": "1"},
    )
    merged = _reload(session, ticket)
    assert merged.urgency == 4 and merged.urgency_level.level == 4
    assert merged.first_response_due_at == due
    assert merged.resolution_due_at <= duplicate.resolution_due_at
    session.commit()

    # ... and the other way round nothing is lowered.
    low = make_ticket(session, customer=ticket.customer, subject="Kettle, third mail", urgency=1)
    start_clock(low, app.config)
    session.commit()
    client.post(
        f"/staff/tickets/{low.id}/merge",
        data={"merge-target": ticket.reference, "merge-confirm": "1"},
    )
    assert _reload(session, ticket).urgency == 4
    assert _reload(session, ticket).first_response_due_at == due


def test_wait_resume_resolve_reopen(app, session, client, desk) -> None:
    agent, _lead, ticket = desk
    due_before = ticket.first_response_due_at
    login(client, agent.email)
    client.post(f"/staff/tickets/{ticket.id}/wait")
    fresh = _reload(session, ticket)
    assert fresh.status == "waiting" and fresh.sla_paused_at is not None
    fresh.sla_paused_at = utcnow() - timedelta(hours=2)  # as if two hours passed
    session.commit()
    client.post(f"/staff/tickets/{ticket.id}/resume")
    fresh = _reload(session, ticket)
    assert fresh.status == "open" and fresh.sla_paused_at is None
    assert fresh.first_response_due_at - due_before >= timedelta(hours=2)
    session.commit()
    client.post(f"/staff/tickets/{ticket.id}/resolve")
    fresh = _reload(session, ticket)
    assert fresh.status == "resolved" and fresh.resolved_at is not None
    [survey] = outbound(session, ticket, "survey")
    assert survey.raw.decode().count("/rate/") >= 5
    assert b"Auto-Submitted: auto-generated" in survey.raw  # sent on resolving, no answer
    session.commit()
    client.post(f"/staff/tickets/{ticket.id}/reopen")
    assert _reload(session, ticket).status == "open"
    actions = _actions(session, ticket.id)
    assert actions.count("ticket.status_changed") == 4 and "ticket.survey_sent" in actions


def test_rating_links_only_for_resolved_tickets(app, session, client, desk) -> None:
    from support.desk.satisfaction import rating_token

    _agent, _lead, ticket = desk
    token = rating_token(ticket, 2, app.config)
    session.commit()
    assert client.get(f"/rate/{token}").status_code == 409  # still open: never surveyed
    assert client.get("/rate/forged-token").status_code == 404
    ticket.status = "resolved"
    session.commit()
    assert client.get(f"/rate/{token}").status_code == 200
    assert _reload(session, ticket).satisfaction_rating is None
    session.commit()
    client.post(f"/rate/{token}", data={"score": "4", "comment": "Slow, but friendly."})
    fresh = _reload(session, ticket)
    assert fresh.satisfaction_rating == 4 and fresh.satisfaction_comment == "Slow, but friendly."
    session.commit()
    # Staff read what the customer told them on the ticket itself.
    login(client, _agent.email)
    page = client.get(f"/staff/tickets/{ticket.id}?lang=en").get_data(as_text=True)
    assert "Rated 4 out of 5" in page and "Slow, but friendly." in page


def test_canned_answer_from_the_faq(app, session, client, desk) -> None:
    agent, _lead, ticket = desk
    category = Category(slug="returns", name_en="Returns")
    article = Article(
        slug="return-policy",
        category=category,
        language="en",
        question="How do I return a kettle?",
        answer_md="Return it within **30 days** with the receipt.",
    )
    session.add_all([category, article])
    session.commit()
    login(client, agent.email)
    found = client.post(
        f"/staff/tickets/{ticket.id}/reply",
        data={
            "reply-body": "Dear customer,",
            "reply-faq_query": "return kettle",
            "reply-search_faq": "1",
        },
    ).get_data(as_text=True)
    assert "How do I return a kettle?" in found
    inserted = client.post(
        f"/staff/tickets/{ticket.id}/reply",
        data={"reply-body": "Dear customer,", "insert_article": str(article.id)},
    ).get_data(as_text=True)
    assert "Dear customer,\n\nReturn it within 30 days with the receipt." in inserted
    event = session.scalar(select(DemandEvent))
    assert (event.article_id, event.kind) == (article.id, "staff_link")
    assert outbound(session, ticket) == []


def test_ticket_page_shows_conversation_card_and_classification(app, session, client, desk) -> None:
    agent, _lead, ticket = desk
    ticket.classification = {
        "department": {
            "label": "service",
            "probability": 0.82,
            "reasons": ["word 'kettle' +1.3"],
            "source": "model",
        },
        "urgency": {"label": 2, "probability": 0.6, "reasons": [], "source": "rules"},
        "model_version": "2026-05-01",
    }
    first = ticket.messages[0]
    first.quoted_text = "> an older mail"
    first.signature = "Zhang Wei\nTel 138 0013 8000"
    first.html_sanitized = "<p>Hello <b>there</b></p><script>alert(1)</script>"
    make_ticket(session, customer=ticket.customer, subject="Last year's toaster", status="closed")
    session.commit()
    login(client, agent.email)
    html = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert "<summary>Quoted history</summary>" in html and "&gt; an older mail" in html
    # What the parser set apart as the customer's signature (a phone number, say) is shown too.
    assert "<summary>Signature</summary>" in html and "Tel 138 0013 8000" in html
    assert "<p>Hello <b>there</b></p>" in html and "<script>alert(1)" not in html
    assert "Key account" in html and "ACME" in html and "Last year&#39;s toaster" in html
    assert "82%" in html and "word &#39;kettle&#39; +1.3" in html and "2026-05-01" in html
    assert "First response due" in html and "Received" in html


def test_attachments_download_safely(app, session, client, desk) -> None:
    agent, _lead, ticket = desk
    message = ticket.messages[0]
    page = Attachment(
        message=message,
        filename="网页.html",
        content_type="text/html",
        size=20,
        sha256="0" * 64,
        data=b"<script>x</script>",
    )
    session.add(page)
    session.commit()
    login(client, agent.email)
    response = client.get(f"/staff/attachments/{page.id}")
    assert response.status_code == 200 and response.data == b"<script>x</script>"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E7%BD%91%E9%A1%B5.html" in response.headers["Content-Disposition"]
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_reply_to_a_non_ascii_address_is_queued(app, session, client, desk) -> None:
    # Finding 7: composing raised ValueError for 王芳@例子.cn and the page answered 500.
    agent, _lead, ticket = desk
    ticket.customer.email = "王芳@例子.cn"
    session.commit()
    login(client, agent.email)
    response = client.post(
        f"/staff/tickets/{ticket.id}/reply",
        data={"reply-body": "A new kettle is on its way.", "reply-send": "1"},
    )
    assert response.status_code == 302
    [mail] = outbound(session, ticket, "reply")
    assert mail.recipients == ["王芳@例子.cn"] and "王芳@" in mail.raw.decode("utf-8")


def test_a_reply_that_cannot_be_queued_keeps_the_typed_text(app, session, client, desk) -> None:
    agent, _lead, ticket = desk
    ticket.customer.email = "broken@"
    session.commit()
    login(client, agent.email)
    response = client.post(
        f"/staff/tickets/{ticket.id}/reply",
        data={"reply-body": "My carefully typed answer.", "reply-send": "1"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "cannot be sent to broken@" in html and "My carefully typed answer." in html
    assert outbound(session, ticket) == []
    session.commit()


def test_reply_to_a_traditional_writer_frames_the_answer_in_traditional(
    app, session, client, desk
) -> None:
    # The auto-reply was Traditional; the agent's reply came with 回复：, 于 … 写道 and a
    # Simplified rating block around it. Their words and the customer's stay as written.
    agent, _lead, _ticket = desk
    customer = make_customer(session, email="chen@example.com.tw", name="陳台生")
    ticket = make_ticket(
        session,
        customer=customer,
        subject="台北門市的發票",
        body="請問台北門市可以開發票嗎？我們買了十台。",
        language="zh",
    )
    ticket.messages[0].from_name = "陳台生"
    session.commit()
    login(client, agent.email)
    client.post(
        f"/staff/tickets/{ticket.id}/reply",
        data={"reply-body": "可以开发票。", "reply-then": "resolved", "reply-send": "1"},
    )
    [mail] = outbound(session, ticket, "reply")
    text = session.scalar(select(Message).where(Message.outbound_mail_id == mail.id)).body_text
    assert mail.subject.startswith("回覆：") and mail.subject.endswith("台北門市的發票")
    assert text.startswith("可以开发票。")  # the agent's answer as typed
    assert "陳台生 於 " in text and " 寫道：" in text
    assert "\n客戶服務部\n" in text and "Customer Service" not in text  # signed as the auto-reply
    sender = message_from_bytes(mail.raw, policy=policy.default)["From"].addresses[0]
    assert sender.display_name.endswith(" (客戶服務部)")  # and from it
    assert "> 請問台北門市可以開發票嗎？我們買了十台。" in text
    assert "写道" not in text and "臺" not in text and "臺" not in mail.subject
    assert "我们" not in text.split("可以开发票。", 1)[1]  # the rating block too
    # Its links open the rating page in Traditional characters, as the auto-reply's do.
    links = re.findall(r"http://\S+/rate/\S+", text)
    assert len(links) == 5 and all(link.endswith("?lang=zh&script=hant") for link in links)
    page = client.get(links[0].removeprefix("http://127.0.0.1:8080")).get_data(as_text=True)
    assert "提交評分" in page and "提交评分" not in page


@pytest.mark.parametrize(
    ("body", "language", "query", "button", "team"),
    [
        ("水壶坏了，一直不加热。", "zh", "?lang=zh", "提交评分", "客户服务部"),
        ("水壺壞了，一直不加熱。", "zh", "?lang=zh&script=hant", "提交評分", "客戶服務部"),
        ("The kettle stopped heating.", "en", "?lang=en", "Send rating", "Customer Service"),
    ],
    ids=["simplified", "traditional", "english"],
)
def test_resolving_without_a_reply_surveys_in_the_customers_language_and_script(
    app, session, client, desk, body, language, query, button, team
) -> None:
    """The rating mail sent on "Resolve" (no reply) and its links' page read as the customer
    writes, whatever language the staff member's own pages are in."""
    agent, _lead, _ticket = desk
    ticket = make_ticket(session, subject="水壶", body=body, language=language)
    session.commit()
    login(client, agent.email)  # staff pages in English
    client.post(f"/staff/tickets/{ticket.id}/resolve")
    [mail] = outbound(session, ticket, "survey")
    text = mail_text(mail)
    links = re.findall(r"http://\S+/rate/\S+", text)
    assert len(links) == 5 and all(link.endswith(query) for link in links)
    # Each rating then its link, after a colon of the mail's language (5 - 非常满意：http...).
    colon = "：" if language == "zh" else ": "
    assert all(f"{colon}{link}" in text for link in links)
    if query.endswith("hant"):
        assert "問題已解決" in text and mail.subject.startswith("回覆：")
    assert message_from_bytes(mail.raw, policy=policy.default)["From"].addresses[
        0
    ].display_name == (team)
    page = client.get(links[1].removeprefix("http://127.0.0.1:8080")).get_data(as_text=True)
    assert button in page


def test_the_rating_mail_speaks_of_our_answer_only_when_there_was_one(
    app, session, client, desk
) -> None:
    """A ticket resolved without a reply (thanks, a duplicate) is "resolved", not "we hope our
    answer helped": the customer never had one."""
    agent, _lead, _ticket = desk
    unanswered = make_ticket(session, subject="Thanks!", body="Great service.", language="en")
    answered = make_ticket(session, subject="Kettle", body="It leaks.", language="en")
    session.commit()
    login(client, agent.email)
    client.post(
        f"/staff/tickets/{answered.id}/reply",
        data={"reply-body": "Please send a photo.", "reply-then": "open", "reply-send_anyway": "1"},
    )
    for ticket in (unanswered, answered):
        client.post(f"/staff/tickets/{ticket.id}/resolve")
    [first] = outbound(session, unanswered, "survey")
    assert "Your request has been resolved." in mail_text(first)
    assert "our answer" not in mail_text(first)
    [second] = outbound(session, answered, "survey")
    assert "We hope our answer helped." in mail_text(second)


@pytest.mark.parametrize("typed", ["sup-1", "#SUP-1", "[#SUP-00001]", " SUP-00001 "])
def test_merge_target_as_the_agent_types_it(app, session, client, desk, typed) -> None:
    """The reference of the ticket to merge into reads as the header's search reads it."""
    agent, _lead, ticket = desk
    ticket.reference = "SUP-00001"
    duplicate = make_ticket(session, customer=ticket.customer, subject="Again", body="Again!")
    session.commit()
    login(client, agent.email)
    response = client.post(
        f"/staff/tickets/{duplicate.id}/merge", data={"merge-target": typed, "merge-confirm": "1"}
    )
    assert response.headers["Location"] == f"/staff/tickets/{ticket.id}"
    assert _reload(session, duplicate).merged_into_id == ticket.id


def test_a_reply_to_a_mail_of_only_a_file_quotes_nothing(app, session, client, desk) -> None:
    # An invoice PDF with an empty body is stored as "(no text)"; the reply quoted it to the
    # customer ("> (no text)" under "On ..., Amy wrote:"), in English in a Chinese mail.
    agent, _lead, _ticket = desk
    ticket = make_ticket(session, subject="發票", body="(no text)", language="zh")
    session.commit()
    login(client, agent.email)
    client.post(
        f"/staff/tickets/{ticket.id}/reply",
        data={"reply-body": "已收到您的發票，謝謝。", "reply-send": "1"},
    )
    [mail] = outbound(session, ticket, "reply")
    text = mail_text(mail)
    assert text.startswith("已收到您的發票，謝謝。")
    assert "(no text)" not in text and "写道" not in text and "wrote" not in text


@pytest.mark.parametrize(
    ("body", "language", "greeting", "closing"),
    [
        ("水壶坏了，一直不加热。", "zh", "张伟，您好！", "祝好！\nLumen Home 客户服务部"),
        ("水壺壞了，一直不加熱。", "zh", "张伟，您好！", "祝好！\nLumen Home 客戶服務部"),
        (
            "The kettle stopped heating.",
            "en",
            "Dear 张伟,",
            "Kind regards,\nCustomer Service team\nLumen Home",
        ),
    ],
    ids=["simplified", "traditional", "english"],
)
def test_the_rating_mail_greets_the_customer_and_is_signed(
    app, session, client, desk, body, language, greeting, closing
) -> None:
    """It began "Your request has been resolved." with no greeting and no signature, where
    the auto-reply and every staff reply have both. The name is as the customer wrote it."""
    agent, _lead, _ticket = desk
    customer = make_customer(session, name="张伟")
    ticket = make_ticket(session, customer=customer, subject="水壶", body=body, language=language)
    session.commit()
    login(client, agent.email)
    client.post(f"/staff/tickets/{ticket.id}/resolve")
    [mail] = outbound(session, ticket, "survey")
    text = mail_text(mail).replace("\r\n", "\n")
    assert text.startswith(greeting + "\n\n")
    assert closing + "\n\n-- \n" in text  # signed before the rating links


def test_the_quoted_question_is_dated_on_the_customer_s_clock(app, session) -> None:
    """A customer who wrote at 07:30 in New York read "On 2026-12-06 20:30, Tom Baker wrote:"
    under our answer: the company's clock, with no zone. Their own clock when their mail gave
    it; the company's otherwise."""
    from datetime import UTC, datetime

    from support.desk.actions import compose_reply_text

    agent = make_user(session, name="Li Wei")
    ticket = make_ticket(session, body="Where is my refund?")
    (question,) = ticket.messages
    question.from_name, question.created_at = "Tom Baker", datetime(2026, 12, 6, 12, 30, tzinfo=UTC)
    question.date_offset_minutes = -300
    with app.test_request_context("/"):
        text = compose_reply_text(ticket, agent, "It is on its way.", app.config)
        assert "On 2026-12-06 07:30, Tom Baker wrote:\n> Where is my refund?" in text
        question.date_offset_minutes = None  # no clock given: the company's, named
        text = compose_reply_text(ticket, agent, "It is on its way.", app.config)
        assert "On 2026-12-06 20:30 (Asia/Shanghai, UTC+8), Tom Baker wrote:" in text
        ticket.language = "zh"
        text = compose_reply_text(ticket, agent, "It is on its way.", app.config)
        assert "Tom Baker 于 2026-12-06 20:30（北京时间） 写道：" in text
        question.date_offset_minutes = -300  # their own clock: theirs alone, as before
        text = compose_reply_text(ticket, agent, "It is on its way.", app.config)
        assert "Tom Baker 于 2026-12-06 07:30 写道：" in text


@pytest.mark.parametrize(
    ("saved", "ending"),
    [
        # The name on its own line, as the saved-reply editor suggests it.
        ("Best regards,\n{agent_name}", "Best regards,\nLily\nCustomer Service\n"),
        ("Best, {agent_name}", "Best, Lily\nCustomer Service\n"),
        # Name and team both written: nothing is added.
        ("祝好，\n{agent_name}\nCustomer Service", "祝好，\nLily\nCustomer Service\n"),
    ],
)
def test_a_saved_reply_signed_with_the_agents_name_is_not_signed_twice(
    app, session, desk, saved, ending
) -> None:
    """A saved reply ending in ``{agent_name}``, then the automatic signature: the customer
    read "Best regards, Lily" and "Lily" again below it. The signature adds only what the
    text's last lines do not already say."""
    from support.desk.actions import compose_reply_text
    from support.desk.saved_replies import fill, placeholder_values

    agent, _lead, ticket = desk
    body = fill(f"Your kettle is covered.\n\n{saved}", placeholder_values(ticket, agent, "UTC"))
    text = compose_reply_text(ticket, agent, body, app.config)
    assert text.count("Lily") == 1 and text.count("Customer Service") == 1
    assert (text + "\n").startswith(f"Your kettle is covered.\n\n{ending}")
    # A name that is only part of a word signs nothing: "Lilyanne" still gets the signature.
    other = compose_reply_text(ticket, agent, "Thanks,\nLilyanne", app.config)
    assert other.startswith("Thanks,\nLilyanne\n\nLily\nCustomer Service")
