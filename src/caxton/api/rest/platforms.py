"""REST routes for the platform address book: where agents ``NAME@PLATFORM`` are reached."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from caxton.api.platforms import platforms_of
from caxton.api.rest.common import JSON, RequestError, read_json
from caxton.api.service import CaxtonService

_BODY_LIMIT = 64 * 1024


def platform_routes(service: CaxtonService) -> list[Route]:
    async def list_platforms(_: Request) -> JSON:
        """
        summary: List the platform address book
        responses:
          200: {description: "Every platform with its MTP URLs and source (config or api)."}
        """
        return JSON({"platforms": await platforms_of(service).list()})

    async def get(request: Request) -> JSON:
        """
        summary: One platform of the address book
        responses:
          200: {description: The platform.}
          404: {description: Not in the address book.}
        """
        return JSON(await platforms_of(service).get(request.path_params["name"]))

    async def put(request: Request) -> JSON:
        """
        summary: Add a platform to the address book, or replace its URLs
        description: >
          The body is {"urls": ["http://host:7778/acc", ...]}: the platform's FIPA HTTP MTP
          addresses. Messages to NAME@<platform> without addresses of their own go there.
        responses:
          201: {description: Added.}
          200: {description: Its URLs replaced.}
          400: {description: A bad name or URL, or this server's own platform name.}
          409: {description: The platform is set in the server config.}
        """
        body = await read_json(request, _BODY_LIMIT)
        if not isinstance(body, dict) or set(body) != {"urls"}:
            raise RequestError(400, "invalid_request", 'the body must be {"urls": [URL, ...]}')
        entry, created = await platforms_of(service).add(request.path_params["name"],
                                                         body["urls"])
        return JSON(entry, status_code=201 if created else 200)

    async def remove(request: Request) -> Response:
        """
        summary: Remove a platform from the address book
        responses:
          204: {description: Removed.}
          404: {description: Not in the address book.}
          409: {description: The platform is set in the server config.}
        """
        await platforms_of(service).remove(request.path_params["name"])
        return Response(status_code=204)

    return [
        Route("/api/v1/platforms", list_platforms, methods=["GET"]),
        Route("/api/v1/platforms/{name:path}", get, methods=["GET"]),
        Route("/api/v1/platforms/{name:path}", put, methods=["PUT"]),
        Route("/api/v1/platforms/{name:path}", remove, methods=["DELETE"]),
    ]
