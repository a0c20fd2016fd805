"""The FAQ's share of customers' data (``support.desk.privacy.PrivacyPart``): the text of mail
that matched no article ("questions we do not answer yet"), kept with its ticket.

Portal searches, votes and demand signals carry only a hashed visitor id, never a customer:
they are not per customer and expire by ``FAQ_SEARCH_RETENTION_DAYS``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from faq.models import UnansweredQuestion
from support.desk.models import Customer
from support.desk.privacy import ErasureScope


class FaqPrivacy:
    name = "faq"

    def export(
        self, session: Session, customer: Customer, ticket_ids: Sequence[int], *, include_raw: bool
    ) -> dict[str, Any]:
        rows: Iterable[UnansweredQuestion] = (
            session.scalars(
                select(UnansweredQuestion)
                .where(UnansweredQuestion.ticket_id.in_(ticket_ids))
                .order_by(UnansweredQuestion.id)
            )
            if ticket_ids
            else []
        )
        return {
            "unanswered_questions": [
                {
                    "text": row.text,
                    "language": row.language,
                    "created_at": row.created_at.isoformat(),
                }
                for row in rows
            ]
        }

    def erase(self, session: Session, scope: ErasureScope) -> dict[str, int]:
        if not scope.ticket_ids:
            return {}
        result = session.execute(
            delete(UnansweredQuestion)
            .where(UnansweredQuestion.ticket_id.in_(scope.ticket_ids))
            .execution_options(synchronize_session=False)
        )
        return {"unanswered_questions": int(getattr(result, "rowcount", 0) or 0)}

    def purge(
        self, session: Session, config: Mapping[str, Any], now: datetime, *, dry_run: bool
    ) -> dict[str, int]:
        return {}
