"""Message-IDs of mail the web pages write cannot be predicted: naming one in In-Reply-To or
References joins its ticket, so a guessable one would let a stranger write into a customer's
conversation (their follow page shows it)."""

from __future__ import annotations

import random
from email import message_from_bytes

import pytest

from mailrouter.intake.queue import build_web_message, web_message_id


def test_the_id_does_not_follow_from_pythons_random(monkeypatch: pytest.MonkeyPatch) -> None:
    # make_msgid alone draws 64 bits from random (Mersenne Twister): with its state known (some
    # 300 IDs seen), every later ID is known; the time and process id add nothing secret.
    monkeypatch.setattr(random, "getrandbits", lambda bits: 7)
    monkeypatch.setattr("email.utils.time.time", lambda: 1_700_000_000.0)
    ids = {web_message_id("web", "example.com") for _ in range(50)}
    assert len(ids) == 50
    questions = {
        message_from_bytes(
            build_web_message(
                name="Wang Fang",
                email="wang.fang@example.net",
                subject="Kettle",
                body="Broken.",
                to_address="support@example.com",
            )
        )["Message-ID"]
        for _ in range(20)
    }
    assert len(questions) == 20
