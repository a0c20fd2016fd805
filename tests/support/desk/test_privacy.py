"""Customers' data: an export holds everything about one customer and nothing about another;
an erasure leaves their address, name and texts in no table and no file; retention respects
tiers, is idempotent and bounded, and its dry run changes nothing.

Mail arrives over real SMTP (the intake on loopback) and through the contact form, goes through
the worker, and our mail is written to instance/outbox/ by the real outbox sender."""

from __future__ import annotations

import json
import smtplib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import JSON, LargeBinary, String, Text, select, update

from mailrouter.intake import queue
from mailrouter.intake.smtp import SmtpIntakeService
from mailrouter.models import InboundMail, SpamExample
from mailrouter.outbound.sender import OutboxSender
from support.core.db import Database, utcnow
from support.desk import actions, privacy, retention, satisfaction
from support.desk.models import AuditEvent, ConsentRecord, Customer, Message, Ticket
from support.migrate import target_metadata
from tests.factories import make_customer, make_ticket, make_user
from tests.faq.conftest import BROWSER_UA
from tests.mailrouter.conftest import make_mail, process_all, run_cli

ALICE = "zhang.weiqiang@example.net"
ALICE_NAME = "Zhang Weiqiang"
ALICE_SECRET = "passport E12345678"
ALICE_FILE = "weiqiang-receipt-77.pdf"
BOB = "qian.bolin@example.org"
BOB_NAME = "Qian Bolin"
BOB_SECRET = "12 Secret Street"


@pytest.fixture
def app_settings() -> dict:
    return {"WORKER_POLL_SECONDS": 0.05}


def _alice(session) -> Customer:
    customer = privacy.find_customer(session, ALICE)
    assert customer is not None
    return customer


@pytest.fixture
def world(app: Flask, session, intake: SmtpIntakeService, client) -> dict[str, Any]:
    """Alice and Bob write in by SMTP, Alice also through the contact form; staff answer Alice,
    she rates the answer; our mail lands in instance/outbox; Bob's ticket was merged into
    Alice's (as older data may hold: the action refuses it now)."""
    agent = make_user(session, role="agent", departments=("service",))
    session.commit()
    with smtplib.SMTP(intake.host, intake.port, timeout=60) as smtp:
        smtp.sendmail(
            ALICE,
            ["service@example.com"],
            make_mail(
                sender=f"{ALICE_NAME} <{ALICE}>",
                to="service@example.com",
                subject="Refund for order LH-77",
                body=f"Hello, my {ALICE_SECRET} is on the receipt.\nRegards, {ALICE_NAME}\n",
                attachment=(ALICE_FILE, "application/pdf", b"%PDF-1.4 receipt 77"),
            ),
        )
        smtp.sendmail(
            BOB,
            ["service@example.com"],
            make_mail(
                sender=f"{BOB_NAME} <{BOB}>",
                to="service@example.com",
                subject="Kettle broken",
                body=f"The kettle leaks. I live at {BOB_SECRET}.\n{BOB_NAME}\n",
            ),
        )
    response = client.post(
        "/contact?lang=en",
        data={
            "name": ALICE_NAME,
            "email": ALICE,
            "subject": "Second question about LH-77",
            "question": f"Where is my refund? My {ALICE_SECRET} is valid.",
            "department": "service",
            "consent": "y",
            "action": "send",
        },
        headers={"User-Agent": BROWSER_UA},
    )
    assert response.status_code == 302
    assert process_all(app) == 3

    alice = _alice(session)
    first = session.scalar(select(Ticket).where(Ticket.customer_id == alice.id).order_by(Ticket.id))
    assert first is not None
    actions.reply(
        session,
        first,
        agent,
        f"Dear {ALICE_NAME}, your refund is on its way.",
        config=app.config,
        then="resolved",
    )
    satisfaction.record_rating(session, first, 2, f"Too slow. {ALICE_NAME}")
    bob = privacy.find_customer(session, BOB)
    assert bob is not None
    bobs = session.scalar(select(Ticket).where(Ticket.customer_id == bob.id))
    assert bobs is not None
    session.execute(update(Message).where(Message.ticket_id == bobs.id).values(ticket_id=first.id))
    bobs.merged_into_id, bobs.status = first.id, "closed"
    session.commit()
    OutboxSender.for_app(app).run_once()
    return {"alice": alice.id, "bob": bob.id, "first": first.id, "bobs": bobs.id}


def _export(app: Flask, tmp_path: Path, email: str, *extra: str) -> tuple[dict, str]:
    target = tmp_path / f"{email}.json"
    run_cli(app, "customer", "export", email, "--output", str(target), *extra)
    text = target.read_text(encoding="utf-8")
    return json.loads(text), text.lower()


def test_export_holds_everything_about_one_customer_and_nothing_about_another(
    app, session, world, tmp_path
) -> None:
    data, text = _export(app, tmp_path, ALICE)
    # The file holds the customer's mail: its owner's alone (it was 644, readable by anyone
    # on the host, where `faq export` writes 600).
    assert (tmp_path / f"{ALICE}.json").stat().st_mode & 0o077 == 0
    assert data["customer"]["email"] == ALICE and data["customer"]["name"] == ALICE_NAME
    assert len(data["tickets"]) == 2
    assert {t["subject"] for t in data["tickets"]} >= {"Refund for order LH-77"}
    texts = "\n".join(m["text"] for m in data["messages"])
    assert ALICE_SECRET in texts and "your refund is on its way" in texts
    [attachment] = [a for m in data["messages"] for a in m["attachments"]]
    assert attachment["filename"] == ALICE_FILE and attachment["size"] == 19
    assert len(attachment["sha256"]) == 64
    [rated] = [t for t in data["tickets"] if t["rating"]]
    assert rated["rating"]["rating"] == 2 and ALICE_NAME in rated["rating"]["comment"]
    [consent] = data["consents"]
    assert consent["channel"] == "web" and consent["language"] == "en"
    assert consent["text"].startswith("I agree that Lumen Home stores")
    assert consent["version"] == privacy.consent_version(consent["text"])
    assert {m["channel"] for m in data["inbound_mail"]} == {"smtp", "web"}
    assert all("raw_base64" not in m for m in data["inbound_mail"])
    assert any(e["action"] == "ticket.rated" for e in data["audit_events"])
    assert {o["kind"] for o in data["outbound_mail"]} >= {"auto_reply", "reply"}
    # Nothing of Bob, though his messages now sit on Alice's ticket.
    for other in (BOB, BOB_NAME, BOB_SECRET, "kettle leaks"):
        assert other.lower() not in text, other

    bob, bob_text = _export(app, tmp_path, BOB)
    assert BOB_SECRET in "\n".join(m["text"] for m in bob["messages"])
    assert [m["ticket"] for m in bob["messages"] if m["direction"] == "in"] == [None]
    for other in (ALICE, ALICE_NAME, ALICE_SECRET, "lh-77", ALICE_FILE):
        assert other.lower() not in bob_text, other
    assert bob["consents"] == []

    raw, _ = _export(app, tmp_path, ALICE, "--raw")
    assert all(m.get("raw_base64") for m in raw["inbound_mail"])


def _hits(database: Database, instance: Path, needles: list[str]) -> list[str]:
    """Where any of `needles` occurs: every text, JSON and binary column of every table, and
    every file under the instance folder (case-insensitive)."""
    wanted = [n.lower().encode() for n in needles]
    found: list[str] = []
    with database.engine.connect() as connection:
        for table in target_metadata().sorted_tables:
            columns = [
                c for c in table.columns if isinstance(c.type, String | Text | JSON | LargeBinary)
            ]
            if not columns:
                continue
            for row in connection.execute(select(*columns)):
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    if isinstance(value, str):
                        blob = value.encode()
                    elif isinstance(value, bytes | memoryview):
                        blob = bytes(value)
                    else:
                        blob = json.dumps(value, ensure_ascii=False).encode()
                    blob = blob.lower()
                    found += [
                        f"{table.name}.{column.name}: {n.decode()}" for n in wanted if n in blob
                    ]
    for path in instance.rglob("*"):
        if path.is_file():
            blob = path.read_bytes().lower()
            found += [f"{path.relative_to(instance)}: {n.decode()}" for n in wanted if n in blob]
    return found


def test_erasure_leaves_no_personal_data_in_any_table_or_file(
    app, db, session, world, tmp_path
) -> None:
    instance = Path(app.instance_path)
    needles = [ALICE, ALICE_NAME, ALICE_SECRET, ALICE_FILE]
    # Staff once told the spam filter that Alice's mail is no spam: it learned from its bytes;
    # and the spam verdict's detail names her.
    inbound = session.scalar(
        select(InboundMail).where(InboundMail.ticket_id == world["first"]).order_by(InboundMail.id)
    )
    session.add(SpamExample(label="ham", raw=inbound.raw, inbound_mail_id=inbound.id))
    inbound.spam_detail = {"subject": f"from {ALICE_NAME}", "level": "ham"}
    session.commit()
    before = _hits(db, instance, needles)
    assert any(hit.startswith("spam_examples.raw") for hit in before)
    # The search can fail: before the erasure it finds Alice everywhere, files included.
    for place in ("customers.email", "messages.body_text", "inbound_mail.raw", "outbound_mail.raw"):
        assert any(hit.startswith(place) for hit in before), place
    assert any(hit.startswith("attachments.filename") for hit in before)
    assert any(hit.startswith("outbox/") for hit in before)
    assert any(hit.startswith("consent_records.email") for hit in before)
    tickets_before = {
        t.id: (t.department_id, t.urgency, t.status, t.created_at, t.satisfaction_rating)
        for t in session.scalars(select(Ticket))
    }
    session.commit()

    output = run_cli(app, "customer", "erase", ALICE, "--yes")
    assert f"customer {world['alice']} erased" in output

    assert _hits(db, instance, needles) == []
    session.expire_all()
    alice = session.get(Customer, world["alice"])
    assert alice.email == f"erased-{alice.id}@invalid" and alice.name == ""
    assert alice.erased_at is not None
    # Statistics stay: every ticket row, with department, urgency, status, times, rating.
    assert {
        t.id: (t.department_id, t.urgency, t.status, t.created_at, t.satisfaction_rating)
        for t in session.scalars(select(Ticket))
    } == tickets_before
    first = session.get(Ticket, world["first"])
    assert first.anonymised_at is not None and first.satisfaction_comment is None
    [consent] = session.scalars(select(ConsentRecord)).all()
    assert consent.customer_id == alice.id and consent.email is None and consent.text
    # The audit entry says who and how much, not what.
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "customer.erased"))
    assert event.subject_id == alice.id and event.data["messages"] >= 4
    assert event.data["inbound_mail"] == 2 and event.data["outbox_files"] >= 2
    session.commit()
    # Bob's data is untouched, in the database and in the outbox.
    assert _hits(db, instance, [BOB_SECRET, BOB])
    assert any(h.startswith("outbox/") for h in _hits(db, instance, [BOB]))
    # Erasing again (by the pseudonym) finds nothing more to do and does not fail.
    run_cli(app, "customer", "erase", alice.email, "--yes")
    assert _hits(db, instance, needles) == []


def test_the_offset_of_the_customer_s_clock_is_exported_and_erased(
    app, session, world, tmp_path
) -> None:
    """Intake keeps the UTC offset of the customer's Date header (the follow page's clock): it
    says where they wrote from, so their export shows it and erasure clears it."""
    session.execute(
        update(Message)
        .where(Message.ticket_id == world["first"], Message.from_address == ALICE)
        .values(date_offset_minutes=-300)
    )
    alices = session.scalars(select(Message.id).where(Message.from_address == ALICE)).all()
    session.commit()
    data, _ = _export(app, tmp_path, ALICE)
    assert {m["utc_offset_minutes"] for m in data["messages"] if m["direction"] == "in"} >= {-300}

    run_cli(app, "customer", "erase", ALICE, "--yes")
    session.expire_all()
    kept = session.scalars(select(Message.date_offset_minutes).where(Message.id.in_(alices))).all()
    assert kept and all(offset is None for offset in kept)


def test_erasure_stops_mail_still_queued_for_the_customer(app, session, world) -> None:
    from support.desk.models import OutboundMail

    first = session.get(Ticket, world["first"])
    agent = make_user(session, role="admin")
    actions.reply(session, first, agent, f"One more thing, {ALICE_NAME}.", config=app.config)
    session.commit()
    erased = privacy.erase_customer(
        session, _alice(session), privacy.parts_of(app), instance_path=app.instance_path
    )
    session.commit()
    assert erased["outbound_mail"] >= 3
    assert session.scalars(select(OutboundMail).where(OutboundMail.state == "pending")).all() == []
    last = session.scalar(select(OutboundMail).order_by(OutboundMail.id.desc()))
    assert (last.kind, last.state, last.raw, last.recipients) == ("reply", "failed", b"", [])
    session.commit()
    assert OutboxSender.for_app(app).run_once().sent == 0


# --- retention -----------------------------------------------------------------------------


def _snapshot(database: Database) -> dict[str, list[tuple]]:
    with database.engine.connect() as connection:
        return {
            table.name: sorted(
                (tuple(repr(v) for v in row) for row in connection.execute(select(table))),
            )
            for table in target_metadata().sorted_tables
        }


def _old_ticket(session, customer: Customer, *, closed_days_ago: int, status: str = "closed"):
    moment = utcnow() - timedelta(days=closed_days_ago)
    ticket = make_ticket(
        session,
        customer=customer,
        subject=f"Order of {customer.name}",
        body=f"Private text of {customer.name}",
        status=status,
        created_at=moment - timedelta(days=3),
    )
    if status == "closed":
        ticket.closed_at = moment
    ticket.updated_at = moment
    return ticket


@pytest.fixture
def aged(app, session) -> dict[str, int]:
    three_years = 3 * 365 + 10
    long_ago = utcnow() - timedelta(days=4 * 365)
    standard = make_customer(session, name="Old Standard", created_at=long_ago)
    key = make_customer(session, name="Old Key", tier="key", created_at=long_ago)
    recent = make_customer(session, name="Recent Standard", created_at=long_ago)
    still_open = make_customer(session, name="Open Standard", created_at=long_ago)
    old = _old_ticket(session, standard, closed_days_ago=three_years)
    key_ticket = _old_ticket(session, key, closed_days_ago=three_years)
    recent_ticket = _old_ticket(session, recent, closed_days_ago=365)
    open_ticket = _old_ticket(session, still_open, closed_days_ago=three_years, status="open")
    mails = {}
    for label, days, state in (("old", 100, "processed"), ("held", 100, "quarantined"),
                               ("new", 10, "processed")):  # fmt: skip
        row = queue.store_inbound(
            session, channel="smtp", raw=f"Subject: {label}\r\n\r\nbody\r\n".encode()
        )
        row.state, row.received_at = state, utcnow() - timedelta(days=days)
        row.ticket_id = recent_ticket.id
        mails[label] = row
    session.commit()
    return {
        "standard": standard.id,
        "key": key.id,
        "old": old.id,
        "key_ticket": key_ticket.id,
        "recent_ticket": recent_ticket.id,
        "open_ticket": open_ticket.id,
        **{f"mail_{label}": row.id for label, row in mails.items()},
    }


def test_dry_run_counts_per_tier_and_kind_and_changes_nothing(app, db, aged) -> None:
    before = _snapshot(db)
    output = run_cli(app, "purge", "--dry-run")
    assert "tickets (standard): 1" in output
    assert "customers (standard): 1" in output
    assert "raw_mail (all): 1" in output
    assert "(key)" not in output
    assert _snapshot(db) == before


def test_purge_respects_tiers_and_is_idempotent(app, db, session, aged) -> None:
    output = run_cli(app, "purge")
    assert "tickets (standard): 1" in output and "raw_mail (all): 1" in output
    session.expire_all()
    old = session.get(Ticket, aged["old"])
    assert old.anonymised_at is not None and old.subject == ""
    assert [m.body_text for m in old.messages] == [""]
    assert old.status == "closed" and old.department_id is not None
    standard = session.get(Customer, aged["standard"])
    assert standard.email == f"erased-{standard.id}@invalid" and standard.name == ""
    # Key accounts keep five years; a ticket closed a year ago and an open one stay.
    for kept in ("key_ticket", "recent_ticket", "open_ticket"):
        ticket = session.get(Ticket, aged[kept])
        assert ticket.anonymised_at is None and ticket.subject.startswith("Order of")
        assert ticket.messages[0].body_text.startswith("Private text of")
    assert session.get(Customer, aged["key"]).name == "Old Key"
    # Raw bytes: only processed mail past 90 days goes; quarantined mail keeps them for replay.
    assert session.get(InboundMail, aged["mail_old"]).raw == b""
    assert session.get(InboundMail, aged["mail_old"]).raw_dropped_at is not None
    assert session.get(InboundMail, aged["mail_held"]).raw.startswith(b"Subject: held")
    assert session.get(InboundMail, aged["mail_new"]).raw.startswith(b"Subject: new")
    session.commit()

    after_first = _snapshot(db)
    again = run_cli(app, "purge")
    assert "nothing past its retention limit" in again
    assert _snapshot(db) == after_first


def test_purge_is_bounded_per_run(app, session, monkeypatch) -> None:
    long_ago = utcnow() - timedelta(days=4 * 365)
    for n in range(3):
        customer = make_customer(session, name=f"Batch {n}", created_at=long_ago)
        _old_ticket(session, customer, closed_days_ago=3 * 365 + 10)
    session.commit()
    monkeypatch.setattr(retention, "TICKET_BATCH", 1)
    monkeypatch.setattr(retention, "CUSTOMER_BATCH", 1)
    monkeypatch.setattr(retention, "MAX_BATCHES_PER_RUN", 2)
    runs = [retention.purge(app) for _ in range(3)]
    assert [r.total("tickets") for r in runs] == [2, 1, 0]
    assert sum(r.total("customers") for r in runs) == 3
    assert retention.purge(app).total() == 0


def test_purge_in_support_run_follows_its_setting(app) -> None:
    [task] = retention.services(app)
    assert task.name == "retention-purge" and task.interval == 24 * 3600
    app.config["RETENTION_PURGE_HOURS"] = 0
    assert retention.services(app) == []


def test_erasure_of_a_chinese_name_asked_through_the_form(app, db, session, client) -> None:
    name, address = "张伟强", "wq.zhang@example.cn"
    make_user(session, role="agent", departments=("service",))
    session.commit()
    response = client.post(
        "/contact?lang=zh",
        data={
            "name": name,
            "email": address,
            "subject": f"{name}的退款",
            "question": f"我是{name}，我的退款还没到账。",
            "department": "service",
            "consent": "y",
            "action": "send",
        },
        headers={"User-Agent": BROWSER_UA},
    )
    assert response.status_code == 302
    assert process_all(app) == 1
    OutboxSender.for_app(app).run_once()
    instance = Path(app.instance_path)
    assert any(h.startswith("messages.from_name") for h in _hits(db, instance, [name]))
    assert any(h.startswith("consent_records.text") for h in _hits(db, instance, ["我同意"]))

    run_cli(app, "customer", "erase", address, "--yes")
    assert _hits(db, instance, [name, address]) == []
    assert not list((instance / "outbox").glob("*.eml"))
