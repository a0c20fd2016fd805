"""A mail system's report that threads to no ticket is set aside as what it is, not held as spam.

A bounce carries the returned mail (or its opening) and the MTA's own text: links, "click
here", an unsubscribe line, a phone number in the returned signature. Our learned filter read
59 of the 611 corpus bounces as spam, so they sat on the Spam page among the adverts (where
"not spam" teaches the filter that bounces are ham) instead of on the quarantine page with the
other automatic mail. A report that bounce_info reads (failure, delay, complaint, an SES
notification) is set aside with what it reports as its reason; only a real filter's certain
verdict still holds it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from mailrouter.intake import pipeline, queue
from mailrouter.intake import views as intake_views
from mailrouter.models import InboundMail
from mailrouter.spam.verdict import BUILTIN, CERTAIN, SUSPECTED, SpamVerdict
from support.desk.models import Ticket
from support.desk.outbox import own_addresses
from tests.conftest import shared_path
from tests.factories import make_user
from tests.mailrouter.conftest import process_all
from tests.mailrouter.intake.conftest import claim_queued
from tests.support.staff_helpers import login


def _bounce(*, subject: str = "Undeliverable: Your order", action: str = "failed") -> bytes:
    return (
        "From: Microsoft Outlook <postmaster@outlook.example>\r\n"
        "To: support@example.com\r\n"
        f"Subject: {subject}\r\n"
        "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
        "Message-ID: <report-1@outlook.example>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n'
        "\r\n"
        "--B\r\n"
        "Content-Type: text/plain\r\n\r\n"
        "Your message to someone@customer.example couldn't be delivered.\r\n"
        "--B\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; outlook.example\r\n\r\n"
        "Final-Recipient: rfc822; someone@customer.example\r\n"
        f"Action: {action}\r\n"
        "Status: 5.1.1\r\n"
        "--B\r\n"
        "Content-Type: text/rfc822-headers\r\n\r\n"
        "From: Shop <shop@elsewhere.example>\r\n"
        "Subject: 50% off, click here\r\n"
        "Message-ID: <not-ours-1@elsewhere.example>\r\n"
        "--B--\r\n"
    ).encode()


def _store(session, raw: bytes) -> None:
    """``raw`` queued as our MTA passes a bounce on (from the null sender)."""
    queue.store_inbound(
        session,
        channel="smtp",
        raw=raw,
        envelope_from="",
        envelope_to=["support@example.com"],
        department_code=None,
    )


def _process(app, session, raw: bytes, spam: SpamVerdict) -> pipeline.PipelineResult:
    _store(session, raw)
    inbound = claim_queued(session)
    with app.app_context():
        parsed = pipeline.parse_inbound(inbound, app.config, own_addresses(session, app.config))
        result = pipeline.process_inbound(session, inbound, app.config, parsed=parsed, spam=spam)
        queue.mark_processed(
            session,
            session.get(InboundMail, inbound.id),
            outcome=result.outcome,
            ticket_id=result.ticket_id,
            detail=result.detail,
            spam=pipeline.spam_check(result),
        )
        session.commit()
    return result


@pytest.mark.parametrize("level", [SUSPECTED, CERTAIN])
def test_a_bounce_our_filter_calls_spam_is_set_aside_as_a_delivery_failure(
    app, session, level: str
) -> None:
    result = _process(app, session, _bounce(), SpamVerdict(level, 13.0, BUILTIN, ("here +2.9",)))
    assert (result.outcome, result.held_as_spam) == (pipeline.SET_ASIDE, False)
    assert result.detail.startswith("delivery failure report")
    assert [row.id for row in queue.set_aside(session)] == [session.scalar(select(InboundMail.id))]
    assert session.scalar(select(Ticket.id)) is None


def test_a_delay_report_says_so(app, session) -> None:
    raw = _bounce(subject="Delivery delayed: Your order", action="delayed").replace(
        b"Status: 5.1.1", b"Status: 4.4.7"
    )
    result = _process(app, session, raw, SpamVerdict(SUSPECTED, 7.0, BUILTIN))
    assert result.outcome == pipeline.SET_ASIDE
    assert result.detail.startswith("delivery delay report")


def test_a_phishing_mail_dressed_as_a_delivery_failure_stays_on_the_spam_page(app, session) -> None:
    """Spam that only reads like a bounce (a "delivery failed" subject and text, from an
    ordinary sender, no report part, no returned mail) is no mail system's report: held as
    spam, as before (bench/spam_eval.py's written spam has one, spam-en-054)."""
    raw = (
        b"From: USPS Tracking <tracking@usps-redelivery-info.example>\r\n"
        b"To: support@example.com\r\n"
        b"Subject: Package delivery failed - address incomplete\r\n"
        b"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
        b"Message-ID: <phish-1@usps-redelivery-info.example>\r\n"
        b"Content-Type: text/plain\r\n\r\n"
        b"Your package could not be delivered: the address is incomplete.\r\n"
        b"Pay the $1.99 redelivery fee at http://usps-redelivery-info.example/pay\r\n"
    )
    queue.store_inbound(
        session,
        channel="smtp",
        raw=raw,
        envelope_from="tracking@usps-redelivery-info.example",
        envelope_to=["support@example.com"],
    )
    inbound = claim_queued(session)
    with app.app_context():
        parsed = pipeline.parse_inbound(inbound, app.config, own_addresses(session, app.config))
        spam = SpamVerdict(CERTAIN, 14.0, BUILTIN)
        result = pipeline.process_inbound(session, inbound, app.config, parsed=parsed, spam=spam)
    assert (result.outcome, result.held_as_spam) == (pipeline.SPAM_HELD, True)


def test_a_real_filters_certain_verdict_still_holds_a_bounce(app, session) -> None:
    result = _process(app, session, _bounce(), SpamVerdict(CERTAIN, 20.0, "spamassassin"))
    assert (result.outcome, result.held_as_spam) == (pipeline.SPAM_HELD, True)


def test_a_bounce_set_aside_without_a_spam_verdict_names_the_failure_too(app, session) -> None:
    result = _process(app, session, _bounce(), SpamVerdict("ham", -2.0, BUILTIN))
    assert result.outcome == pipeline.SET_ASIDE
    assert result.detail.startswith("delivery failure report")


def test_an_ses_delivery_notification_is_set_aside_not_held(app, session) -> None:
    """Amazon SES's notices (via SNS) end with an unsubscribe link: our filter called the
    corpus's five of them certain spam."""
    raw = shared_path("corpora", "bounces", "lhost-amazonses-12.eml").read_bytes()
    result = _process(app, session, raw, SpamVerdict(CERTAIN, 17.0, BUILTIN))
    assert (result.outcome, result.held_as_spam) == (pipeline.SET_ASIDE, False)
    assert result.detail.startswith("delivery report")


@pytest.mark.parametrize(
    "name",
    [
        "lhost-office365-04.eml",  # links, a phone number and prices in the returned mail
        "rhost-aol-02.eml",  # AOL's report: images and links
        "lhost-amazonses-09.eml",  # an SES bounce notice with its unsubscribe link
        "lhost-yahoo-09.eml",  # plain text from the null sender, no report part
        "arf-12.eml",  # a complaint report about an advert
    ],
)
def test_corpus_reports_the_filter_calls_spam_reach_the_quarantine_page(
    app, session, name: str
) -> None:
    _store(session, shared_path("corpora", "bounces", name).read_bytes())
    session.commit()
    process_all(app)
    session.expire_all()
    row = session.scalar(select(InboundMail))
    assert row.meta["outcome"] == pipeline.SET_ASIDE, row.meta
    assert row.spam_state is None
    assert [r.id for r in queue.set_aside(session)] == [row.id]


@pytest.mark.parametrize(
    ("kind", "label", "chinese_label", "reason"),
    [
        ("bounce", "delivery failure report", "退信（投递失败）", "Auto-Submitted: auto-replied"),
        ("out-of-office", "out-of-office or automatic reply", "外出或自动回复", "Exchange"),
    ],
)
def test_the_quarantine_page_names_the_kind_in_the_staffs_language(
    app, session, client, kind, label, chinese_label, reason
) -> None:
    """Chinese staff read "退信（投递失败）" or "外出或自动回复", not the English label; the
    reason as read (a header, in English as written) follows it."""
    if "quarantine" not in app.blueprints:
        intake_views.init_app(app)
    raw = _bounce() if kind == "bounce" else _out_of_office()
    _process(app, session, raw, SpamVerdict(SUSPECTED, 7.0, BUILTIN))
    email = make_user(session, role="lead", can_triage=True).email
    session.commit()
    login(client, email)
    chinese = client.get("/staff/quarantine/?lang=zh").get_data(as_text=True)
    assert chinese_label in chinese and label not in chinese
    assert reason in chinese
    english = client.get("/staff/quarantine/?lang=en").get_data(as_text=True)
    assert label in english


def test_every_report_label_is_translated_on_the_quarantine_page() -> None:
    from mailrouter.automatic import _REPORT_LABELS, AUTO_REPLY_LABEL

    template = (Path(__file__).resolve().parents[3] / "templates/mail/quarantine.html").read_text(
        "utf-8"
    )
    for label in [*_REPORT_LABELS.values(), AUTO_REPLY_LABEL]:
        assert f"'{label}': _('{label}')" in template, label


def _out_of_office() -> bytes:
    """An Exchange out-of-office (no Auto-Submitted) with a signature of links and numbers."""
    return (
        b"From: Kijitora <kijitora@example.org>\r\n"
        b"To: support@example.com\r\n"
        b"Subject: Automatic reply: Your order\r\n"
        b"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
        b"Message-ID: <ooo-1@example.org>\r\n"
        b"X-Auto-Response-Suppress: All\r\n"
        b"X-MS-Exchange-Inbox-Rules-Loop: kijitora@example.org\r\n"
        b"Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        b"I am away until Monday. Call +1 415 555 0100 or see https://example.org/help\r\n"
    )


@pytest.mark.parametrize("level", [SUSPECTED, CERTAIN])
def test_an_out_of_office_our_filter_calls_spam_is_set_aside_as_one(app, session, level) -> None:
    result = _process(app, session, _out_of_office(), SpamVerdict(level, 13.0, BUILTIN))
    assert (result.outcome, result.held_as_spam) == (pipeline.SET_ASIDE, False)
    assert result.detail == (
        "out-of-office or automatic reply: "
        "Exchange inbox-rule reply (out-of-office of kijitora@example.org)"
    )


def test_a_real_filters_certain_verdict_still_holds_an_out_of_office(app, session) -> None:
    result = _process(app, session, _out_of_office(), SpamVerdict(CERTAIN, 20.0, "spamassassin"))
    assert (result.outcome, result.held_as_spam) == (pipeline.SPAM_HELD, True)


def test_an_advert_with_an_auto_reply_header_but_no_reply_is_held(app, session) -> None:
    """Auto-Submitted: auto-generated says a program wrote it, not that it answers anything:
    an advert sent so stays on the Spam page."""
    raw = (
        b"From: Deals <deals@promo.example>\r\nTo: support@example.com\r\n"
        b"Subject: 70% off today only\r\nMessage-ID: <ad-1@promo.example>\r\n"
        b"Auto-Submitted: auto-generated\r\nContent-Type: text/plain\r\n\r\n"
        b"Click https://promo.example/buy now\r\n"
    )
    result = _process(app, session, raw, SpamVerdict(SUSPECTED, 8.0, BUILTIN))
    assert (result.outcome, result.held_as_spam) == (pipeline.SPAM_HELD, True)
