"""One server per data directory, enforced with an advisory lock the OS drops on exit."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from caxton.errors import DataDirLockedError, StoreError

LOCK_FILE = "caxton.lock"


class DataDirLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_FILE
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(self.path, "a+")  # noqa: SIM115 - held for the server's lifetime
        except OSError as exc:
            raise StoreError(f"cannot use data dir {self.path.parent}: {exc.strerror}") from exc
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "unknown"
            handle.close()
            raise DataDirLockedError(
                f"data dir {self.path.parent} is in use by another Caxton server (pid {owner}); "
                "stop it or choose another --data-dir"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
