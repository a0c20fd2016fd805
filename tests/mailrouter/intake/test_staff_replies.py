"""Working from a mail program: notifications of new tickets and answers sent by replying."""

from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy import select

from mailrouter.intake.staff_replies import (
    handle_staff_mail_reply,
    staff_reply_target,
    strip_notification_quote,
)
from mailrouter.parsing import parse_message
from support.desk.models import Message
from support.desk.notifications import REPLY_MARKER_EN, notify_new_ticket
from tests.factories import department, make_ticket, make_user
from tests.support.staff_helpers import login, mail_text, outbound


def _staff_reply(notification, sender: str, text: str) -> bytes:
    """What a staff member's mail program sends back: their text above the quoted mail."""
    body = mail_text(notification)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "service@example.com"
    msg["Subject"] = "Re: " + notification.subject
    msg["Message-ID"] = "<reply-from-staff@mail.example.com>"
    msg["In-Reply-To"] = f"<{notification.message_id}>"
    msg["References"] = f"<{notification.message_id}>"
    quoted = "\n".join("> " + line for line in body.replace("\r\n", "\n").splitlines())
    msg.set_content(f"{text}\n\nOn Mon, 4 May 2026 at 10:00, Service wrote:\n{quoted}\n")
    return bytes(msg)


def test_department_members_are_notified_one_mail_each(app, session) -> None:
    make_user(session, email="ann@example.com", language="en")
    make_user(session, email="bob@example.com", language="zh")
    make_user(session, email="gone@example.com", is_active=False)
    make_user(session, email="sales@example.com", departments=("sales",))
    ticket = make_ticket(session, subject="Kettle broken", urgency=4)
    sent = notify_new_ticket(session, ticket, app.config)
    assert sorted(sent) == ["ann@example.com", "bob@example.com"]
    mails = {m.recipients[0]: m for m in outbound(session, ticket, "notification")}
    english = mail_text(mails["ann@example.com"])
    assert REPLY_MARKER_EN in english and "Kettle broken" in mails["ann@example.com"].subject
    assert "My kettle stopped working" in english
    assert f"/staff/tickets/{ticket.id}" in english
    assert "请在此行以上回复" in mail_text(mails["bob@example.com"])


def test_notifications_name_the_urgency_level_in_each_language(app, session) -> None:
    make_user(session, email="ann@example.com", language="en")
    make_user(session, email="bob@example.com", language="zh")
    ticket = make_ticket(session, subject="Kettle broken", urgency=4)
    with app.app_context():  # as in the worker: each mail translated for its reader
        notify_new_ticket(session, ticket, app.config)
    mails = {m.recipients[0]: m for m in outbound(session, ticket, "notification")}
    english, chinese = mails["ann@example.com"], mails["bob@example.com"]
    assert "New ticket (urgency 4 · Important): Kettle broken" in english.subject
    assert "Urgency: 4 · Important" in mail_text(english)
    assert "新工单（4 · 重要）：Kettle broken" in chinese.subject  # the level names itself
    assert "紧急程度：4 · 重要" in mail_text(chinese)


def test_triage_tickets_notify_the_triage_staff(app, session) -> None:
    make_user(session, email="tri@example.com", departments=(), can_triage=True)
    make_user(session, email="ann@example.com")
    ticket = make_ticket(session, department_code=None, needs_triage=True)
    assert notify_new_ticket(session, ticket, app.config) == ["tri@example.com"]


def test_reply_to_a_notification_answers_the_customer(app, session, client) -> None:
    ann = make_user(session, email="ann@example.com", display_alias="Annie", language="en")
    ticket = make_ticket(session, subject="Kettle broken")
    ticket.messages[0].message_id = "cust-1@example.org"
    notify_new_ticket(session, ticket, app.config)
    [notification] = outbound(session, ticket, "notification")
    raw = _staff_reply(notification, "Ann <ANN@example.com>", "Sending a new one.")
    parsed = parse_message(raw)

    assert staff_reply_target(session, parsed, app.config) == (ann, ticket)
    message = handle_staff_mail_reply(session, parsed, ann, ticket, app.config)
    assert message is not None and message.new_text == "Sending a new one."
    [reply] = outbound(session, ticket, "reply")
    raw, text = reply.raw.decode(), mail_text(reply)
    assert reply.recipients == [ticket.customer.email]
    assert "In-Reply-To: <cust-1@example.org>" in raw and "Annie" in text
    assert REPLY_MARKER_EN not in text and "New ticket" not in text
    assert ticket.first_response_at is not None and ticket.status == "open"
    session.commit()
    # The notification itself is not part of the customer's conversation.
    login(client, "ann@example.com")
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert "Sending a new one." in page and REPLY_MARKER_EN not in page


def test_a_ticket_given_by_a_colleague_is_told_by_mail_and_answerable_from_it(app, session) -> None:
    """A lead assigns a ticket to Ann: she gets a mail (taking one yourself tells nobody), in
    her language, and answers the customer by replying to it, as to a new-ticket mail."""
    from support.desk import actions

    lead = make_user(session, email="lead@example.com", role="lead", name="Lu Lead")
    ann = make_user(session, email="ann@example.com", language="zh", name="安")
    ticket = make_ticket(session, subject="水壶坏了")
    ticket.messages[0].message_id = "cust-1@example.org"
    with app.app_context():  # as on a page: the mail is translated for its reader
        actions.assign(session, ticket, ann, ann, app.config)  # she takes it: no mail
        assert outbound(session, ticket, "notification") == []
        actions.assign(session, ticket, ann, None, app.config)
        actions.assign(session, ticket, lead, ann, app.config)
    [told] = outbound(session, ticket, "notification")
    assert told.recipients == ["ann@example.com"]
    assert "Lu Lead" in told.subject and "水壶坏了" in told.subject
    assert "Lu Lead 把这个工单分配给了您" in mail_text(told)
    reply = parse_message(_staff_reply(told, "ann@example.com", "马上给您换一个新的。"))
    assert staff_reply_target(session, reply, app.config) == (ann, ticket)


def test_only_the_notified_active_staff_member_can_answer(app, session) -> None:
    ann = make_user(session, email="ann@example.com")
    make_user(session, email="eve@example.com", departments=("sales",))
    ticket = make_ticket(session)
    notify_new_ticket(session, ticket, app.config)
    [notification] = outbound(session, ticket, "notification")

    forged = parse_message(_staff_reply(notification, "eve@example.com", "Hi from Eve"))
    assert staff_reply_target(session, forged, app.config) is None
    customer = parse_message(_staff_reply(notification, ticket.customer.email, "Me again"))
    assert staff_reply_target(session, customer, app.config) is None

    genuine = parse_message(_staff_reply(notification, "ann@example.com", "Answer"))
    ann.is_active = False
    assert staff_reply_target(session, genuine, app.config) is None
    assert handle_staff_mail_reply(session, genuine, ann, ticket, app.config) is None
    ann.is_active = True
    ticket.department = department(session, "sales")  # moved away since the notification
    session.flush()
    assert staff_reply_target(session, genuine, app.config) is None
    assert handle_staff_mail_reply(session, genuine, ann, ticket, app.config) is None
    assert session.scalars(select(Message).where(Message.direction == "out")).all() == []


def test_quoted_notification_is_stripped() -> None:
    text = (
        "Thanks, we are on it.\n\nBest\n\nOn Mon, 4 May 2026, Service <service@example.com> "
        f"wrote:\n> {REPLY_MARKER_EN}\n> New ticket"
    )
    assert strip_notification_quote(text) == "Thanks, we are on it.\n\nBest"
    assert strip_notification_quote(f"Short answer\n{REPLY_MARKER_EN}\nrest") == "Short answer"
    chinese = "好的，马上处理。\n\n在 2026年5月4日，客服 写道：\n> ##- 请在此行以上回复 -##"
    assert strip_notification_quote(chinese) == "好的，马上处理。"


def test_answering_by_mail_marks_seen_as_of_the_notification(app, session) -> None:
    """The customer's message Ann answered by mail is read; one that came after the
    notification she answered stays unread for her."""
    from datetime import timedelta

    from support.desk import seen

    ann = make_user(session, email="ann@example.com", language="en")
    ticket = make_ticket(session, subject="Kettle broken")
    other = make_ticket(session, subject="Lamp broken")
    for each in (ticket, other):
        notify_new_ticket(session, each, app.config)
    notified = {each.id: outbound(session, each, "notification")[0] for each in (ticket, other)}
    for each in (ticket, other):
        assert seen.unread_ids(session, ann.id, [each]) == {each.id}
    # The customer writes again on `other` after its notification was made.
    other.last_customer_message_at = notified[other.id].created_at + timedelta(minutes=5)
    session.flush()

    for each, text in ((ticket, "Sending a new one."), (other, "A new lamp is on its way.")):
        parsed = parse_message(_staff_reply(notified[each.id], "ann@example.com", text))
        parsed.message_id = f"reply-{each.id}@mail.example.com"
        assert handle_staff_mail_reply(session, parsed, ann, each, app.config) is not None
    assert seen.unread_ids(session, ann.id, [ticket, other]) == {other.id}
