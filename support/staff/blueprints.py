"""The staff side's blueprints, defined once so every view module adds its routes to them."""

from __future__ import annotations

from flask import Blueprint

#: Staff pages under /staff (endpoint names such as `staff.inbox` are used by base.html).
bp = Blueprint("staff", __name__, url_prefix="/staff")
#: JSON API for integrations: token auth only, never cookies, so it is CSRF-exempt.
api_bp = Blueprint("api", __name__, url_prefix="/api/v1")
#: Pages customers reach from our mail without logging in (satisfaction rating).
public_bp = Blueprint("staff_public", __name__)
