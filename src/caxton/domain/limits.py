"""Per-agent resource limits, checked and defaulted in one place, and the server's ceilings."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from caxton.errors import InvalidMessageError, LimitAboveCeilingError

WASM_PAGE = 65536
# What any agent limit may be at all (inclusive); a server's ceilings (below) narrow this further.
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


@dataclass(frozen=True, slots=True)
class LimitCeilings:
    """The most a client may ask for one agent: the operator's setting for each limit."""

    fuel: int = 10**11
    memory_bytes: int = 256 * 1024 * 1024
    timeout_ms: int = 60_000
    max_message_bytes: int = 16 * 1024 * 1024
    max_host_calls: int = 1_000_000
    max_sends_per_message: int = 10_000

    def __post_init__(self) -> None:
        for name, (low, high) in LIMIT_BOUNDS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise InvalidMessageError(name, f"ceiling must be an integer from {low} to {high}")

    def check(self, limits: ResourceLimits) -> None:
        """Raise LimitAboveCeilingError for the first limit above its ceiling."""
        for name in LIMIT_BOUNDS:
            value, ceiling = getattr(limits, name), getattr(self, name)
            if value > ceiling:
                raise LimitAboveCeilingError(
                    f"{name} {value} exceeds the server's ceiling of {ceiling} "
                    f"(config {CEILING_SETTINGS[name]})", field=name)


# The server setting (config.py) that holds each ceiling: refusals name it for the operator.
CEILING_SETTINGS = {
    "fuel": "max_agent_fuel",
    "memory_bytes": "max_agent_memory_bytes",
    "timeout_ms": "max_agent_timeout_ms",
    "max_message_bytes": "max_agent_message_bytes",
    "max_host_calls": "max_agent_host_calls",
    "max_sends_per_message": "max_agent_sends_per_message",
}
