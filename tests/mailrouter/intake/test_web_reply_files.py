"""What the follow page's reply form takes as files: what a customer sends us (photos,
documents), each within the intake's attachment limit; never a program or script."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from mailrouter.models import InboundMail
from tests.factories import make_ticket
from tests.mailrouter.intake.test_web_reply import _reply_path

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _reply(app, session, language: str, text: str, files: list[tuple[bytes, str]]):
    """The follow page's reply form sent with ``files`` (data, name) on a new ticket."""
    ticket = make_ticket(session)
    session.commit()
    client = app.test_client()
    client.set_cookie("lang", language)
    return client.post(
        _reply_path(app, ticket),
        data={"body": text, "files": [(io.BytesIO(data), name) for data, name in files]},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize(
    ("files", "said"),
    [
        # A program, whatever its name says.
        ([(b"MZ\x90\x00" + b"\x00" * 60, "photo.jpg")], "“photo.jpg” is a program or script"),
        ([(b"\x7fELF" + b"\x00" * 60, "kettle")], "“kettle” is a program or script"),
        # A script by its name, beside a good photo: nothing is sent.
        ([(PNG, "label.png"), (b"WScript.Echo 1", "invoice.pdf.vbs")], "“invoice.pdf.vbs”"),
        ([(b"@echo off", "fix.BAT")], "“fix.BAT” is a program or script"),
        # Over the intake's attachment limit: the mail intake would keep only its name.
        ([(PNG + b"\x00" * 3000, "big.png")], "“big.png” is larger than 2 KB"),
        ([(b"", "empty.pdf")], "“empty.pdf” is empty"),
    ],
)
def test_a_file_we_do_not_take_is_refused_with_its_name(app, session, files, said) -> None:
    app.config["MAIL_MAX_ATTACHMENT_BYTES"] = 2048
    response = _reply(app, session, "en", "Here it is.", files)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert said.replace("“", "&#34;").replace("”", "&#34;") in page or said in page
    assert "Here it is." in page  # kept in the box
    assert session.scalars(select(InboundMail)).all() == []


def test_photos_and_documents_are_taken(app, session) -> None:
    files = [
        (PNG, "label.png"),
        (b"%PDF-1.7\n", "receipt.pdf"),
        (b"PK\x03\x04" + b"\x00" * 30, "photos.zip"),
        ("序列号 A123".encode(), "序列号.txt"),
    ]
    response = _reply(app, session, "en", "", files)
    assert response.status_code == 302 and "sent=1" in response.headers["Location"]
    assert len(session.scalars(select(InboundMail)).all()) == 1


def test_the_chinese_page_says_it_in_chinese(app, session) -> None:
    response = _reply(app, session, "zh", "", [(b"MZ" + b"\x00" * 10, "setup.exe")])
    assert response.status_code == 400
    assert "程序或脚本" in response.get_data(as_text=True)


def test_the_form_says_which_files_it_takes(app, session) -> None:
    from mailrouter.outbound.customer_links import follow_url
    from tests.mailrouter.intake.test_web_reply import _path

    app.config["MAIL_MAX_ATTACHMENT_BYTES"] = 10 * 1024 * 1024
    ticket = make_ticket(session)
    session.commit()
    page = app.test_client().get(_path(follow_url(app.config, ticket.reference, "en")))
    html = page.get_data(as_text=True)
    assert 'aria-describedby="reply-files-hint"' in html
    assert "Photos and documents, up to 10 MB each." in html
