"""Real bounces, complaint reports and auto-replies (../shared/corpora/bounces) get no auto-reply.

Answering any of them starts a mail loop or mails a robot, so each file is checked twice: through
the whole intake (store, worker, outbox, a real relay) and through the auto-reply decision alone,
as if a caller had forgotten to classify the mail.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from mailrouter.intake.queue import store_inbound
from mailrouter.intake.worker import Worker
from mailrouter.models import InboundMail
from mailrouter.outbound.autoreply import SKIP_AUTOMATIC, after_new_ticket, skip_reason
from mailrouter.outbound.sender import OutboxSender
from mailrouter.parsing import parse_message
from support.desk.models import OutboundMail
from tests.conftest import shared_path
from tests.factories import make_customer, make_ticket
from tests.mailrouter.smtp_sink import Sink

pytestmark = pytest.mark.slow  # 629 real messages through the whole intake


@pytest.fixture
def corpus() -> list[Path]:
    files = sorted(shared_path("corpora", "bounces").glob("*.eml"))
    assert len(files) > 600, "the bounce corpus looks incomplete"
    return files


@pytest.fixture
def sink():
    server = Sink().start()
    yield server
    server.stop()


@pytest.fixture
def app_settings(sink: Sink) -> dict:
    return sink.settings()


def test_no_bounce_gets_an_auto_reply_through_the_intake(app, db, sink, corpus):
    with db.session() as session:
        for path in corpus:
            store_inbound(
                session,
                channel="smtp",
                raw=path.read_bytes(),
                envelope_from="",
                envelope_to=["service@example.com"],
                department_code="service",
            )
    worker = Worker(app)
    while worker.process_batch():
        pass
    OutboxSender.for_app(app).run_once()

    assert sink.delivered == []
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboundMail)) == 0
        # Every message was handled, none merely crashed before reaching the auto-reply.
        states = session.execute(
            select(InboundMail.state, func.count()).group_by(InboundMail.state)
        )
        assert dict(states.all()) == {"processed": len(corpus)}


def test_the_decision_alone_refuses_every_bounce(app, session, corpus):
    ticket = make_ticket(session, customer=make_customer(session, email="li.wei@example.cn"))
    message = ticket.messages[0]  # a person's message, as far as the caller told us
    answered, not_recognised = [], []
    for path in corpus:
        parsed = parse_message(path.read_bytes())
        reason = skip_reason(session, ticket, message, parsed, app.config) or ""
        if not reason.startswith(SKIP_AUTOMATIC):
            not_recognised.append((path.name, reason))
        if after_new_ticket(session, ticket, message, parsed, app.config) is not None:
            answered.append(path.name)

    assert not_recognised == []
    assert answered == []
    assert session.scalar(select(func.count()).select_from(OutboundMail)) == 0
