"""The OpenAPI 3 description of /api/v1, served at /api/v1/openapi.json.

It states exactly what the API accepts (ranges, lengths, enums, nullability): a request
outside it is answered 400 (or 404 for an id beyond any ticket), never 500.
"""

from __future__ import annotations

from typing import Any

from support.core.db import MAX_ID
from support.core.json_errors import ECHO_MAX_CHARS
from support.desk.models import CUSTOMER_TIERS
from support.desk.reply_cc import MAX_CC
from support.desk.tags import MAX_TAGS, MAX_TYPED_CHARS, TAG_MAX_CHARS
from support.staff.forms import MAX_REPLY_CHARS

#: Text that is not blank.
NOT_BLANK = r"\S"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "404": {"$ref": "#/components/responses/NotFound"},
    "default": {"$ref": "#/components/responses/OtherError"},
}
#: The errors of an operation with a request body: those of every operation and a 413.
_BODY_ERRORS = {**_ERRORS, "413": {"$ref": "#/components/responses/TooLarge"}}
#: The codes in an error's `error` field besides the HTTP reason phrases.
ERROR_CODES = (
    "warnings",
    "refused",
    "tag_refused",
    "cc_refused",
    "unknown_department",
    "unknown_assignee",
)
_TICKET_ID = {
    "name": "ticket_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
}


_TEXT = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_REPLY_CHARS,
    "pattern": NOT_BLANK,
    "description": "not blank; no NUL characters",
}


_TAG = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_TYPED_CHARS,
    "description": "a tag as typed; no NUL characters",
}


def openapi_document(base_url: str) -> dict[str, Any]:
    nullable_time = {"type": "string", "format": "date-time", "nullable": True}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Support desk staff API",
            "version": "1.0.0",
            "description": (
                "Tickets and FAQ search for staff integrations. Authenticate with "
                "`Authorization: Bearer <token>` (create a token on the account page or with "
                "`support create-api-token EMAIL`). Access rules are the staff pages' own: a "
                "ticket outside your departments is a 404. Every error is one JSON object"
                " (`Error`): `error` a stable code for programs, `message` for people in the"
                " request's language."
            ),
        },
        "servers": [{"url": base_url.rstrip("/") + "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/me": {
                "get": {
                    "summary": "The token's user and their inboxes",
                    "responses": {"200": _json({"type": "object"}, "the user"), **_ERRORS},
                }
            },
            "/tickets": {
                "get": {
                    "summary": "One inbox, most urgent first, then by due time",
                    "parameters": [
                        {
                            "name": "view",
                            "in": "query",
                            "schema": {"type": "string"},
                            "description": "department code, `triage` or `mine`",
                        },
                        {
                            "name": "status",
                            "in": "query",
                            "schema": {
                                "type": "string",
                                "enum": ["open", "all", "new", "waiting", "resolved", "closed"],
                            },
                        },
                        {
                            "name": "urgency",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 5},
                        },
                        {
                            "name": "sla",
                            "in": "query",
                            "schema": {
                                "type": "string",
                                "enum": ["on_track", "due_soon", "breached"],
                            },
                        },
                        {
                            "name": "assignee",
                            "in": "query",
                            "schema": {"type": "string", "pattern": "^(me|none|[0-9]{1,19})$"},
                            "description": "`me`, `none` or a user id (1 to 2^63-1)",
                        },
                        {
                            "name": "q",
                            "in": "query",
                            "schema": {"type": "string", "maxLength": 200},
                            "description": "text in the subject or the customer's name/address",
                        },
                        {
                            "name": "tag",
                            "in": "query",
                            "schema": {"type": "string", "maxLength": 200},
                            "description": "only tickets with this tag (read as the staff"
                            " pages read it: case, a leading # and Traditional characters"
                            " aside); a text no tag could be is no filter",
                        },
                        {
                            "name": "after",
                            "in": "query",
                            "schema": {"type": "string"},
                            "description": "the `next` cursor of the previous page",
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": 200,
                                "default": 50,
                            },
                        },
                    ],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "view": {"type": "string"},
                                    "tickets": {"type": "array", "items": _ref("Ticket")},
                                    "next": {"type": "string", "nullable": True},
                                },
                            },
                            "a page of tickets",
                        ),
                        **_ERRORS,
                    },
                }
            },
            "/tickets/{ticket_id}": {
                "parameters": [_TICKET_ID],
                "get": {
                    "summary": "A ticket with its conversation",
                    "responses": {"200": _json(_ref("TicketDetail"), "the ticket"), **_ERRORS},
                },
                "patch": {
                    "summary": "Change department, urgency, assignee or status",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("TicketUpdate")}},
                    },
                    "responses": {
                        "200": _json(_ref("Ticket"), "the updated ticket"),
                        "422": {"$ref": "#/components/responses/Refused"},
                        **_BODY_ERRORS,
                    },
                },
            },
            "/tickets/{ticket_id}/reply": {
                "parameters": [_TICKET_ID],
                "post": {
                    "summary": "Send a reply to the customer (from the department's address)",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("Reply")}},
                    },
                    "responses": {
                        "201": _json({"type": "object"}, "queued for sending"),
                        "409": _json(
                            {
                                "allOf": [
                                    _ref("Error"),
                                    {
                                        "type": "object",
                                        "properties": {
                                            "warnings": {
                                                "type": "array",
                                                "items": _ref("PhraseWarning"),
                                            },
                                            "reply_language": _ref("ReplyLanguage"),
                                        },
                                    },
                                ]
                            },
                            "`warnings`: phrases to reconsider; resend with send_anyway=true."
                            " `reply_language`: the reply is in English and the customer's"
                            " latest mail in Chinese, or the reverse; resend with"
                            " language_checked=true. Held for both: error `warnings` with"
                            " both fields",
                        ),
                        "422": {"$ref": "#/components/responses/Refused"},
                        **_BODY_ERRORS,
                    },
                },
            },
            "/tickets/{ticket_id}/notes": {
                "parameters": [_TICKET_ID],
                "post": {
                    "summary": "Add an internal note. `@name` or `@address` in the text tells"
                    " that colleague by mail (`mentioned` lists them); naming someone who may"
                    " not open the ticket is a 422 `mention_refused`",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["text"],
                                    "properties": {"text": _TEXT},
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "message_id": {"type": "integer"},
                                    "mentioned": {"type": "array", "items": {"type": "string"}},
                                },
                            },
                            "added",
                        ),
                        "422": {"$ref": "#/components/responses/Refused"},
                        **_BODY_ERRORS,
                    },
                },
            },
            "/tickets/{ticket_id}/tags": {
                "parameters": [_TICKET_ID],
                "post": {
                    "summary": "Put a tag on the ticket, read as the staff pages read it (case,"
                    " a leading # and Traditional characters aside; spaces become -): letters,"
                    f" digits and - _ . only, at most {TAG_MAX_CHARS} characters, at most"
                    f" {MAX_TAGS} tags a ticket; otherwise a 422 `tag_refused`. A line in the"
                    " ticket's history",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["tag"],
                                    "additionalProperties": False,
                                    "properties": {"tag": _TAG},
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": _json(_ref("TagChange"), "added"),
                        "200": _json(_ref("TagChange"), "the ticket had the tag already"),
                        "422": {"$ref": "#/components/responses/Refused"},
                        **_BODY_ERRORS,
                    },
                },
            },
            "/tickets/{ticket_id}/tags/{tag}": {
                "parameters": [
                    _TICKET_ID,
                    {"name": "tag", "in": "path", "required": True, "schema": _TAG},
                ],
                "delete": {
                    "summary": "Take a tag off the ticket (`REFUND` names `refund`); a 404 when"
                    " the ticket does not carry it. A line in the ticket's history",
                    "responses": {
                        "200": _json(_ref("TagChange"), "removed"),
                        "422": {"$ref": "#/components/responses/Refused"},
                        **_ERRORS,
                    },
                },
            },
            "/customers/{customer_id}": {
                "parameters": [
                    {
                        "name": "customer_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                    }
                ],
                "patch": {
                    "summary": "Set a customer's tier (admins and leads): key and vip are key "
                    "accounts, with the tier's response targets; a customer with tickets only "
                    "in departments the caller does not work is a 404",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["tier"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "tier": {"type": "string", "enum": list(CUSTOMER_TIERS)}
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _json({"type": "object"}, "the customer"),
                        "403": {"$ref": "#/components/responses/Forbidden"},
                        **_BODY_ERRORS,
                    },
                },
            },
            "/faq/search": {
                "get": {
                    "summary": "FAQ articles answering a question",
                    "parameters": [
                        {
                            "name": "q",
                            "in": "query",
                            "required": True,
                            "schema": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": 500,
                                "pattern": NOT_BLANK,
                            },
                            "description": "the question (not blank)",
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": 20,
                                "default": 5,
                            },
                        },
                    ],
                    "responses": {"200": _json({"type": "object"}, "matching articles"), **_ERRORS},
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This description",
                    "security": [],
                    "responses": {"200": _json({"type": "object"}, "OpenAPI 3 document")},
                }
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "BadRequest": _json(_ref("Error"), "the request is malformed"),
                "Unauthorized": _json(_ref("Error"), "no valid Bearer token"),
                "NotFound": _json(_ref("Error"), "no such ticket, or not one of yours"),
                "Refused": _json(
                    _ref("Error"),
                    "the rules refuse the change: `error` is `refused`, or for a cause a program"
                    " may act on `unknown_department`, `unknown_assignee`, `tag_refused` or"
                    " `cc_refused`",
                ),
                "Forbidden": _json(_ref("Error"), "your role may not do this"),
                "TooLarge": _json(_ref("Error"), "the request body is too large"),
                "OtherError": _json(
                    _ref("Error"),
                    "any other error (405 with an Allow header, 500, 503): the same shape",
                ),
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "description": "Every error, whatever its status. Not cached"
                    " (`Cache-Control: private, no-store`).",
                    "required": ["error", "message"],
                    "properties": {
                        "error": {
                            "type": "string",
                            "description": "for programs: the same in every language and"
                            " never text the client sent; the HTTP reason phrase (`Bad"
                            " Request`, `Unauthorized`, `Forbidden`, `Not Found`, `Method Not"
                            " Allowed`, `Request Entity Too Large`, `Internal Server Error`,"
                            " `Service Unavailable`) or, where one status has causes a program"
                            " may tell apart, one of: " + ", ".join(f"`{c}`" for c in ERROR_CODES),
                        },
                        "message": {
                            "type": "string",
                            "description": "for people, in the request's language (`?lang=`,"
                            " the `lang` cookie, then Accept-Language: `zh` or `en`, in"
                            " Traditional characters for `zh-TW`, `zh-HK`, `zh-MO` or"
                            " `zh-Hant`; a request naming none gets the token owner's own"
                            " language; answers carry `Vary: Accept-Language, Cookie,"
                            " Authorization`); a value of the client's it quotes is cut to"
                            f" {ECHO_MAX_CHARS} characters and never converted",
                        },
                    },
                    "additionalProperties": True,
                },
                "Ticket": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "reference": {"type": "string"},
                        "subject": {"type": "string"},
                        "status": {
                            "type": "string",
                            "enum": ["new", "open", "waiting", "resolved", "closed"],
                        },
                        "urgency": {"type": "integer", "minimum": 1, "maximum": 5},
                        "department": {"type": "string", "nullable": True},
                        "needs_triage": {"type": "boolean"},
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "refers_to": {
                            "type": "string",
                            "nullable": True,
                            "description": "the reference of the ticket a stranger's mail"
                            " named (this ticket was opened instead of joining that one), when"
                            " you may see that ticket too; else null",
                        },
                        "merged_into": {
                            "type": "integer",
                            "nullable": True,
                            "description": "the id of the ticket this one was merged into"
                            " (its status is then closed), when you may see that ticket too;"
                            " else null",
                        },
                        "assignee": {"type": "object", "nullable": True},
                        "customer": {"type": "object"},
                        "created_at": {"type": "string", "format": "date-time"},
                        "first_response_due_at": nullable_time,
                        "first_response_at": nullable_time,
                        "resolution_due_at": nullable_time,
                        "sla_state": {
                            "type": "string",
                            "nullable": True,
                            "enum": ["on_track", "due_soon", "breached", None],
                        },
                        "sla_paused": {"type": "boolean"},
                        "snoozed_until": nullable_time,
                        "escalated_at": nullable_time,
                        "url": {"type": "string"},
                    },
                },
                "TicketDetail": {
                    "allOf": [
                        _ref("Ticket"),
                        {
                            "type": "object",
                            "properties": {
                                "classification": {
                                    "type": "object",
                                    "description": "the classifier's decision as stored;"
                                    " urgency.repeat_of names the customer's earlier report"
                                    " (ticket_id, reference) only when you may see that"
                                    " ticket, else both are null",
                                },
                                "messages": {"type": "array", "items": _ref("Message")},
                            },
                        },
                    ]
                },
                "Message": {
                    "type": "object",
                    "properties": {
                        "attachments": {"type": "array", "items": _ref("Attachment")},
                    },
                },
                "Attachment": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "filename": {"type": "string"},
                        "content_type": {"type": "string"},
                        "size": {"type": "integer"},
                        "url": {
                            "type": "string",
                            "nullable": True,
                            "description": "the staff page's download of the file (signed in,"
                            " as the ticket's url); null when the file was not kept",
                        },
                        "picture_url": {
                            "type": "string",
                            "nullable": True,
                            "description": "the staff page's view of a PNG, JPEG, GIF or WebP"
                            " picture (by its bytes; never SVG), as the ticket page's thumbnails"
                            " show it; null for any other file or one not kept",
                        },
                    },
                },
                "TicketUpdate": {
                    "type": "object",
                    "properties": {
                        "department": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 40,
                            "description": "department code",
                        },
                        "urgency": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 5,
                            "description": "4 (important) or 5 (emergency) ends a snooze: those"
                            " are handled now and never snoozed",
                        },
                        "assignee": {
                            "description": "user id, email address or null (unassigned)",
                            "nullable": True,
                            "oneOf": [
                                {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                                {"type": "string", "minLength": 1, "maxLength": 254},
                            ],
                        },
                        "status": {"type": "string", "enum": ["open", "waiting", "resolved"]},
                    },
                    "additionalProperties": False,
                },
                "Reply": {
                    "type": "object",
                    "required": ["text"],
                    "properties": {
                        "text": _TEXT,
                        "send_anyway": {
                            "type": "boolean",
                            "default": False,
                            "description": "send despite the phrase warnings (409 `warnings`)",
                        },
                        "language_checked": {
                            "type": "boolean",
                            "default": False,
                            "description": "the reply's language differs from the customer's"
                            " on purpose (409 `reply_language` otherwise)",
                        },
                        "cc": {
                            "description": "Copies: addresses of the ticket's conversation"
                            " only (those the customer's mail came from, went to or copied,"
                            f" and earlier replies' copies), at most {MAX_CC}; any other or"
                            " more is a 422 `cc_refused`",
                            "type": "array",
                            "items": {"type": "string", "format": "email"},
                            "maxItems": MAX_CC,
                        },
                        "then": {
                            "type": "string",
                            "enum": ["open", "waiting", "resolved"],
                            "default": "open",
                        },
                    },
                },
                "TagChange": {
                    "type": "object",
                    "properties": {
                        "tag": {"type": "string", "description": "the tag as stored"},
                        "added": {"type": "boolean"},
                        "removed": {"type": "boolean"},
                        "tags": {
                            "type": "array",
                            "items": {"type": "string"},
                            "description": "the ticket's tags now",
                        },
                    },
                },
                "ReplyLanguage": {
                    "type": "object",
                    "properties": {
                        "written": {"type": "string", "enum": ["en", "zh"]},
                        "customer": {"type": "string"},
                    },
                },
                "PhraseWarning": {
                    "type": "object",
                    "properties": {
                        "phrase": {"type": "string"},
                        "category": {"type": "string"},
                        "suggestion": {"type": "string"},
                        "start": {"type": "integer"},
                        "end": {"type": "integer"},
                    },
                },
            },
        },
    }
