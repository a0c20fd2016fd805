"""FAQ answers for the reply box as JSON, so the ticket page inserts them without a reload;
the agent's text in Traditional characters, when they ask for it, for a customer who writes so.

Without JavaScript the reply form's own buttons do the same through a page reload
(support.staff.tickets.reply). Both are scoped to a ticket the user may see.
"""

from __future__ import annotations

from flask import abort, jsonify, request

from support.auth import current_user, login_required, visible_ticket_or_404
from support.core.db import db_session
from support.core.text import to_traditional
from support.core.web import in_reader_script
from support.desk.mail import customer_language, customer_writes_traditional
from support.staff import canned
from support.staff.blueprints import bp
from support.staff.forms import MAX_REPLY_CHARS, ActionForm

PREVIEW_CHARS = 200


@bp.get("/tickets/<int:ticket_id>/faq-answers")
@login_required
def faq_answers(ticket_id: int):
    """{"answers": [{"id", "question", "language", "preview"}]} for the FAQ search box."""
    user = current_user()
    assert user is not None
    session = db_session()
    ticket = visible_ticket_or_404(session, user, ticket_id)
    found = canned.search_answers(
        session, (request.args.get("q") or "")[:300], language=customer_language(ticket)
    )
    response = jsonify(
        {
            "answers": [
                {
                    "id": a.article_id,
                    # In the agent's own script, as the page around them (the answer goes
                    # into the reply in the customer's: use_faq_answer).
                    "question": in_reader_script(a.question),
                    "language": a.language,
                    "preview": in_reader_script(a.text[:PREVIEW_CHARS]),
                }
                for a in found
            ]
        }
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/tickets/<int:ticket_id>/faq-answers/<int:article_id>")
@login_required
def use_faq_answer(ticket_id: int, article_id: int):
    """{"text"}: the answer as plain text; counts the staff-use demand signal (hence POST)."""
    user = current_user()
    assert user is not None
    session = db_session()
    ticket = visible_ticket_or_404(session, user, ticket_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    traditional = customer_writes_traditional(ticket)
    answer = canned.use_answer(session, article_id, user, traditional=traditional)
    if answer is None:
        abort(404)
    return jsonify({"text": answer.text})


@bp.post("/tickets/<int:ticket_id>/reply-in-traditional")
@login_required
def reply_in_traditional(ticket_id: int):
    """{"text"}: the reply box's text in Traditional characters (support.core.text), for the
    agent's one click: an answer in Simplified went out inside a Traditional quote to a
    customer who writes Traditional. Only on the agent's request, never silently."""
    user = current_user()
    assert user is not None
    visible_ticket_or_404(db_session(), user, ticket_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    text = request.form.get("text") or ""
    if len(text) > MAX_REPLY_CHARS:
        abort(413)
    response = jsonify({"text": to_traditional(text)})
    response.headers["Cache-Control"] = "private, no-store"
    return response
