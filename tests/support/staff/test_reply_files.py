"""Files on a staff reply: mailed as attachments, kept on the ticket behind the same access as a
customer's, bounded (count, each, total) with the typed text kept, names cleaned, types ours."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from mailrouter.outbound.customer_links import follow_url
from mailrouter.outbound.sender import OutboxSender
from support.desk.models import Attachment, Message, OutboundMail
from support.desk.reply_files import content_type_of
from tests.factories import make_ticket, make_user
from tests.mailrouter.smtp_sink import Sink
from tests.support.staff_helpers import login

PDF = b"%PDF-1.4\n" + b"0" * 2000
TEXT = "发票号码 12345\n".encode()
BODY = "Please find the invoice and the delivery note attached."


@pytest.fixture
def sink():
    server = Sink().start()
    yield server
    server.stop()


@pytest.fixture
def app_settings(sink: Sink) -> dict:
    return {
        **sink.settings(),
        "REPLY_MAX_FILES": 3,
        "REPLY_MAX_FILE_BYTES": 4000,
        "REPLY_MAX_TOTAL_BYTES": 6000,
    }


def _post(client, ticket, files, body=BODY, **extra):
    data = {"reply-body": body, "reply-send": "Check and send", "reply-then": "open", **extra}
    data["reply-files"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(
        f"/staff/tickets/{ticket.id}/reply", data=data, content_type="multipart/form-data"
    )


def _attachments(session, ticket) -> list[Attachment]:
    found = list(
        session.scalars(
            select(Attachment)
            .join(Message)
            .where(Message.ticket_id == ticket.id, Message.direction == "out")
            .order_by(Attachment.id)
        )
    )
    session.commit()
    return found


def test_two_files_are_mailed_kept_and_downloadable_by_staff_who_see_the_ticket(
    app, client, session, sink
) -> None:
    agent = make_user(session, departments=("service",))
    outsider = make_user(session, departments=("sales",))
    ticket = make_ticket(session, department_code="service")
    session.commit()
    login(client, agent.email)
    response = _post(client, ticket, [("invoice.pdf", PDF), ("发票.txt", TEXT)])
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]

    assert OutboxSender.for_app(app).run_once().sent == 1
    [delivery] = sink.delivered
    mail = delivery.message
    assert mail.get_content_type() == "multipart/mixed"
    assert BODY in mail.get_body(preferencelist=("plain",)).get_content()
    sent = [
        (p.get_filename(), p.get_content_type(), p.get_content()) for p in mail.iter_attachments()
    ]
    assert sent == [
        ("invoice.pdf", "application/pdf", PDF),
        ("发票.txt", "text/plain", TEXT.decode()),
    ]

    stored = _attachments(session, ticket)
    assert [(a.filename, a.content_type, a.size) for a in stored] == [
        ("invoice.pdf", "application/pdf", len(PDF)),
        ("发票.txt", "text/plain", len(TEXT)),
    ]
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    for attachment in stored:
        assert f"/staff/attachments/{attachment.id}" in page
    download = client.get(f"/staff/attachments/{stored[0].id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")

    client.post("/staff/logout")
    login(client, outsider.email)
    assert client.get(f"/staff/attachments/{stored[0].id}").status_code == 404


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_the_customer_sees_and_downloads_the_files_on_the_follow_page_only(
    app, client, session
) -> None:
    agent = make_user(session)
    ticket = make_ticket(session)
    other = make_ticket(session)
    session.commit()
    login(client, agent.email)
    assert _post(client, ticket, [("Tom & Jerry <1>.pdf", PDF)]).status_code == 302
    [stored] = _attachments(session, ticket)
    client.post("/staff/logout")
    client.delete_cookie("session")
    follow = _path(follow_url(app.config, ticket.reference, "en"))
    page = client.get(follow).get_data(as_text=True)
    link = f"/files/{stored.id}"
    assert stored.filename == "Tom & Jerry _1_.pdf"
    assert link in page and "Tom &amp; Jerry _1_.pdf" in page
    token = follow.split("?")[0].rsplit("/", 1)[1]
    download = client.get(f"/t/{token}/files/{stored.id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["Cache-Control"] == "private, no-store"
    # Another ticket's link does not open this ticket's files; a forged token opens nothing.
    other_token = _path(follow_url(app.config, other.reference)).split("?")[0].rsplit("/", 1)[1]
    assert client.get(f"/t/{other_token}/files/{stored.id}").status_code == 404
    assert client.get(f"/t/{token[:-3]}abc/files/{stored.id}").status_code == 404


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            [("a.txt", b"a"), ("b.txt", b"b"), ("c.txt", b"c"), ("d.txt", b"d")],
            "Attach at most 3 files at once.",
        ),
        ([("big.pdf", PDF * 3)], "big.pdf is too large"),
        (
            [("one.pdf", PDF), ("two.pdf", PDF), ("three.pdf", PDF)],
            "The files are too large together",
        ),
    ],
    ids=["too-many", "one-too-large", "too-large-together"],
)
def test_files_over_a_limit_are_refused_and_the_text_is_kept(
    client, session, files, expected
) -> None:
    agent = make_user(session)
    ticket = make_ticket(session)
    session.commit()
    login(client, agent.email)
    response = _post(client, ticket, files, body="My <typed> answer")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert expected in page and "your text is kept below" in page
    assert "My &lt;typed&gt; answer</textarea>" in page
    assert (
        session.scalars(select(OutboundMail).where(OutboundMail.ticket_id == ticket.id)).all() == []
    )
    session.commit()


def test_refusals_are_in_the_pages_language(client, session) -> None:
    agent = make_user(session)
    ticket = make_ticket(session)
    session.commit()
    login(client, agent.email)
    client.set_cookie("lang", "zh")
    files = [(f"{n}.txt", b"x") for n in range(4)]
    page = _post(client, ticket, files, body="您好").get_data(as_text=True)
    assert "一次最多附加 3 个文件。" in page
    assert "您好</textarea>" in page


def test_hostile_filenames_are_cleaned_in_the_mail_and_on_the_ticket(
    app, client, session, sink
) -> None:
    agent = make_user(session)
    ticket = make_ticket(session)
    session.commit()
    login(client, agent.email)
    long_name = "报价单" * 80 + ".pdf"
    names = ["../../etc/passwd", "invoice\x00\u202efdp.exe", long_name]
    assert _post(client, ticket, [(n, b"%PDF-1.4 x") for n in names]).status_code == 302
    stored = [a.filename for a in _attachments(session, ticket)]
    assert stored[0] == "passwd"
    assert stored[1] == "invoicefdp.exe"
    assert len(stored[2]) <= 120 and stored[2].endswith(".pdf")
    assert all("/" not in n and "\\" not in n and n.isprintable() for n in stored)
    OutboxSender.for_app(app).run_once()
    sent = [p.get_filename() for p in sink.delivered[0].message.iter_attachments()]
    assert sent == stored


def test_the_type_comes_from_us_not_the_uploader() -> None:
    assert content_type_of("page.html", b"<script>alert(1)</script>") == "application/octet-stream"
    assert content_type_of("photo.png", b"MZ\x90\x00") == "application/octet-stream"  # an .exe
    assert content_type_of("scan.jpg", b"\x89PNG\r\n\x1a\n...") == "image/png"
    assert content_type_of("notes.txt", b"hello") == "text/plain"
    assert content_type_of("report.docx", b"PK\x03\x04...") == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )


def test_files_chosen_before_an_faq_search_are_not_sent_silently(client, session) -> None:
    agent = make_user(session)
    ticket = make_ticket(session)
    session.commit()
    login(client, agent.email)
    data = {"reply-search_faq": "Search answers", "reply-faq_query": "kettle"}
    response = client.post(
        f"/staff/tickets/{ticket.id}/reply",
        data={"reply-body": BODY, **data, "reply-files": [(io.BytesIO(PDF), "a.pdf")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "attach them again" in response.get_data(as_text=True)


def test_a_request_over_the_servers_limit_gets_a_page_saying_what_to_do(
    app, client, session
) -> None:
    agent = make_user(session)
    ticket = make_ticket(session)
    session.commit()
    login(client, agent.email)
    # Under the test client's own spooling size (500 KB), so its request body is no temp file.
    app.config["MAX_CONTENT_LENGTH"] = 204800
    response = _post(client, ticket, [("huge.pdf", PDF * 120)])
    assert response.status_code == 413
    assert "larger than 0.195 MB. Go back (your text is still there)" in response.get_data(
        as_text=True
    )


def test_the_page_states_the_limits_and_sends_files_without_javascript(client, session) -> None:
    agent = make_user(session)
    ticket = make_ticket(session)
    session.commit()
    login(client, agent.email)
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    assert 'type="file"' in page and "multiple" in page
    assert "At most 3 files, 0.00381 MB each and 0.00572 MB together." in page


def _note(client, ticket, files, body="Customer's photo of the damage, from the phone call."):
    data = {"note-body": body, "note-submit": "Add note"}
    data["note-files"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(
        f"/staff/tickets/{ticket.id}/note", data=data, content_type="multipart/form-data"
    )


def test_a_notes_files_stay_with_staff_and_never_reach_the_customer(app, client, session) -> None:
    """An agent keeps a screenshot or the phone call's photo on the ticket as a note; the
    file must not be mailed, listed on the follow page or opened through its file route."""
    agent = make_user(session)
    ticket = make_ticket(session)
    session.commit()
    login(client, agent.email)
    assert _note(client, ticket, [("damage.pdf", PDF)]).status_code == 302
    [stored] = session.scalars(
        select(Attachment).join(Message).where(Message.ticket_id == ticket.id)
    ).all()
    assert stored.message.direction == "note" and stored.data == PDF
    assert session.scalars(select(OutboundMail)).all() == []  # nothing mailed
    session.commit()
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert f"/staff/attachments/{stored.id}" in page
    assert client.get(f"/staff/attachments/{stored.id}").data == PDF

    client.post("/staff/logout")
    client.delete_cookie("session")
    follow = _path(follow_url(app.config, ticket.reference, "en"))
    assert "damage.pdf" not in client.get(follow).get_data(as_text=True)
    token = follow.split("?")[0].rsplit("/", 1)[1]
    assert client.get(f"/t/{token}/files/{stored.id}").status_code == 404


def test_a_note_over_the_file_limits_is_not_added_and_keeps_its_text(client, session) -> None:
    agent = make_user(session)
    ticket = make_ticket(session)
    session.commit()
    login(client, agent.email)
    files = [(f"{n}.pdf", PDF) for n in range(4)]  # REPLY_MAX_FILES is 3 here
    response = _note(client, ticket, files, body="Phone call: wants a refund by Friday")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Attach at most 3 files at once." in page
    assert "Phone call: wants a refund by Friday" in page  # the typed note is kept
    notes = session.scalars(
        select(Message).where(Message.ticket_id == ticket.id, Message.direction == "note")
    ).all()
    assert notes == [] and session.scalars(select(Attachment)).all() == []
