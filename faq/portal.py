"""The customer-facing FAQ portal (replaced by the full portal)."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template

bp = Blueprint("faq", __name__)


@bp.get("/")
def home():  # noqa: ANN201
    return render_template("faq/home.html")


@bp.get("/search")
def search():  # noqa: ANN201
    return render_template("faq/home.html")


@bp.get("/suggest")
def suggest():  # noqa: ANN201
    return {"suggestions": []}


@bp.get("/contact")
def contact():  # noqa: ANN201
    return render_template("faq/home.html")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
