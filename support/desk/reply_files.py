"""Files staff attach to a reply: bounded, named and typed by us, stored like a customer's.

The uploader's filename and content type are not trusted: the name is cleaned as the intake
cleans a mail's (``clean_filename``), and the type comes from the first bytes or the
extension, only from ``ALLOWED_TYPES`` (anything else is application/octet-stream). The
files become ``Attachment`` rows of the reply's conversation entry, so the staff download
route (with its access check, always a download) and the follow page list them as any other.
"""

from __future__ import annotations

import hashlib
import mimetypes
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from mailrouter.compose import OutgoingFile
from mailrouter.parsing import clean_filename, sniff_content_type, types_agree
from support.core.web import megabytes
from support.desk.models import Attachment, Message

GENERIC_TYPE = "application/octet-stream"

#: Types a staff file may be labelled with; never text/html, SVG or scripts.
ALLOWED_TYPES = frozenset(
    {
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/tiff",
        "text/plain",
        "text/csv",
        "application/zip",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
    }
)


class Upload(Protocol):
    """What the page hands over per file (werkzeug's FileStorage)."""

    filename: str | None

    def read(self, size: int = -1, /) -> bytes: ...


class FilesRefused(ValueError):
    """The files break a limit; the message says which, in the page's language."""


def content_type_of(filename: str, data: bytes) -> str:
    """The type we label a file with: the extension's when the first bytes agree, else the
    first bytes', and only from ALLOWED_TYPES."""
    sniffed = sniff_content_type(data[:64])
    guessed = mimetypes.guess_type(filename, strict=False)[0]
    if guessed in ALLOWED_TYPES and (sniffed is None or types_agree(guessed, sniffed)):
        # Text has no magic bytes: a "notes.txt" that sniffs as nothing is text.
        return guessed
    if sniffed in ALLOWED_TYPES:
        return sniffed
    return GENERIC_TYPE


def read_uploads(uploads: Iterable[Upload], config: Mapping[str, Any]) -> list[OutgoingFile]:
    """The chosen files, checked against REPLY_MAX_FILES, _FILE_BYTES and _TOTAL_BYTES.

    FilesRefused names the limit. Each file is read at most one byte past its limit.
    """
    chosen = [upload for upload in uploads if upload.filename]
    max_files = int(config["REPLY_MAX_FILES"])
    if len(chosen) > max_files:
        raise FilesRefused(_("Attach at most %(n)s files at once.", n=max_files))
    max_file = int(config["REPLY_MAX_FILE_BYTES"])
    max_total = int(config["REPLY_MAX_TOTAL_BYTES"])
    files: list[OutgoingFile] = []
    total = 0
    for index, upload in enumerate(chosen, start=1):
        data = upload.read(max_file + 1)
        name = clean_filename(unicodedata.normalize("NFC", upload.filename or ""), index=index)
        if len(data) > max_file:
            raise FilesRefused(
                _(
                    "%(name)s is too large: each file may be at most %(size)s.",
                    name=name,
                    size=megabytes(max_file),
                )
            )
        if not data:
            raise FilesRefused(_("%(name)s is empty.", name=name))
        total += len(data)
        if total > max_total:
            raise FilesRefused(
                _(
                    "The files are too large together: at most %(size)s in all.",
                    size=megabytes(max_total),
                )
            )
        files.append(OutgoingFile(name, content_type_of(name, data), data))
    return files


def store_files(session: Session, message: Message, files: Sequence[OutgoingFile]) -> None:
    """Keep the files on the conversation entry, as the intake keeps a mail's attachments."""
    for file in files:
        message.attachments.append(
            Attachment(
                filename=file.filename,
                content_type=file.content_type,
                size=len(file.data),
                sha256=hashlib.sha256(file.data).hexdigest(),
                data=file.data,
            )
        )
    if files:
        session.flush()
