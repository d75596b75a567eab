"""Host services for a sandbox that needs none (unit tests of the engine and the instance)."""

from __future__ import annotations


class NoServices:
    def state_read(self, agent: str, key: str) -> bytes | None:
        return None

    def agent_log(self, agent: str, level: int, text: str) -> None:
        return None

    def state_keys(self, agent: str, prefix: str, limit: int) -> list[str]:
        return []

    def state_room(self, agent: str) -> int:
        return 0

    def violation(self, agent: str, kind: str, detail: str) -> None:
        return None
