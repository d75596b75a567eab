"""Directory descriptions to and from protobuf (``caxton.v1.ServiceDescription``,
``AgentDescription``), for the server's handlers and for the client.

Descriptions travel in the JSON shape of ``caxton.domain.directory`` on both sides (the server
validates them once, as REST's); these functions only change the envelope.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from google.protobuf import struct_pb2

from caxton.api.grpc._generated import directory_pb2
from caxton.errors import InvalidMessageError

_SETS = ("protocols", "ontologies", "languages")


# -- conversion --------------------------------------------------------------------------------
def _value_to_proto(value: Any, where: str) -> struct_pb2.Value:
    if isinstance(value, bool):
        return struct_pb2.Value(bool_value=value)
    if isinstance(value, int | float):
        return struct_pb2.Value(number_value=float(value))
    if isinstance(value, str):
        return struct_pb2.Value(string_value=value)
    raise InvalidMessageError(where, "a value must be a string, a number or a boolean")


def _value_from_proto(pb: struct_pb2.Value) -> Any:
    kind = pb.WhichOneof("kind")
    if kind == "number_value":
        number = pb.number_value
        return int(number) if number.is_integer() else number
    if kind == "bool_value":
        return pb.bool_value
    if kind == "string_value":
        return pb.string_value
    return None  # the server refuses it, naming the property


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidMessageError(where, "must be a list")
    return value


def service_to_proto(obj: Any, where: str = "service") -> directory_pb2.ServiceDescription:
    if not isinstance(obj, Mapping):
        raise InvalidMessageError(where, "must be a JSON object")
    pb = directory_pb2.ServiceDescription()
    for key, value in obj.items():
        if value is None:
            continue
        if key in ("name", "type", "ownership"):
            if not isinstance(value, str):
                raise InvalidMessageError(f"{where}.{key}", "must be a string")
            setattr(pb, key, value)
        elif key in _SETS:
            getattr(pb, key).extend(_list(value, f"{where}.{key}"))
        elif key == "properties":
            if not isinstance(value, Mapping):
                raise InvalidMessageError(f"{where}.properties", "must be an object")
            for name, item in value.items():
                pb.properties[name].CopyFrom(_value_to_proto(item, f"{where}.properties.{name}"))
        else:
            raise InvalidMessageError(f"{where}.{key}", "unknown field")
    return pb


def service_from_proto(pb: directory_pb2.ServiceDescription, *, request: bool = False
                       ) -> dict[str, Any]:
    """The JSON shape; with ``request``, only the fields that were set."""
    out: dict[str, Any] = {}
    for key in ("name", "type", *_SETS, "ownership", "properties"):
        if key in _SETS:
            if getattr(pb, key) or not request:
                out[key] = list(getattr(pb, key))
        elif key == "properties":
            if pb.properties or not request:
                out[key] = {k: _value_from_proto(v) for k, v in pb.properties.items()}
        elif pb.HasField(key):
            out[key] = getattr(pb, key)
        elif not request:
            out[key] = None
    return out


def services_to_proto(services: Sequence[Any] | None) -> list[directory_pb2.ServiceDescription]:
    return [service_to_proto(s, f"services[{i}]") for i, s in enumerate(services or ())]


def description_to_proto(obj: Any, where: str = "description") -> directory_pb2.AgentDescription:
    if not isinstance(obj, Mapping):
        raise InvalidMessageError(where, "must be a JSON object")
    pb = directory_pb2.AgentDescription()
    for key, value in obj.items():
        if value is None:
            continue
        if key in ("agent", "lease"):
            if not isinstance(value, str):
                raise InvalidMessageError(f"{where}.{key}", "must be a string")
            setattr(pb, key, value)
        elif key == "lease_s":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidMessageError(f"{where}.lease_s", "must be a number of seconds")
            pb.lease_s = float(value)
        elif key in _SETS:
            getattr(pb, key).extend(_list(value, f"{where}.{key}"))
        elif key == "services":
            pb.services.extend(service_to_proto(s, f"{where}.services[{i}]")
                               for i, s in enumerate(_list(value, f"{where}.services")))
        else:
            raise InvalidMessageError(f"{where}.{key}", "unknown field")
    return pb


def description_from_proto(pb: directory_pb2.AgentDescription, *, request: bool = False
                           ) -> dict[str, Any]:
    """The JSON shape; with ``request``, only the fields that were set (a registration or a
    template, which the server validates)."""
    out: dict[str, Any] = {}
    for key in ("agent", "services", *_SETS, "lease"):
        if key == "services":
            if pb.services or not request:
                out[key] = [service_from_proto(s, request=request) for s in pb.services]
        elif key in _SETS:
            if getattr(pb, key) or not request:
                out[key] = list(getattr(pb, key))
        elif pb.HasField(key):
            out[key] = getattr(pb, key)
        elif not request:
            out[key] = None
    if pb.HasField("lease_s"):
        lease_s = pb.lease_s
        out["lease_s"] = int(lease_s) if lease_s.is_integer() else lease_s
    return out
