"""The classifier model of this process: loaded once, reloaded when the file changes.

Routing asks for the model on every new ticket, so the file is only read again when its
identity (inode, size, modification time) changes: `support train` in another process
replaces it atomically and every worker picks the new model up on its next message.

On several hosts the file travels through the database (support.core.stored_files): training
publishes it, and `current_model` takes a newer copy into this host's file at most every
MODEL_SYNC_SECONDS, so every host switches to a new model within that time, atomically.

A missing, corrupt, tampered or outdated file means "no model": routing then decides by the
recipient address and the urgency keywords only, and the reason is logged once per file
version, not once per message.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from support.core.config import default_instance_path, file_setting_path
from support.core.db import get_db
from support.core.stored_files import FileMirror

if TYPE_CHECKING:
    from mailrouter.routing.classifier import ClassifierBundle

log = logging.getLogger(__name__)

DEFAULT_FILENAME = "classifier.pkl"


def model_path(
    config: Mapping[str, Any], instance_path: str | os.PathLike[str] | None = None
) -> Path:
    """CLASSIFIER_MODEL_PATH, or classifier.pkl in the instance folder."""
    if instance_path is None:
        instance_path = current_app.instance_path if has_app_context() else default_instance_path()
    return file_setting_path(config, "CLASSIFIER_MODEL_PATH", instance_path, DEFAULT_FILENAME)


def signing_key(config: Mapping[str, Any]) -> bytes:
    """The model file is signed with the app's SECRET_KEY (see classifier.save_bundle)."""
    return str(config["SECRET_KEY"]).encode("utf-8")


Model = TypeVar("Model")


@dataclass(frozen=True)
class _Loaded(Generic[Model]):
    path: Path
    key: bytes
    identity: tuple[int, int, int] | None  # (inode, size, mtime_ns); None: no file
    bundle: Model | None


def load_classifier(path: Path, key: bytes) -> ClassifierBundle | None:
    """`classifier.load_bundle`, importing scikit-learn only when a model is loaded: the
    pages and commands that import this module without loading a model then start in a
    fraction of the time."""
    from mailrouter.routing.classifier import load_bundle

    return load_bundle(path, key)


class ModelStore(Generic[Model]):
    """Holds one loaded model and the identity of the file it came from (thread-safe).

    ``loader(path, key)`` reads a file (None when it refuses it, having logged why); the
    classifier's by default. The spam filter keeps its model in a store of its own.
    """

    def __init__(
        self,
        loader: Callable[[Path, bytes], Model | None] = load_classifier,  # type: ignore[assignment]
        *,
        name: str = "classifier",
        missing: str = "no classifier model at %s: routing by address and urgency keywords "
        "only (run `support train`)",
    ) -> None:
        self._lock = threading.Lock()
        self._loaded: _Loaded[Model] | None = None
        self._loader = loader
        self._missing = missing
        self._name = name

    def get(self, path: Path, key: bytes, *, warn_missing: bool = True) -> Model | None:
        """The model in ``path``, or None when there is none that may be used (with the
        ``missing`` line when there is no file, unless the caller is about to train one)."""
        identity = _identity(path)
        loaded = self._loaded
        if _is_current(loaded, path, key, identity):
            return loaded.bundle  # type: ignore[union-attr]
        with self._lock:
            loaded = self._loaded
            if _is_current(loaded, path, key, identity):
                return loaded.bundle  # type: ignore[union-attr]
            if identity is None:
                if self._missing and warn_missing:
                    log.warning(self._missing, path)
                bundle = None
            else:
                bundle = self._loader(path, key)  # logs its one line when it refuses the file
                if bundle is not None:
                    version = getattr(bundle, "model_version", "")
                    named = f"{self._name} {version}" if version else self._name
                    log.info("%s loaded from %s", named, path)
            self._loaded = _Loaded(path, key, identity, bundle)
            return bundle

    def forget(self) -> None:
        """Drop the loaded model; the next call reads the file again."""
        with self._lock:
            self._loaded = None


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _is_current(
    loaded: _Loaded[Any] | None, path: Path, key: bytes, identity: tuple[int, int, int] | None
) -> bool:
    return (
        loaded is not None
        and loaded.path == path
        and loaded.key == key
        and loaded.identity == identity
    )


_store: ModelStore[ClassifierBundle] = ModelStore()
_shared = FileMirror("classifier")


def current_model(
    config: Mapping[str, Any],
    instance_path: str | os.PathLike[str] | None = None,
    *,
    warn_missing: bool = True,
    sync_now: bool = False,
) -> ClassifierBundle | None:
    """The model routing should use now, or None (rules-only routing). ``warn_missing=False``:
    no "run `support train`" line for a missing file (`ensure_model` trains one right away);
    ``sync_now``: look for a newer copy in the database now (a process waiting for another's
    training), not MODEL_SYNC_SECONDS after the last look."""
    path = model_path(config, instance_path)
    refresh_from_database(_shared, path, config, every=0.0 if sync_now else None)
    return _store.get(path, signing_key(config), warn_missing=warn_missing)


def refresh_from_database(
    mirror: FileMirror, path: Path, config: Mapping[str, Any], *, every: float | None = None
) -> None:
    """Take a model trained on another host into ``path`` (inside an app, at most every
    ``every`` seconds, MODEL_SYNC_SECONDS by default; outside one, scripts and tests use the
    file as it is)."""
    if has_app_context():
        if every is None:
            every = float(config.get("MODEL_SYNC_SECONDS", 20.0))
        mirror.refresh(get_db(), path, every=every)


def publish_model(session: Session, path: Path, version: str) -> None:
    """Share the model file just saved with every host, in the caller's transaction."""
    _shared.publish(session, path, version)


def forget_model() -> None:
    """Make the next `current_model` read the file again (after saving a new one)."""
    _store.forget()
