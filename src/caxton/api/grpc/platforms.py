"""caxton.v1.PlatformService: thin handlers over the platform address book."""

from __future__ import annotations

from typing import Any

from caxton.api.grpc._generated import platforms_pb2
from caxton.api.grpc.handlers import Context, rpc
from caxton.api.platforms import platforms_of
from caxton.api.service import CaxtonService


def platform_to_proto(entry: dict[str, Any]) -> platforms_pb2.Platform:
    return platforms_pb2.Platform(name=entry["name"], urls=entry["urls"], source=entry["source"])


class PlatformHandlers:
    """caxton.v1.PlatformService"""

    def __init__(self, service: CaxtonService) -> None:
        self._service = service

    @rpc
    async def ListPlatforms(self, request: platforms_pb2.ListPlatformsRequest,  # noqa: N802
                            context: Context) -> platforms_pb2.ListPlatformsResponse:
        found = await platforms_of(self._service).list()
        return platforms_pb2.ListPlatformsResponse(platforms=[platform_to_proto(e)
                                                              for e in found])

    @rpc
    async def AddPlatform(self, request: platforms_pb2.AddPlatformRequest,  # noqa: N802
                          context: Context) -> platforms_pb2.AddPlatformResponse:
        entry, created = await platforms_of(self._service).add(request.name, list(request.urls))
        return platforms_pb2.AddPlatformResponse(platform=platform_to_proto(entry),
                                                 created=created)

    @rpc
    async def RemovePlatform(self, request: platforms_pb2.RemovePlatformRequest,  # noqa: N802
                             context: Context) -> platforms_pb2.RemovePlatformResponse:
        await platforms_of(self._service).remove(request.name)
        return platforms_pb2.RemovePlatformResponse()
