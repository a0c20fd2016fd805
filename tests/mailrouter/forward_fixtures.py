"""The forward fixture set: forwarded mail as real clients write it, with what routing must read.

``tests/mailrouter/fixtures/forwards/*.eml`` are forwards written as Outlook ("-----Original
Message-----", "From: ... Sent: ..."), Gmail ("---------- Forwarded message ---------"), Apple
Mail ("Begin forwarded message:"), Thunderbird ("-------- Forwarded Message --------", and as a
message/rfc822 attachment), QQ Mail, Foxmail and NetEase 163 ("原始邮件", "转发邮件信息") write
them, in English, Simplified and Traditional Chinese, with a comment ("FYI", "请处理") or none;
and, as controls, replies that quote our auto-reply (they stay replies), a forward under a long
comment (the comment is the text), a forward into our own thread and one of our own mail.

``expected.json`` gives, for each file: ``new_text`` (what the sender wrote; "(no text)" when
nothing), ``thread`` ("SUP-00012" or "new"), ``department`` (new tickets) and ``urgency``,
``reads`` (words of the forwarded mail that routing must read; "" when none) and ``not_read``
(words it must not read). Written and committed before forwards were read (session 18), and
scored once before and once after; shared by the tests and ``bench/forward_mail_score.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from support.desk.seed import DEFAULT_DEPARTMENTS

_FOLDER = Path(__file__).resolve().parent / "fixtures" / "forwards"
#: The seeded install's own addresses (support.desk.outbox.own_addresses: the general address
#: and the departments'), which the worker hands the parser: mail from one forwarded back is ours.
OWN_ADDRESSES = frozenset(
    {"support@example.com", *(f"{seed.local_part}@example.com" for seed in DEFAULT_DEPARTMENTS)}
)


@dataclass(frozen=True)
class ForwardCase:
    file: str
    client: str
    new_text: str
    thread: str
    urgency: int
    department: str | None
    reads: str
    not_read: str
    customer: str | None
    note: str

    @property
    def raw(self) -> bytes:
        return (_FOLDER / self.file).read_bytes()


def load_forward_cases() -> list[ForwardCase]:
    entries = json.loads((_FOLDER / "expected.json").read_text(encoding="utf-8"))
    return [
        ForwardCase(
            file=entry["file"],
            client=entry["client"],
            new_text=entry["new_text"],
            thread=entry["thread"],
            urgency=int(entry["urgency"]),
            department=entry.get("department"),
            reads=entry.get("reads", ""),
            not_read=entry.get("not_read", ""),
            customer=entry.get("customer"),
            note=entry.get("note", ""),
        )
        for entry in entries
    ]
