"""Directory (DF) requests and answers for both clients: descriptions as JSON shapes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from caxton.api.grpc._generated import directory_pb2
from caxton.api.grpc.convert_directory import description_from_proto, description_to_proto


def register_request(description: Mapping[str, Any]) -> directory_pb2.RegisterRequest:
    return directory_pb2.RegisterRequest(description=description_to_proto(description))


def modify_request(description: Mapping[str, Any]) -> directory_pb2.ModifyRequest:
    return directory_pb2.ModifyRequest(description=description_to_proto(description))


def deregister_request(agent: str) -> directory_pb2.DeregisterRequest:
    return directory_pb2.DeregisterRequest(agent=agent)


def search_request(template: Mapping[str, Any] | None, max_results: int | None
                   ) -> directory_pb2.SearchRequest:
    return directory_pb2.SearchRequest(
        template=description_to_proto(template or {}, "template"), max_results=max_results or 0)


def description(pb: directory_pb2.AgentDescription) -> dict[str, Any]:
    return description_from_proto(pb)


def descriptions(pb: directory_pb2.SearchResponse) -> list[dict[str, Any]]:
    return [description_from_proto(d) for d in pb.agents]
