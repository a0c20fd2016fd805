"""The mail-client fixture set: raw replies, forwards and new mail as real clients write them.

``tests/mailrouter/fixtures/clients/*.eml`` are messages modelled on what QQ Mail, NetEase
163/126 and Mail Master, Foxmail, Outlook (desktop, web, mobile; Chinese and English UI),
Gmail, Apple Mail, Thunderbird and Android mail apps produce, replying to our auto-reply for
ticket SUP-00012 (whose quoted text names FAQ titles and gas-safety words) or writing anew.
``expected.json`` gives, for each file, the customer's new text and the thread it belongs to
("SUP-00012" or "new"). Shared by the tests and ``bench/client_mail_score.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "clients"
#: The ticket every reply in the set answers, and a Message-ID of our auto-reply to it (signed
#: with the tests' SECRET_KEY, so the signature check accepts it).
TICKET_REFERENCE = "SUP-00012"


@dataclass(frozen=True)
class ClientCase:
    file: str
    client: str
    new_text: str
    thread: str
    customer: str | None
    note: str

    @property
    def raw(self) -> bytes:
        return (FIXTURES / self.file).read_bytes()


def load_cases() -> list[ClientCase]:
    entries = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
    return [
        ClientCase(
            file=entry["file"],
            client=entry["client"],
            new_text=entry["new_text"],
            thread=entry["thread"],
            customer=entry.get("customer"),
            note=entry.get("note", ""),
        )
        for entry in entries
    ]


def normalised(text: str) -> str:
    """Text compared as a reader sees it: spaces inside a line and runs of blank lines
    collapsed (HTML and plain parts of one mail differ only there)."""
    lines = [" ".join(line.replace("\ufeff", "").split()) for line in text.strip().split("\n")]
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept).strip()
