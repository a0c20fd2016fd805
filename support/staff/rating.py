"""The customer's rating page: the signed link from the resolution mail, confirmed by a POST."""

from __future__ import annotations

from flask import abort, current_app, render_template, request
from sqlalchemy import select

from mailrouter.tokens import verify_action
from support.core.db import db_session
from support.desk.models import Ticket
from support.desk.satisfaction import (
    RATED_STATUSES,
    RATING_ACTION,
    RATING_LINK_MAX_AGE_SECONDS,
    record_rating,
)
from support.staff.blueprints import public_bp
from support.staff.forms import RatingCommentForm


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
def rate(token: str):
    """GET preselects the score the customer clicked; POST records the chosen one and a comment."""
    ticket, rating = _ticket_for_token(token)
    if ticket is None or rating is None:
        return render_template("staff/rate.html", state="invalid"), 404
    if ticket.status not in RATED_STATUSES:
        return render_template("staff/rate.html", state="open", ticket=ticket), 409
    form = RatingCommentForm(score=rating)  # a POST without a score keeps the link's
    if request.method == "GET":
        return render_template(
            "staff/rate.html", state="confirm", ticket=ticket, rating=rating, form=form, token=token
        )
    if not form.validate_on_submit():
        abort(400)
    session = db_session()
    chosen = form.score.data if form.score.data in range(1, 6) else rating
    record_rating(session, ticket, chosen, (form.comment.data or "").strip())
    return render_template("staff/rate.html", state="thanks", ticket=ticket, rating=chosen)
