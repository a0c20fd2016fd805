"""Every corpus message end to end, and what became of it, by kind of mail.

Usage: ``.venv/bin/python bench/corpora_outcomes.py [--corpora PATH] [--only GLOB] [--show N]``

``bench/corpora_check.py`` parses the shared corpora (../shared/corpora) and says which mail
counts as automatic; this script sends each message over SMTP on loopback into a fresh
instance on SQLite (set up as ``support init`` does: departments, demo FAQ, bootstrap
classifier), runs the worker and the outbox's composer, and reads the OUTCOME a support lead
would look at:

* robots (bounces, complaint reports, RFC 3834 auto-replies, list mail): no auto-reply, no
  ticket ("set aside" on the quarantine page, as the README says);
* spam: held on the Spam page, no ticket, no auto-reply;
* a person's mail: a ticket (its department), a readable body and subject (no mojibake, no
  leftover encoded words, quoted-printable or HTML tags), attachments with safe names, and an
  auto-reply in the customer's script whose headers carry nothing of the sender's but the
  address.

Each message's kind comes from the corpus (folder and file name; ham with list headers is
list mail), never from the system under test. The script prints one table row per kind and,
with ``--show``, examples of each miss. It exits non-zero when a robot got an auto-reply or a
ticket, a message was not accepted or not processed, or outgoing mail carries a broken header.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import logging
import re
import smtplib
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from faq import index_sync
from faq.importexport import import_articles
from mailrouter.intake.smtp import SmtpIntakeService
from mailrouter.intake.worker import Worker
from mailrouter.models import InboundMail
from mailrouter.parsing import NO_TEXT_MARKER
from mailrouter.routing.training import ensure_model
from support.app import create_app
from support.core.db import get_db
from support.desk.models import (
    Attachment,
    AuditEvent,
    Department,
    Message,
    OutboundMail,
    Ticket,
)
from support.desk.seed import seed_reference_data
from support.migrate import upgrade

DEFAULT_CORPORA = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpora"
#: Machine mail and odd person mail the corpora lack (Chinese out-of-office, read receipts,
#: calendar mail, GBK file names, winmail.dat...), as real clients write it: expected.json
#: gives each file's kind and what its ticket must show.
FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "mailrouter" / "fixtures" / "realmail"
GENERAL_ADDRESS = "support@example.com"
SECRET_KEY = "corpora-outcomes-secret-key-0123456789"

ROBOT_KINDS = (
    "bounce (DSN)",
    "complaint (ARF)",
    "auto-reply (RFC 3834)",
    "list mail",
    "fixture: auto-reply",
    "fixture: read receipt",
    "fixture: calendar",
    "fixture: noreply",
)
#: Kinds whose expected outcome is a ticket with an auto-reply.
PERSON_KINDS = ("person (ham)", "fixture: person")
#: Kinds accepted and readable whatever the spam filter says of them (the parser fixtures are
#: mostly commercial bulk mail).
ANY_KINDS = ("malformed", "charsets")

MOJIBAKE = re.compile(
    "\ufffd"  # bytes that did not decode
    "|[\x80-\x9f]"  # C1 controls: windows-125x bytes read as Latin-1
    "|[ÃÂ][\x80-\xbf]|â€"  # UTF-8 read as Latin-1/windows-1252
    "|锟斤拷"  # UTF-8 replacement characters read as GBK
)
ENCODED_WORD = re.compile(r"=\?[\w-]+\?[bq]\?", re.I)
#: Two escapes in a row (UTF-8 or "=3D=22"), or a soft break left inside a word.
QP_LEFTOVER = re.compile(r"(?:=[0-9A-F]{2}){2,}|\w=\n\w")
#: Markup shown as text (a tag not quoted as a word, as in mail about HTML).
HTML_TAG = re.compile(r"(?<!['\"])</?(?:html|body|div|p|br|table|td|tr|span|font)\b[^>]*>", re.I)
BASE64_BLOCK = re.compile(r"(?m)^[A-Za-z0-9+/]{60,}={0,2}$(?:\n^[A-Za-z0-9+/]{60,}={0,2}$){3,}")
CJK = re.compile(r"[\u3400-\u9fff]")
UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]|^\.|^$|\.\.")
HEADER_LINE = re.compile(rb"^(?:[!-9;-~]+:|[ \t])")


@dataclass
class Row:
    """One message: where it came from, its kind, and what the system made of it."""

    name: str
    kind: str
    smtp: str = ""
    inbound_id: int | None = None
    state: str = ""
    outcome: str = ""
    department: str = ""
    triage: bool = False
    language: str = ""
    auto_reply: bool = False
    problems: list[str] = field(default_factory=list)
    #: Why a new ticket got no auto-reply (its audit), "" when it got one.
    no_reply_reason: str = ""
    #: What the fixture's expected.json says its ticket must show (fixtures only).
    expect: dict = field(default_factory=dict)


def read_corpus_file(path: Path) -> tuple[bytes, str]:
    """The message and its envelope sender: spamassassin/ files begin with an mbox ``From ``
    line (the envelope sender); bounces come from the null sender, as MTAs send them."""
    raw = path.read_bytes()
    sender = ""
    if raw.startswith(b"From "):
        first, _, raw = raw.partition(b"\n")
        parts = first.split()
        sender = parts[1].decode("ascii", "replace") if len(parts) > 1 else ""
    elif not path.name.startswith(("lhost-", "rhost-", "rfc3464-")):
        match = re.search(rb"^Return-Path:\s*<?([^<>\s]*)>?", raw, re.I | re.M)
        sender = match.group(1).decode("ascii", "replace") if match else "someone@example.org"
    if sender == "<>" or "@" not in sender:
        sender = ""
    return raw, sender


LIST_HEADERS = re.compile(
    rb"^(?:list-id|list-unsubscribe|list-post|mailing-list|x-mailing-list|x-list|"
    rb"precedence:\s*(?:bulk|list|junk))",
    re.I | re.M,
)


def kind_of(path: Path, root: Path, raw: bytes) -> str:
    """The kind of mail from the corpus's own labels (folder, file name), never the system's."""
    parts = path.relative_to(root).parts
    name = path.name
    if parts[0] == "bounces":
        if name.startswith("arf-"):
            return "complaint (ARF)"
        if name.startswith("rfc3834-"):
            return "auto-reply (RFC 3834)"
        return "bounce (DSN)"
    if parts[0] == "parser-fixtures":
        return {
            "multipart_report_emails": "bounce (DSN)",
            "multi_charset": "charsets",
            "error_emails": "malformed",
        }.get(parts[1], parts[1])
    if parts[:2] == ("spamassassin", "spam-1"):
        return "spam"
    header_block = raw.split(b"\n\n", 1)[0]
    return "list mail" if LIST_HEADERS.search(header_block) else "person (ham)"


def fixture_mails(folder: Path, only: str) -> list[tuple[Row, bytes, str]]:
    """The fixtures of ``folder`` (expected.json), each with its envelope sender (From)."""
    if not (folder / "expected.json").is_file():
        return []
    found = []
    for entry in json.loads((folder / "expected.json").read_text(encoding="utf-8")):
        name = f"fixtures/{entry['file']}"
        if not fnmatch.fnmatch(name, only):
            continue
        raw = (folder / entry["file"]).read_bytes()
        match = re.search(rb"^From:(?:.*<|\s*)([^<>\s]+@[^<>\s]+?)>?\s*$", raw, re.I | re.M)
        sender = match.group(1).decode("ascii", "replace") if match else ""
        found.append((Row(name, f"fixture: {entry['kind']}", expect=entry), raw, sender))
    return found


def prepare_app(instance: Path):
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{instance / 'outcomes.db'}",
            "SECRET_KEY": SECRET_KEY,
            "TESTING": True,
            "SMTP_PORT": 0,
            # Every person's mail is judged, not the flood limits: one auto-reply per sender
            # per window would hide whether the second mail of a sender would get a good one.
            "AUTOREPLY_WINDOW_HOURS": 0,
            "AUTOREPLY_MAX_PER_DAY": 100000,
            "AUTOREPLY_BURST_COUNT": 100000,
        },
        instance_path=instance / "instance",
    )
    database = get_db(app)
    upgrade(database.engine)
    with database.session() as session:
        seed_reference_data(session)
        data = json.loads(resources.files("faq").joinpath("demo_content.json").read_text("utf-8"))
        import_articles(session, data)
    index_sync.rebuild_index(app)
    ensure_model(app)
    return app


def _connect(host: str, port: int) -> smtplib.SMTP:
    smtp = smtplib.SMTP(host, port, timeout=60)
    smtp.ehlo("corpora-outcomes.example.org")
    return smtp


def send(host: str, port: int, rows: list[Row], mails: list[tuple[bytes, str]]) -> None:
    """One SMTP session; each message's 250 names its InboundMail id."""
    smtp = _connect(host, port)
    try:
        for row, (raw, sender) in zip(rows, mails, strict=True):
            try:
                smtp.mail(sender)
                code, answer = smtp.rcpt(GENERAL_ADDRESS)
                if code >= 300:
                    smtp.rset()
                    row.smtp = f"{code}"
                    continue
                code, answer = smtp.data(raw)
            except smtplib.SMTPResponseException as exc:
                row.smtp = str(exc.smtp_code)
                smtp.rset()
                continue
            except smtplib.SMTPServerDisconnected:
                row.smtp = "disconnected"
                smtp = _connect(host, port)
                continue
            row.smtp = str(code)
            match = re.search(rb"queued as (\d+)", answer)
            row.inbound_id = int(match.group(1)) if match else None
    finally:
        smtp.quit()


def header_problems(raw: bytes) -> list[str]:
    """Broken lines in an outgoing message's header block (an injected CR or LF shows so)."""
    head = raw.split(b"\r\n\r\n", 1)[0]
    problems = []
    if re.search(rb"\r(?!\n)|(?<!\r)\n", head):
        problems.append("bare CR or LF in outgoing headers")
    for line in head.split(b"\r\n"):
        if not HEADER_LINE.match(line):
            problems.append(f"outgoing header line {line[:60]!r}")
    return problems


def text_problems(subject: str, body: str, html_only: bool) -> list[str]:
    problems = []
    for label, text in (("subject", subject), ("body", body)):
        match = MOJIBAKE.search(text)
        if match:
            problems.append(f"mojibake in {label} {match.group(0)!r}")
        if ENCODED_WORD.search(text) and label == "subject":
            problems.append("encoded word left in subject")
    if not body.strip() or body.strip() == NO_TEXT_MARKER:
        problems.append("no readable body")
    if QP_LEFTOVER.search(body):
        problems.append("quoted-printable left in body")
    if len(HTML_TAG.findall(body)) >= 3:
        problems.append("HTML tags in body" + (" (HTML-only mail)" if html_only else ""))
    if BASE64_BLOCK.search(body):
        problems.append("base64 left in body")
    return problems


def read_outcomes(app, rows: list[Row], keep: Path | None = None) -> None:
    database = get_db(app)
    by_id = {row.inbound_id: row for row in rows if row.inbound_id}
    with database.session() as session:
        departments = dict(session.execute(select(Department.id, Department.code)).all())
        inbound = session.execute(
            select(InboundMail.id, InboundMail.state, InboundMail.meta, InboundMail.ticket_id)
        ).all()
        ticket_of: dict[int, int] = {}
        for inbound_id, state, meta, ticket_id in inbound:
            row = by_id.get(inbound_id)
            if row is None:
                continue
            row.state = state
            row.outcome = (meta or {}).get("outcome", "") if state == "processed" else state
            if ticket_id:
                ticket_of[inbound_id] = ticket_id
        tickets = {t.id: t for t in session.scalars(select(Ticket))}
        messages = {m.inbound_mail_id: m for m in session.scalars(select(Message))}
        attachments = defaultdict(list)
        for attachment in session.scalars(select(Attachment)):
            attachments[attachment.message_id].append(attachment)
        replies = defaultdict(list)
        for mail in session.scalars(select(OutboundMail)):
            replies[mail.ticket_id].append(mail)
        skipped = dict(
            session.execute(
                select(AuditEvent.ticket_id, AuditEvent.data).where(
                    AuditEvent.action == "auto_reply_skipped"
                )
            ).all()
        )
        for inbound_id, row in by_id.items():
            ticket = tickets.get(ticket_of.get(inbound_id, 0))
            message = messages.get(inbound_id)
            if ticket is not None:
                row.department = departments.get(ticket.department_id, "triage")
                row.triage = ticket.needs_triage
                row.language = ticket.language
            if message is not None and row.outcome == "new_ticket":
                html_only = bool(message.html_sanitized) and NO_TEXT_MARKER not in message.body_text
                row.problems += text_problems(message.subject, message.body_text, html_only)
                for attachment in attachments[message.id]:
                    if UNSAFE_NAME.search(attachment.filename):
                        row.problems.append(f"unsafe attachment name {attachment.filename!r}")
                row.problems += fixture_misses(row, ticket, message, attachments[message.id])
            if ticket is None or row.outcome != "new_ticket":
                continue
            row.no_reply_reason = str((skipped.get(ticket.id) or {}).get("reason", ""))[:40]
            for mail in replies[ticket.id]:
                if mail.kind != "auto_reply":
                    continue
                row.auto_reply = True
                if keep is not None:
                    keep.mkdir(parents=True, exist_ok=True)
                    (keep / (Path(row.name).stem + ".eml")).write_bytes(mail.raw)
                row.problems += header_problems(mail.raw)
                head = mail.raw.split(b"\r\n\r\n", 1)[0]
                for name in row.expect.get("no_outgoing_headers", []):
                    if re.search(rb"^" + name.encode() + rb":", head, re.I | re.M):
                        row.problems.append(f"outgoing header {name} injected")
                reply = BytesParser(policy=policy.default).parsebytes(mail.raw)
                reply_text = str(reply["subject"] or "") + (
                    (reply.get_body(("plain",)) or reply).get_content()
                    if reply.get_body(("plain",))
                    else ""
                )
                wrote_chinese = CJK.search(message.subject + message.body_text) is not None
                if ticket.language == "zh" and not CJK.search(str(reply["subject"] or "")):
                    row.problems.append("Chinese ticket, auto-reply subject not in Chinese")
                if ticket.language == "en" and CJK.search(reply_text) and not wrote_chinese:
                    row.problems.append("English mail, Chinese in the auto-reply")


def fixture_misses(row: Row, ticket, message, attachments) -> list[str]:
    """What the fixture's expected.json asks of its ticket and message."""
    expect = row.expect
    misses = []
    department = row.department
    if expect.get("department") and department != expect["department"]:
        misses.append(f"department {department}, expected {expect['department']}")
    if expect.get("text") and expect["text"] not in message.body_text.replace("\n", ""):
        misses.append(f"text lacks {expect['text']!r}")
    for unwanted in expect.get("not_text", []):
        if unwanted in message.body_text:
            misses.append(f"text shows {unwanted!r}")
    if "subject" in expect and message.subject != expect["subject"]:
        misses.append(f"subject {message.subject[:40]!r}")
    if "from_name" in expect and message.from_name != expect["from_name"]:
        misses.append(f"sender name {message.from_name[:40]!r}")
    names = [attachment.filename for attachment in attachments]
    for wanted in expect.get("attachments", []):
        if wanted not in names:
            misses.append(f"attachment {wanted!r} missing (have {names})")
    if expect.get("safe_names") and len(names) < 3:
        misses.append(f"attachments dropped (have {names})")
    return misses


def expectation_misses(row: Row) -> list[str]:
    """What a support lead would call wrong about this outcome, by kind."""
    misses = []
    if not row.smtp.startswith("250"):
        misses.append(f"not accepted ({row.smtp})")
        return misses
    if row.state != "processed":
        misses.append(f"not processed ({row.state})")
    if row.kind in ROBOT_KINDS:
        if row.auto_reply:
            misses.append("robot got an auto-reply")
        if row.outcome == "new_ticket":
            misses.append("robot opened a ticket")
    elif row.kind in ANY_KINDS:
        pass
    elif row.kind == "spam":
        if row.auto_reply:
            misses.append("spam got an auto-reply")
        if row.outcome == "new_ticket":
            misses.append("spam opened a ticket")
    else:
        if row.outcome not in ("new_ticket", "follow_up"):
            misses.append(f"person's mail {row.outcome or 'lost'}")
        elif (
            row.outcome == "new_ticket"
            and not row.auto_reply
            # The sender's X-Auto-Response-Suppress asked for none: honoured, not a miss.
            and not row.no_reply_reason.startswith("suppressed_by_sender")
        ):
            misses.append(f"no auto-reply ({row.no_reply_reason.split(':')[0] or '?'})")
    return misses + row.problems


def report(rows: list[Row], show: int, elapsed: float) -> int:
    kinds = sorted({row.kind for row in rows}, key=lambda k: (k not in PERSON_KINDS, k))
    print(f"{len(rows)} messages end to end in {elapsed:.0f} s\n")
    header = (
        f"{'kind':24} {'n':>5} {'250':>5} {'ticket':>6} {'aside':>6} {'spam':>5} "
        f"{'other':>5} {'triage':>6} {'reply':>6} {'issues':>6}"
    )
    print(header)
    print("-" * len(header))
    failing = 0
    misses_by_kind: dict[str, Counter[str]] = {}
    examples: dict[tuple[str, str], list[str]] = defaultdict(list)
    for kind in kinds:
        group = [row for row in rows if row.kind == kind]
        outcomes = Counter(row.outcome for row in group)
        tickets = outcomes["new_ticket"]
        misses = Counter()
        with_issue = 0
        for row in group:
            found = expectation_misses(row)
            with_issue += bool(found)
            for miss in found:
                label = re.sub(r"'[^']*'|\"[^\"]*\"|\(\d+\)", "…", miss)[:60]
                misses[label] += 1
                if len(examples[(kind, label)]) < show:
                    examples[(kind, label)].append(row.name)
        misses_by_kind[kind] = misses
        other = len(group) - tickets - outcomes["set_aside"] - outcomes["spam_held"]
        print(
            f"{kind:24} {len(group):5d} {sum(r.smtp == '250' for r in group):5d} {tickets:6d} "
            f"{outcomes['set_aside']:6d} {outcomes['spam_held']:5d} {other:5d} "
            f"{sum(r.triage for r in group if r.outcome == 'new_ticket'):6d} "
            f"{sum(r.auto_reply for r in group):6d} {with_issue:6d}"
        )
        hard = [
            m
            for m in misses
            if m.startswith(("robot", "not ", "bare CR", "outgoing header", "spam got"))
        ]
        failing += sum(misses[m] for m in hard)
    print("\nwhat is wrong, by kind:")
    for kind in kinds:
        for miss, number in misses_by_kind[kind].most_common():
            shown = ", ".join(examples[(kind, miss)])
            print(f"  {kind:22} {number:5d}  {miss}" + (f"  e.g. {shown}" if shown else ""))
    people = [r for r in rows if r.outcome == "new_ticket"]
    departments = Counter(r.department for r in people)
    languages = Counter(r.language for r in people)
    print(f"\ntickets by department: {dict(departments.most_common())}")
    print(f"tickets by language: {dict(languages.most_common())}")
    other = Counter(r.outcome for r in rows if r.outcome not in ("new_ticket", "set_aside"))
    print(f"other outcomes: {dict(other.most_common())}")
    return 1 if failing else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--only", default="*", help="glob on the path below the corpora")
    parser.add_argument("--show", type=int, default=3, help="examples of each miss")
    parser.add_argument("--rows", action="store_true", help="one line per message as well")
    parser.add_argument("--keep", type=Path, help="write each auto-reply here as NAME.eml")
    parser.add_argument(
        "--no-fixtures", action="store_true", help=f"the corpora only, not {FIXTURES.name}/"
    )
    args = parser.parse_args(argv)
    root = args.corpora.resolve()
    if not root.is_dir():
        print(f"corpora not found at {root}; the fixtures only")
    paths = [
        p
        for p in sorted(root.rglob("*.eml") if root.is_dir() else [])
        if fnmatch.fnmatch(str(p.relative_to(root)), args.only)
    ]
    mails = [read_corpus_file(p) for p in paths]
    rows = [
        Row(str(p.relative_to(root)), kind_of(p, root, raw))
        for p, (raw, _s) in zip(paths, mails, strict=True)
    ]
    if not args.no_fixtures:
        for row, raw, sender in fixture_mails(FIXTURES, args.only):
            rows.append(row)
            mails.append((raw, sender))
    with tempfile.TemporaryDirectory(prefix="corpora-outcomes-") as folder:
        app = prepare_app(Path(folder))
        logging.disable(logging.WARNING)  # one line per message otherwise; misses are below
        started = time.perf_counter()
        intake = SmtpIntakeService.for_app(app)
        intake.start()
        try:
            send(intake.host, intake.port, rows, mails)
        finally:
            intake.stop()
        worker = Worker(app, retry_base_seconds=0)
        while worker.process_batch():
            pass
        elapsed = time.perf_counter() - started
        read_outcomes(app, rows, args.keep)
        get_db(app).engine.dispose()
    if args.rows:
        for row in rows:
            print(
                f"{row.name[-48:]:48} {row.outcome:14} {row.department or '-':8} "
                f"{'reply' if row.auto_reply else '-':5} {'; '.join(expectation_misses(row))}"
            )
    return report(rows, args.show, elapsed)


if __name__ == "__main__":
    sys.exit(main())
