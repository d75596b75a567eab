"""REST under /api/v1: thin handlers over the service layer, errors as JSON ``{code, message}``."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.schemas import SchemaGenerator

from caxton import errors
from caxton.api.mtp.inbound import AbsoluteFormTarget, AccEndpoint
from caxton.api.rest.common import (
    JSON,
    RequestError,
    bool_param,
    error,
    float_param,
    int_param,
    read_body,
    read_json,
)
from caxton.api.rest.dead_letters import dead_letter_routes
from caxton.api.rest.directory import directory_routes, json_param
from caxton.api.rest.events import event_stream_routes
from caxton.api.rest.platforms import platform_routes
from caxton.api.rest.protocols import protocol_routes
from caxton.api.rest.stream import message_stream_routes
from caxton.api.service import CaxtonService, DeployRequest

_STATUS: dict[type[errors.CaxtonError], int] = {
    errors.InvalidMessageError: 400,
    errors.InvalidAgentNameError: 400,
    errors.ModuleRejectedError: 422,
    errors.AgentNotFoundError: 404,
    errors.ConversationNotFoundError: 404,
    errors.IllegalTransitionError: 409,
    errors.AgentUnavailableError: 503,
    errors.MailboxFullError: 429,
    errors.PayloadTooLargeError: 413,
    errors.ReplyTimeoutError: 504,
    errors.DeadLetterNotFoundError: 404,
    errors.NotRegisteredError: 404,
    errors.AlreadyRegisteredError: 409,
    errors.PlatformNotFoundError: 404,
    errors.PlatformConfiguredError: 409,
    errors.ProtocolViolation: 409,
    errors.CodecError: 400,
    errors.StoreBusyError: 503,
    errors.StoreError: 503,
}


def build_app(  # noqa: PLR0915 - one closure per route keeps handlers next to their docs
    service: CaxtonService,
    *,
    max_request_bytes: int,
    max_module_bytes: int,
    lifespan: Callable[[Starlette], AbstractAsyncContextManager[None]] | None = None,
    mtp: AccEndpoint | None = None,
) -> Starlette:
    # base64 makes a module a third larger in a JSON body
    deploy_limit = max_module_bytes * 4 // 3 + 64 * 1024

    async def health(_: Request) -> JSON:
        """
        summary: Liveness
        responses:
          200: {description: The process is alive.}
        """
        return JSON(service.health())

    async def ready(_: Request) -> JSON:
        """
        summary: Readiness (store open, agents restored)
        responses:
          200: {description: Ready.}
          503: {description: Still starting or shutting down.}
        """
        body = service.readiness()
        return JSON(body, status_code=200 if body["status"] == "ready" else 503)

    async def list_agents(_: Request) -> JSON:
        """
        summary: List agents
        responses:
          200: {description: Every deployed agent with state, version, limits and counters.}
        """
        return JSON({"agents": await service.list_agents()})

    async def deploy_agent(request: Request) -> JSON:
        """
        summary: Deploy an agent (or a new version of one)
        description: >
          Either JSON {"name", "module_base64", "version", "limits": {"fuel", "memory_bytes",
          "timeout_ms", "max_message_bytes"}, "services": [...]} or the raw module (binary or
          WAT) as the body with ?name=&version=&fuel=&memory_bytes=&timeout_ms= query parameters
          (and services= as a JSON list).
        responses:
          201: {description: Deployed and running.}
          400: {description: Bad name or parameters.}
          413: {description: Module too large.}
          422: {description: The module failed validation; the message says why.}
        """
        if request.headers.get("content-type", "").startswith("application/json"):
            body = await read_json(request, deploy_limit)
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
            name, version = body.get("name"), body.get("version") or "0.1.0"
            services = body.get("services")
        else:
            module = await read_body(request, max_module_bytes)
            params = request.query_params
            name, version = params.get("name"), params.get("version") or "0.1.0"
            services = json_param(request, "services")
            limits = {}
            for key in ("fuel", "memory_bytes", "timeout_ms", "max_message_bytes"):
                if key in params:
                    limits[key] = int_param(request, key, 0, 0, 2**62)
        if not isinstance(name, str) or not name:
            raise RequestError(400, "invalid_request", "an agent 'name' is required")
        if not isinstance(version, str):
            raise RequestError(400, "invalid_request", "version must be a string")
        view = await service.deploy(DeployRequest(name=name, module=module, version=version,
                                                  limits=limits, services=services))
        return JSON(view, status_code=201)

    async def get_agent(request: Request) -> JSON:
        """
        summary: Show one agent
        responses:
          200: {description: The agent.}
          404: {description: No such agent.}
        """
        return JSON(await service.get_agent(request.path_params["name"]))

    async def agent_logs(request: Request) -> JSON:
        """
        summary: Recent log lines the agent wrote through the host's log function
        responses:
          200: {description: Log lines, oldest first.}
        """
        limit = int_param(request, "limit", 100, 1, 1000)
        return JSON({"logs": await service.agent_logs(request.path_params["name"], limit)})

    async def remove_agent(request: Request) -> Response:
        """
        summary: Remove an agent (drains its mailbox first)
        responses:
          204: {description: Removed.}
          404: {description: No such agent.}
        """
        await service.remove_agent(request.path_params["name"])
        return Response(status_code=204)

    async def stop_agent(request: Request) -> JSON:
        """
        summary: Stop an agent after it drains its mailbox
        responses:
          200: {description: Stopped.}
        """
        return JSON(await service.stop_agent(request.path_params["name"]))

    async def start_agent(request: Request) -> JSON:
        """
        summary: Start a stopped or failed agent
        responses:
          200: {description: Running.}
        """
        return JSON(await service.start_agent(request.path_params["name"]))

    async def send_message(request: Request) -> JSON:
        """
        summary: Send an ACL message; with ?wait=true return the first reply
        description: >
          The body is a FIPA-ACL message in JSON (performative, receiver, content, ...).
          Query parameters - wait (bool), timeout (seconds, default 30).
        responses:
          202: {description: Accepted and durably logged (no wait).}
          200: {description: The message and its reply (wait).}
          400: {description: Malformed JSON or an invalid field (named in the message).}
          404: {description: No agent by a receiver's name; a FIPA failure is in the conversation.}
          413: {description: Message too large.}
          429: {description: The receiver's mailbox is full.}
          504: {description: No reply within the timeout.}
        """
        wait = bool_param(request, "wait")
        timeout = float_param(request, "timeout", 30.0)
        obj = await read_json(request, max_request_bytes)
        result = await service.send(obj, wait=wait, timeout=timeout)
        return JSON(result.to_dict(), status_code=200 if wait else 202)

    async def list_conversations(request: Request) -> JSON:
        """
        summary: List conversations, most recent first
        responses:
          200: {description: Conversation summaries.}
        """
        limit = int_param(request, "limit", 100, 1, 10_000)
        participant = request.query_params.get("participant")
        return JSON({"conversations": await service.list_conversations(
            limit=limit, participant=participant)})

    async def get_conversation(request: Request) -> JSON:
        """
        summary: One conversation with its messages in order
        responses:
          200: {description: The conversation.}
          404: {description: No such conversation.}
        """
        return JSON(await service.get_conversation(request.path_params["conversation_id"]))

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/ready", ready, methods=["GET"]),
        Route("/api/v1/agents", list_agents, methods=["GET"]),
        Route("/api/v1/agents", deploy_agent, methods=["POST"]),
        Route("/api/v1/agents/{name}", get_agent, methods=["GET"]),
        Route("/api/v1/agents/{name}", remove_agent, methods=["DELETE"]),
        Route("/api/v1/agents/{name}/logs", agent_logs, methods=["GET"]),
        Route("/api/v1/agents/{name}/stop", stop_agent, methods=["POST"]),
        Route("/api/v1/agents/{name}/start", start_agent, methods=["POST"]),
        Route("/api/v1/messages", send_message, methods=["POST"]),
        Route("/api/v1/conversations", list_conversations, methods=["GET"]),
        Route("/api/v1/conversations/{conversation_id}", get_conversation, methods=["GET"]),
        *dead_letter_routes(service),
        *directory_routes(service),
        *platform_routes(service),
        *message_stream_routes(service),
        *(mtp.routes() if mtp is not None else ()),  # FIPA HTTP MTP: POST /acc
        *event_stream_routes(service),
        *protocol_routes(service, max_request_bytes),  # protocol drivers
    ]
    schemas = SchemaGenerator({
        "openapi": "3.0.3",
        "info": {"title": "Caxton management API", "version": "1"},
    })

    async def openapi(request: Request) -> JSON:
        return JSON(schemas.get_schema(routes=app.routes))

    routes.append(Route("/openapi.json", openapi, methods=["GET"], include_in_schema=False))

    async def on_caxton_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, errors.CaxtonError)
        status = next((s for cls, s in _STATUS.items() if isinstance(exc, cls)), 500)
        extra = {"field": exc.field} if isinstance(exc, errors.InvalidMessageError) else {}
        return error(status, exc.code, exc.message, **extra)

    async def on_bad_request(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestError)
        return error(exc.status, exc.code, exc.message)

    async def on_http(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error(exc.status_code, code, str(exc.detail))

    async def on_unexpected(_: Request, exc: Exception) -> Response:
        return error(500, "internal", f"internal error: {type(exc).__name__}")

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            errors.CaxtonError: on_caxton_error,
            RequestError: on_bad_request,
            HTTPException: on_http,
            Exception: on_unexpected,
        },
    )
    app.add_middleware(AbsoluteFormTarget)  # "POST http://host:port/acc" as MTP clients send
    return app


