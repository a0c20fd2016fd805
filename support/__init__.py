"""Email and FAQ self-service support system: the application factory."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE_PATH = PROJECT_ROOT / "instance"


def create_app(
    test_config: Mapping[str, Any] | None = None, *, instance_path: str | Path | None = None
) -> Flask:
    """Wire the application together. Nothing here touches the network or migrates the schema."""
    from support import config as config_module

    instance = Path(instance_path or DEFAULT_INSTANCE_PATH).resolve()
    app = Flask(
        __name__,
        instance_path=str(instance),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "templates" / "static"),
        static_url_path="/static",
    )
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config.update(config_module.load_config(instance, overrides=test_config))
    app.config["MAX_CONTENT_LENGTH"] = 16 * 1024 * 1024
    instance.mkdir(parents=True, exist_ok=True)
    logging.getLogger().setLevel(app.config["LOG_LEVEL"])

    from support import db, health, web

    db.init_app(app)
    web.init_app(app)
    health.init_app(app)
    return app
