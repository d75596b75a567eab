"""Platform address book requests and answers for both clients: entries as JSON shapes."""

from __future__ import annotations

from typing import Any

from caxton.api.grpc._generated import platforms_pb2


def entry(pb: platforms_pb2.Platform) -> dict[str, Any]:
    return {"name": pb.name, "urls": list(pb.urls), "source": pb.source}


def entries(pb: platforms_pb2.ListPlatformsResponse) -> list[dict[str, Any]]:
    return [entry(p) for p in pb.platforms]


def added(pb: platforms_pb2.AddPlatformResponse) -> dict[str, Any]:
    return {**entry(pb.platform), "created": pb.created}


def add_request(name: str, urls: list[str]) -> platforms_pb2.AddPlatformRequest:
    return platforms_pb2.AddPlatformRequest(name=name, urls=urls)
