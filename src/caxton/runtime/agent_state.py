"""What agents see of their key/value state: the store plus their own uncommitted writes, and
how much of their quota (keys plus values) they use."""

from __future__ import annotations

from caxton.runtime.state import MISSING, PendingState
from caxton.store.repositories import StateRepository


class AgentStateView:
    def __init__(self, store: StateRepository, pending: PendingState, max_bytes: int) -> None:
        self._store = store
        self.pending = pending
        self._max_bytes = max_bytes
        self._used: dict[str, int] = {}  # bytes of state per agent, loaded on first use

    def read(self, agent: str, key: str) -> bytes | None:
        found = self.pending.lookup(agent, key)
        if found is not MISSING:
            return found  # type: ignore[return-value]
        return self._store.read(agent, key)

    def room(self, agent: str) -> int:
        return self._max_bytes - self.usage(agent)

    def usage(self, agent: str) -> int:
        used = self._used.get(agent)
        if used is None:
            used = self._used[agent] = self._store.usage(agent)
        return used

    def keys(self, agent: str, prefix: str, limit: int) -> list[str]:
        keys = set(self._store.keys(agent, prefix, limit))
        for key, written in self.pending.overlay(agent, prefix).items():
            (keys.add if written else keys.discard)(key)
        return sorted(keys)

    def wrote(self, agent: str, writes: dict[str, bytes | None]) -> None:
        """Count ``writes`` (before they are applied) against the agent's quota."""
        total = 0
        for key, value in writes.items():
            old = self.read(agent, key)
            size = len(key.encode())
            total += (size + len(value) if value is not None else 0) - (
                size + len(old) if old is not None else 0)
        self._used[agent] = self.usage(agent) + total

    def forget(self, agent: str) -> None:
        self.pending.forget(agent)
        self._used.pop(agent, None)
