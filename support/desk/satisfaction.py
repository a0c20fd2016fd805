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

from mailrouter.compose import AUTO_SUBMITTED_AUTO_GENERATED
from mailrouter.tokens import sign_action
from support.core.config import company_name, public_base_url
from support.core.db import utcnow
from support.core.text import to_traditional
from support.desk.mail import (
    customer_writes_traditional,
    enqueue,
    in_language,
    language_query,
    reply_subject,
    thread_headers,
)
from support.desk.models import AuditEvent, Ticket

log = logging.getLogger(__name__)

RATING_ACTION = "rate"
RATING_LINK_MAX_AGE_SECONDS = 60 * 24 * 3600
RATED_STATUSES = ("resolved", "closed")


def rating_token(ticket: Ticket, rating: int, config: Mapping[str, Any]) -> str:
    if not 1 <= rating <= 5:
        raise ValueError("a rating is 1 to 5")
    return sign_action(config["SECRET_KEY"], RATING_ACTION, ticket.reference or "", rating=rating)


def rating_links(
    ticket: Ticket, config: Mapping[str, Any], language: str | None = None
) -> dict[int, str]:
    """The five links, opening the rating page in ``language`` ("zh-Hant": Traditional), as
    the auto-reply's links do."""
    base = public_base_url(config)
    query = language_query(language)
    return {n: f"{base}/rate/{rating_token(ticket, n, config)}{query}" for n in range(5, 0, -1)}


def _links_language(ticket: Ticket) -> str:
    """The rating page's language: the customer's, in the characters they write."""
    if not (ticket.language or "").startswith("zh"):
        return "en"
    return "zh-Hant" if customer_writes_traditional(ticket) else "zh"


def survey_block(ticket: Ticket, config: Mapping[str, Any]) -> str:
    """The rating lines appended to a resolution mail (in the current language; the caller
    converts them for a customer who writes Traditional characters)."""
    labels = {
        5: _("5 - Excellent"),
        4: _("4 - Good"),
        3: _("3 - OK"),
        2: _("2 - Poor"),
        1: _("1 - Very poor"),
    }
    lines = ["-- ", _("How did we do? One click rates our help:")]
    links = rating_links(ticket, config, _links_language(ticket))
    lines += [_("%(rating)s: %(url)s", rating=labels[n], url=url) for n, url in links.items()]
    return "\n".join(lines)


def can_survey(ticket: Ticket) -> bool:
    return (
        ticket.status in RATED_STATUSES
        and bool(ticket.reference)
        and ticket.merged_into_id is None
        and ticket.customer is not None
        and ticket.customer.address_failing_at is None
    )


def _as_letter(
    ticket: Ticket, config: Mapping[str, Any], lines: list[str], *, traditional: bool
) -> str:
    """The rating mail as a letter: the customer greeted by name and the team signing before
    the rating links, as in the auto-reply (it was two bare lines and the links). The names
    stay as written; the rest is in the customer's script."""

    def script(text: str) -> str:
        return to_traditional(text) if traditional else text

    customer = ticket.customer
    name = (customer.name or "").strip() if customer is not None else ""
    language = "zh" if (ticket.language or "").startswith("zh") else "en"
    team = ticket.department.label(language) if ticket.department is not None else ""
    company = company_name(config, language)
    # gettext with no values leaves %(name)s in place: converted first, filled in after.
    greeting = script(_("Dear %(name)s,")) % {"name": name} if name else script(_("Hello,"))
    closing = (
        script(_("Kind regards,\n%(team)s team\n%(company)s"))
        % {"team": script(team), "company": company}
        if team
        else script(_("Kind regards,\n%(company)s")) % {"company": company}
    )
    body = script("\n".join(lines))
    return "\n".join([greeting, "", body, "", closing, "", script(survey_block(ticket, config))])


def send_survey(session: Session, ticket: Ticket, config: Mapping[str, Any]) -> Any:
    """Mail the rating links for a ticket just resolved; None when it cannot be surveyed."""
    if not can_survey(ticket):
        return None

    in_reply_to, references = thread_headers(ticket)
    with in_language(ticket.language):
        subject = reply_subject(ticket)
        # "Our answer" only when there was one: a request resolved unanswered (thanks, a
        # duplicate, solved by the customer) is just resolved.
        opening = (
            _("Your request has been resolved. We hope our answer helped.")
            if ticket.first_response_at is not None
            else _("Your request has been resolved.")
        )
        traditional = customer_writes_traditional(ticket)
        text = _as_letter(
            ticket,
            config,
            [opening, _("If anything is still open, simply reply to this mail.")],
            traditional=traditional,  # as the reply that resolves is
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
        auto_submitted=AUTO_SUBMITTED_AUTO_GENERATED,  # sent on resolving, answering no mail
        department=ticket.department,
        config=config,
        language=ticket.language,
        traditional=traditional,
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
