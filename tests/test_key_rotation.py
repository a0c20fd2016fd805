"""A new SECRET_KEY without `support train --force`: one process retrains, the others wait.

The key signs the classifier file, so after a rotation every copy (each host's file and the
database's) is refused. Every serving process trained its own at start (eight processes of two
hosts at once, minutes each at a load of 20). Now one trains under a lease and the others wait
for its model and load it from the database. Two hosts' processes on one PostgreSQL database.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.processes import Desk, desk_on_own_database, on_postgresql, wait_for

NEW_KEY = "the-rotated-secret-key-abcdefghijklmnopqrstuvwxyz"

pytestmark = on_postgresql("two hosts share their database over the network")


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    yield from desk_on_own_database(tmp_path_factory, "key_rotation")


def test_after_a_key_rotation_one_process_retrains_and_the_other_loads_its_model(
    desk: Desk, tmp_path_factory: pytest.TempPathFactory
) -> None:
    runs_before = desk.scalar("SELECT count(*) FROM classifier_runs")
    other_host = tmp_path_factory.mktemp("other-host")  # no model file: it takes the database's
    processes = [
        desk.start("worker", "--until-idle", SECRET_KEY=NEW_KEY),
        desk.start("worker", "--until-idle", SECRET_KEY=NEW_KEY, INSTANCE_PATH=str(other_host)),
    ]
    try:
        for process in processes:
            wait_for("the command to end", lambda p=process: p.process.poll() is not None, 300)
    finally:
        for process in processes:
            process.kill()
    logs = [process.output() for process in processes]
    assert [process.process.returncode for process in processes] == [0, 0], logs
    assert desk.scalar("SELECT count(*) FROM classifier_runs") == runs_before + 1, logs
    assert sum("trained model" in log for log in logs) == 1, logs
    assert sum("waiting for its model" in log for log in logs) == 1, logs
    # Both hosts now hold the one new model, signed with the new key, as the database does.
    stored = desk.scalar("SELECT content FROM stored_files WHERE name = 'classifier'")
    assert (desk.instance / "classifier.pkl").read_bytes() == bytes(stored)
    assert (other_host / "classifier.pkl").read_bytes() == bytes(stored)
