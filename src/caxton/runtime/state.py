"""Agent state writes that are decided but not yet committed, so agents read their own writes.

A handler's state writes are committed together with the rest of its effects (see
runtime/delivery.py). Until that commit lands, later messages to the same agent must still see
them; this overlay holds them and forgets each once its own commit (not a later one) lands.
"""

from __future__ import annotations

import itertools
import threading

from caxton.store.writer import OnCommit

_MISSING = object()


class PendingState:
    def __init__(self) -> None:
        self._pending: dict[str, dict[str, tuple[int, bytes | None]]] = {}
        self._lock = threading.Lock()
        self._seq = itertools.count(1)

    def remember(self, agent: str, writes: dict[str, bytes | None]) -> OnCommit:
        """Hold ``writes`` until the returned callback reports them committed."""
        with self._lock:
            seq = next(self._seq)
            pending = self._pending.setdefault(agent, {})
            for key, value in writes.items():
                pending[key] = (seq, value)

        def committed(_error: BaseException | None) -> None:
            with self._lock:
                mine = self._pending.get(agent, {})
                for key in writes:
                    if key in mine and mine[key][0] == seq:
                        del mine[key]

        return committed

    def lookup(self, agent: str, key: str) -> object:
        """The pending value (bytes, or None for a pending delete), or ``MISSING``."""
        pending = self._pending.get(agent)
        if not pending:
            return _MISSING
        with self._lock:
            entry = pending.get(key)
        return _MISSING if entry is None else entry[1]

    def overlay(self, agent: str, prefix: str) -> dict[str, bool]:
        """Pending keys under ``prefix``: True for a pending write, False for a delete."""
        pending = self._pending.get(agent)
        if not pending:
            return {}
        with self._lock:
            return {k: v[1] is not None for k, v in pending.items() if k.startswith(prefix)}

    def forget(self, agent: str) -> None:
        with self._lock:
            self._pending.pop(agent, None)


MISSING = _MISSING
