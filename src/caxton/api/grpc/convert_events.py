"""Agent events to and from protobuf (``caxton.v1.AgentEvent``), for server and client alike.

The JSON form is ``AgentEvent.to_dict`` (caxton.domain.events): every key present, null where
the event has nothing to say, which protobuf carries as an unset optional field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from caxton.api.grpc._generated import events_pb2

_ALWAYS = ("at", "kind", "agent")
_OPTIONAL = ("version", "module_hash", "state", "reason", "old_version", "old_module_hash")


def event_to_proto(event: Mapping[str, Any]) -> events_pb2.AgentEvent:
    return events_pb2.AgentEvent(**{k: event[k] for k in _ALWAYS},
                                 **{k: event[k] for k in _OPTIONAL if event.get(k) is not None})


def event_from_proto(pb: events_pb2.AgentEvent) -> dict[str, Any]:
    """The same dictionary, key for key, that ``GET /api/v1/events`` sends."""
    out: dict[str, Any] = {k: getattr(pb, k) for k in _ALWAYS}
    out.update({k: getattr(pb, k) if pb.HasField(k) else None for k in _OPTIONAL})
    return out
