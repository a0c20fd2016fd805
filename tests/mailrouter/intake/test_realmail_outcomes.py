"""What becomes of mail as real clients and robots write it, sent through the real SMTP intake.

The messages are ``tests/mailrouter/fixtures/realmail`` (see its ``expected.json``): machine
mail the shared corpora lack (QQ Mail's vacation reply, Chinese read receipts, calendar mail)
and people's mail in the forms that broke help desks (Exchange's X-Auto-Response-Suppress, raw
GBK file names, Outlook's cid placeholders). ``bench/corpora_outcomes.py`` runs them with the
corpora and prints the table.
"""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import select

from mailrouter.models import InboundMail
from support.desk import actions
from support.desk.models import AuditEvent, Message, OutboundMail, Ticket
from tests.factories import make_user
from tests.mailrouter.conftest import make_mail, send_over_smtp

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "realmail"


def realmail(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def auto_replies(session) -> list[OutboundMail]:
    return list(session.scalars(select(OutboundMail).where(OutboundMail.kind == "auto_reply")))


def test_outlook_mail_with_x_auto_response_suppress_is_a_customers(app, session, intake):
    send_over_smtp(
        app, session, intake, "sarah.whitfield@oakridge-lettings.co.uk",
        realmail("outlook-exchange-suppress-header.eml"),
    )  # fmt: skip
    ticket = session.scalar(select(Ticket))
    assert ticket is not None, "the customer's mail was set aside as automatic"
    message = session.scalar(select(Message).where(Message.direction == "in"))
    assert not message.is_automatic
    # Its "DR, OOF, AutoReply" asks for no automatic answer: the ticket waits for a person.
    assert auto_replies(session) == []
    skipped = session.scalar(select(AuditEvent).where(AuditEvent.action == "auto_reply_skipped"))
    assert skipped.data["reason"] == (
        "suppressed_by_sender: X-Auto-Response-Suppress: DR, OOF, AutoReply"
    )


def resolved_after_auto_reply(app, session, intake, sender: str) -> tuple[int, OutboundMail]:
    """A ticket opened by `sender`'s mail, answered by our auto-reply, then resolved."""
    send_over_smtp(app, session, intake, sender, make_mail(sender=sender, subject="Kettle leaks"))
    ticket = session.scalar(select(Ticket))
    ours = auto_replies(session)[0]
    ticket.status = "resolved"
    session.commit()
    return ticket.id, ours


def test_an_exchange_customers_reply_reopens_the_resolved_ticket(app, session, intake):
    ticket_id, ours = resolved_after_auto_reply(app, session, intake, "sarah@oakridge.example")
    reply = make_mail(
        sender="Sarah Whitfield <sarah@oakridge.example>",
        subject=f"RE: {ours.subject}",
        body="It broke again this morning, the light blinks red.\n",
        in_reply_to=f"<{ours.message_id}>",
        headers={"X-Auto-Response-Suppress": "DR, OOF, AutoReply"},
    )
    send_over_smtp(app, session, intake, "sarah@oakridge.example", reply)
    ticket = session.get(Ticket, ticket_id)
    assert ticket.status == "open"
    inbound = session.scalars(select(InboundMail).order_by(InboundMail.id)).all()
    assert inbound[-1].meta["outcome"] == "reopened"


def test_a_qq_vacation_reply_to_our_mail_leaves_the_resolved_ticket_alone(app, session, intake):
    ticket_id, ours = resolved_after_auto_reply(app, session, intake, "liuyang88@qq.com")
    # QQ Mail answers our mail with its vacation reply: the subject of the mail answered, no
    # Auto-Submitted, HTML only, the fixed opening 这是来自QQ邮箱的假期自动回复邮件.
    vacation = message_from_bytes(realmail("qq-vacation-reply.eml"), policy=policy.SMTP)
    vacation.replace_header("Subject", f"Re: {ours.subject}")
    vacation["In-Reply-To"] = f"<{ours.message_id}>"
    send_over_smtp(app, session, intake, "liuyang88@qq.com", vacation.as_bytes())
    ticket = session.get(Ticket, ticket_id)
    assert ticket.status == "resolved"
    stored = session.scalars(select(Message).where(Message.direction == "in")).all()
    assert [m.is_automatic for m in stored] == [False, True]
    assert len(auto_replies(session)) == 1


def test_calendar_invitations_and_answers_are_set_aside(app, session, intake):
    for name, sender in (
        ("google-calendar-invitation.eml", "amy.chen@gmail.com"),
        ("outlook-calendar-accepted.eml", "mark.davies@brightstays.co.uk"),
    ):
        send_over_smtp(app, session, intake, sender, realmail(name))
    assert session.scalar(select(Ticket)) is None
    assert auto_replies(session) == []
    outcomes = [m.meta["outcome"] for m in session.scalars(select(InboundMail))]
    assert outcomes == ["set_aside", "set_aside"]


def test_mail_without_a_subject_is_answered_in_the_customers_language(app, session, intake):
    send_over_smtp(app, session, intake, "huangli2000@126.com", realmail("no-subject-header.eml"))
    (auto_reply,) = auto_replies(session)
    subject = str(message_from_bytes(auto_reply.raw, policy=policy.default)["Subject"])
    assert subject.endswith("我们已收到您的来信"), subject
    ticket = session.scalar(select(Ticket))
    agent = make_user(session, email="li.na@example.com", name="Li Na", departments=("service",))
    session.commit()
    with app.app_context():  # the reply's words are translated for the customer
        actions.reply(session, ticket, agent, "请把划痕的照片发给我们。", config=app.config)
    session.commit()
    reply = session.scalar(select(OutboundMail).where(OutboundMail.kind == "reply"))
    subject = str(message_from_bytes(reply.raw, policy=policy.default)["Subject"])
    assert subject.startswith("回复：") and "(no subject)" not in subject, subject


#: Out-of-office replies whose words our learned filter reads as an advert's: a signature with
#: a website, a WeChat id, phone numbers and a hotline (Exchange's zh-CN, 163 Mail's), or QQ
#: Mail's "Re:" subject with no In-Reply-To. The corpus's bounces/rfc3834-04.eml (an Exchange
#: out-of-office with a support desk's numbers) is one more: the filter called it spam too.
OUT_OF_OFFICE_CALLED_SPAM = [
    ("outlook-ooo-zh-signature-links.eml", "chenzm@hengtai-elec.com"),
    ("163-vacation-reply.eml", "zhouting_hz@163.com"),
    ("qq-vacation-reply.eml", "liuyang88@qq.com"),
    ("exchange-ooo-signature-links.eml", "d.okafor@harrow-facilities.co.uk"),
]


@pytest.mark.parametrize(("name", "sender"), OUT_OF_OFFICE_CALLED_SPAM)
def test_an_out_of_office_on_no_thread_is_set_aside_not_held_as_spam(
    app, session, intake, name, sender
):
    send_over_smtp(app, session, intake, sender, realmail(name))
    row = session.scalar(select(InboundMail))
    assert (row.meta["outcome"], row.spam_state) == ("set_aside", None), (row.meta, row.spam_detail)
    assert row.meta["detail"].startswith("out-of-office or automatic reply: "), row.meta
    assert session.scalar(select(Ticket)) is None
    assert auto_replies(session) == []


@pytest.mark.parametrize(
    ("name", "sender"), [OUT_OF_OFFICE_CALLED_SPAM[0], OUT_OF_OFFICE_CALLED_SPAM[1]]
)
def test_an_out_of_office_answering_our_auto_reply_is_a_note_on_the_resolved_ticket(
    app, session, intake, name, sender
):
    """Exchange and Coremail name our mail only by its subject (the ticket's token), with
    no In-Reply-To: the out-of-office joins that ticket as automatic mail, which stays
    resolved, and nobody is answered."""
    ticket_id, ours = resolved_after_auto_reply(app, session, intake, sender)
    vacation = message_from_bytes(realmail(name), policy=policy.SMTP)
    vacation.replace_header("Subject", f"自动回复: {ours.subject}")
    send_over_smtp(app, session, intake, sender, vacation.as_bytes())
    ticket = session.get(Ticket, ticket_id)
    assert ticket.status == "resolved"
    stored = session.scalars(select(Message).where(Message.direction == "in")).all()
    assert [m.is_automatic for m in stored] == [False, True]
    assert len(auto_replies(session)) == 1
    assert session.scalars(select(InboundMail.meta)).all()[-1]["outcome"] == "automatic_on_ticket"
