"""An agent's permissions between protobuf and their JSON form (docs/agent-permissions.md).

The JSON form is what REST takes and shows; the server validates it once, in the domain
(``parse_permissions``). Here only what protobuf cannot carry is refused, with the same
``InvalidPermissionsError`` naming the field: a list that is not strings, a rate that is not a
number.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from caxton.api.grpc._generated import agents_pb2
from caxton.errors import InvalidPermissionsError

_LISTS = ("host_functions", "messaging", "tools")
_FIELDS = frozenset({*_LISTS, "rate", "max_receivers"})
_WHERE = "permissions"


def permissions_from_proto(pb: agents_pb2.AgentPermissions) -> dict[str, Any]:
    """The JSON form: every member present, ``rate`` and ``max_receivers`` None when unset."""
    rate: dict[str, Any] | None = None
    if pb.HasField("rate"):
        rate = {"messages_per_s": pb.rate.messages_per_s}
        if pb.rate.HasField("burst"):
            rate["burst"] = pb.rate.burst
    return {
        "host_functions": list(pb.host_functions),
        "messaging": list(pb.messaging),
        "rate": rate,
        "max_receivers": pb.max_receivers if pb.HasField("max_receivers") else None,
        "tools": list(pb.tools),
    }


def permissions_to_proto(obj: Any) -> agents_pb2.AgentPermissions:
    """The JSON form (as declared, or as shown) as protobuf."""
    if not isinstance(obj, Mapping):
        raise InvalidPermissionsError(_WHERE, "must be a JSON object (or null for none)")
    for key in obj:
        if key not in _FIELDS:
            raise InvalidPermissionsError(f"{_WHERE}.{key}", "unknown field")
    pb = agents_pb2.AgentPermissions()
    for name in _LISTS:
        getattr(pb, name).extend(_strings(obj.get(name), f"{_WHERE}.{name}"))
    rate = obj.get("rate")
    if rate is not None:
        _rate(pb.rate, rate)
    receivers = obj.get("max_receivers")
    if receivers is not None:
        pb.max_receivers = _integer(receivers, f"{_WHERE}.max_receivers")
    return pb


def _strings(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InvalidPermissionsError(where, "must be a list of strings")
    return list(value)


def _rate(pb: agents_pb2.RateLimit, value: Any) -> None:
    where = f"{_WHERE}.rate"
    if not isinstance(value, Mapping):
        raise InvalidPermissionsError(where, "must be an object {\"messages_per_s\": N, "
                                      "\"burst\": M}")
    for key in value:
        if key not in ("messages_per_s", "burst"):
            raise InvalidPermissionsError(f"{where}.{key}", "unknown field")
    per_s = value.get("messages_per_s")
    if isinstance(per_s, bool) or not isinstance(per_s, int | float):
        raise InvalidPermissionsError(f"{where}.messages_per_s", "must be a number")
    try:
        pb.messages_per_s = float(per_s)
    except OverflowError:
        raise InvalidPermissionsError(f"{where}.messages_per_s", "is out of range") from None
    burst = value.get("burst")
    if burst is not None:
        pb.burst = _integer(burst, f"{where}.burst")


def _integer(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -2**63 <= value < 2**63:
        raise InvalidPermissionsError(where, "must be an integer")
    return value


__all__ = ["permissions_from_proto", "permissions_to_proto"]
