"""Staff side: login, inboxes, tickets, reports (replaced by the full staff package)."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.get("/")
def inbox():  # noqa: ANN201
    return "staff"


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
