"""Replying on the web from the follow page: the reply becomes a mail in the intake queue.

The customer's signed follow link is the authorisation (no login; a link the contact form's
page once handed to a browser, ``own_only``, only reads), the page's CSRF token guards
the form, and the message is an RFC 5322 mail from the ticket's customer with our signed
Message-ID in In-Reply-To, so the worker threads it into the ticket exactly as a mail reply:
same parsing, same size limit (MAIL_MAX_MESSAGE_BYTES), same reopen rules. Each file is
refused, with its name, when the intake would keep only its name (over
MAIL_MAX_ATTACHMENT_BYTES), when empty, or when it is a program or script (`refused_file`).
Each ticket takes at most WEB_REPLIES_PER_HOUR replies an hour.
"""

from __future__ import annotations

import logging
import mimetypes
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import timedelta
from email.message import Message
from typing import Any

from flask import Blueprint, Flask, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as WerkzeugResponse

from mailrouter.compose import OutgoingFile, compose_message, message_bytes
from mailrouter.intake.queue import store_inbound, web_message_id
from mailrouter.outbound.customer_links import WEB_REPLY_MAX_FILES, follow_page, reply_ticket
from mailrouter.parsing import clean_filename, sniff_content_type
from mailrouter.tokens import add_subject_token, make_message_id
from support.core import rate_limits
from support.core.db import db_session, utcnow
from support.core.web import file_size, reader_pages
from support.desk.models import Ticket

log = logging.getLogger(__name__)

bp = Blueprint("web_reply", __name__)

#: Bounds on what one web reply may carry; the byte limit is the mail intake's own setting.
MAX_TEXT_CHARS = 50_000
MAX_FILES = WEB_REPLY_MAX_FILES
WEB_REPLIES_PER_HOUR = 20
GENERIC_TYPE = "application/octet-stream"


def safe_filename(name: str) -> str:
    """An uploaded file's name as the intake stores a mail's (mailrouter.parsing.clean_filename):
    its last path part without control or format characters (a right-to-left override fakes an
    extension), shortened with its extension kept (cut at 150 characters, a long name lost its
    ".pdf" and its type)."""
    return clean_filename(unicodedata.normalize("NFC", name or ""))


#: Types of programs, recognised from a file's first bytes whatever its name says.
_PROGRAM_TYPES = frozenset({"application/x-msdownload", "application/x-executable"})
#: Names of programs and scripts, which run when opened: a customer sends us photos and
#: documents, and staff open what the follow page took without a second thought.
_PROGRAM_EXTENSIONS = frozenset(
    ".app .apk .application .bat .cmd .com .cpl .dll .exe .gadget .hta .inf .jar .js .jse"
    " .lnk .msc .msi .msp .pif .ps1 .psm1 .reg .scr .sh .vb .vbe .vbs .wsf .wsh".split()
)


def refused_file(name: str, data: bytes, max_bytes: int) -> str | None:
    """Why the reply form does not take an uploaded file, to show beside it; None: taken.

    The mail intake keeps a file only up to MAIL_MAX_ATTACHMENT_BYTES (a larger one becomes
    its name alone), so a larger one sent here was lost after "sent"; it is refused instead,
    as are empty files and programs and scripts (by their first bytes or their name)."""
    if not data:
        return _("“%(name)s” is empty. Please choose the file again.", name=name)
    if len(data) > max_bytes:
        return _(
            "“%(name)s” is larger than %(size)s. Please send a smaller file.",
            name=name,
            size=file_size(max_bytes),
        )
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if sniff_content_type(data[:64]) in _PROGRAM_TYPES or f".{extension}" in _PROGRAM_EXTENSIONS:
        return _(
            "“%(name)s” is a program or script, which we cannot take. Please send photos"
            " or documents.",
            name=name,
        )
    return None


def build_web_reply(
    *,
    name: str,
    email: str,
    to_address: str,
    subject: str,
    text: str,
    in_reply_to: str,
    files: Sequence[tuple[str, bytes]] = (),
) -> bytes:
    """A reply as the customer's mail program would write it, attachments as MIME parts."""
    domain = to_address.rpartition("@")[2] or "localhost"
    message: Message = compose_message(
        from_name=name,
        from_address=email,
        to=[to_address],
        subject=subject,
        text=text,
        html=None,
        message_id=web_message_id("web-reply", domain),
        in_reply_to=in_reply_to,
        references=[],
        automatic=False,
        extra_headers={"X-Support-Channel": "web"},
        # The intake sniffs and cleans these again, as any mail's.
        files=[
            OutgoingFile(filename, mimetypes.guess_type(filename)[0] or GENERIC_TYPE, data)
            for filename, data in files
        ],
    )
    return message_bytes(message)


def _reply_subject(ticket: Ticket) -> str:
    return add_subject_token(f"Re: {ticket.subject or ''}".strip(), ticket.reference or "")


def queue_web_reply(
    session: Session,
    ticket: Ticket,
    text: str,
    files: Sequence[tuple[str, bytes]],
    config: Mapping[str, Any],
) -> int:
    """Store the reply as an inbound mail of the ticket's customer; returns its queue id.

    ValueError when it is larger than the mail intake accepts.
    """
    customer = ticket.customer
    if customer is None or not customer.email:
        raise LookupError("the ticket has no customer address")
    department = ticket.department
    to_address = (
        department.email_address if department is not None and department.email_address else ""
    ) or str(config["MAIL_GENERAL_ADDRESS"])
    domain = to_address.rpartition("@")[2] or "localhost"
    key = str(config["SECRET_KEY"]).encode()
    raw = build_web_reply(
        name=customer.name or "",
        email=customer.email,
        to_address=to_address,
        subject=_reply_subject(ticket),
        text=text,
        in_reply_to=make_message_id(ticket.reference or "", domain=domain, key=key),
        files=files,
    )
    if len(raw) > int(config["MAIL_MAX_MESSAGE_BYTES"]):
        raise ValueError("larger than MAIL_MAX_MESSAGE_BYTES")
    inbound = store_inbound(
        session,
        channel="web",
        raw=raw,
        envelope_from=customer.email,
        envelope_to=[to_address],
        department_code=department.code if department is not None else None,
        meta={"source": "follow_page", "ticket": ticket.reference},
    )
    return inbound.id


def _back(token: str, *, sent: bool = False) -> WerkzeugResponse:
    target = url_for("customer_links.follow", token=token, sent="1" if sent else None)
    return redirect(target + "#reply")


def _refused(token: str, text: str, refusal: str) -> WerkzeugResponse:
    """The follow page again with ``refusal`` beside the form and ``text`` still in it: after
    a redirect a message refused as too long, or for too many files, was gone (files cannot
    be put back: a browser chooses them again). A try the rate limit counted stays counted:
    the request's own commit skips an error status."""
    db_session().commit()
    flash(refusal)
    return follow_page(token, typed=text, status=400)


@bp.post("/t/<token>/reply")
def reply(token: str) -> WerkzeugResponse:
    """The follow page's reply form (CSRF-checked by the app before this runs)."""
    config = current_app.config
    limit = int(config["MAIL_MAX_MESSAGE_BYTES"])
    # Refuse before Werkzeug parses (and spools) the upload: no length, or too long.
    if request.content_length is None or request.content_length > limit:
        flash(_("Your message and files are too large. Please send fewer or smaller files."))
        return _back(token)
    session = db_session()
    ticket = reply_ticket(session, token)
    if ticket is None:  # forged, expired, or a link that only reads: its page says why
        return redirect(url_for("customer_links.follow", token=token))
    text = (request.form.get("body") or "").replace("\r\n", "\n").strip()
    uploads = [f for f in request.files.getlist("files") if f and f.filename]
    if len(text) > MAX_TEXT_CHARS or len(uploads) > MAX_FILES:
        return _refused(
            token, text, _("Please send at most %(n)s files and a shorter message.", n=MAX_FILES)
        )
    if not text and not uploads:
        flash(_("Write a message or attach a file."))
        return _back(token)
    key = rate_limits.limit_key("web-reply", ticket.reference or str(ticket.id))
    if not rate_limits.take(
        session, key, utcnow(), limit=WEB_REPLIES_PER_HOUR, window=timedelta(hours=1)
    ):
        return _refused(
            token, text, _("You have sent many messages in the last hour. Please wait a while.")
        )
    per_file = int(config["MAIL_MAX_ATTACHMENT_BYTES"])
    files = [(safe_filename(f.filename or ""), f.read(per_file + 1)) for f in uploads]
    refusal = next(filter(None, (refused_file(name, data, per_file) for name, data in files)), None)
    if refusal is not None:
        return _refused(token, text, refusal)
    try:
        queue_web_reply(session, ticket, text or _("(files attached)"), files, config)
    except (ValueError, LookupError) as exc:
        log.info("web reply for %s refused: %s", ticket.reference, exc)
        return _refused(
            token,
            text,
            _("Your message and files are too large. Please send fewer or smaller files."),
        )
    log.info("web reply queued for %s (%d files)", ticket.reference, len(files))
    return _back(token, sent=True)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    reader_pages(app, bp)
