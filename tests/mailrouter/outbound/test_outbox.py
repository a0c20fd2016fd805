"""The outbox: stored before sent, threaded, from the department, delivered exactly once."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

import flask
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from mailrouter.intake.conversations import match_by_message_ids
from mailrouter.outbound import views as outbox_views
from mailrouter.outbound.cli import COMMANDS
from mailrouter.outbound.sender import OutboxSender, services
from mailrouter.tokens import make_message_id, verify_message_id
from support.core.db import utcnow
from support.desk.models import AuditEvent, Customer, Department, Message, OutboundMail, Ticket
from support.desk.outbox import enqueue_mail, retry_mail
from tests.factories import make_customer, make_ticket, make_user
from tests.mailrouter.smtp_sink import UNKNOWN_RECIPIENT, Sink

SECRET = b"test-secret-key-not-for-production"


class Clock:
    """Real time plus an offset the test moves forward (retry delays, lease expiry)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self):
        return utcnow() + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@pytest.fixture
def sink():
    server = Sink().start()
    yield server
    server.stop()


@pytest.fixture
def app_settings(sink: Sink) -> dict:
    return sink.settings()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sender(app, clock):
    return OutboxSender.for_app(app, clock=clock)


def reload(session, model, ident):
    """Read a fresh copy and end the read: on SQLite every transaction holds the write lock."""
    session.expire_all()
    found = session.get(model, ident)
    session.commit()
    return found


def customer_ticket(session, **fields) -> Ticket:
    ticket = make_ticket(session, **fields)
    first = ticket.messages[0]
    first.message_id = "original-1@mail.example.org"
    first.references = ["root@mail.example.org"]
    session.flush()
    return ticket


def queue(session, app, ticket, **options) -> OutboundMail:
    options.setdefault("kind", "reply")
    options.setdefault("to", [f"{ticket.customer.name} <{ticket.customer.email}>"])
    return enqueue_mail(
        session,
        ticket=ticket,
        subject="Re: Kettle broken",
        text="We are sending you a new kettle today.\n",
        in_reply_to="<original-1@mail.example.org>",
        references=["<root@mail.example.org>"],
        config=app.config,
        **options,
    )


def test_mail_is_threaded_and_comes_from_the_department(app, session, sink, sender):
    ticket = customer_ticket(session)
    queued = queue(session, app, ticket)
    session.commit()

    report = sender.run_once()

    assert report.sent == 1
    [delivery] = sink.delivered
    message = delivery.message
    assert delivery.rcpt_tos == [ticket.customer.email]
    assert delivery.mail_from == "service@example.com"
    assert message["From"].addresses[0].addr_spec == "service@example.com"
    assert message["From"].addresses[0].display_name == "Customer Service"
    assert verify_message_id(message["Message-ID"], SECRET) == ticket.reference
    assert message["Subject"] == f"Re: [#{ticket.reference}] Kettle broken"
    assert message["In-Reply-To"] == "<original-1@mail.example.org>"
    assert message["References"].split() == [
        "<root@mail.example.org>",
        "<original-1@mail.example.org>",
    ]
    assert message["Auto-Submitted"] is None
    session.expire_all()
    stored = session.get(OutboundMail, queued.id)
    assert stored.state == "sent" and stored.sent_at is not None and stored.attempts == 1
    entry = session.scalar(select(Message).where(Message.outbound_mail_id == queued.id))
    assert entry.direction == "out"
    assert entry.ticket_id == ticket.id
    assert f"<{entry.message_id}>" == message["Message-ID"]


def test_a_department_at_another_domain_sends_message_ids_of_its_own_domain(
    app, session, sink, sender
):
    """An admin adds warranty@lumen.cn beside the @example.com departments: its mail's
    Message-ID is @lumen.cn (not @example.com), and a reply quoting it, or an older ID of the
    ticket at the old domain, still finds the ticket."""
    warranty = Department(
        code="warranty",
        name="Warranty",
        email_address="warranty@Lumen.CN",
        display_name="Lumen Warranty",
    )
    session.add(warranty)
    ticket = customer_ticket(session)
    ticket.department = warranty
    session.flush()
    queue(session, app, ticket)
    session.commit()

    sender.run_once()

    message = sink.delivered[0].message
    assert message["From"].addresses[0].addr_spec == "warranty@Lumen.CN"
    message_id = message["Message-ID"]
    assert message_id.endswith("@lumen.cn>")
    assert verify_message_id(message_id, SECRET) == ticket.reference
    older = make_message_id(ticket.reference, domain="example.com", key=SECRET)
    for quoted in (message_id, older):
        found = match_by_message_ids(session, [quoted], key=SECRET)
        assert found is not None and found.ticket.id == ticket.id
        assert found.via == "signed-message-id"


def test_auto_reply_is_marked_automatic(app, session, sink, sender):
    ticket = customer_ticket(session)
    queued = queue(session, app, ticket, kind="auto_reply", automatic=True)
    session.commit()

    sender.run_once()

    message = sink.delivered[0].message
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Auto-Response-Suppress"] == "All"
    entry = session.scalar(select(Message).where(Message.outbound_mail_id == queued.id))
    assert entry.direction == "auto" and entry.is_automatic


def test_staff_reply_shows_the_alias_never_the_personal_address(app, session, sink, sender):
    agent = make_user(session, name="Zhang Wei", email="zhang.wei@example.com")
    agent.display_alias = "Lily"
    ticket = customer_ticket(session)
    queue(session, app, ticket, author=agent)
    session.commit()

    sender.run_once()

    delivery = sink.delivered[0]
    assert b"zhang.wei" not in delivery.data.lower()
    assert b"Zhang Wei" not in delivery.data
    sender_address = delivery.message["From"].addresses[0]
    assert sender_address.display_name == "Lily (Customer Service)"
    assert sender_address.addr_spec == "service@example.com"


def test_ticket_without_department_is_answered_from_the_general_address(app, session, sink, sender):
    ticket = customer_ticket(session, department_code=None)
    queue(session, app, ticket)
    session.commit()

    sender.run_once()

    sender_address = sink.delivered[0].message["From"].addresses[0]
    assert sender_address.addr_spec == "support@example.com"
    assert sender_address.display_name == app.config["COMPANY_NAME"]


def test_nothing_is_sent_when_the_callers_transaction_rolls_back(app, session, sink, sender):
    ticket = customer_ticket(session)
    session.commit()
    queue(session, app, ticket)
    session.rollback()

    assert sender.run_once().handled == 0
    assert sink.delivered == []


def test_without_a_relay_mail_is_written_to_the_outbox_folder(app, session, db, tmp_path):
    ticket = customer_ticket(session)
    queued = queue(session, app, ticket)
    session.commit()
    folder = tmp_path / "outbox"
    local = OutboxSender(db, {**app.config, "OUTBOUND_SMTP_HOST": ""}, outbox_dir=folder)

    assert local.run_once().sent == 1
    assert local.run_once().handled == 0

    [written] = list(folder.glob("*.eml"))
    session.expire_all()
    stored = session.get(OutboundMail, queued.id)
    assert written.read_bytes() == stored.raw
    assert stored.state == "sent"
    assert not list(folder.glob(".*.tmp"))


def test_each_mail_is_one_line_in_the_log(app, session, db, sink, sender, tmp_path, caplog):
    # One INFO line a mail: where it went (the file, for a demo without a relay), not twice.
    ticket = customer_ticket(session)
    queue(session, app, ticket)
    queue(session, app, ticket)
    session.commit()
    folder = tmp_path / "outbox"
    local = OutboxSender(db, {**app.config, "OUTBOUND_SMTP_HOST": ""}, outbox_dir=folder)

    with caplog.at_level("INFO", logger="mailrouter.outbound.sender"):
        assert local.run_once(limit=1).sent == 1
        assert sender.run_once(limit=1).sent == 1

    lines = [
        r.getMessage()
        for r in caplog.records
        if r.name == "mailrouter.outbound.sender" and r.levelname == "INFO"
    ]
    [written, relayed] = lines
    assert "written to" in written and str(folder) in written
    assert relayed.endswith(" sent")
    # Which mail is which: a new user watching ./start.sh looked for the auto-reply among
    # "outbound mail 17 written to ...", "outbound mail 18 written to ..." by opening each.
    assert "(reply)" in written and "(reply)" in relayed


def test_temporary_refusal_then_acceptance_delivers_exactly_once(app, session, sink, sender, clock):
    sink.handler.data_replies = ["451 4.3.0 try again later"]
    ticket = customer_ticket(session)
    queued = queue(session, app, ticket)
    session.commit()

    before = clock()
    first = sender.run_once()
    after = clock()
    assert (first.sent, first.retrying) == (0, 1)
    row = reload(session, OutboundMail, queued.id)
    assert row.state == "pending" and "451" in row.last_error
    # One minute after the refusal (measured against the time the sender read, however long
    # the run took on a loaded machine).
    assert before + timedelta(minutes=1) <= row.next_attempt_at <= after + timedelta(minutes=1)

    session.commit()
    assert sender.run_once().handled == 0  # not due yet
    clock.advance(minutes=2)
    assert sender.run_once().sent == 1
    clock.advance(hours=2)
    assert sender.run_once().handled == 0

    assert len(sink.delivered) == 1
    assert reload(session, OutboundMail, queued.id).state == "sent"


def test_permanent_refusal_marks_the_mail_failed_with_the_reason(app, session, sink, sender):
    sink.handler.data_replies = ["554 5.7.1 message refused as spam"]
    ticket = customer_ticket(session)
    queued = queue(session, app, ticket)
    session.commit()

    report = sender.run_once()

    assert report.failed == 1 and sink.delivered == []
    session.expire_all()
    row = session.get(OutboundMail, queued.id)
    assert row.state == "failed"
    assert "554 5.7.1 message refused as spam" in row.last_error
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "mail_failed"))
    assert event.ticket_id == ticket.id
    assert "refused as spam" in event.data["reason"]
    assert session.get(Customer, ticket.customer_id).address_failing_at is None


def test_refused_recipient_flags_the_customers_address(app, session, sink, sender):
    customer = make_customer(session, email=UNKNOWN_RECIPIENT)
    ticket = customer_ticket(session, customer=customer)
    queue(session, app, ticket)
    session.commit()

    assert sender.run_once().failed == 1

    session.expire_all()
    customer = session.get(Customer, customer.id)
    assert customer.address_failing_at is not None
    assert "550" in customer.address_failing_reason


def test_gives_up_after_the_configured_attempts(app, session, sink, db, clock):
    sink.handler.data_replies = ["421 4.7.0 busy", "421 4.7.0 busy", "421 4.7.0 busy"]
    ticket = customer_ticket(session)
    queued = queue(session, app, ticket)
    session.commit()
    sender = OutboxSender(
        db, {**app.config, "OUTBOUND_MAX_ATTEMPTS": 2}, outbox_dir=app.instance_path, clock=clock
    )

    assert sender.run_once().retrying == 1
    clock.advance(minutes=5)
    assert sender.run_once().failed == 1

    session.expire_all()
    row = session.get(OutboundMail, queued.id)
    assert row.state == "failed" and row.last_error.startswith("gave up after 2 attempts")
    assert sink.delivered == []


def test_crash_between_commit_and_send_delivers_once_after_restart(app, session, sink, db, clock):
    ticket = customer_ticket(session)
    queue(session, app, ticket)
    session.commit()
    crashed = OutboxSender.for_app(app, clock=clock)
    assert crashed.claim_next() is not None  # claimed, then the process died before sending

    restarted = OutboxSender.for_app(app, clock=clock)
    assert restarted.run_once().handled == 0  # the dead sender's lease still holds
    clock.advance(seconds=restarted.lease.total_seconds() + 1)
    assert restarted.run_once().sent == 1
    clock.advance(hours=1)
    assert restarted.run_once().handled == 0

    assert len(sink.delivered) == 1


def test_crash_after_the_relay_accepted_is_the_one_duplicate_window(app, session, sink, clock):
    """Documented limit: SMTP cannot tell us a message was already taken, so a sender that
    dies between the relay's 250 and recording "sent" causes one more delivery after the
    lease expires. It carries the same Message-ID, so mail programs show it once."""
    ticket = customer_ticket(session)
    queue(session, app, ticket)
    session.commit()
    crashed = OutboxSender.for_app(app, clock=clock)
    claimed = crashed.claim_next()
    crashed.deliver(claimed)  # relay said 250, then the process died

    restarted = OutboxSender.for_app(app, clock=clock)
    clock.advance(seconds=restarted.lease.total_seconds() + 1)
    assert restarted.run_once().sent == 1

    assert len(sink.delivered) == 2
    assert len({d.message["Message-ID"] for d in sink.delivered}) == 1


def test_crash_after_acceptance_resends_after_a_short_lease_and_says_so(
    app, session, sink, clock, monkeypatch, caplog
):
    """A sender stopped between the relay's 250 and "sent": the mail goes again after a lease
    of about a minute and a half (not the intake worker's 5 minutes), with the same Message-ID,
    and the resend is logged, audited and counted on the row."""
    ticket = customer_ticket(session)
    queued = queue(session, app, ticket)
    session.commit()
    crashed = OutboxSender.for_app(app, clock=clock)

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt("sender stopped after the relay accepted")

    monkeypatch.setattr(crashed, "mark_sent", stopped)
    with pytest.raises(KeyboardInterrupt):
        crashed.run_once()
    assert len(sink.delivered) == 1  # the relay has it; the row still says "sending"
    assert reload(session, OutboundMail, queued.id).state == "sending"

    restarted = OutboxSender.for_app(app, clock=clock)
    assert restarted.lease <= timedelta(minutes=2)
    clock.advance(seconds=30)
    assert restarted.run_once().handled == 0  # the stopped sender's lease still holds
    caplog.clear()
    clock.advance(minutes=1, seconds=30)
    with caplog.at_level("WARNING", logger="mailrouter.outbound.sender"):
        assert restarted.run_once().sent == 1

    assert len(sink.delivered) == 2
    assert len({d.message["Message-ID"] for d in sink.delivered}) == 1
    assert any(
        "may get it twice" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records
    )
    row = reload(session, OutboundMail, queued.id)
    assert row.state == "sent" and row.relay_handoffs == 2 and row.attempts == 2
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "mail_resent"))
    assert event.ticket_id == ticket.id and event.subject_id == queued.id
    assert f"<{event.data['message_id']}>" == sink.delivered[0].message["Message-ID"]


def test_reclaim_after_a_crash_before_the_handoff_warns_of_no_duplicate(
    app, session, sink, clock, caplog
):
    ticket = customer_ticket(session)
    queued = queue(session, app, ticket)
    session.commit()
    assert OutboxSender.for_app(app, clock=clock).claim_next() is not None  # then it died

    restarted = OutboxSender.for_app(app, clock=clock)
    clock.advance(seconds=restarted.lease.total_seconds() + 1)
    with caplog.at_level("WARNING", logger="mailrouter.outbound.sender"):
        assert restarted.run_once().sent == 1

    assert not any("may get it twice" in r.getMessage() for r in caplog.records)
    assert reload(session, OutboundMail, queued.id).relay_handoffs == 1
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "mail_resent")) is None


def test_outbox_folder_has_no_duplicate_window(app, session, db, clock, tmp_path):
    ticket = customer_ticket(session)
    queue(session, app, ticket)
    session.commit()
    config = {**app.config, "OUTBOUND_SMTP_HOST": ""}
    crashed = OutboxSender(db, config, outbox_dir=tmp_path, clock=clock)
    crashed.deliver(crashed.claim_next())  # file written, then the process died

    restarted = OutboxSender(db, config, outbox_dir=tmp_path, clock=clock)
    clock.advance(seconds=restarted.lease.total_seconds() + 1)
    assert restarted.run_once().sent == 1

    assert len(list(tmp_path.glob("*.eml"))) == 1


def test_concurrent_senders_deliver_every_mail_once(app, session, sink):
    customer = make_customer(session)
    for _ in range(12):
        queue(session, app, customer_ticket_for(session, customer))
    session.commit()
    senders = [OutboxSender.for_app(app) for _ in range(3)]
    errors: list[BaseException] = []

    def work(sender: OutboxSender) -> None:
        try:
            sender.run_once()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    ids = [d.message["Message-ID"] for d in sink.delivered]
    assert len(ids) == 12 and len(set(ids)) == 12
    states = session.scalars(select(OutboundMail.state).execution_options(populate_existing=True))
    assert set(states) == {"sent"}


def customer_ticket_for(session, customer) -> Ticket:
    ticket = make_ticket(session, customer=customer)
    ticket.messages[0].message_id = f"m{ticket.id}@mail.example.org"
    session.flush()
    return ticket


def test_failed_mail_can_be_retried(app, session, sink, sender):
    sink.handler.data_replies = ["550 5.7.1 relaying denied"]
    ticket = customer_ticket(session)
    queued = queue(session, app, ticket)
    session.commit()
    assert sender.run_once().failed == 1

    retry_mail(session, reload(session, OutboundMail, queued.id))
    session.commit()
    assert sender.run_once().sent == 1

    assert len(sink.delivered) == 1
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "mail_retry"))


def test_service_sends_in_the_background(app, session, sink):
    ticket = customer_ticket(session)
    queue(session, app, ticket)
    session.commit()
    [service] = services(app)
    assert service.name == "outbox"

    service.start()
    try:
        deadline = time.monotonic() + 60
        while not sink.delivered and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        service.stop()

    assert len(sink.delivered) == 1


# --- command line ------------------------------------------------------------------------------


def run_cli(app, *args: str):
    [group] = COMMANDS
    return CliRunner().invoke(group, list(args), obj=app, catch_exceptions=False)


def test_cli_lists_retries_and_sends(app, session, sink):
    sink.handler.data_replies = ["554 5.6.0 content rejected"]
    ticket = customer_ticket(session)
    queued = queue(session, app, ticket)
    session.commit()

    assert "failed 1" in run_cli(app, "send").output
    listing = run_cli(app, "list", "--state", "failed").output
    assert f"{queued.id}" in listing and "554 5.6.0 content rejected" in listing
    assert "queued again" in run_cli(app, "retry", str(queued.id)).output
    assert "sent 1" in run_cli(app, "send").output
    assert run_cli(app, "retry", "999999").exit_code != 0

    assert len(sink.delivered) == 1


# --- staff pages -------------------------------------------------------------------------------


@pytest.fixture
def staff_client(app):
    if "outbox_views" not in app.blueprints:
        outbox_views.init_app(app)
    return app.test_client()


def sign_in(app, client, user) -> None:
    """Sign in through the staff package's own session handling."""
    from support.auth import sign_in as staff_sign_in

    with app.test_request_context():
        staff_sign_in(user)
        data = dict(flask.session)
    with client.session_transaction() as browser_session:
        browser_session.update(data)


def test_sent_mail_page_shows_failures_with_reason_and_retry(
    app, session, sink, sender, staff_client
):
    sink.handler.data_replies = ["554 5.7.1 message refused as spam"]
    agent = make_user(session, departments=("service",))
    ticket = customer_ticket(session)
    queued = queue(session, app, ticket)
    session.commit()
    sender.run_once()
    sign_in(app, staff_client, agent)

    listing = staff_client.get("/staff/mail?state=failed")
    assert listing.status_code == 200
    page = listing.get_data(as_text=True)
    assert f"[#{ticket.reference}] Kettle broken" in page
    assert "message refused as spam" in page
    zone = app.config["COMPANY_TIMEZONE"]
    local = queued.created_at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
    # Local time, the zone named as customers' mail names it (Chinese brackets).
    assert zone == "Asia/Shanghai" and "（北京时间）" in page and local in page
    assert ">回复</td>" in page and ">reply</td>" not in page  # the kind in words, not a code

    detail = staff_client.get(f"/staff/mail/{queued.id}").get_data(as_text=True)
    assert "We are sending you a new kettle today." in detail
    assert f"/staff/mail/{queued.id}/retry" in detail

    response = staff_client.post(f"/staff/mail/{queued.id}/retry")
    assert response.status_code == 302
    assert sender.run_once().sent == 1
    assert len(sink.delivered) == 1


def test_without_a_relay_the_page_says_written_to_a_file_not_sent(
    app, session, db, staff_client, tmp_path, monkeypatch
):
    # A fresh install has no relay: the demo's auto-replies were listed as "Sent", and a new
    # admin trying the desk took it that the customer had them.
    agent = make_user(session, departments=("service",))
    ticket = customer_ticket(session)
    queued = queue(session, app, ticket)
    session.commit()
    monkeypatch.setitem(app.config, "OUTBOUND_SMTP_HOST", "")
    local = OutboxSender(db, app.config, outbox_dir=tmp_path / "outbox")
    assert local.run_once().sent == 1
    sign_in(app, staff_client, agent)

    listing = staff_client.get("/staff/mail", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert ">Written to a file, not sent</span>" in listing
    assert ">Sent</span>" not in listing
    detail = staff_client.get(
        f"/staff/mail/{queued.id}", headers={"Accept-Language": "en"}
    ).get_data(as_text=True)
    assert ">Written to a file, not sent</span>" in detail and "Written at" in detail
    assert "Sent at" not in detail
    zh = staff_client.get("/staff/mail", headers={"Accept-Language": "zh-CN"}).get_data(
        as_text=True
    )
    assert ">已写入文件，未发出</span>" in zh


def test_mail_the_relay_took_is_sent(app, session, sink, sender, staff_client) -> None:
    agent = make_user(session, departments=("service",))
    ticket = customer_ticket(session)
    queued = queue(session, app, ticket)
    session.commit()
    assert sender.run_once().sent == 1
    sign_in(app, staff_client, agent)
    headers = {"Accept-Language": "en"}
    listing = staff_client.get("/staff/mail", headers=headers).get_data(as_text=True)
    assert ">Sent</span>" in listing and "Written to a file" not in listing
    detail = staff_client.get(f"/staff/mail/{queued.id}", headers=headers).get_data(as_text=True)
    assert "Sent at" in detail and "Written to a file" not in detail


def test_staff_only_see_mail_of_their_departments(app, session, sink, staff_client):
    sales_agent = make_user(session, departments=("sales",))
    ticket = customer_ticket(session)  # a Customer Service ticket
    queued = queue(session, app, ticket)
    session.commit()
    sign_in(app, staff_client, sales_agent)

    assert staff_client.get(f"/staff/mail/{queued.id}").status_code == 404
    assert ticket.reference not in staff_client.get("/staff/mail").get_data(as_text=True)
    assert staff_client.post(f"/staff/mail/{queued.id}/retry").status_code == 404


def test_a_digest_stays_with_its_readers_when_its_ticket_moves(app, session, sink, staff_client):
    """A digest is filed on the newest of the tickets it lists; when that ticket moves to
    another department, its new readers must not read the other tickets' subjects in it."""
    from support.desk.models import Department

    lead = make_user(session, departments=("service",), role="lead", email="lead@example.com")
    hr_agent = make_user(session, departments=("hr",), email="hr.agent@example.com")
    ticket = customer_ticket(session)
    digest = enqueue_mail(
        session,
        ticket=ticket,
        kind="notification_digest",
        to=[lead.email],
        subject="3 more new tickets from flood@example.net",
        text="SUP-77777 · Other ticket: salary of our CEO\n",
        automatic=True,
        config=app.config,
    )
    ticket.department = session.scalar(select(Department).where(Department.code == "hr"))
    session.commit()

    sign_in(app, staff_client, hr_agent)
    page = staff_client.get(f"/staff/tickets/{ticket.id}")
    assert page.status_code == 200  # the ticket is HR's now...
    assert "salary of our CEO" not in page.get_data(as_text=True)  # ...the digest is not
    assert staff_client.get(f"/staff/mail/{digest.id}").status_code == 404
    assert "salary of our CEO" not in staff_client.get("/staff/mail").get_data(as_text=True)

    sign_in(app, staff_client, lead)  # its recipient still reads it
    assert "salary of our CEO" in staff_client.get(f"/staff/mail/{digest.id}").get_data(
        as_text=True
    )


INTERNATIONAL = "王芳@例子.cn"


def test_non_ascii_address_without_smtputf8_fails_the_row_clearly(app, session, sink, sender):
    # Finding 7: composing refused the address with a ValueError; now the mail is queued and,
    # as this relay offers no SMTPUTF8, the row fails with a reason staff can read.
    ticket = customer_ticket(session, customer=make_customer(session, email=INTERNATIONAL))
    queued = queue(session, app, ticket)
    session.commit()

    report = sender.run_once()

    assert report.failed == 1 and sink.delivered == []
    row = reload(session, OutboundMail, queued.id)
    assert row.state == "failed" and "no SMTPUTF8" in row.last_error
    assert row.recipients == [INTERNATIONAL]


def test_non_ascii_address_is_delivered_with_smtputf8(app, session, clock):
    utf8_sink = Sink(smtputf8=True).start()
    try:
        app.config.update(utf8_sink.settings())
        ticket = customer_ticket(session, customer=make_customer(session, email=INTERNATIONAL))
        queue(session, app, ticket)
        session.commit()

        report = OutboxSender.for_app(app, clock=clock).run_once()

        assert report.sent == 1
        [delivery] = utf8_sink.delivered
        # The mailbox in UTF-8, its domain as IDNA, as the mail's To header names it.
        assert delivery.rcpt_tos == ["王芳@xn--fsqu00a.cn"]
    finally:
        utf8_sink.stop()


def test_the_service_sends_all_that_is_due_and_stops_between_two_mails(
    app, session, sink, monkeypatch
):
    """No per-pass cap in `support run` (the cap is for `support outbox send`), but a stop is
    honoured between two mails."""
    monkeypatch.setattr(OutboxSender.run_once, "__defaults__", (2,))  # the CLI's cap, made small
    ticket = customer_ticket(session)
    for _ in range(3):
        queue(session, app, ticket)
    session.commit()
    assert OutboxSender.for_app(app).run_once().sent == 2  # capped
    queue(session, app, ticket)
    queue(session, app, ticket)
    session.commit()

    [task] = services(app)
    task.run_if_ours()
    assert len(sink.delivered) == 5

    queue(session, app, ticket)
    session.commit()
    task.stop()  # never started: stop() only sets the flag
    task.run_if_ours()
    assert len(sink.delivered) == 5
