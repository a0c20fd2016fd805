"""The mail-client fixture set: raw replies, forwards and new mail as real clients write them.

``tests/mailrouter/fixtures/clients/*.eml`` are messages modelled on what QQ Mail, NetEase
163/126 and Mail Master, Foxmail, Outlook (desktop, web, mobile; Chinese and English UI),
Gmail, Apple Mail, Thunderbird and Android mail apps produce, replying to our auto-reply for
ticket SUP-00012 (whose quoted text names FAQ titles and gas-safety words) or writing anew.
``expected.json`` gives, for each file, the customer's new text and the thread it belongs to
("SUP-00012" or "new"; "(no text)" when the customer wrote nothing). Shared by the tests and
``bench/client_mail_score.py``.

Two sets: ``clients`` (34 mails, the first fixes were made on it) and ``clients-heldout`` (21
more, written and committed before it was first scored).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

FIXTURE_SETS = ("clients", "clients-heldout")
_FIXTURES = Path(__file__).resolve().parent / "fixtures"
#: The ticket every reply in the sets answers; their In-Reply-To names our auto-reply to it,
#: signed with the tests' SECRET_KEY, so the signature check accepts it.
TICKET_REFERENCE = "SUP-00012"


@dataclass(frozen=True)
class ClientCase:
    folder: str
    file: str
    client: str
    new_text: str
    thread: str
    customer: str | None
    note: str

    @property
    def raw(self) -> bytes:
        return (_FIXTURES / self.folder / self.file).read_bytes()


def load_cases(*folders: str) -> list[ClientCase]:
    """The cases of the named sets (all of them when none is named)."""
    cases = []
    for folder in folders or FIXTURE_SETS:
        entries = json.loads((_FIXTURES / folder / "expected.json").read_text(encoding="utf-8"))
        cases.extend(_case(folder, entry) for entry in entries)
    return cases


def _case(folder: str, entry: dict[str, str]) -> ClientCase:
    return ClientCase(
        folder=folder,
        file=entry["file"],
        client=entry["client"],
        new_text=entry["new_text"],
        thread=entry["thread"],
        customer=entry.get("customer"),
        note=entry.get("note", ""),
    )


def normalised(text: str) -> str:
    """Text compared as a reader sees it: spaces inside a line and runs of blank lines
    collapsed (HTML and plain parts of one mail differ only there)."""
    lines = [" ".join(line.replace("\ufeff", "").split()) for line in text.strip().split("\n")]
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept).strip()
