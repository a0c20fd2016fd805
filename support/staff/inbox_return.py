"""The way back from a ticket to the inbox as the agent left it: its filters and its page.

Each inbox page remembers its query (filters and page, as ``InboxFilters.as_args`` and
``Cursor.encode`` wrote them) in the signed session cookie, per inbox; the ticket page's
"‹ inbox" link, `u`, "Next ticket ›", `j` and every "... and next" read it back (through
``InboxFilters.from_args`` and ``Cursor.decode``, as any query: support.staff.tickets), so the
next ticket is the next one of the list the agent was working through, not of the unfiltered
queue. Remembered rather than carried in every form of the ticket page: an action's redirect
back keeps it without a field of its own.
"""

from __future__ import annotations

from flask import session

SESSION_KEY = "inbox_args"
#: Inboxes remembered at once (the oldest is forgotten): the cookie stays small.
MAX_REMEMBERED = 6
#: Characters of one remembered value (the inbox bounds its words to 200 already).
MAX_VALUE_CHARS = 200


def remember(key: str, args: dict[str, str]) -> None:
    """Keep the query the inbox ``key`` shows now; writes the cookie only when it changed."""
    stored = session.get(SESSION_KEY)
    stored = dict(stored) if isinstance(stored, dict) else {}
    if stored.get(key) == args or (key not in stored and not args):
        return
    stored.pop(key, None)
    if args:
        stored[key] = args
    session[SESSION_KEY] = dict(list(stored.items())[-MAX_REMEMBERED:])


def remembered(key: str) -> dict[str, str]:
    """The query the inbox ``key`` was last shown with ({} when none), to be read as a query."""
    stored = session.get(SESSION_KEY)
    found = stored.get(key) if isinstance(stored, dict) else None
    if not isinstance(found, dict):
        return {}
    return {str(k): str(v)[:MAX_VALUE_CHARS] for k, v in found.items()}
