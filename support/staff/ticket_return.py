"""Back to the ticket page after an action on it, in the inbox it was opened from.

The ticket page's `j`, its "... and next" buttons and its link back to the inbox follow
``?queue=``; every form on the page sends it as a hidden field, and every action (its success
and its refusal alike) comes back through here, so none of them drops it (adding a tag did).
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

#: Inbox keys are department codes (at most 40 characters) or "triage", "mine", ...: anything
#: longer is not one (the ticket page checks the key itself, support.staff.tickets.queue_key).
MAX_QUEUE_CHARS = 40


def queue_arg() -> str | None:
    """The inbox the request came from (form field or query), bounded; None when none."""
    return (request.values.get("queue") or "")[:MAX_QUEUE_CHARS] or None


def ticket_url(ticket_id: int) -> str:
    """The ticket page's address, keeping the inbox the agent works through."""
    return url_for("staff.ticket_page", ticket_id=ticket_id, queue=queue_arg())


def back_to_ticket(ticket_id: int, message: str = "", category: str = "info") -> Response:
    """Redirect to the ticket page (in the same inbox), after flashing ``message`` if any."""
    if message:
        flash(message, category)
    return redirect(ticket_url(ticket_id))
