"""One decision for a new ticket's auto-reply (``pipeline.auto_reply_step``): the FAQ answers
found ahead (``analyse``, through ``may_be_answered``) are found exactly for the tickets that
then get their auto-reply, and each kind of mail keeps what it got before the two questions
were made one (answered, withheld with an audit entry, or given no auto-reply at all)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from mailrouter.intake import pipeline, queue
from mailrouter.models import InboundMail
from mailrouter.spam.verdict import BUILTIN, CERTAIN, HAM, SpamVerdict
from support.core.db import utcnow
from support.desk.models import AuditEvent, OutboundMail
from support.desk.outbox import own_addresses
from tests.mailrouter.conftest import make_mail
from tests.mailrouter.intake.conftest import claim_queued

CLEAN = SpamVerdict(HAM, 0.4, "spamassassin")
#: (verdict, released from the Spam page this many hours ago (None: never held),
#:  auto-reply sent, withheld with an audit entry)
CASES = {
    "clean": (CLEAN, None, True, False),
    "in the no-answer band": (SpamVerdict(HAM, 4.2, "spamassassin"), None, False, True),
    "forged sender": (
        SpamVerdict(HAM, 0.1, BUILTIN, sender_unverified="DMARC fail"),
        None,
        False,
        False,
    ),
    "spam forced to a ticket": (SpamVerdict(CERTAIN, 9.0, "spamassassin"), None, False, False),
    "released at once": (CLEAN, 1.0, True, False),
    "released days later": (CLEAN, 72.0, False, False),
}


def _queued_question(session, recipient: str, *, department_code: str | None = None) -> InboundMail:
    """A customer's question queued as received by SMTP for ``recipient`` (uncommitted)."""
    return queue.store_inbound(
        session,
        channel="smtp",
        raw=make_mail(subject="Refund", body="How long does a refund take for my kettle?"),
        envelope_from="wang.fang@example.net",
        envelope_to=[recipient],
        department_code=department_code,
    )


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_answers_are_found_ahead_exactly_for_tickets_that_get_an_auto_reply(
    app, session, case: str
) -> None:
    spam, released_hours, replied, withheld = CASES[case]
    row = _queued_question(session, "support@example.com")
    row.meta = {**(row.meta or {}), "force_ticket": True}
    if released_hours is not None:
        row.meta = {**row.meta, "spam_released": True}
        row.received_at = utcnow() - timedelta(hours=released_hours)
    inbound = claim_queued(session)
    with app.app_context():
        parsed = pipeline.parse_inbound(inbound, app.config, own_addresses(session, app.config))
        analysis = pipeline.analyse(session, parsed, app.config, inbound=inbound, spam=spam)
        answered_ahead = pipeline.may_be_answered(inbound, parsed, spam, app.config)
        result = pipeline.process_inbound(
            session, inbound, app.config, parsed=parsed, analysis=analysis, spam=spam
        )
        session.commit()
    assert result.ticket_id is not None
    sent = session.scalars(
        select(OutboundMail.kind).where(OutboundMail.ticket_id == result.ticket_id)
    ).all()
    skipped = session.scalars(
        select(AuditEvent.id).where(
            AuditEvent.ticket_id == result.ticket_id, AuditEvent.action == "auto_reply_skipped"
        )
    ).all()
    assert ("auto_reply" in sent, bool(skipped)) == (replied, withheld)
    assert answered_ahead == replied
    assert (analysis.answers is not None) == replied


@pytest.mark.parametrize(
    ("address", "department", "found_ahead"),
    [
        ("pr", "pr", False),  # the press address: its auto-reply offers no FAQ answers
        ("pr-inactive", None, True),  # pr switched off: routed as if to no department
        (None, None, True),  # the model decides (here there is none: triage)
    ],
)
def test_answers_are_not_found_ahead_for_mail_to_a_department_that_offers_none(
    app, session, monkeypatch, address: str | None, department: str | None, found_ahead: bool
) -> None:
    """Mail to the address of an AUTOREPLY_NO_FAQ_DEPARTMENTS department goes there whatever
    its text says, and its auto-reply offers no answers and counts no demand: the answers are
    not looked for ahead (most of a mail's preparing), nor in the write transaction, and the
    ticket, its auto-reply and the FAQ's demand and gaps come out as before."""
    from faq.models import DemandEvent, UnansweredQuestion
    from mailrouter.outbound import autoreply
    from support.desk.models import Department, Ticket

    if address == "pr-inactive":
        session.scalar(select(Department).where(Department.code == "pr")).is_active = False
        session.commit()
    _queued_question(session, "pr@example.com", department_code="pr" if address else None)
    inbound = claim_queued(session)
    looked_up: list[str] = []
    find = autoreply.answers_for

    def answers_for(*args, **kwargs):
        looked_up.append("ahead" if not looked_up else "again")
        return find(*args, **kwargs)

    monkeypatch.setattr(autoreply, "answers_for", answers_for)
    with app.app_context():
        parsed = pipeline.parse_inbound(inbound, app.config, own_addresses(session, app.config))
        analysis = pipeline.analyse(session, parsed, app.config, inbound=inbound, spam=CLEAN)
        assert (analysis.answers is not None) == found_ahead
        result = pipeline.process_inbound(
            session, inbound, app.config, parsed=parsed, analysis=analysis, spam=CLEAN
        )
        session.commit()
    assert looked_up == (["ahead"] if found_ahead else [])  # never again inside the write
    ticket = session.get(Ticket, result.ticket_id)
    assert (ticket.department.code if ticket.department else None) == department
    sent = session.scalars(select(OutboundMail.kind).where(OutboundMail.ticket_id == ticket.id))
    assert list(sent) == ["auto_reply"]
    counted = session.scalars(select(DemandEvent.id)).all()
    gaps = session.scalars(select(UnansweredQuestion.id)).all()
    # No FAQ in this instance: a question to triage is a gap; one to pr counts nothing.
    assert (counted, len(gaps)) == ([], 0 if department == "pr" else 1)
