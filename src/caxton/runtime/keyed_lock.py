"""One lock per key, made on demand and dropped when nobody holds or waits for it.

The host serializes what happens to one agent name (two deploys of ``echo`` run one after the
other) without making deploys of different names wait for each other.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator


class KeyedLock:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}  # key -> (lock, holders+waiters)

    @contextlib.contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(key) or (threading.Lock(), 0)
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                users = self._locks[key][1] - 1
                if users:
                    self._locks[key] = (lock, users)
                else:
                    del self._locks[key]

    def __len__(self) -> int:
        """Keys in use (held or waited for)."""
        return len(self._locks)
