"""How many worker processes of one install run on this host: each holds a lock on a slot file.

The prepare process (prepare_process.py) pays only while a core is free for it. With more
workers than cores, the workers already keep every core busy (each waits for the database
between its statements, and another runs meanwhile), and a prepare process per worker only
adds what a process costs: its own caches to fill, its own database session for the reads, the
prepared mail pickled across, and twice as many processes taking turns on the cores. Measured
in bench/intake_bench.py's four workers on two cores behind a 2 ms proxy (docs/measurements.md,
twenty-third session): less CPU a message without them.

Each process whose workers may have a prepare process takes the lowest free slot of the
instance folder's ``worker-slots`` directory (``join``: an exclusive ``flock`` held while one of
its workers lives; the kernel releases it when the process ends, even by SIGKILL, so a killed
worker never counts on). Worker threads of one process (`support worker --threads N`) hold one
slot between them: they share one interpreter lock, and their prepare processes are what puts
the other cores to work. ``live_workers`` counts the slots held. Workers of other installs
(another instance folder) are not counted. It is advice, not coordination: when the folder
cannot be used, a worker counts as alone, as before this module.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from pathlib import Path

log = logging.getLogger(__name__)

#: The slot files' folder, inside the app's instance folder.
SLOTS_DIRECTORY = "worker-slots"
#: At most this many slots (and files): more workers than this count as this many.
MAX_SLOTS = 64


def slots_directory(instance_path: str | os.PathLike[str]) -> Path:
    return Path(instance_path) / SLOTS_DIRECTORY


def _slot_path(directory: Path, number: int) -> Path:
    return directory / f"worker-{number}.lock"


def _try_lock(path: Path) -> int | None:
    """An open descriptor of ``path`` holding its exclusive lock, or None when another holds
    it. A lock is per open file, so a second worker in the same process is refused as well."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd


class WorkerSlot:
    """One worker's slot, held until `release` (or the process ends)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.number: int | None = None
        self._fd: int | None = None
        try:
            directory.mkdir(parents=True, exist_ok=True)
            for number in range(MAX_SLOTS):
                fd = _try_lock(_slot_path(directory, number))
                if fd is not None:
                    self.number, self._fd = number, fd
                    break
        except OSError as exc:
            log.warning(
                "worker slots in %s unusable (%s); counting this worker alone", directory, exc
            )

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)  # closing the descriptor drops its lock
            self._fd = None
            self.number = None

    def __del__(self) -> None:  # a worker dropped without close() frees its slot
        self.release()


def live_workers(directory: Path) -> int:
    """How many slots of ``directory`` are held (1 at least: the caller's own, even when the
    folder cannot be read). A free slot is locked and released at once to find it free."""
    held = 0
    try:
        for number in range(MAX_SLOTS):
            path = _slot_path(directory, number)
            if not path.exists():  # slots are taken lowest first: none after a missing one
                break
            fd = _try_lock(path)
            if fd is None:
                held += 1
            else:
                os.close(fd)
    except OSError:
        return 1
    return max(1, held)


_joined: dict[Path, tuple[WorkerSlot, int]] = {}
_joined_lock = threading.Lock()


def join(directory: Path) -> None:
    """Count this process among the host's workers (once, whatever its worker threads)."""
    with _joined_lock:
        slot, users = _joined.get(directory) or (None, 0)
        _joined[directory] = (slot or WorkerSlot(directory), users + 1)


def leave(directory: Path) -> None:
    """A worker of this process stopped; the last one gives the process's slot back."""
    with _joined_lock:
        found = _joined.get(directory)
        if found is None:
            return
        slot, users = found
        if users > 1:
            _joined[directory] = (slot, users - 1)
        else:
            del _joined[directory]
            slot.release()
