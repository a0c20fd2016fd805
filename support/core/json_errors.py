"""The one shape of a JSON API error, whatever the status and wherever it is raised:

    {"error": <stable code>, "message": <text in the request's language>, ...details}

`error` is for programs and never changes with the language nor carries anything the client
sent: the HTTP reason phrase ("Bad Request", "Not Found", ...) where the status says it all, a
snake_case code where one status has several causes a program may tell apart (409 "warnings",
422 "refused", "tag_refused", "cc_refused", "unknown_department", "unknown_assignee"). The code
stays in `error` rather than a new field: `tag_refused` and `cc_refused` were there already and
clients test for them, and a second field would leave two places to look. `message` is for
people; a value of the client's it quotes is cut to ECHO_MAX_CHARS (`echo`: the pages' own
`support.core.text.quoted`) and the whole goes out JSON-escaped. Other fields (`warnings`) are
details of that error.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from support.core.text import QUOTED_MAX_CHARS, quoted

#: Longest value of the client's that a message quotes.
ECHO_MAX_CHARS = QUOTED_MAX_CHARS


def echo(value: object) -> str:
    """A value the client sent, as an error message quotes it: at most ECHO_MAX_CHARS."""
    return quoted(value, ECHO_MAX_CHARS)


def json_error(
    status: int,
    error: str,
    message: str,
    headers: list[tuple[str, str]] | None = None,
    **details: Any,
) -> Response:
    """The error response: `error` a stable code, `message` already in the request's language."""
    response = jsonify(error=error, message=str(message), **details)
    response.status_code = status
    for name, value in headers or []:
        response.headers[name] = value
    return response


def status_message(status: int) -> str:
    """What a status means, in the request's language, for errors raised without a message of
    their own (Werkzeug's descriptions are English)."""
    messages = {
        400: _("The request is malformed."),
        401: _("A valid Bearer token is required."),
        403: _("Your role may not do this."),
        404: _("There is nothing here, or nothing you may see."),
        405: _("This method is not allowed here; the Allow header lists those that are."),
        500: _("Something went wrong on the server. Try again later."),
        503: _("The service is unavailable for a moment. Try again later."),
    }
    return messages.get(status) or _("The request failed (HTTP %(status)s).", status=status)


def http_error(error: HTTPException, body_limit: str) -> Response:
    """A Werkzeug HTTP error (an abort(), a routing 404 or 405, a 413) as a JSON API error:
    its own description when a view gave one (in the request's language already), else what
    the status means; `body_limit` is the largest body as people read a size ("10 MB")."""
    status = error.code or 500
    message = error.description if error.description != type(error).description else None
    if message is None and status == 413:
        message = _("The request is larger than %(size)s.", size=body_limit)
    # The error's own headers say what to do next (a 405's Allow, a 401's WWW-Authenticate).
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    return json_error(status, error.name, message or status_message(status), headers)
