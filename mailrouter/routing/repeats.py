"""A customer reporting the same problem again: the texts' "repeated report is important".

Not every further mail is a repeat: "also, could you add..." a minute after a quote request
is a follow-up, and a customer answering our question is a conversation. A repeat is a
message whose words are largely those of an earlier message of the same customer (in the
same thread or a new one), written at least ``URGENCY_REPEAT_MIN_HOURS`` later (a mail sent
twice by mistake is no repeat), within ``URGENCY_REPEAT_DAYS``.

Similarity is the cosine of the two texts' word counts, with the classifier's tokenizer (jieba
for Chinese after Traditional-to-Simplified, lowercased English; numbers dropped). Only the
first ``COMPARED_CHARS`` characters of each text are compared, and at most
``CANDIDATES`` earlier messages, so the check costs a few milliseconds at most.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ScalarSelect, Select, bindparam, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from mailrouter.parsing import reading_text
from mailrouter.routing.features import tokenize
from support.core.text import NO_TEXT_MARKER
from support.desk.models import Customer, Message, Ticket

COMPARED_CHARS = 1_500
CANDIDATES = 12
#: Words this common carry no sign of "the same problem".
_STOP_WORDS = frozenset(
    "a an and are as at be but by can could do for from have hello hi i if in is it me my "
    "no not of on or our please so that the this to was we with would you your thanks thank "
    "regards dear 您好 你好 请 请问 谢谢 我 我们 的 了 是 在 吗 呢 和 也 就 都 有 一个 这 "
    "那".split()
)


@dataclass(frozen=True)
class EarlierReport:
    ticket_id: int
    reference: str | None
    similarity: float


def word_counts(subject: str, text: str) -> Counter[str]:
    """The words compared: of the subject and the first COMPARED_CHARS of the text."""
    return _word_counts((subject or "")[:500], (text or "")[:COMPARED_CHARS])


@functools.lru_cache(maxsize=2048)
def _word_counts(subject: str, text: str) -> Counter[str]:
    # Cached (keys of bounded length): a customer's earlier messages are read again with each
    # new one. Callers must not change the Counter.
    words = tokenize(f"{subject}\n{text}")
    return Counter(w for w in words if w not in _STOP_WORDS and len(w.strip()) > 0)


def similarity(a: Counter[str], b: Counter[str]) -> float:
    """Cosine of two word-count vectors (0 when either is empty)."""
    if not a or not b:
        return 0.0
    dot = sum(count * b[word] for word, count in a.items() if word in b)
    if not dot:
        return 0.0
    norm = math.sqrt(sum(c * c for c in a.values())) * math.sqrt(sum(c * c for c in b.values()))
    return dot / norm


def _earlier(customer_id: Any, *, since: str, newest: str) -> Select[Any]:
    """The customer's latest messages in a window, bound as ``since`` and ``newest``."""
    columns: tuple[Any, ...] = (
        Message.ticket_id,
        Ticket.reference,
        Message.subject,
        Message.new_text,
        Message.body_text,
        Message.forwarded_text,
    )
    return (
        select(*columns)
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(
            Ticket.customer_id == customer_id,
            Message.direction == "in",
            Message.is_automatic.is_(False),
            Message.created_at >= bindparam(since),
            Message.created_at <= bindparam(newest),
        )
        .order_by(Message.id.desc())
        .limit(CANDIDATES)
    )


# Built once: every new ticket and every follow-up looks its customer's earlier messages up.
_EARLIER = _earlier(bindparam("customer_id"), since="since", newest="newest")
_EARLIER_IN_TICKET = _EARLIER.where(
    Message.ticket_id == bindparam("ticket_id"), Message.id != bindparam("exclude_id")
)


def _earlier_as_json() -> ScalarSelect[Any]:
    """See EARLIER_AS_JSON."""
    customers = Customer.__table__.alias("repeat_customer")
    customer_id = select(customers.c.id).where(customers.c.email == bindparam("customer_email"))
    rows = (
        _earlier(customer_id.scalar_subquery(), since="repeat_since", newest="repeat_newest")
        .add_columns(Message.id)
        .subquery("earlier")
    )
    return (
        select(func.json_agg(aggregate_order_by(rows.table_valued(), rows.c.id.desc())))
        .correlate(None)
        .scalar_subquery()
    )


#: The rows ``find_earlier_report`` reads for a new thread, as one JSON array in a column of the
#: caller's own statement (PostgreSQL), for its ``candidates``: the worker reads them with the
#: answer it waits for anyway (one round trip less for most mail of a known customer). Bound:
#: ``customer_email`` (normalised; the customer is looked up by it), and ``earlier_window``'s.
EARLIER_AS_JSON = _earlier_as_json().label("earlier_reports")


def earlier_window(now: datetime, config: Mapping[str, Any]) -> dict[str, datetime] | None:
    """EARLIER_AS_JSON's bind parameters ``repeat_since`` and ``repeat_newest`` for mail of
    ``now``; None when the check is off."""
    if float(config["URGENCY_REPEAT_SIMILARITY"]) <= 0 or int(config["URGENCY_REPEAT_DAYS"]) <= 0:
        return None
    return {
        "repeat_since": now - timedelta(days=int(config["URGENCY_REPEAT_DAYS"])),
        "repeat_newest": now - timedelta(hours=float(config["URGENCY_REPEAT_MIN_HOURS"])),
    }


def find_earlier_report(
    session: Session,
    *,
    customer_id: int | None,
    subject: str,
    text: str,
    now: datetime,
    config: Mapping[str, Any],
    ticket_id: int | None = None,
    exclude_message_id: int | None = None,
    candidates: Sequence[Mapping[Any, Any]] | None = None,
) -> EarlierReport | None:
    """The customer's earlier message this one repeats, best match first; None if none.

    ``ticket_id`` limits the search to one ticket (a follow-up in its thread); without it,
    every ticket of the customer counts (the same problem reported in a new thread).
    ``candidates``: for a new thread, the earlier messages as the caller read them already
    (EARLIER_AS_JSON for the same customer and ``now``); not read again.
    """
    if customer_id is None or text.strip() == NO_TEXT_MARKER:
        return None  # a mail without text (a photo, a file) repeats nothing
    threshold = float(config["URGENCY_REPEAT_SIMILARITY"])
    days = int(config["URGENCY_REPEAT_DAYS"])
    if threshold <= 0 or days <= 0:
        return None
    newest = now - timedelta(hours=float(config["URGENCY_REPEAT_MIN_HOURS"]))
    query, parameters = (
        _EARLIER,
        {
            "customer_id": customer_id,
            "since": now - timedelta(days=days),
            "newest": newest,
        },
    )
    if ticket_id is not None:
        query = _EARLIER_IN_TICKET
        parameters.update(ticket_id=ticket_id, exclude_id=exclude_message_id or 0)
    # In one thread every subject is the same ("Re: ..."): only the words written count.
    in_thread = ticket_id is not None
    mine: Counter[str] | None = None  # worked out at the first earlier message: most have none
    best: EarlierReport | None = None
    if candidates is None or in_thread:
        candidates = [row._mapping for row in session.execute(query, parameters)]
    for row in candidates:
        if mine is None:
            mine = word_counts("" if in_thread else subject, text)
        earlier = reading_text(row["new_text"], row["body_text"], row["forwarded_text"] or "")
        if earlier.strip() == NO_TEXT_MARKER:
            continue
        score = similarity(mine, word_counts("" if in_thread else row["subject"] or "", earlier))
        if score >= threshold and (best is None or score > best.similarity):
            best = EarlierReport(row["ticket_id"], row["reference"], round(score, 3))
    return best
