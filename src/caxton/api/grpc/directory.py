"""caxton.v1.DirectoryService: thin handlers over the service layer's directory operations."""

from __future__ import annotations

from caxton.api.directory import directory_of
from caxton.api.grpc._generated import directory_pb2
from caxton.api.grpc.convert_directory import description_from_proto, description_to_proto
from caxton.api.grpc.handlers import Context, rpc
from caxton.api.service import CaxtonService


class DirectoryHandlers:
    """caxton.v1.DirectoryService"""

    def __init__(self, service: CaxtonService) -> None:
        self._service = service

    @rpc
    async def Register(self, request: directory_pb2.RegisterRequest,  # noqa: N802
                       context: Context) -> directory_pb2.AgentDescription:
        found = await directory_of(self._service).register(
            description_from_proto(request.description, request=True))
        return description_to_proto(found)

    @rpc
    async def Modify(self, request: directory_pb2.ModifyRequest,  # noqa: N802
                     context: Context) -> directory_pb2.AgentDescription:
        found = await directory_of(self._service).modify(
            description_from_proto(request.description, request=True))
        return description_to_proto(found)

    @rpc
    async def Deregister(self, request: directory_pb2.DeregisterRequest,  # noqa: N802
                         context: Context) -> directory_pb2.DeregisterResponse:
        await directory_of(self._service).deregister(request.agent)
        return directory_pb2.DeregisterResponse()

    @rpc
    async def Search(self, request: directory_pb2.SearchRequest,  # noqa: N802
                     context: Context) -> directory_pb2.SearchResponse:
        found = await directory_of(self._service).search(
            description_from_proto(request.template, request=True),
            request.max_results or None)
        return directory_pb2.SearchResponse(agents=[description_to_proto(d) for d in found])
