"""A file lock: one run at a time holds a kept SQLite file; one xdist worker builds a template."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO

__all__ = ["FileLock"]


class FileLock:
    """An exclusive lock on a file (``flock``; ``msvcrt.locking`` on Windows).

    Held until :meth:`release` or the process ends, so a killed run never leaves it locked.
    """

    def __init__(self, path: Path, handle: IO[bytes]) -> None:
        #: The lock file.
        self.path = path
        self._handle: IO[bytes] | None = handle

    @classmethod
    def try_acquire(cls, path: Path) -> FileLock | None:
        """Lock ``path`` (created if missing); ``None`` when another process holds it."""
        handle = path.open("a+b")
        try:
            if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
                import msvcrt

                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return None
        return cls(path, handle)

    @classmethod
    def acquire(cls, path: Path) -> FileLock:
        """Lock ``path`` (created if missing), waiting for the process that holds it."""
        handle = path.open("a+b")
        try:
            if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
                import msvcrt

                msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
            else:
                import fcntl

                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        except BaseException:
            handle.close()
            raise
        return cls(path, handle)

    def release(self) -> None:
        """Unlock (by closing the file); idempotent. The lock file itself stays."""
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.close()

    def __repr__(self) -> str:
        return f"<FileLock {self.path} {'held' if self._handle else 'released'}>"
