"""Which services `support run` starts, in start order."""

from __future__ import annotations

from flask import Flask

from support.runner import Service, WebService


def all_services(app: Flask) -> list[Service]:
    return [WebService(app)]
