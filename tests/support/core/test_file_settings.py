"""The models' file paths, remembered per process, are the paths worked out afresh."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailrouter.routing import model_store
from mailrouter.spam import verdict


@pytest.mark.parametrize(
    ("value", "setting"),
    [
        (None, "CLASSIFIER_MODEL_PATH"),
        ("", "SPAM_MODEL_PATH"),
        ("  ", "CLASSIFIER_MODEL_PATH"),
        ("~/models/classifier.pkl", "CLASSIFIER_MODEL_PATH"),
        (" /srv/desk/spam.npz ", "SPAM_MODEL_PATH"),
        ("relative/spam.npz", "SPAM_MODEL_PATH"),
    ],
)
def test_model_paths_are_those_worked_out_afresh(tmp_path, value, setting) -> None:
    path_of = model_store.model_path if setting == "CLASSIFIER_MODEL_PATH" else verdict.model_path
    default = (
        model_store.DEFAULT_FILENAME
        if setting == "CLASSIFIER_MODEL_PATH"
        else verdict.DEFAULT_MODEL_FILENAME
    )
    configured = str(value or "").strip()
    for folder in (tmp_path, str(tmp_path), tmp_path / "other"):
        expected = Path(configured).expanduser() if configured else Path(folder) / default
        for _ in range(2):  # worked out, then remembered
            assert path_of({setting: value}, folder) == expected
