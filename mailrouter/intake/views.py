"""Staff pages for mail the worker could not process, and automatic mail with no ticket.

Leads and admins see why a message failed, read it exactly as received, and queue it again
once the cause is fixed; nothing that arrived is ever thrown away.
"""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from mailrouter.intake import queue
from mailrouter.models import InboundMail
from mailrouter.parsing import listed_headers
from support.auth import current_user, role_required
from support.core.db import db_session

log = logging.getLogger(__name__)

bp = Blueprint("quarantine", __name__, url_prefix="/staff/quarantine")

#: Characters of a raw message shown on the page; the download has all of it.
RAW_PREVIEW_CHARS = 200_000


def _inbound_or_404(inbound_id: int) -> InboundMail:
    """Quarantined or set-aside mail of the user's departments (the ticket rule); anything
    else is a 404, never a 403 that would confirm it exists."""
    user = current_user()
    assert user is not None  # role_required
    inbound = queue.held_for(db_session(), user, inbound_id)
    if inbound is None:
        abort(404)
    return inbound


@bp.get("/")
@role_required("lead")
def index():
    session = db_session()
    user = current_user()
    quarantined = queue.quarantined(session, visible_to=user)
    set_aside = queue.set_aside(session, visible_to=user)
    return render_template(
        "mail/quarantine.html",
        counts=queue.queue_counts(session),
        quarantined=quarantined,
        set_aside=set_aside,
        listed={row.id: listed_headers(row.raw) for row in [*quarantined, *set_aside]},
        inbound=None,
    )


@bp.get("/<int:inbound_id>")
@role_required("lead")
def show(inbound_id: int):
    inbound = _inbound_or_404(inbound_id)
    raw_text = inbound.raw.decode("utf-8", "replace")
    return render_template(
        "mail/quarantine.html",
        inbound=inbound,
        listed={inbound.id: listed_headers(inbound.raw)},
        raw_preview=raw_text[:RAW_PREVIEW_CHARS],
        truncated=len(raw_text) > RAW_PREVIEW_CHARS,
        can_replay=inbound.state == queue.QUARANTINED
        or (inbound.state == queue.PROCESSED and inbound.ticket_id is None),
    )


@bp.get("/<int:inbound_id>/raw")
@role_required("lead")
def raw(inbound_id: int):
    """The message exactly as received, to open in a mail program."""
    inbound = _inbound_or_404(inbound_id)
    response = Response(inbound.raw, mimetype="message/rfc822")
    response.headers["Content-Disposition"] = f'attachment; filename="inbound-{inbound.id}.eml"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/<int:inbound_id>/replay")
@role_required("lead")
def replay(inbound_id: int):
    session = db_session()
    _inbound_or_404(inbound_id)
    try:
        queue.replay(
            session,
            inbound_id,
            actor=current_user(),
            as_ticket=request.form.get("as_ticket") == "1",
        )
    except ValueError:
        flash(_("This message cannot be replayed (it is not quarantined or set aside)."), "error")
        return redirect(url_for("quarantine.show", inbound_id=inbound_id))
    flash(_("Message %(id)s is queued again.", id=inbound_id), "success")
    return redirect(url_for("quarantine.index"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
