"""Files every host needs the same copy of (the classifier and spam models), kept in the database.

A host trains and writes its model file as before, then ``publish``es the bytes in the same
transaction that records the training. Every process ``refresh``es its local copy from the
database now and then: a newer copy is written beside the old file and renamed over it, so
the model stores (which reload a file whose identity changed) switch atomically. The first
host to look finds the database empty and seeds it with its own file (an upgraded single
host keeps its model).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import LargeBinary, String, select, update
from sqlalchemy.orm import Mapped, Session, deferred, mapped_column

from support.core.atomic_files import write_atomically
from support.core.concurrency import insert_ignoring_conflict
from support.core.db import Base, Database, utcnow

log = logging.getLogger(__name__)

#: Larger files are not stored (a model is a few MB); the host keeps its own copy then.
MAX_BYTES = 256 * 1024 * 1024

#: How long a file saved here may be newer than the stored copy before the stored copy wins:
#: training publishes in the transaction right after its save, well within this.
UNPUBLISHED_GRACE_SECONDS = 120.0


class StoredFile(Base):
    """The current copy of one shared file."""

    __tablename__ = "stored_files"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    version: Mapped[str] = mapped_column(String(80))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    stored_at: Mapped[datetime] = mapped_column()


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _unpublished(modified: float, stored_at: datetime) -> bool:
    """A local file newer than the stored copy was just saved here and is being published in
    the saving transaction (seconds after the save): keep it rather than write the older copy
    over it. An older local file newer than the stored copy is one the database no longer has
    (a database restored from a backup, a publish that failed): the stored copy wins, so every
    host comes back to the database's model."""
    return stored_at.timestamp() < modified and time.time() - modified < UNPUBLISHED_GRACE_SECONDS


class FileMirror:
    """One shared file (by name) and this process's local copy of it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._checked_at: dict[Path, float] = {}
        # path -> ((inode, size, mtime_ns), sha256) of the local file, so it is hashed once.
        self._local: dict[Path, tuple[tuple[int, int, int], str]] = {}

    def publish(self, session: Session, path: Path, version: str, *, replace: bool = True) -> None:
        """Store ``path`` as the current copy, in the caller's transaction (``replace`` False:
        only when there is none yet)."""
        data = Path(path).read_bytes()
        if len(data) > MAX_BYTES:
            log.warning("%s is too large to share through the database (%d bytes)", path, len(data))
            return
        values: dict[str, object] = {
            "version": version[:80],
            "sha256": _digest(data),
            "content": data,
            "stored_at": utcnow(),
        }
        insert_ignoring_conflict(
            session,
            StoredFile.__table__,  # type: ignore[arg-type]
            {"name": self.name, **values},
            index_elements=("name",),
        )
        if not replace:
            return
        session.execute(
            update(StoredFile)
            .where(StoredFile.name == self.name)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    def refresh(self, database: Database, path: Path, *, every: float = 0.0) -> bool:
        """Bring the local copy up to date (at most once per ``every`` seconds); True when it
        was replaced. Errors are logged: the local copy stays in use."""
        now = time.monotonic()
        if now - self._checked_at.get(path, float("-inf")) < every:
            return False
        with self._lock:
            if now - self._checked_at.get(path, float("-inf")) < every:
                return False
            self._checked_at[path] = now
            try:
                return self._refresh(database, Path(path))
            except Exception:
                log.exception("cannot bring %s up to date from the database", path)
                return False

    def _refresh(self, database: Database, path: Path) -> bool:
        with database.read_session() as session:
            stored = session.execute(
                select(StoredFile.version, StoredFile.sha256, StoredFile.stored_at).where(
                    StoredFile.name == self.name
                )
            ).first()
        local = self._local_digest(path)
        if stored is None:
            if local is not None:
                with database.session() as session:
                    self.publish(session, path, "seeded", replace=False)
                log.info("shared %s from %s through the database", self.name, path)
            return False
        version, sha256, stored_at = stored
        if local == sha256:
            return False
        if local is not None and _unpublished(path.stat().st_mtime, stored_at):
            return False  # saved here after the stored copy: about to be published, keep it
        with database.read_session() as session:
            data = session.scalar(
                select(StoredFile.content).where(
                    StoredFile.name == self.name, StoredFile.sha256 == sha256
                )
            )
        if data is None or _digest(data) != sha256:
            return False  # replaced meanwhile: the next refresh takes the newer one
        write_atomically(path, data)
        log.info("%s %s taken from the database into %s", self.name, version, path)
        return True

    def _local_digest(self, path: Path) -> str | None:
        try:
            st = path.stat()
        except OSError:
            return None
        identity = (st.st_ino, st.st_size, st.st_mtime_ns)
        known = self._local.get(path)
        if known is not None and known[0] == identity:
            return known[1]
        digest = _digest(path.read_bytes())
        self._local[path] = (identity, digest)
        return digest
