"""The mail side's share of customers' data (``support.desk.privacy.PrivacyPart``): the intake
queue's raw bytes and details (with the spam verdict's detail), what the spam filter learned
from their mail, the sender counters, and ``instance/outbox/*.eml`` files.

Raw mail is kept in the database only (``inbound_mail.raw``; there is no spool folder); an
outbox file is written for each outbound row when no relay is configured.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.orm import Session

from mailrouter.models import InboundMail, SenderActivity, SpamExample
from mailrouter.outbound.sender import OUTBOX_DIRNAME, eml_path
from support.core.db import utcnow
from support.desk.models import Customer, OutboundMail
from support.desk.privacy import ErasureScope, outbound_mail_about
from support.desk.retention import RAW_MAIL_BATCH

log = logging.getLogger(__name__)

#: Queue states whose raw bytes may go: the message was parsed into its ticket.
_DONE_STATES = ("processed",)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


class MailPrivacy:
    name = "mail"

    def _inbound_clause(
        self, ticket_ids: Sequence[int], addresses: Sequence[str], *, by_address: bool
    ) -> Any:
        conditions: list[ColumnElement[bool]] = []
        if ticket_ids:
            conditions.append(InboundMail.ticket_id.in_(ticket_ids))
        if by_address and addresses:
            conditions.append(func.lower(InboundMail.envelope_from).in_(addresses))
        return or_(*conditions) if conditions else None

    def export(
        self, session: Session, customer: Customer, ticket_ids: Sequence[int], *, include_raw: bool
    ) -> dict[str, Any]:
        address = customer.email.strip().lower()
        clause = self._inbound_clause(ticket_ids, [address], by_address=True)
        rows = list(session.scalars(select(InboundMail).where(clause).order_by(InboundMail.id)))
        activity = session.scalar(
            select(SenderActivity).where(func.lower(SenderActivity.address) == address)
        )
        return {
            "inbound_mail": [
                {
                    "channel": row.channel,
                    "received_at": _iso(row.received_at),
                    "envelope_from": row.envelope_from,
                    "envelope_to": list(row.envelope_to or []),
                    "size": row.size,
                    "sha256": row.sha256,
                    "state": row.state,
                    "details": dict(row.meta or {}),
                    "raw_dropped_at": _iso(row.raw_dropped_at),
                    **(
                        {"raw_base64": base64.b64encode(row.raw).decode()}
                        if include_raw and row.raw
                        else {}
                    ),
                }
                for row in rows
            ],
            "sender_activity": (
                {
                    "last_auto_reply_at": _iso(activity.last_auto_reply_at),
                    "auto_replies_today": activity.auto_replies_today,
                    "flood_blocked_at": _iso(activity.flood_blocked_at),
                }
                if activity is not None
                else None
            ),
        }

    def erase(self, session: Session, scope: ErasureScope) -> dict[str, int]:
        now = utcnow()
        files = self._remove_outbox_files(session, scope)
        clause = self._inbound_clause(
            scope.ticket_ids, scope.addresses, by_address=scope.whole_customer
        )
        inbound = 0
        if clause is not None:
            ids = list(session.scalars(select(InboundMail.id).where(clause)))
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                # Not yet processed: it must not become a ticket after the erasure.
                session.execute(
                    update(InboundMail)
                    .where(InboundMail.id.in_(chunk), InboundMail.state != "processed")
                    .values(state="processed", processed_at=now, locked_by=None, lease_until=None)
                    .execution_options(synchronize_session=False)
                )
                session.execute(
                    update(InboundMail)
                    .where(InboundMail.id.in_(chunk))
                    .values(
                        raw=b"",
                        raw_dropped_at=func.coalesce(InboundMail.raw_dropped_at, now),
                        envelope_from=scope.pseudonym,
                        meta={},
                        header_message_id=None,
                        sha256="",
                        last_error=None,
                        spam_detail=None,  # holds the subject and the words that decided
                    )
                    .execution_options(synchronize_session=False)
                )
                # What the spam filter learned from these mails keeps their bytes.
                session.execute(
                    delete(SpamExample)
                    .where(SpamExample.inbound_mail_id.in_(chunk))
                    .execution_options(synchronize_session=False)
                )
            inbound = len(ids)
        if scope.ticket_ids:
            session.execute(
                delete(SpamExample)
                .where(SpamExample.ticket_id.in_(list(scope.ticket_ids)))
                .execution_options(synchronize_session=False)
            )
        senders = 0
        if scope.whole_customer and scope.addresses:
            result = session.execute(
                delete(SenderActivity)
                .where(func.lower(SenderActivity.address).in_(scope.addresses))
                .execution_options(synchronize_session=False)
            )
            senders = int(getattr(result, "rowcount", 0) or 0)
        return {"inbound_mail": inbound, "outbox_files": files, "sender_activity": senders}

    def _remove_outbox_files(self, session: Session, scope: ErasureScope) -> int:
        """The .eml copies of our mail about the customer (written when no relay is set)."""
        directory = Path(scope.instance_path) / OUTBOX_DIRNAME
        if not directory.is_dir():
            return 0
        conditions = outbound_mail_about(scope)
        if not conditions:
            return 0
        removed = 0
        rows = {
            row
            for condition in conditions
            for row in session.execute(
                select(OutboundMail.id, OutboundMail.message_id).where(condition)
            )
        }
        for mail_id, message_id in rows:
            path = eml_path(directory, mail_id, message_id)
            if path.exists():
                path.unlink()
                removed += 1
        return removed

    def purge(
        self, session: Session, config: Mapping[str, Any], now: datetime, *, dry_run: bool
    ) -> dict[str, int]:
        """Drop the raw bytes of processed mail older than RETENTION_RAW_MAIL_DAYS (one batch)."""
        days = int(config.get("RETENTION_RAW_MAIL_DAYS") or 0)
        if days <= 0:
            return {}
        expired = select(InboundMail.id).where(
            InboundMail.raw_dropped_at.is_(None),
            InboundMail.state.in_(_DONE_STATES),
            InboundMail.received_at < now - timedelta(days=days),
        )
        if dry_run:
            count = session.scalar(select(func.count()).select_from(expired.subquery()))
            return {"raw_mail": int(count or 0)}
        ids = list(session.scalars(expired.order_by(InboundMail.id).limit(RAW_MAIL_BATCH)))
        if ids:
            session.execute(
                update(InboundMail)
                .where(InboundMail.id.in_(ids))
                .values(raw=b"", raw_dropped_at=now)
                .execution_options(synchronize_session=False)
            )
        return {"raw_mail": len(ids)}
