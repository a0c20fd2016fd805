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

from flask import abort, current_app, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailrouter.tokens import sign_action, verify_action
from support.db import db_session, utcnow
from support.models import AuditEvent, Ticket
from support.staff.blueprints import public_bp
from support.staff.mail import enqueue, in_language, thread_headers

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
    from mailrouter.tokens import add_subject_token

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


def _ticket_for_token(token: str) -> tuple[Ticket | None, int | None]:
    payload = verify_action(
        current_app.config["SECRET_KEY"], token, RATING_ACTION, RATING_LINK_MAX_AGE_SECONDS
    )
    if payload is None or not payload["ticket_reference"]:
        return None, None
    rating = payload.get("rating")
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        return None, None
    ticket = db_session().scalar(
        select(Ticket).where(Ticket.reference == payload["ticket_reference"])
    )
    return ticket, rating


@public_bp.route("/rate/<token>", methods=["GET", "POST"])
def rate(token: str):  # noqa: ANN201
    """GET shows the rating the customer clicked; POST records it with an optional comment."""
    from support.staff.forms import RatingCommentForm

    ticket, rating = _ticket_for_token(token)
    if ticket is None or rating is None:
        return render_template("staff/rate.html", state="invalid"), 404
    if ticket.status not in RATED_STATUSES:
        return render_template("staff/rate.html", state="open", ticket=ticket), 409
    form = RatingCommentForm()
    if request.method == "GET":
        return render_template(
            "staff/rate.html", state="confirm", ticket=ticket, rating=rating, form=form, token=token
        )
    if not form.validate_on_submit():
        abort(400)
    _record_rating(db_session(), ticket, rating, (form.comment.data or "").strip())
    return render_template("staff/rate.html", state="thanks", ticket=ticket, rating=rating)


def _record_rating(session: Session, ticket: Ticket, rating: int, comment: str) -> None:
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
    session.commit()
