"""The files inside an Outlook ``winmail.dat`` (TNEF, application/ms-tnef).

Outlook in rich-text mode sends its attachments to the internet wrapped in one TNEF stream; a
reader without a TNEF decoder sees only ``winmail.dat``. This reads the attachment attributes
of the stream (MS-OXTNEF 2.1.3): each file's title (``attAttachTitle``) and bytes
(``attAttachData``), a new file starting at each ``attAttachRendData``. Nothing else (the rich
text body, MAPI properties) is read: the mail's own text part carries the message.

The stream comes from the sender: every length is checked against what is left, the number of
attributes and files is bounded, and a broken stream yields the files read so far.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

TNEF_SIGNATURE = 0x223E9F78
#: Attributes read from one stream, and files taken from it; a real one has a few dozen.
MAX_ATTRIBUTES = 10_000
MAX_FILES = 100
_LEVEL_MESSAGE = 1
_LEVEL_ATTACHMENT = 2
_ATT_OEM_CODEPAGE = 0x9007
_ATT_ATTACH_REND_DATA = 0x9002
_ATT_ATTACH_TITLE = 0x8010
_ATT_ATTACH_DATA = 0x800F
_HEADER = struct.Struct("<BII")  # level, attribute (id | type << 16), length


@dataclass
class TnefFile:
    name: str
    data: bytes


def tnef_files(stream: bytes) -> list[TnefFile]:
    """The files a TNEF stream carries (those with bytes), in order; [] when it is none."""
    if len(stream) < 6 or struct.unpack_from("<I", stream)[0] != TNEF_SIGNATURE:
        return []
    files: list[TnefFile] = []
    name, data = "", b""
    codepage = 1252
    position = 6  # signature (4) and legacy key (2)
    for _ in range(MAX_ATTRIBUTES):
        if position + _HEADER.size > len(stream):
            break
        level, attribute, length = _HEADER.unpack_from(stream, position)
        start = position + _HEADER.size
        end = start + length
        if end + 2 > len(stream):  # the value and its checksum must be there
            break
        position = end + 2
        attribute_id = attribute & 0xFFFF
        if level == _LEVEL_MESSAGE and attribute_id == _ATT_OEM_CODEPAGE and length >= 4:
            codepage = struct.unpack_from("<I", stream, start)[0]
        if level != _LEVEL_ATTACHMENT:
            continue
        if attribute_id == _ATT_ATTACH_REND_DATA:
            if data:
                files.append(TnefFile(name, data))
            name, data = "", b""
        elif attribute_id == _ATT_ATTACH_TITLE:
            name = _text(stream[start:end], codepage)
        elif attribute_id == _ATT_ATTACH_DATA:
            data = stream[start:end]
        if len(files) >= MAX_FILES:
            break
    if data and len(files) < MAX_FILES:
        files.append(TnefFile(name, data))
    return files


def _text(value: bytes, codepage: int) -> str:
    """An attribute string: 8-bit in the sender's code page (attOemCodepage), NUL-ended."""
    value = value.split(b"\x00", 1)[0]
    for codec in ("utf-8", f"cp{codepage}", "cp1252"):
        try:
            return value.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    return value.decode("latin-1")
