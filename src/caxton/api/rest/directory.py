"""REST routes for the directory facilitator (FIPA DF): register, modify, deregister, search."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from caxton.api.directory import directory_of
from caxton.api.rest.common import JSON, RequestError, int_param, read_json
from caxton.api.service import CaxtonService

_BODY_LIMIT = 1024 * 1024


def json_param(request: Request, name: str) -> Any:
    """A query parameter holding JSON (None when absent)."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise RequestError(400, "invalid_parameter",
                           f"query parameter '{name}' must be JSON") from None


def directory_routes(service: CaxtonService) -> list[Route]:
    async def list_registrations(request: Request) -> JSON:
        """
        summary: List directory registrations, by agent name
        responses:
          200: {description: "Every live registration (at most ?limit=, default 100)."}
        """
        limit = int_param(request, "limit", 100, 1, 10_000)
        return JSON({"agents": await directory_of(service).search({}, limit)})

    async def register(request: Request) -> JSON:
        """
        summary: Register an agent's description with the directory (FIPA DF register)
        description: >
          The body is a df-agent-description: {"agent", "services": [{"name", "type",
          "protocols", "ontologies", "languages", "ownership", "properties"}], "protocols",
          "ontologies", "languages", "lease" (RFC 3339) or "lease_s" (seconds)}.
        responses:
          201: {description: Registered.}
          400: {description: An invalid description; the message names the field.}
          409: {description: The agent is registered already (modify it instead).}
        """
        body = await read_json(request, _BODY_LIMIT)
        return JSON(await directory_of(service).register(body), status_code=201)

    async def search(request: Request) -> JSON:
        """
        summary: Search the directory (FIPA DF search)
        description: >
          The body is {"template": <description, every field optional>, "max_results": N}.
          A template matches when each field it gives matches (sets by inclusion).
        responses:
          200: {description: The matching registrations, by agent name.}
          400: {description: An invalid template.}
        """
        body = await read_json(request, _BODY_LIMIT)
        if not isinstance(body, dict) or set(body) - {"template", "max_results"}:
            raise RequestError(400, "invalid_request",
                               'the body must be {"template": {...}, "max_results": N}')
        found = await directory_of(service).search(body.get("template"),
                                                   body.get("max_results"))
        return JSON({"agents": found})

    async def get(request: Request) -> JSON:
        """
        summary: One agent's registration
        responses:
          200: {description: The registration.}
          404: {description: The agent is not registered.}
        """
        return JSON(await directory_of(service).get(request.path_params["agent"]))

    async def modify(request: Request) -> JSON:
        """
        summary: Replace an agent's registration (FIPA DF modify)
        responses:
          200: {description: The new registration.}
          404: {description: The agent is not registered.}
        """
        body = await read_json(request, _BODY_LIMIT)
        return JSON(await directory_of(service).modify(body, request.path_params["agent"]))

    async def deregister(request: Request) -> Response:
        """
        summary: Deregister an agent (FIPA DF deregister)
        responses:
          204: {description: Deregistered.}
          404: {description: The agent is not registered.}
        """
        await directory_of(service).deregister(request.path_params["agent"])
        return Response(status_code=204)

    return [
        Route("/api/v1/directory", list_registrations, methods=["GET"]),
        Route("/api/v1/directory", register, methods=["POST"]),
        Route("/api/v1/directory/search", search, methods=["POST"]),
        Route("/api/v1/directory/{agent:path}", get, methods=["GET"]),
        Route("/api/v1/directory/{agent:path}", modify, methods=["PUT"]),
        Route("/api/v1/directory/{agent:path}", deregister, methods=["DELETE"]),
    ]
