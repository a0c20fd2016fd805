"""A mail written in pinyin end to end: sent to the real SMTP intake, processed by the worker,
answered in Simplified Chinese with the FAQ answer its Chinese asks for (demo FAQ)."""

from __future__ import annotations

import json
import smtplib

import pytest
from sqlalchemy import select

from faq.evaluate import DEMO_CONTENT
from faq.importexport import import_articles
from faq.index_sync import rebuild_index
from mailrouter.parsing import parse_message
from support.core.text import has_cjk
from support.desk.models import Message, OutboundMail, Ticket
from support.desk.outbox import KIND_AUTO_REPLY
from tests.mailrouter.conftest import make_mail, process_all

SENDER = "Zhang Wei <zhang.wei@example.net>"


@pytest.fixture
def app_settings(bundle_file) -> dict:
    return {"CLASSIFIER_MODEL_PATH": str(bundle_file)}


def _send(
    app, session, intake, subject: str, body: str, sender: str = SENDER
) -> tuple[Ticket, str]:
    session.commit()  # the test's session must not hold SQLite's lock while the intake writes
    raw = make_mail(sender=sender, subject=subject, body=body)
    with smtplib.SMTP(intake.host, intake.port, timeout=60) as smtp:
        smtp.sendmail(sender.split("<")[-1].rstrip(">"), ["support@example.com"], raw)
    assert process_all(app) == 1
    session.expire_all()
    ticket = session.scalars(select(Ticket).order_by(Ticket.id.desc())).first()
    assert ticket is not None
    reply = session.scalar(
        select(OutboundMail.raw).where(
            OutboundMail.ticket_id == ticket.id, OutboundMail.kind == KIND_AUTO_REPLY
        )
    )
    assert reply is not None, "no auto-reply"
    return ticket, parse_message(reply).text


@pytest.mark.usefixtures("demo_faq_vectors")  # the demo FAQ's article texts, embedded once a run
def test_a_pinyin_mail_gets_a_chinese_reply_with_the_right_offer(app, db, session, intake):
    with db.session() as writing:
        import_articles(writing, json.loads(DEMO_CONTENT.read_text(encoding="utf-8")))
    rebuild_index(app)

    ticket, text = _send(
        app,
        session,
        intake,
        "mi ma",
        "ni hao,\nwang ji mi ma le, deng lu bu liao, zen me zhao hui mi ma?\n\nxie xie\nZhang Wei",
    )
    message = session.scalars(
        select(Message).where(Message.ticket_id == ticket.id, Message.direction == "in")
    ).one()
    assert message.language == "zh"
    assert "工单编号" in text  # the Chinese template
    assert "忘记密码怎么找回？" in text  # the demo FAQ's Chinese password article, offered
    # Routing read it as the Chinese it spells: the words that decided are Chinese ones.
    reasons = ticket.classification["department"]["reasons"]
    assert reasons and all(has_cjk(word) for word in reasons), reasons

    # An English mail that names its writer and city in pinyin is answered in English (another
    # sender: one auto-reply a sender a while, mailrouter.flood).
    _ticket, english = _send(
        app,
        session,
        intake,
        "Password",
        "Hi, this is Zhang Wei from Wuhan. I forgot my password, how do I reset it?",
        sender="Zhang Wei <zw@example.org>",
    )
    assert "工单编号" not in english and "reset" in english.lower()
