"""Replying from the follow page: a mail in the intake queue that the worker threads."""

from __future__ import annotations

import io
import re
from html import escape
from urllib.parse import urlsplit

from sqlalchemy import select

from mailrouter.intake.web_reply import MAX_FILES, MAX_TEXT_CHARS, build_web_reply, safe_filename
from mailrouter.models import InboundMail
from mailrouter.outbound.customer_links import follow_url
from support.desk.models import Message, Ticket
from tests.factories import make_ticket
from tests.mailrouter.conftest import process_all


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _reply_path(app, ticket: Ticket) -> str:
    token = urlsplit(follow_url(app.config, ticket.reference)).path.rsplit("/", 1)[1]
    return f"/t/{token}/reply"


def test_a_web_reply_with_a_file_becomes_a_message_on_the_ticket(app, session) -> None:
    ticket = make_ticket(session, body="The kettle whistles.")
    session.commit()
    client = app.test_client()
    page = client.get(_path(follow_url(app.config, ticket.reference, "en"))).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'name="files"' in page

    response = client.post(
        _reply_path(app, ticket),
        data={
            "body": "Here is a photo of the label.",
            "files": (io.BytesIO(b"PNGDATA"), "../la bel.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302 and "sent=1" in response.headers["Location"]
    inbound = session.scalars(select(InboundMail).where(InboundMail.channel == "web")).one()
    assert inbound.meta["source"] == "follow_page"
    session.commit()

    assert process_all(app) == 1
    session.expire_all()
    messages = session.scalars(
        select(Message).where(Message.ticket_id == ticket.id, Message.direction == "in")
    ).all()
    assert len(messages) == 2  # threaded into the ticket, not a new one
    reply = messages[-1]
    assert "photo of the label" in reply.body_text
    assert [a.filename for a in reply.attachments] == ["la bel.png"]
    assert session.scalar(select(Ticket.id).where(Ticket.id != ticket.id)) is None


def test_a_long_or_disguised_file_name_keeps_its_extension_on_the_follow_page(app, session) -> None:
    # Cut at 150 characters, a long name lost its ".pdf" (and so its type); a right-to-left
    # override in a name showed "invexe.pdf" for an .exe (one the form now refuses:
    # test_web_reply_files; "invpiz.pdf" for a .zip still fooled).
    ticket = make_ticket(session, body="The kettle whistles.")
    session.commit()
    client = app.test_client()
    long_name = "kettle receipt " + "r" * 200 + ".pdf"
    client.post(
        _reply_path(app, ticket),
        data={
            "body": "The receipt and the form.",
            "files": [
                (io.BytesIO(b"%PDF-1.4"), long_name),
                (io.BytesIO(b"PK\x03\x04"), "inv\u202efdp.zip"),
            ],
        },
        content_type="multipart/form-data",
    )
    session.commit()
    assert process_all(app) == 1
    session.expire_all()
    reply = session.scalars(
        select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id.desc())
    ).first()
    stored = [(a.filename, a.content_type) for a in reply.attachments]
    assert stored[0][0].startswith("kettle receipt r") and stored[0][0].endswith("r.pdf")
    assert stored[0][1] == "application/pdf" and len(stored[0][0]) <= 150
    assert stored[1][0] == "invfdp.zip"
    page = client.get(_path(follow_url(app.config, ticket.reference, "en"))).get_data(as_text=True)
    # Each kept file is a download link (customer_links.follow_file).
    assert f">{stored[0][0]}</a>, <a " in page and ">invfdp.zip</a></p>" in page
    assert "\u202e" not in page


def test_web_reply_needs_a_valid_link_and_bounded_input(app, session) -> None:
    ticket = make_ticket(session)
    session.commit()
    client = app.test_client()
    forged = client.post("/t/forged/reply", data={"body": "hello"})
    assert forged.status_code == 302
    too_many = {
        "body": "x",
        "files": [(io.BytesIO(b"1"), f"f{n}.txt") for n in range(MAX_FILES + 1)],
    }
    client.post(_reply_path(app, ticket), data=too_many, content_type="multipart/form-data")
    empty = client.post(_reply_path(app, ticket), data={"body": "   "})
    assert "sent=1" not in empty.headers["Location"]
    app.config["MAIL_MAX_MESSAGE_BYTES"] = 2000
    big = {"body": "x", "files": (io.BytesIO(b"y" * 5000), "big.bin")}
    client.post(_reply_path(app, ticket), data=big, content_type="multipart/form-data")
    assert session.scalars(select(InboundMail)).all() == []


def test_a_refused_web_reply_says_why_beside_the_form(app, session) -> None:
    # The page opens at #reply: said at the top of the page, "Write a message or attach a
    # file." was out of sight, and an empty message seemed to do nothing.
    ticket = make_ticket(session)
    session.commit()
    client = app.test_client()
    client.set_cookie("lang", "en")
    empty = client.post(_reply_path(app, ticket), data={"body": "  "}, follow_redirects=True)
    page = empty.get_data(as_text=True)
    form = page.index('id="reply"')
    refused = page.index('data-testid="reply-refused"')
    assert form < refused < page.index("<form", form)
    assert page.count("Write a message or attach a file.") == 1
    assert 'class="flash flash-error" role="alert"' in page[form:]


def test_a_refused_web_reply_keeps_what_the_customer_wrote(app, session) -> None:
    # Refused as too long, or for too many files, the message was gone after the redirect:
    # the customer had to write it again. The page comes back with it in the box.
    ticket = make_ticket(session)
    session.commit()
    client = app.test_client()
    client.set_cookie("lang", "en")
    long_text = "The kettle clicks off before the water boils & the light stays on. " * 760
    assert len(long_text) > MAX_TEXT_CHARS
    short_text = "Here are the photos of the kettle <base> and the receipt."
    refused = [
        client.post(_reply_path(app, ticket), data={"body": long_text}),
        client.post(
            _reply_path(app, ticket),
            data={
                "body": short_text,
                "files": [(io.BytesIO(b"1"), f"f{n}.txt") for n in range(MAX_FILES + 1)],
            },
            content_type="multipart/form-data",
        ),
    ]
    for response, text in zip(refused, (long_text, short_text), strict=True):
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        box = page.split('id="reply-body"', 1)[1].split("</textarea>", 1)[0]
        assert box.endswith(">" + escape(text.strip())), box[-200:]
        form = page.index('id="reply"')
        assert form < page.index('data-testid="reply-refused"') < page.index("<form", form)
        assert page.count("Please send at most 10 files and a shorter message.") == 1
        assert response.headers["Cache-Control"] == "private, no-store"
    assert session.scalars(select(InboundMail)).all() == []
    # The next page is empty again: the refusal was said once.
    page = client.get(_path(follow_url(app.config, ticket.reference, "en"))).get_data(as_text=True)
    assert 'data-testid="reply-refused"' not in page and "kettle clicks" not in page


def test_a_long_message_is_folded_on_the_follow_page(app, session) -> None:
    # A 15,000-character message filled screen after screen between the conversation's start
    # and the reply form: its opening is shown, the rest behind "Show all".
    body = "\n\n".join(f"Paragraph {n}: the kettle clicks off too early. " * 8 for n in range(40))
    ticket = make_ticket(session, body=body + " THE END")
    session.commit()
    assert len(ticket.messages[0].body_text) > 15_000
    client = app.test_client()
    page = client.get(_path(follow_url(app.config, ticket.reference, "en"))).get_data(as_text=True)
    message = page.split('class="card message message-in"', 1)[1].split("</article>", 1)[0]
    opening = message.split('<div class="message-body">', 1)[1].split("</div>", 1)[0]
    assert opening.startswith("Paragraph 0:") and len(opening) <= 2_000
    assert '<details class="rest-of-message"><summary>Show all (' in message
    assert "THE END" in message.split("<details", 1)[1]
    short = make_ticket(session, body="The kettle whistles.")
    session.commit()
    page = client.get(_path(follow_url(app.config, short.reference, "en"))).get_data(as_text=True)
    assert "The kettle whistles." in page and "rest-of-message" not in page


def test_a_link_once_handed_to_a_browser_only_reads(app, session) -> None:
    """The contact form's page once gave a follow link (``own_only``, valid for a year) to
    whoever typed an address, owner or not. A web reply is a mail from that address, threaded
    into its customer's conversation: from such a link it must not be sent, and the page offers
    no form."""
    ticket = make_ticket(session, body="The kettle whistles.")
    session.commit()
    client = app.test_client()
    url = follow_url(app.config, ticket.reference, "en", own_only=True)
    page = client.get(_path(url)).get_data(as_text=True)
    assert "The kettle whistles." in page  # it still shows what began there
    assert 'name="body"' not in page and "/reply" not in page
    assert "To add something, simply reply to our email" in page
    token = urlsplit(url).path.rsplit("/", 1)[1]
    response = client.post(f"/t/{token}/reply", data={"body": "Change my address to ..."})
    assert response.status_code == 302 and "sent=1" not in response.headers["Location"]
    assert session.scalars(select(InboundMail)).all() == []
    # A mailed link (the address's owner got it) still replies.
    mailed = client.get(_path(follow_url(app.config, ticket.reference, "en"))).get_data(
        as_text=True
    )
    assert 'name="body"' in mailed


def test_web_reply_checks_the_csrf_token(app, session) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    ticket = make_ticket(session)
    session.commit()
    client = app.test_client()
    assert client.post(_reply_path(app, ticket), data={"body": "hello"}).status_code == 400
    page = client.get(_path(follow_url(app.config, ticket.reference))).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    ok = client.post(_reply_path(app, ticket), data={"body": "hello", "csrf_token": token})
    assert "sent=1" in ok.headers["Location"]


def test_built_reply_threads_and_names_files_safely() -> None:
    raw = build_web_reply(
        name="Li Wei",
        email="li@example.cn",
        to_address="service@example.com",
        subject="Re: [#SUP-00001] Kettle",
        text="你好",
        in_reply_to="abc@example.com",
        files=[(safe_filename("C:\\x\\报告.pdf"), b"%PDF")],
    )
    assert b"In-Reply-To: <abc@example.com>" in raw
    assert b"multipart/mixed" in raw and b"application/pdf" in raw
    assert safe_filename("../../etc/passwd\x00") == "passwd"
    assert safe_filename("a" * 300 + ".docx").endswith("a.docx")
    assert safe_filename("photo\u202egnp.exe") == "photognp.exe"
