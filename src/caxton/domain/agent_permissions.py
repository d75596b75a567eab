"""What an agent may do: its permissions, declared at deploy and enforced by the host.

An agent deployed *without* permissions may do everything the ABI offers, as before permissions
existed. An agent deployed *with* them is held to least privilege: it may do only what they
list (docs/agent-permissions.md). They arrive as JSON::

    {"host_functions": ["send", "reply", "log", "state"],
     "messaging": ["echo", "worker-*", "service:translate", "seller@jade"],
     "rate": {"messages_per_s": 10, "burst": 20},
     "max_receivers": 5,
     "tools": ["search"]}

Every member is optional; a missing list allows nothing, a missing ``rate`` or
``max_receivers`` sets no bound beyond the agent's limits.

- ``host_functions``: the ABI v1 host functions (module ``caxton``) it may import or call;
  ``"state"`` stands for the four state functions and ``"*"`` for all of them.
- ``messaging``: the receivers it may address (``domain.permission_patterns``). Answering the
  sender of the message being handled (or its ``reply_to``) is always allowed.
- ``rate``: a token bucket over the messages it sends (sends and replies): ``messages_per_s``
  tokens a second, at most ``burst`` saved up (default: the rate, rounded up).
- ``max_receivers``: the most receivers one message may name. How many messages one handled
  message may send is the ``max_sends_per_message`` limit (``domain.limits``).
- ``tools``: the MCP tools it may call. Stored and shown; enforced once tools exist.

Pure: no IO. Errors are ``InvalidPermissionsError`` naming the field
(``permissions.messaging[2]``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from caxton.domain.permission_patterns import check_pattern
from caxton.errors import InvalidPermissionsError

# The ABI v1 host functions (docs/agent-abi.md), in the ABI's order. The sandbox's table
# (sandbox.hostcalls.HOST_FUNCTIONS) must name exactly these: a unit test holds them together.
HOST_FUNCTIONS = ("send", "reply", "log", "now", "random", "state_get", "state_put",
                  "state_delete", "state_list")
STATE_FUNCTIONS = ("state_get", "state_put", "state_delete", "state_list")
_GROUPS = {"state": STATE_FUNCTIONS, "*": HOST_FUNCTIONS}
_FIELDS = ("host_functions", "messaging", "rate", "max_receivers", "tools")
_RATE_FIELDS = ("messages_per_s", "burst")
MAX_ITEMS = 256  # entries in one list
MAX_TEXT = 256  # characters of one entry
MAX_RATE = 1_000_000.0  # messages per second
MAX_BURST = 1_000_000
MAX_RECEIVERS = 10_000


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A token bucket: ``messages_per_s`` tokens a second, at most ``burst`` saved up."""

    messages_per_s: float
    burst: int

    def to_dict(self) -> dict[str, Any]:
        return {"messages_per_s": self.messages_per_s, "burst": self.burst}


@dataclass(frozen=True, slots=True)
class AgentPermissions:
    """Least privilege: only what is listed here is allowed."""

    host_functions: frozenset[str] = frozenset()
    messaging: tuple[str, ...] = ()
    rate: RateLimit | None = None
    max_receivers: int | None = None
    tools: tuple[str, ...] = ()

    def allows_call(self, function: str) -> bool:
        """Whether the agent may import or call the ABI v1 host function ``function``."""
        return function in self.host_functions

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, as stored and shown: host functions expanded, in the ABI's order."""
        return {
            "host_functions": [f for f in HOST_FUNCTIONS if f in self.host_functions],
            "messaging": list(self.messaging),
            "rate": self.rate.to_dict() if self.rate is not None else None,
            "max_receivers": self.max_receivers,
            "tools": list(self.tools),
        }


def parse_permissions(obj: Any, where: str = "permissions") -> AgentPermissions | None:
    """Validate the JSON form; None (or JSON null) means none declared: everything allowed."""
    if obj is None:
        return None
    if not isinstance(obj, dict):
        raise InvalidPermissionsError(where, "must be a JSON object (or null for none)")
    for key in obj:
        if key not in _FIELDS:
            raise InvalidPermissionsError(
                f"{where}.{key}", f"unknown field (known: {', '.join(_FIELDS)})")
    functions: set[str] = set()
    for i, name in enumerate(_texts(obj.get("host_functions"), f"{where}.host_functions")):
        functions.update(_host_function(name, f"{where}.host_functions[{i}]"))
    messaging = _texts(obj.get("messaging"), f"{where}.messaging")
    for i, pattern in enumerate(messaging):
        check_pattern(pattern, f"{where}.messaging[{i}]")
    return AgentPermissions(
        host_functions=frozenset(functions),
        messaging=messaging,
        rate=_rate(obj.get("rate"), f"{where}.rate"),
        max_receivers=_max_receivers(obj.get("max_receivers"), f"{where}.max_receivers"),
        tools=_texts(obj.get("tools"), f"{where}.tools"),
    )


def _host_function(name: str, where: str) -> tuple[str, ...]:
    if name in _GROUPS:
        return _GROUPS[name]
    if name in HOST_FUNCTIONS:
        return (name,)
    raise InvalidPermissionsError(where, f"unknown host function {name!r} (one of: "
                                  f"{', '.join(HOST_FUNCTIONS)}; or state, *)")


def _texts(value: Any, where: str) -> tuple[str, ...]:
    """A list of short printable strings, duplicates dropped (first kept); absent is empty."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidPermissionsError(where, "must be a list of strings")
    if len(value) > MAX_ITEMS:
        raise InvalidPermissionsError(where, f"must have at most {MAX_ITEMS} items")
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise InvalidPermissionsError(f"{where}[{i}]", "must be a string")
        if not 1 <= len(item) <= MAX_TEXT:
            raise InvalidPermissionsError(f"{where}[{i}]", f"must be 1 to {MAX_TEXT} characters")
        if not item.isprintable() or item != item.strip():
            raise InvalidPermissionsError(
                f"{where}[{i}]", "must be printable, without leading or trailing spaces")
    return tuple(dict.fromkeys(value))


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _rate(value: Any, where: str) -> RateLimit | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidPermissionsError(where, "must be an object {\"messages_per_s\": N, "
                                      "\"burst\": M} (or null for no bound)")
    for key in value:
        if key not in _RATE_FIELDS:
            raise InvalidPermissionsError(f"{where}.{key}", "unknown field (known: "
                                          f"{', '.join(_RATE_FIELDS)})")
    per_s = value.get("messages_per_s")
    if per_s is None:
        raise InvalidPermissionsError(f"{where}.messages_per_s", "is required")
    if not _number(per_s) or not math.isfinite(per_s) or not 0 < per_s <= MAX_RATE:
        raise InvalidPermissionsError(f"{where}.messages_per_s",
                                      f"must be a number more than 0 and at most {MAX_RATE:.0f}")
    burst = value.get("burst")
    if burst is None:
        burst = max(1, math.ceil(per_s))
    elif isinstance(burst, bool) or not isinstance(burst, int) or not 1 <= burst <= MAX_BURST:
        raise InvalidPermissionsError(f"{where}.burst",
                                      f"must be an integer from 1 to {MAX_BURST}")
    return RateLimit(float(per_s), burst)


def _max_receivers(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_RECEIVERS:
        raise InvalidPermissionsError(where, f"must be an integer from 1 to {MAX_RECEIVERS}")
    return value


__all__ = ["HOST_FUNCTIONS", "STATE_FUNCTIONS", "AgentPermissions", "RateLimit",
           "parse_permissions"]
