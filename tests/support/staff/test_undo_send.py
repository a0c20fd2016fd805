"""Undo send: a reply sent from the ticket page is held for REPLY_UNDO_SECONDS; its author may
take it back (the ticket as it was, the text back in the box); otherwise the sender releases
it once, whatever crashes. Runs on SQLite and on PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from mailrouter.outbound.customer_links import follow_url
from mailrouter.outbound.sender import OutboxSender
from support.core.db import utcnow
from support.desk import held_replies, ticket_state
from support.desk.actions import ActionError
from support.desk.models import Attachment, Message, Ticket, User
from support.desk.sla import start_clock
from tests.factories import make_ticket, make_user
from tests.support.staff_helpers import login, outbound

HOLD = 30  # long enough that no test runs past it by accident; the sender's clock moves on


@pytest.fixture
def app_settings() -> dict:
    return {"REPLY_UNDO_SECONDS": HOLD}


@pytest.fixture
def desk(app, session):
    agent = make_user(session, email="li@example.com", name="Li Lei")
    colleague = make_user(session, email="han@example.com", name="Han Mei")
    ticket = make_ticket(session, subject="Kettle stopped heating")
    start_clock(ticket, app.config, now=ticket.created_at)
    session.commit()
    return agent, colleague, ticket.id


def _send(client, ticket_id: int, text: str = "A new kettle is on its way.", **extra) -> None:
    response = client.post(
        f"/staff/tickets/{ticket_id}/reply",
        data={"reply-body": text, "reply-send_resolve": "1", "reply-cc": "", **extra},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def _sender(app, tmp_path: Path, later: float = 0) -> OutboxSender:
    config = {**app.config, "OUTBOUND_SMTP_HOST": ""}
    return OutboxSender(
        app.extensions["support_db"],
        config,
        outbox_dir=tmp_path / "outbox",
        clock=lambda: utcnow() + timedelta(seconds=later),
    )


def _reply_id(session, ticket_id: int) -> int:
    """The ticket's one reply (the session left without a transaction: SQLite's writers wait)."""
    session.expire_all()
    found = session.scalars(
        select(Message.id).where(Message.ticket_id == ticket_id, Message.direction == "out")
    ).all()
    session.commit()
    [message_id] = found
    return message_id


def test_hold_seconds_is_bounded() -> None:
    assert held_replies.hold_seconds({"REPLY_UNDO_SECONDS": 600}) == 60
    assert held_replies.hold_seconds({"REPLY_UNDO_SECONDS": -5}) == 0
    assert held_replies.hold_seconds({"REPLY_UNDO_SECONDS": "x"}) == 0
    assert held_replies.hold_seconds({}) == 0


def test_undo_restores_the_ticket_and_the_text(app, client, session, desk, tmp_path) -> None:
    agent, _colleague, ticket_id = desk
    before = ticket_state.snapshot(session.get(Ticket, ticket_id))
    session.commit()
    login(client, agent.email)
    _send(client, ticket_id)

    ticket = session.get(Ticket, ticket_id)
    assert ticket.status == "resolved" and ticket.assignee_id == agent.id
    assert ticket.first_response_at is not None
    [mail] = outbound(session, ticket, "reply")
    assert mail.state == "held"
    page = client.get(f"/staff/tickets/{ticket_id}").get_data(as_text=True)
    assert 'data-testid="held-reply"' in page and "Sending in" in page
    assert _sender(app, tmp_path).run_once().handled == 0  # not before its time

    message_id = _reply_id(session, ticket_id)
    undone = client.post(f"/staff/tickets/{ticket_id}/replies/{message_id}/undo")
    assert undone.status_code == 200
    html = undone.get_data(as_text=True)
    assert "A new kettle is on its way.</textarea>" in html
    assert 'data-testid="held-reply"' not in html

    session.expire_all()
    ticket = session.get(Ticket, ticket_id)
    assert ticket_state.snapshot(ticket) == before  # status, assignee, due times, clocks
    assert outbound(session, ticket) == []
    assert not [m for m in ticket.messages if m.direction == "out"]
    session.commit()
    # Nothing goes out later either.
    assert _sender(app, tmp_path, later=HOLD + 1).run_once().handled == 0


def _sent_and_a_colleague(app, client, session, desk) -> tuple[int, int, object]:
    """The agent sent a reply (held); the ticket, the reply and a colleague's signed-in client."""
    agent, _colleague, ticket_id = desk
    login(client, agent.email)
    _send(client, ticket_id)
    message_id = _reply_id(session, ticket_id)
    other = app.test_client()
    login(other, "han@example.com")
    return ticket_id, message_id, other


def test_only_the_author_may_undo(app, client, session, desk) -> None:
    ticket_id, message_id, other = _sent_and_a_colleague(app, client, session, desk)
    page = other.get(f"/staff/tickets/{ticket_id}").get_data(as_text=True)
    assert 'data-testid="held-reply"' not in page  # the banner is the author's only
    assert "not sent yet: its author may still undo it" in page  # but the reply says so
    refused = other.post(f"/staff/tickets/{ticket_id}/replies/{message_id}/undo")
    assert refused.status_code == 302
    ticket = session.get(Ticket, ticket_id)
    assert [m.state for m in outbound(session, ticket, "reply")] == ["held"]


def test_an_undo_under_another_ticket_is_refused(app, client, session, desk) -> None:
    # The request names the ticket (z on its page): a reply of another ticket is not undone
    # from there, even the agent's own.
    agent, _colleague, ticket_id = desk
    elsewhere = make_ticket(session, subject="Lid broken")
    session.commit()
    elsewhere_id = elsewhere.id
    login(client, agent.email)
    _send(client, ticket_id)
    message_id = _reply_id(session, ticket_id)
    refused = client.post(
        f"/staff/tickets/{elsewhere_id}/replies/{message_id}/undo", follow_redirects=True
    )
    assert "There is no reply to undo." in refused.get_data(as_text=True)
    ticket = session.get(Ticket, ticket_id)
    assert [m.state for m in outbound(session, ticket, "reply")] == ["held"]
    assert ticket.status == "resolved"


def test_the_follow_page_does_not_show_a_held_reply(app, client, session, desk, tmp_path) -> None:
    agent, _colleague, ticket_id = desk
    login(client, agent.email)
    _send(client, ticket_id, "Our engineer calls tomorrow.")
    reference = session.get(Ticket, ticket_id).reference
    session.commit()
    follow = urlsplit(follow_url(app.config, reference, "en")).path
    assert "Our engineer calls tomorrow." not in client.get(follow).get_data(as_text=True)
    assert _sender(app, tmp_path, later=HOLD + 1).run_once().sent == 1
    assert "Our engineer calls tomorrow." in client.get(follow).get_data(as_text=True)


def test_a_held_reply_goes_out_once_even_after_a_crash(app, client, session, desk, tmp_path):
    agent, _colleague, ticket_id = desk
    login(client, agent.email)
    _send(client, ticket_id)
    message_id = _reply_id(session, ticket_id)
    crashed = _sender(app, tmp_path, later=HOLD + 1)
    claimed = crashed.claim_next()  # the release: then this sender died before delivering
    assert claimed is not None
    # Too late to undo once the sender has it.
    refused = client.post(f"/staff/tickets/{ticket_id}/replies/{message_id}/undo")
    assert refused.status_code == 302
    restarted = _sender(app, tmp_path, later=HOLD + 1 + crashed.lease.total_seconds() + 1)
    assert restarted.run_once().sent == 1
    assert restarted.run_once().handled == 0
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1
    [mail] = outbound(session, session.get(Ticket, ticket_id), "reply")
    assert mail.state == "sent"
    assert session.get(Ticket, ticket_id).status == "resolved"


def test_undo_is_refused_after_a_colleague_acted(app, client, session, desk) -> None:
    ticket_id, message_id, other = _sent_and_a_colleague(app, client, session, desk)
    other.post(f"/staff/tickets/{ticket_id}/note", data={"note-body": "Checked the stock."})
    refused = client.post(f"/staff/tickets/{ticket_id}/replies/{message_id}/undo")
    assert refused.status_code == 302
    ticket = session.get(Ticket, ticket_id)
    assert [m.state for m in outbound(session, ticket, "reply")] == ["held"]


@pytest.mark.parametrize("app_settings", [{"REPLY_UNDO_SECONDS": 0}])
def test_no_hold_when_turned_off(client, session, desk) -> None:
    agent, _colleague, ticket_id = desk
    login(client, agent.email)
    _send(client, ticket_id)
    ticket = session.get(Ticket, ticket_id)
    assert [m.state for m in outbound(session, ticket, "reply")] == ["pending"]
    page = client.get(f"/staff/tickets/{ticket_id}").get_data(as_text=True)
    assert 'data-testid="held-reply"' not in page


def test_undo_of_a_reply_with_a_file_says_to_attach_it_again(client, session, desk) -> None:
    agent, _colleague, ticket_id = desk
    login(client, agent.email)
    response = client.post(
        f"/staff/tickets/{ticket_id}/reply",
        data={
            "reply-body": "The invoice is attached.",
            "reply-send": "1",
            "reply-files": [(io.BytesIO(b"%PDF-1.4\n" + b"0" * 200), "invoice.pdf")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    message_id = _reply_id(session, ticket_id)
    undone = client.post(f"/staff/tickets/{ticket_id}/replies/{message_id}/undo")
    assert undone.status_code == 200
    assert "attach them again" in undone.get_data(as_text=True)
    session.expire_all()
    assert session.scalars(select(Attachment)).all() == []
    assert outbound(session, session.get(Ticket, ticket_id)) == []


def test_undo_after_its_time_is_refused(app, client, session, desk) -> None:
    agent, _colleague, ticket_id = desk
    login(client, agent.email)
    _send(client, ticket_id)
    message_id = _reply_id(session, ticket_id)
    ticket, author = session.get(Ticket, ticket_id), session.get(User, agent.id)
    later = utcnow() + timedelta(seconds=HOLD + held_replies.GRACE_SECONDS + 1)
    with app.test_request_context("/"), pytest.raises(ActionError, match="已经发出|Too late"):
        held_replies.undo(session, ticket, author, message_id, now=later)
    session.rollback()
    assert [m.state for m in outbound(session, session.get(Ticket, ticket_id), "reply")] == ["held"]


def test_the_notice_says_when_the_reply_goes_and_to_the_address_as_written(
    app, session, client, desk
) -> None:
    # Seen from a fresh install: "Reply to ming@xn--fsqu00a.xn--55qx5d sent in 10 s" read as
    # sent already, and named the customer's domain in its xn-- form.
    agent, _colleague, ticket_id = desk
    session.get(Ticket, ticket_id).customer.email = "ming@xn--fsqu00a.xn--55qx5d"
    session.commit()
    login(client, agent.email)
    _send(client, ticket_id)
    page = client.get(f"/staff/tickets/{ticket_id}?lang=en").get_data(as_text=True)
    assert f"Reply to ming@例子.公司 goes out in {HOLD} s: you can undo it until then." in page
    assert "xn--" not in page.partition('class="flash')[2][:300]


def test_the_ticket_page_labels_a_reply_by_its_state_not_as_sent(
    app, client, session, desk, tmp_path
) -> None:
    """A held reply is not "the mail as sent"; with no relay the sender writes it to a file,
    which the sent-mail pages call "Written to a file, not sent": the ticket page agrees."""
    agent, _colleague, ticket_id = desk
    login(client, agent.email)
    _send(client, ticket_id)
    page = client.get(f"/staff/tickets/{ticket_id}").get_data(as_text=True)
    assert "The mail as sent" not in page
    assert "The mail as it will be sent" in page
    assert _sender(app, tmp_path, later=HOLD + 1).run_once().handled == 1
    session.expire_all()
    page = client.get(f"/staff/tickets/{ticket_id}").get_data(as_text=True)
    assert "The mail as sent" not in page
    assert "The mail as written to a file, not sent" in page
    client.set_cookie("lang", "zh")
    assert "写入文件" in client.get(f"/staff/tickets/{ticket_id}").get_data(as_text=True)


def test_a_reply_a_relay_took_is_the_mail_as_sent(app, client, session, desk) -> None:
    agent, _colleague, ticket_id = desk
    login(client, agent.email)
    _send(client, ticket_id)
    [mail] = outbound(session, session.get(Ticket, ticket_id), "reply")
    mail.state, mail.relay_handoffs = "sent", 1
    session.commit()
    page = client.get(f"/staff/tickets/{ticket_id}").get_data(as_text=True)
    assert "The mail as sent" in page


def test_a_reply_past_its_hold_is_marked_in_the_outbox_not_undoable(
    app, session, client, desk
) -> None:
    # The hold over, the sender not round yet (the row still "held"): the page said "not sent
    # yet: its author may still undo it", which the undo then refused.
    agent, _colleague, ticket_id = desk
    login(client, agent.email)
    _send(client, ticket_id)
    client.get(f"/staff/tickets/{ticket_id}")  # the notice shown and gone
    (row,) = outbound(session, session.get(Ticket, ticket_id), "reply")
    row.next_attempt_at = utcnow() - timedelta(seconds=1)
    session.commit()
    for lang, after, promise in (
        ("en", "in the outbox", "may still undo"),
        ("zh", "已进入发件队列", "仍可撤销"),
    ):
        page = client.get(f"/staff/tickets/{ticket_id}?lang={lang}").get_data(as_text=True)
        mark = page.partition('data-testid="held-message"')[2].partition("</strong>")[0]
        assert mark.endswith(after) and promise not in page
