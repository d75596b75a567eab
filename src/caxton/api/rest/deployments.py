"""/api/v1/deployments: deploys that answer 202 at once and run on in the server.

The body is what ``POST /api/v1/agents`` takes; the answer is a deployment to follow with
``GET /api/v1/deployments/{id}`` or its server-sent event stream (docs/agents.md, "Slow
deploys").
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator

import orjson
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from caxton.api.rest.common import JSON, RequestError, int_param, read_body, read_json
from caxton.api.rest.directory import json_param
from caxton.api.service import CaxtonService, DeployRequest

_LIMITS = ("fuel", "memory_bytes", "timeout_ms", "max_message_bytes")


async def read_deploy_request(request: Request, max_module_bytes: int) -> DeployRequest:
    """A deploy from JSON (``module_base64``) or from the raw module with query parameters."""
    if request.headers.get("content-type", "").startswith("application/json"):
        # base64 makes a module a third larger in a JSON body
        body = await read_json(request, max_module_bytes * 4 // 3 + 64 * 1024)
        if not isinstance(body, dict):
            raise RequestError(400, "invalid_request", "body must be a JSON object")
        try:
            module = base64.b64decode(body.get("module_base64") or "", validate=True)
        except (binascii.Error, TypeError):
            raise RequestError(400, "invalid_request", "module_base64 is not valid base64"
                               ) from None
        limits = body.get("limits") or {}
        if not isinstance(limits, dict):
            raise RequestError(400, "invalid_request", "limits must be an object")
        name, version, services = body.get("name"), body.get("version") or "0.1.0", body.get(
            "services")
    else:
        module = await read_body(request, max_module_bytes)
        params = request.query_params
        name, version = params.get("name"), params.get("version") or "0.1.0"
        services = json_param(request, "services")
        limits = {key: int_param(request, key, 0, 0, 2**62) for key in _LIMITS if key in params}
    if not isinstance(name, str) or not name:
        raise RequestError(400, "invalid_request", "an agent 'name' is required")
    if not isinstance(version, str):
        raise RequestError(400, "invalid_request", "version must be a string")
    return DeployRequest(name=name, module=module, version=version, limits=limits,
                         services=services)


def deployment_routes(service: CaxtonService, max_module_bytes: int) -> list[Route]:
    async def start_deployment(request: Request) -> JSON:
        """
        summary: Start deploying an agent; answers at once while the deploy runs on
        description: >
          The body is what POST /api/v1/agents takes (JSON with module_base64, or the raw
          module with ?name=&version=...). The answer is the deployment, {"id", "name",
          "version", "status" (running, succeeded, failed), "stage" (validate, compile,
          instantiate, init, switch), "progress", "stage_s", "agent", "error", "status_url"},
          with a Location header; follow it with GET /api/v1/deployments/{id}.
        responses:
          202: {description: Accepted; the deploy runs on in the server.}
          400: {description: Bad name, version, limits or services.}
          409: {description: This agent has a deployment in progress already.}
          413: {description: Module too large.}
          429: {description: As many deployments as the server runs at once are in progress.}
        """
        deploy = await read_deploy_request(request, max_module_bytes)
        view = service.start_deployment(deploy)
        url = f"/api/v1/deployments/{view['id']}"
        return JSON({**view, "status_url": url}, status_code=202, headers={"Location": url})

    async def list_deployments(_: Request) -> JSON:
        """
        summary: Recent deployments, newest first (running ones and the last finished ones)
        responses:
          200: {description: Deployments.}
        """
        return JSON({"deployments": service.deployments.list()})

    async def get_deployment(request: Request) -> JSON:
        """
        summary: One deployment - its stage, progress, and when done the agent or the error
        description: >
          By its id, or by an agent's name for that agent's latest deployment.
        responses:
          200: {description: The deployment.}
          404: {description: No such deployment (or finished long ago).}
        """
        return JSON(service.deployments.get(request.path_params["deployment_id"]))

    async def watch_deployment(request: Request) -> StreamingResponse:
        """
        summary: A deployment's progress as server-sent events, until it finishes
        description: >
          One event now, one at each stage (and every second while a stage runs), and the
          last when the deployment has succeeded or failed; then the stream ends. Each event's
          data is the deployment as GET /api/v1/deployments/{id} shows it.
        responses:
          200: {description: A text/event-stream.}
          404: {description: No such deployment.}
        """
        snapshots = service.deployments.watch(request.path_params["deployment_id"])
        first = await anext(snapshots)  # an unknown id is a 404, not an empty stream

        async def events() -> AsyncIterator[bytes]:
            yield b"data: " + orjson.dumps(first) + b"\n\n"
            async for snapshot in snapshots:
                yield b"data: " + orjson.dumps(snapshot) + b"\n\n"

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})

    return [
        Route("/api/v1/deployments", start_deployment, methods=["POST"]),
        Route("/api/v1/deployments", list_deployments, methods=["GET"]),
        Route("/api/v1/deployments/{deployment_id}", get_deployment, methods=["GET"]),
        Route("/api/v1/deployments/{deployment_id}/events", watch_deployment, methods=["GET"]),
    ]
