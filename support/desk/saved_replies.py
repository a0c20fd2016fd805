"""Saved replies: who may see and edit which, and their placeholders filled for one ticket.

Personal replies belong to their author; team replies (one department, or everyone) are
written by admins and by leads (a lead for their own departments). Placeholders are plain
text in, plain text out: the reply box holds text, never HTML, and an unknown ``{name}`` stays
as written, so a typo shows up in the draft rather than vanishing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from support.core.text import to_simplified, to_traditional
from support.core.zones import zone_text
from support.desk import sla
from support.desk.access import has_role, visible_department_ids
from support.desk.mail import customer_writes_traditional
from support.desk.models import SavedReply, Ticket, User

#: The placeholders a saved reply may use, in the order the management page lists them.
PLACEHOLDERS = ("customer_name", "reference", "agent_name", "due_time")
MAX_TITLE_CHARS = 120
MAX_BODY_CHARS = 20_000
_PLACEHOLDER = re.compile(r"\{([a-z_]{1,40})\}")


#: How much of each saved reply's text the ticket page carries for its search box (500
#: replies at most: some 150 KB of page at worst): enough for the words that find it.
OPENING_CHARS = 300


def opening(body: str) -> str:
    """The start of a saved reply's text on one line, placeholders as written: what the
    reply box's search matches besides the title, and shows under it."""
    return " ".join(body[: OPENING_CHARS * 2].split())[:OPENING_CHARS]


def search_key(text: str) -> str:
    """``text`` lower-case as written, then in Simplified and in Traditional characters where
    those differ: what the reply box's search (app.js, which has no converter) matches, so
    退货 finds a reply written 退貨 and the other way round (support.core.text's rules)."""
    forms = (text, to_simplified(text), to_traditional(text))
    return "\n".join(dict.fromkeys(form.lower() for form in forms))


def fill(text: str, values: Mapping[str, str]) -> str:
    """`text` with each known ``{name}`` replaced by its value; unknown ones left as written."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def local_time(
    moment: datetime | None, timezone: str, language: str = "en", *, traditional: bool = False
) -> str:
    """A time as the customer reads it: local, with the zone named as their mail names it
    (``（北京时间）`` in Chinese, ``（UTC+8）`` in Traditional characters, ``(Asia/Shanghai,
    UTC+8)`` in English)."""
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(timezone))
    zone = zone_text(timezone, local, language, traditional=traditional)
    if language.startswith("zh"):
        return f"{local:%Y-%m-%d %H:%M}（{zone}）"
    return f"{local:%Y-%m-%d %H:%M} ({zone})"


def placeholder_values(ticket: Ticket, user: User, timezone: str) -> dict[str, str]:
    """The values for one ticket and the agent writing (their alias, as signatures use)."""
    customer = ticket.customer
    return {
        "customer_name": (customer.name or customer.email or "").strip(),
        "reference": ticket.reference or "",
        "agent_name": user.signature_name,
        "due_time": local_time(
            sla.active_due_at(ticket),
            timezone,
            ticket.language or "en",
            traditional=customer_writes_traditional(ticket),
        ),
    }


def may_edit(user: User, reply: SavedReply) -> bool:
    """Authors edit their personal replies; admins and leads (of that department) team ones."""
    if reply.scope == "personal":
        return reply.owner_id == user.id
    if user.role == "admin":
        return True
    if user.role != "lead":
        return False
    return reply.scope == "department" and reply.department_id in visible_department_ids(user)


def may_create(user: User, scope: str, department_id: int | None) -> bool:
    if scope == "personal":
        return True
    if scope == "everyone":
        return user.role == "admin"
    return has_role(user, "lead") and (
        user.role == "admin" or department_id in visible_department_ids(user)
    )


def usable_replies(session: Session, user: User, ticket: Ticket | None = None) -> list[SavedReply]:
    """Replies the user may insert: their own, everyone's, their departments' and the ticket's."""
    departments = set(visible_department_ids(user))
    if ticket is not None and ticket.department_id is not None:
        departments.add(ticket.department_id)
    conditions = [
        (SavedReply.scope == "personal") & (SavedReply.owner_id == user.id),
        SavedReply.scope == "everyone",
    ]
    if departments:
        conditions.append(
            (SavedReply.scope == "department") & SavedReply.department_id.in_(sorted(departments))
        )
    return list(
        session.scalars(
            select(SavedReply)
            .where(or_(*conditions))
            .order_by(SavedReply.scope != "personal", SavedReply.title, SavedReply.id)
            .limit(500)
        )
    )


def usable_reply(
    session: Session, user: User, reply_id: int, ticket: Ticket | None = None
) -> SavedReply | None:
    """One reply the user may insert (None for another agent's personal reply and the like)."""
    reply = session.get(SavedReply, reply_id)
    if reply is None:
        return None
    if reply.scope == "personal":
        return reply if reply.owner_id == user.id else None
    if reply.scope == "everyone":
        return reply
    departments = set(visible_department_ids(user))
    if ticket is not None and ticket.department_id is not None:
        departments.add(ticket.department_id)
    return reply if reply.department_id in departments else None
