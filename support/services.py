"""Which services `support run` starts, in start order (stopped in reverse order)."""

from __future__ import annotations

from flask import Flask

from support.runner import Service, WebService


def all_services(app: Flask) -> list[Service]:
    """The worker and background senders first, then the listeners that take new work."""
    from faq import index_sync
    from mailrouter import intake_cli, outbox, training
    from support import sla

    return [
        *outbox.services(app),
        *sla.services(app),
        *training.services(app),
        *index_sync.services(app),
        *intake_cli.services(app),
        WebService(app),
    ]
