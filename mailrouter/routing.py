"""Which department works a ticket (minimal version; the classifier-based router replaces it).

The address a mail came to decides; mail to the general address waits in the triage inbox.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailrouter.models import InboundMail
from support.models import Department, Message, Ticket

log = logging.getLogger(__name__)


def route_new_ticket(
    session: Session,
    ticket: Ticket,
    message: Message,
    inbound: InboundMail,
    config: Mapping[str, Any],
) -> None:
    """Give a new ticket its department, or send it to triage when nothing decides."""
    if ticket.department_id is not None:
        return
    department = None
    if inbound.department_code:
        department = session.scalar(
            select(Department).where(
                Department.code == inbound.department_code, Department.is_active.is_(True)
            )
        )
    if department is None:
        ticket.needs_triage = True
        log.info("ticket %s goes to triage", ticket.reference)
        return
    ticket.department = department


def route_follow_up(
    session: Session,
    ticket: Ticket,
    message: Message,
    inbound: InboundMail,
    config: Mapping[str, Any],
) -> None:
    """A reply stays with the ticket's department; nothing to decide yet."""
