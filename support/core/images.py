"""Which stored files a staff page may show as a picture, judged by their first bytes.

A customer's photo was a bare link on the ticket page. A file is shown as a picture only when
its bytes begin as a PNG, JPEG, GIF or WebP image does (the sender's Content-Type is not
believed; SVG, which can carry script, is never one) and its header gives a size no larger
than `MAX_IMAGE_PIXELS`. Nothing here decodes an image: the header is read, the browser
decodes and scales the picture.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

#: Pictures larger than this (width x height, from the header) stay links: a few hundred bytes
#: of PNG may claim 50,000 x 50,000 pixels, 10 GB for a browser to decode. 40 megapixels is
#: more than a phone camera takes.
MAX_IMAGE_PIXELS = 40_000_000

#: How many of a JPEG's blocks are stepped over to reach its frame header (SOFn, which holds
#: the size): a phone photo's Exif, ICC profile and maker blocks (64 KB at most each) come
#: first, a dozen or so; stepping costs per block, not per byte.
_JPEG_MAX_BLOCKS = 200

#: JPEG markers that start a frame (SOF0-SOF15 but DHT, JPG and DAC).
_JPEG_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


@dataclass(frozen=True)
class Picture:
    content_type: str
    width: int
    height: int


def _png(data: bytes) -> tuple[int, int] | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    return None


def _gif(data: bytes) -> tuple[int, int] | None:
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return width, height
    return None


def _webp(data: bytes) -> tuple[int, int] | None:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP" or len(data) < 30:
        return None
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    return None


def _jpeg(data: bytes) -> tuple[int, int] | None:
    if data[:3] != b"\xff\xd8\xff":
        return None
    pos, end = 2, len(data)
    for _step in range(_JPEG_MAX_BLOCKS):
        if pos + 4 > end:
            return None
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker in _JPEG_FRAMES:
            if pos + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        if length < 2:
            return None
        pos += 2 + length
    return None


_READERS = (("image/png", _png), ("image/jpeg", _jpeg), ("image/gif", _gif), ("image/webp", _webp))


def picture(data: bytes | None) -> Picture | None:
    """The picture `data` is (its type from its bytes, its size from its header), or None when
    it is none a page may show: another type, an unreadable header, no size, or too large."""
    if not data:
        return None
    for content_type, read in _READERS:
        size = read(data)
        if size is not None:
            width, height = size
            if 0 < width and 0 < height and width * height <= MAX_IMAGE_PIXELS:
                return Picture(content_type, width, height)
            return None
    return None
