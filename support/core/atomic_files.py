"""Files that are replaced whole or not at all: the one way this project writes a file that
others read while it runs (models, the search index's descriptions and vectors, outgoing
mail kept as files, compiled translations, exports).

A reader sees the old file or the new one, never half of one: the content goes to a
temporary file beside the target (same folder, so the rename cannot cross file systems),
is flushed to disk, and is renamed over the target; then the folder is flushed, so the
rename survives a power cut too. If writing fails, the temporary file is removed and the
target is untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


@contextlib.contextmanager
def replacing(path: str | Path, *, durable: bool = True) -> Iterator[BinaryIO]:
    """A binary file to write; when the block ends without an error, it replaces ``path``.

    ``durable=False`` skips the flushes to disk, for files that are cheap to make again.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    if durable:
        sync_folder(target.parent)


def write_atomically(path: str | Path, data: bytes, *, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` (see `replacing`)."""
    with replacing(path, durable=durable) as handle:
        handle.write(data)


def sync_folder(folder: str | Path) -> None:
    """Flush a folder's entries (renames, new files) to disk, where the system allows it."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
