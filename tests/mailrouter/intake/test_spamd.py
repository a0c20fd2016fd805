"""The direct check with a real spamd on loopback: the SPAMC protocol, the worker asking it
after the mail is stored, and falling back to the built-in filter when it is not there."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from mailrouter.intake import queue
from mailrouter.models import InboundMail
from mailrouter.spam import spamc
from support.desk.models import Ticket
from tests.mailrouter.conftest import free_port, make_mail, process_all
from tests.mailrouter.intake.test_spam_intake import CERTAIN_SPAM, corpus_spam


def test_spamc_protocol_reports_score_and_rules(spamd) -> None:
    answer = spamc.check(corpus_spam(CERTAIN_SPAM), spamd.address, timeout=30)
    assert answer.threshold == 5.0
    assert answer.score > 0 and answer.rules  # rules that fired, by name
    assert all(rule.replace("_", "").isalnum() for rule in answer.rules)
    ham = spamc.check(
        make_mail(subject="Quote", body="A quote, please."), spamd.address, timeout=30
    )
    assert not ham.is_spam and ham.score < answer.score


def _queue(session, raw: bytes) -> int:
    inbound = queue.store_inbound(
        session,
        channel="smtp",
        raw=raw,
        envelope_from="x@example.org",
        envelope_to=["sales@example.com"],
        department_code="sales",
    )
    session.commit()
    return inbound.id


def test_worker_asks_spamd_and_stores_its_verdict(app, session, spamd) -> None:
    # A low threshold: without its network tests spamd scores lower than in production.
    app.config.update(SPAMD_ADDRESS=spamd.address, SPAM_SUSPECTED_SCORE=1.0)
    spam_id = _queue(session, corpus_spam(CERTAIN_SPAM))
    assert process_all(app) == 1
    inbound = session.get(InboundMail, spam_id)
    assert inbound.spam_detail["source"] == "spamd"
    assert inbound.spam_state in ("suspected", "certain")
    assert inbound.spam_detail["reasons"]  # SpamAssassin's rule names
    assert session.scalar(select(Ticket)) is None
    session.commit()


def test_spamd_down_falls_back_to_the_built_in_filter(app, session, caplog) -> None:
    app.config.update(SPAMD_ADDRESS=f"127.0.0.1:{free_port()}", SPAMD_TIMEOUT_SECONDS=2)
    spam_id = _queue(session, corpus_spam(CERTAIN_SPAM))
    with caplog.at_level(logging.WARNING, logger="mailrouter.spam.verdict"):
        assert process_all(app) == 1
    inbound = session.get(InboundMail, spam_id)
    assert inbound.state == "processed"  # never lost, never stuck
    assert inbound.spam_detail["source"] == "builtin"
    assert inbound.spam_state == "certain"
    assert "using the built-in filter instead" in caplog.text
    session.commit()


def test_bad_spamd_address_is_an_error_not_a_crash() -> None:
    with pytest.raises(spamc.SpamdError):
        spamc.check(b"Subject: x\r\n\r\nx", "no-port-here", timeout=1)
