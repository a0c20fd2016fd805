"""Attachments: what a non-body part is, and a filename that is safe to show and store.

Declared content types and filenames come from the sender and are often wrong or hostile (an
.exe sent as image/jpeg, a right-to-left override faking an extension, path parts, reserved
Windows names), so the type is also sniffed from the first bytes and the name is cleaned.
"""

from __future__ import annotations

import logging
import mimetypes
import re
import unicodedata
from dataclasses import dataclass

from mailrouter.parsing.headers import _clean_string

logger = logging.getLogger(__name__)

_MAX_FILENAME_CHARS = 120


@dataclass
class ParsedAttachment:
    """One non-body part. ``data`` is None when the part was too large to keep."""

    filename: str
    content_type: str
    size: int
    data: bytes | None
    content_id: str | None = None
    is_inline: bool = False
    #: Type recognised from the first bytes (None when not one of the types we know).
    sniffed_type: str | None = None
    #: The declared type contradicts the sniffed one (e.g. an .exe sent as image/jpeg).
    type_mismatch: bool = False
    skipped_reason: str | None = None


_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"%PDF-", 0, "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"II*\x00", 0, "image/tiff"),
    (b"MM\x00*", 0, "image/tiff"),
    (b"WEBP", 8, "image/webp"),
    (b"PK\x03\x04", 0, "application/zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, "application/x-ole-storage"),
    (b"Rar!\x1a\x07", 0, "application/vnd.rar"),
    (b"7z\xbc\xaf\x27\x1c", 0, "application/x-7z-compressed"),
    (b"\x1f\x8b", 0, "application/gzip"),
    (b"MZ", 0, "application/x-msdownload"),
    (b"\x7fELF", 0, "application/x-executable"),
    (b"\x78\x9f\x3e\x22", 0, "application/ms-tnef"),
)
# Declared types that legitimately carry each sniffed container format.
_COMPATIBLE: dict[str, tuple[str, ...]] = {
    "image/jpeg": ("image/jpeg", "image/jpg", "image/pjpeg"),
    "image/png": ("image/png", "image/x-png"),
    "image/tiff": ("image/tiff",),
    "application/zip": (
        "application/zip",
        "application/x-zip",
        "application/x-zip-compressed",
        "application/vnd.openxmlformats",
        "application/vnd.oasis.opendocument",
        "application/vnd.ms-excel.sheet.macroenabled",
        "application/vnd.ms-word.document.macroenabled",
        "application/vnd.ms-powerpoint.presentation.macroenabled",
        "application/epub+zip",
        "application/java-archive",
        "application/x-java-archive",
        "application/vnd.android.package-archive",
        "application/vnd.apple.",
    ),
    "application/x-ole-storage": (
        "application/msword",
        "application/vnd.ms-",
        "application/x-msword",
        "application/x-msexcel",
        "application/x-ole-storage",
        "application/x-msi",
        "application/vnd.visio",
    ),
    "application/vnd.rar": ("application/vnd.rar", "application/x-rar"),
    "application/gzip": ("application/gzip", "application/x-gzip", "application/x-tar"),
    "application/x-msdownload": (
        "application/x-msdownload",
        "application/x-dosexec",
        "application/x-ms",
        "application/exe",
        "application/x-exe",
    ),
}
_GENERIC_TYPES = {
    "application/octet-stream",
    "application/binary",
    "binary/octet-stream",
    "application/x-download",
    "application/force-download",
    "application/download",
    "application/unknown",
    "application/x-unknown",
}
_EXTENSIONS = {
    "image/jpg": ".jpg",
    "image/jpeg": ".jpg",
    "image/pjpeg": ".jpg",
    "text/plain": ".txt",
}
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.IGNORECASE)


def sniff_content_type(data: bytes | None) -> str | None:
    """Content type from magic bytes, for the formats mail attachments usually are."""
    if not data:
        return None
    for magic, offset, content_type in _MAGIC:
        if data[offset : offset + len(magic)] == magic:
            if content_type == "image/webp" and not data.startswith(b"RIFF"):
                continue
            return content_type
    return None


def types_agree(declared: str, sniffed: str) -> bool:
    """The declared type may carry what the first bytes say (a .docx is a zip)."""
    if declared == sniffed or declared in _GENERIC_TYPES:
        return True
    return any(declared.startswith(prefix) for prefix in _COMPATIBLE.get(sniffed, ()))


def clean_filename(name: str | None, content_type: str = "", index: int = 1) -> str:
    """A filename safe to show and store: no path parts or controls, bounded, never empty."""
    cleaned = ""
    if name:
        text = _clean_string(str(name))
        text = re.split(r"[/\\]", text)[-1]
        # Format characters include the right-to-left override used to fake an extension.
        text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
        text = re.sub(r'[<>:"|?*]', "_", text)
        cleaned = " ".join(text.split()).strip(". ")
        if _WINDOWS_RESERVED.match(cleaned):
            cleaned = "_" + cleaned
    if len(cleaned) > _MAX_FILENAME_CHARS:
        stem, dot, extension = cleaned.rpartition(".")
        if dot and 0 < len(extension) <= 10 and stem:
            cleaned = stem[: _MAX_FILENAME_CHARS - len(extension) - 1].rstrip() + "." + extension
        else:
            cleaned = cleaned[:_MAX_FILENAME_CHARS].rstrip()
    if not cleaned:
        suffix = _EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type)
        extension = suffix or ".bin"
        if content_type == "message/rfc822":
            extension = ".eml"
        elif content_type.startswith("message/") or content_type.startswith("text/rfc822"):
            extension = ".txt"
        prefix = "image" if content_type.startswith("image/") else "attachment"
        cleaned = f"{prefix}-{index}{extension}"
    return cleaned
