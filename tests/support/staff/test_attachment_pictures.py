"""Photos a customer attaches are shown on the ticket page as thumbnails that open the full
picture (they were bare links), only when their bytes are a PNG, JPEG, GIF or WebP picture of a
sane size, served inline with nosniff and a CSP, to exactly those who may download them; a
picture pasted into an HTML mail (cid:) shows in its formatted version."""

from __future__ import annotations

import re
import struct
import zlib

from sqlalchemy import select

from support.auth import issue_api_token
from support.core.images import picture
from support.desk.models import Attachment, Message
from tests.factories import make_ticket, make_user
from tests.support.staff_helpers import login


def _chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body))
        + kind
        + body
        + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    )


def png_header(width: int, height: int) -> bytes:
    """A PNG's signature and header alone: what `picture` reads (a picture claiming any size
    without building its pixels: 50,000 x 50,000 of them took 7.5 GB)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)


def png(width: int = 3, height: int = 2) -> bytes:
    """A real PNG, grey pixels (the browser test shows it)."""
    rows = b"".join(b"\x00" + b"\x80\x80\x80" * width for _ in range(height))
    return png_header(width, height) + _chunk(b"IDAT", zlib.compress(rows)) + _chunk(b"IEND", b"")


#: A JPEG's opening as a phone writes it: SOI, an APP1 (Exif) block, then the frame header.
JPEG = (
    b"\xff\xd8\xff\xe1\x00\x10Exif\x00\x00"
    + b"\x00" * 8
    + b"\xff\xc0\x00\x11\x08\x0b\xb8\x0f\xa0\x03"
    + b"\x00" * 9
)
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def attach(session, message: Message, name: str, content_type: str, data: bytes, **kw):
    found = Attachment(
        message=message,
        filename=name,
        content_type=content_type,
        size=len(data),
        sha256="0" * 64,
        data=data,
        **kw,
    )
    session.add(found)
    session.flush()
    return found


def test_pictures_are_told_by_their_bytes_and_bounded_by_their_header() -> None:
    assert picture(png(3, 2)) == picture(png(3, 2)) and picture(png(3, 2)).width == 3
    jpeg = picture(JPEG)
    assert jpeg is not None and (jpeg.content_type, jpeg.width, jpeg.height) == (
        "image/jpeg",
        4000,
        3000,
    )
    gif = picture(b"GIF89a\x10\x00\x08\x00" + b"\x00" * 20)
    assert gif is not None and (gif.content_type, gif.width, gif.height) == ("image/gif", 16, 8)
    webp = picture(b"RIFF\x00\x00\x00\x00WEBPVP8X" + b"\x00" * 8 + b"\x3f\x00\x00\x1f\x00\x00")
    assert webp is not None and (webp.content_type, webp.width, webp.height) == (
        "image/webp",
        64,
        32,
    )
    assert picture(SVG) is None
    assert picture(b"%PDF-1.4") is None and picture(b"") is None and picture(None) is None
    # A few hundred bytes claiming 50,000 x 50,000 pixels (10 GB to decode) stay a link.
    assert picture(png_header(50_000, 50_000) + b"\x00\x00\x10\x00IDAT") is None
    assert picture(b"\xff\xd8\xff\xe0\x00\x01") is None  # a broken JPEG header
    # Blocks before the frame header are stepped over, not read: 10 MB of them.
    blocks = (b"\xff\xe2\xff\xff" + b"\x00" * 65533) * 160
    assert picture(JPEG[:2] + blocks + JPEG[2:]) == jpeg


def test_a_photo_shows_as_a_thumbnail_that_opens_the_full_picture(client, session) -> None:
    agent = make_user(session)
    ticket = make_ticket(session)
    message = ticket.messages[0]
    photo = attach(session, message, "kettle.png", "image/png", png())
    # A phone sent its photo as application/octet-stream: its bytes say what it is.
    unlabelled = attach(session, message, "IMG_0001.png", "application/octet-stream", png(5, 4))
    svg = attach(session, message, "logo.svg", "image/svg+xml", SVG)
    lying = attach(session, message, "invoice.png", "image/png", b"<html><script>x</script>")
    session.commit()
    login(client, agent.email)
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    thumbnails = re.findall(r'<img src="/staff/attachments/(\d+)/picture"[^>]*>', page)
    assert thumbnails == [str(photo.id), str(unlabelled.id)]
    assert 'alt="kettle.png" width="3" height="2" loading="lazy"' in page
    assert f'href="/staff/attachments/{photo.id}/picture" target="_blank"' in page
    # Every file is still a download link.
    for each in (photo, unlabelled, svg, lying):
        assert f'href="/staff/attachments/{each.id}" download' in page

    shown = client.get(f"/staff/attachments/{unlabelled.id}/picture")
    assert shown.status_code == 200 and shown.data == png(5, 4)
    assert shown.mimetype == "image/png"
    assert shown.headers["Content-Disposition"].startswith("inline")
    assert shown.headers["X-Content-Type-Options"] == "nosniff"
    assert shown.headers["Content-Security-Policy"] == "default-src 'none'; img-src 'self'; sandbox"
    assert "no-store" in shown.headers["Cache-Control"]
    for refused in (svg, lying):
        assert client.get(f"/staff/attachments/{refused.id}/picture").status_code == 404


def test_the_picture_is_refused_to_whoever_may_not_download_it(client, session) -> None:
    agent = make_user(session, departments=("service",))
    sales = make_ticket(session, department_code="sales")
    photo = attach(session, sales.messages[0], "secret.png", "image/png", png())
    not_kept = attach(session, sales.messages[0], "big.png", "image/png", b"")
    not_kept.data, not_kept.skipped_reason = None, "over the size limit"
    session.commit()
    assert client.get(f"/staff/attachments/{photo.id}/picture").status_code == 302  # sign in
    login(client, agent.email)
    for url in (f"/staff/attachments/{photo.id}", f"/staff/attachments/{photo.id}/picture"):
        assert client.get(url).status_code == 404
    lead = make_user(session, email="lead@example.com", role="lead", departments=("sales",))
    session.commit()
    login(client, lead.email)
    assert client.get(f"/staff/attachments/{photo.id}/picture").status_code == 200
    assert client.get(f"/staff/attachments/{not_kept.id}/picture").status_code == 410


def test_a_picture_pasted_into_an_html_mail_shows_in_its_formatted_version(client, session) -> None:
    agent = make_user(session)
    ticket = make_ticket(session)
    message = ticket.messages[0]
    message.html_sanitized = (
        '<p>See the crack:</p><img src="cid:crack.1@phone.example" alt="crack">'
        '<img src="cid:missing@phone.example" alt="gone">'
        '<img src="cid:script@phone.example" alt="svg">'
        '<a href="cid:crack.1@phone.example">a link to a part</a>'
    )
    inline = attach(
        session,
        message,
        "image001.png",
        "image/png",
        png(),
        content_id="crack.1@phone.example",
        is_inline=True,
    )
    attach(session, message, "x.svg", "image/svg+xml", SVG, content_id="script@phone.example")
    session.commit()
    login(client, agent.email)
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    html = page.split('<div class="html-body">', 1)[1].split("</div>", 1)[0]
    assert f'<img src="/staff/attachments/{inline.id}/picture" alt="crack">' in html
    assert '<img alt="gone">' in html and '<img alt="svg">' in html
    assert "cid:" not in html
    [stored] = session.scalars(select(Attachment).where(Attachment.id == inline.id))
    assert stored.is_inline


def test_the_api_names_a_pictures_url_as_the_page_shows_it(client, session) -> None:
    """The API's attachments carry the /picture URL the ticket page's thumbnails use, for the
    files that are pictures by their bytes only (not an SVG, not a file that was not kept);
    the URL answers whoever may open the ticket, as the page's does, and no one else."""
    agent = make_user(session, email="li@example.com")
    ticket = make_ticket(session)
    message = ticket.messages[0]
    photo = attach(session, message, "kettle.png", "image/png", png())
    svg = attach(session, message, "logo.svg", "image/svg+xml", SVG)
    gone = attach(session, message, "big.png", "image/png", b"")
    gone.data, gone.skipped_reason = None, "over the size limit"
    token = issue_api_token(session, agent)
    session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    [first] = client.get(f"/api/v1/tickets/{ticket.id}", headers=headers).json["messages"]
    found = {a["id"]: (a["url"], a["picture_url"]) for a in first["attachments"]}
    assert found == {
        photo.id: (f"/staff/attachments/{photo.id}", f"/staff/attachments/{photo.id}/picture"),
        svg.id: (f"/staff/attachments/{svg.id}", None),
        gone.id: (None, None),
    }
    login(client, agent.email)
    assert client.get(found[photo.id][1]).data == png()
    sales = make_user(session, email="sales@example.com", departments=("sales",))
    session.commit()
    login(client, sales.email)
    assert client.get(found[photo.id][1]).status_code == 404
