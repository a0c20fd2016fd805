"""The staff shell's search: a reference jumps to its ticket; anything else searches the
tickets the user may see (subject, message texts, customer) through `support.desk.search`."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from markupsafe import Markup

from support.auth import current_user, login_required
from support.core.db import db_session
from support.core.fulltext import MAX_QUERY_CHARS
from support.core.web import page_number
from support.desk import search as ticket_search
from support.staff.blueprints import bp


@bp.get("/search")
@login_required
def search():
    user = current_user()
    assert user is not None
    session = db_session()
    query = (request.args.get("q") or "").strip()[:MAX_QUERY_CHARS]
    page = page_number(request.args.get("page"), ticket_search.MAX_PAGES)
    ticket = ticket_search.ticket_by_reference(session, user, query) if query else None
    if ticket is not None:
        return redirect(url_for("staff.ticket_page", ticket_id=ticket.id))
    results = ticket_search.search_tickets(session, user, query, page) if query else None
    # Escaped by support.core.snippets, the searched words in <mark>.
    excerpts = {i: Markup(e.html) for i, e in results.excerpts.items()} if results else {}
    return render_template("staff/search.html", query=query, results=results, excerpts=excerpts)
