"""Per-agent resource limits, checked and defaulted in one place."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from caxton.errors import InvalidMessageError

WASM_PAGE = 65536
# The range each limit may be set to (inclusive).
LIMIT_BOUNDS: dict[str, tuple[int, int]] = {
    "fuel": (1_000, 10**12),
    "memory_bytes": (WASM_PAGE, 4 * 1024**3),
    "timeout_ms": (1, 3_600_000),
    "max_message_bytes": (256, 64 * 1024 * 1024),
    "max_host_calls": (1, 10**7),
    "max_sends_per_message": (1, 10**6),
}


@dataclass(frozen=True, slots=True)
class ResourceLimits:
    """What one agent may use. Fuel and time are per message; memory is the agent's cap."""

    fuel: int = 50_000_000
    memory_bytes: int = 16 * 1024 * 1024
    timeout_ms: int = 1000
    max_message_bytes: int = 256 * 1024
    max_host_calls: int = 10_000
    # Sends and replies one handled message may make; past it they fail with "limit" (-4).
    max_sends_per_message: int = 100

    def __post_init__(self) -> None:
        for name, (low, high) in LIMIT_BOUNDS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise InvalidMessageError(name, f"must be an integer from {low} to {high}")

    def with_overrides(self, overrides: dict[str, Any]) -> ResourceLimits:
        """These limits with the given fields changed (None values are ignored)."""
        known = {f.name for f in fields(self)}
        for key in overrides:
            if key not in known:
                raise InvalidMessageError(key, "unknown limit")
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def to_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


DEFAULT_LIMITS = ResourceLimits()
