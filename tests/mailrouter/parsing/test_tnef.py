"""Outlook's winmail.dat: the files inside are listed as attachments of their own."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from mailrouter.parsing import parse_message
from mailrouter.parsing.tnef import MAX_FILES, TNEF_SIGNATURE, tnef_files

REALMAIL = Path(__file__).resolve().parents[1] / "fixtures" / "realmail"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n%%EOF\n"


def attribute(level: int, attribute_id: int, data: bytes, kind: int = 0x0006) -> bytes:
    header = struct.pack("<BII", level, (kind << 16) | attribute_id, len(data))
    return header + data + struct.pack("<H", sum(data) & 0xFFFF)


def stream(*attributes: bytes) -> bytes:
    return struct.pack("<IH", TNEF_SIGNATURE, 1) + b"".join(attributes)


def one_file(title: bytes, data: bytes) -> bytes:
    return (
        attribute(2, 0x9002, b"\x01\x00\x00\x00" + b"\x00" * 10)
        + attribute(2, 0x8010, title + b"\x00", kind=0x0001)
        + attribute(2, 0x800F, data)
    )


def test_outlooks_winmail_dat_shows_the_customers_file():
    parsed = parse_message((REALMAIL / "outlook-winmail-dat.eml").read_bytes())
    names = [(a.filename, a.content_type) for a in parsed.attachments]
    assert names == [
        ("winmail.dat", "application/ms-tnef"),
        ("receipt-LK17.pdf", "application/pdf"),
    ]
    assert parsed.attachments[1].data.startswith(b"%PDF-1.4")
    assert "attach the receipt" in parsed.text


def test_every_file_in_its_code_page():
    codepage = attribute(1, 0x9007, struct.pack("<II", 936, 0), kind=0x0000)
    files = tnef_files(
        stream(
            codepage, one_file("发票.pdf".encode("gbk"), PDF), one_file(b"photo.jpg", b"\xff\xd8")
        )
    )
    assert [(f.name, f.data) for f in files] == [("发票.pdf", PDF), ("photo.jpg", b"\xff\xd8")]


@pytest.mark.parametrize(
    "broken",
    [
        b"",
        b"not tnef at all",
        stream(one_file(b"a.pdf", PDF))[:40],  # cut inside the file's bytes
        stream(struct.pack("<BII", 2, 0x0006800F, 2**31)),  # a length past the end
        stream(*[attribute(2, 0x9002, b"")] * 50_000),  # attributes without end
    ],
)
def test_a_broken_stream_gives_what_it_has_and_never_raises(broken):
    assert tnef_files(broken) == []


def test_a_stream_of_many_files_is_bounded():
    files = tnef_files(stream(*[one_file(b"x.txt", b"x")] * (MAX_FILES + 20)))
    assert len(files) == MAX_FILES
