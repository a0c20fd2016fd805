"""The browser tests' live server (tests/browser_tools.py) stops only after the requests it
accepted: one still running used the database after the `app` fixture disposed its engine, and
its connection, in no pool, was found open by a later test's garbage collection."""

from __future__ import annotations

import threading
import time
import urllib.request

from flask import Flask
from sqlalchemy import text

from support.core.db import Database
from tests.browser_tools import live_server


def test_a_request_in_flight_ends_before_the_live_server_returns(app: Flask, db: Database) -> None:
    # As the ticket page's pagehide beacon: it reaches the server while the test ends.
    checked_out = threading.Event()
    finished: list[str] = []

    def slow() -> str:
        with db.session() as session:
            session.execute(text("SELECT 1"))
            checked_out.set()
            time.sleep(2)  # longer than the server's shutdown (its loop polls every 0.5 s)
        finished.append("done")
        return "done"

    app.add_url_rule("/slow-request", view_func=slow)
    answers: list[bytes] = []
    with live_server(app) as base_url:
        client = threading.Thread(
            target=lambda: answers.append(urllib.request.urlopen(f"{base_url}/slow-request").read())
        )
        client.start()
        assert checked_out.wait(timeout=30)
    # What the app fixture's teardown (engine.dispose) would now find:
    assert db.engine.pool.checkedout() == 0
    assert finished == ["done"]
    client.join(timeout=30)
    assert answers == [b"done"]
