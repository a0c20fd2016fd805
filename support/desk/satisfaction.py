"""Customer satisfaction: 1-5 rating links in the resolution mail, no login needed.

A link opens a page showing the rating with a "Send rating" button (and an optional comment); only
that POST records it. Mail security scanners (Safe Links and the like) open every link of a
mail, so recording on GET would store whichever of the five links they fetched last.

The links are signed (itsdangerous, SECRET_KEY, one salt for this action) and carry the ticket
reference and the rating. Only resolved or closed tickets can be rated: an open ticket is
never surveyed, and a ticket reopened since the mail was sent refuses the rating.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from mailrouter.tokens import add_subject_token, sign_action
from support.core.db import utcnow
from support.desk.mail import enqueue, in_language, thread_headers
from support.desk.models import AuditEvent, Ticket

log = logging.getLogger(__name__)

RATING_ACTION = "rate"
RATING_LINK_MAX_AGE_SECONDS = 60 * 24 * 3600
RATED_STATUSES = ("resolved", "closed")


def rating_token(ticket: Ticket, rating: int, config: Mapping[str, Any]) -> str:
    if not 1 <= rating <= 5:
        raise ValueError("a rating is 1 to 5")
    return sign_action(config["SECRET_KEY"], RATING_ACTION, ticket.reference or "", rating=rating)


def rating_links(ticket: Ticket, config: Mapping[str, Any]) -> dict[int, str]:
    base = config["PUBLIC_BASE_URL"].rstrip("/")
    return {n: f"{base}/rate/{rating_token(ticket, n, config)}" for n in range(5, 0, -1)}


def survey_block(ticket: Ticket, config: Mapping[str, Any]) -> str:
    """The rating lines appended to a resolution mail (in the current language)."""
    labels = {
        5: _("5 - Excellent"),
        4: _("4 - Good"),
        3: _("3 - OK"),
        2: _("2 - Poor"),
        1: _("1 - Very poor"),
    }
    lines = ["-- ", _("How did we do? One click rates our help:")]
    lines += [f"{labels[n]}: {url}" for n, url in rating_links(ticket, config).items()]
    return "\n".join(lines)


def can_survey(ticket: Ticket) -> bool:
    return (
        ticket.status in RATED_STATUSES
        and bool(ticket.reference)
        and ticket.merged_into_id is None
        and ticket.customer is not None
        and ticket.customer.address_failing_at is None
    )


def send_survey(session: Session, ticket: Ticket, config: Mapping[str, Any]) -> Any:
    """Mail the rating links for a ticket just resolved; None when it cannot be surveyed."""
    if not can_survey(ticket):
        return None

    in_reply_to, references = thread_headers(ticket)
    with in_language(ticket.language):
        subject = add_subject_token(
            _("Re: %(subject)s", subject=ticket.subject), ticket.reference or ""
        )
        text = "\n".join(
            [
                _("Your request has been resolved. We hope our answer helped."),
                _("If anything is still open, simply reply to this mail."),
                "",
                survey_block(ticket, config),
            ]
        )
    return enqueue(
        session,
        ticket=ticket,
        kind="survey",
        to=[ticket.customer.email],
        subject=subject,
        text=text,
        in_reply_to=in_reply_to,
        references=references,
        automatic=True,
        department=ticket.department,
        config=config,
    )


def record_rating(session: Session, ticket: Ticket, rating: int, comment: str) -> None:
    previous = ticket.satisfaction_rating
    ticket.satisfaction_rating = rating
    ticket.satisfaction_at = utcnow()
    if comment:
        ticket.satisfaction_comment = comment
    session.add(
        AuditEvent(
            actor_label="customer",
            action="ticket.rated",
            ticket_id=ticket.id,
            subject_type="ticket",
            subject_id=ticket.id,
            data={"rating": rating, "previous": previous, "commented": bool(comment)},
        )
    )
    session.flush()
