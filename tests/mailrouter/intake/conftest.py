"""Fixtures shared by the intake tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from mailrouter.intake.smtp import SmtpIntakeService


@pytest.fixture
def intake(app: Flask) -> Iterator[SmtpIntakeService]:
    """The real SMTP intake of the test's app, listening on a free loopback port."""
    service = SmtpIntakeService.for_app(app)
    service.start()
    yield service
    service.stop()
