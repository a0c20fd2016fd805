"""`GET /healthz`: is the database reachable? Load balancers and `support run` ask."""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, jsonify
from sqlalchemy.exc import SQLAlchemyError

from support.core.db import get_db

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    database = get_db()
    try:
        database.ping()
    except SQLAlchemyError as exc:
        log.warning("health check: database unreachable: %s", exc)
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok", dialect=database.dialect)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
