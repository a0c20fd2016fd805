"""The real bootstrap model, trained once per test run and shared by the modules that use it.

Training it costs 4.6 s of CPU (quiet), and test_decisions, test_cli and test_language_parity
each trained the very same model (the shipped examples, ``evaluate=False``; training is
deterministic, test_classifier holds it so). The first test process that needs it trains and
saves it under the run's temporary folder (the one every xdist process of this run shares,
under a file lock); each module gets its own copy of the file, as before, so a module that
changes its file changes no other's.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

import pytest

from mailrouter.routing.classifier import load_bootstrap_examples, save_bundle, train

#: What tests/conftest.py configures as the app's SECRET_KEY (the bundle's signing key).
SECRET_KEY = "test-secret-key-not-for-production"


@pytest.fixture(scope="session")
def trained_bootstrap_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bootstrap model's file, signed with SECRET_KEY: copy it, never change it."""
    base = tmp_path_factory.getbasetemp()
    run = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # this run's alone
    path = run / "bootstrap-classifier.pkl"
    with open(run / "bootstrap-classifier.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the others wait for the first to finish training
        if not path.exists():
            save_bundle(train(load_bootstrap_examples(), evaluate=False), path, SECRET_KEY.encode())
    return path


@pytest.fixture(scope="module")
def bundle_file(tmp_path_factory: pytest.TempPathFactory, trained_bootstrap_file: Path) -> Path:
    """The real bootstrap model in a file of this module's own."""
    path = tmp_path_factory.mktemp("model") / "classifier.pkl"
    shutil.copyfile(trained_bootstrap_file, path)
    return path
