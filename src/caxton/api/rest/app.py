"""REST under /api/v1: thin handlers over the service layer, errors as JSON ``{code, message}``
(plus ``field`` when one part of the request is at fault).

Every operation is declared with its models (``operations``, ``models``); ``/openapi.json`` is
generated from the same declarations that check the requests.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from caxton import errors
from caxton.api.mtp.inbound import AbsoluteFormTarget, AccEndpoint
from caxton.api.rest.agents import agent_routes
from caxton.api.rest.body_timeout import BodyTimeout
from caxton.api.rest.common import JSON, RequestError, error
from caxton.api.rest.dead_letters import dead_letter_routes
from caxton.api.rest.deployments import deployment_routes
from caxton.api.rest.directory import directory_routes
from caxton.api.rest.events import event_stream_routes
from caxton.api.rest.guard import RestGuard
from caxton.api.rest.messages import message_routes
from caxton.api.rest.models.server import AccAccepted, Health, Readiness
from caxton.api.rest.openapi import document
from caxton.api.rest.operations import RAW, Body, Call, RestApi, reply
from caxton.api.rest.platforms import platform_routes
from caxton.api.rest.protocols import protocol_routes
from caxton.api.rest.security import security_routes
from caxton.api.rest.stream import message_stream_routes
from caxton.api.security import SecurityService
from caxton.api.service import CaxtonService
from caxton.security.permissions import REST, Permission

_STATUS: dict[type[errors.CaxtonError], int] = {
    errors.InvalidPermissionsError: 400,
    errors.InvalidMessageError: 400,
    errors.InvalidAgentNameError: 400,
    errors.HostFunctionNotPermittedError: 422,
    errors.ModuleRejectedError: 422,
    errors.AgentNotFoundError: 404,
    errors.ConversationNotFoundError: 404,
    errors.IllegalTransitionError: 409,
    errors.AgentUnavailableError: 503,
    errors.MailboxFullError: 429,
    errors.PayloadTooLargeError: 413,
    errors.LimitAboveCeilingError: 400,
    errors.MemoryBudgetError: 409,
    errors.CapacityError: 503,
    errors.TooManyDeploysError: 503,
    errors.DeploymentNotFoundError: 404,
    errors.DeploymentConflictError: 409,
    errors.DeploymentsBusyError: 429,
    errors.ReplyTimeoutError: 504,
    errors.DeadLetterNotFoundError: 404,
    errors.NotRegisteredError: 404,
    errors.AlreadyRegisteredError: 409,
    errors.MessageIdConflictError: 409,
    errors.PlatformNotFoundError: 404,
    errors.PlatformConfiguredError: 409,
    errors.ProtocolViolation: 409,
    errors.CodecError: 400,
    errors.StoreBusyError: 503,
    errors.StoreError: 503,
    errors.AuthenticationError: 401,
    errors.PermissionDeniedError: 403,
    errors.RateLimitedError: 429,
    errors.TokenNotFoundError: 404,
}
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}
DESCRIPTION = ("The management API of a Caxton server: agents, ACL messages, conversations, "
               "dead letters, the directory, protocol drivers, event streams and the FIPA "
               "HTTP MTP. Every error is an ErrorBody.")


def _version() -> str:
    try:
        return version("caxton")
    except PackageNotFoundError:  # running from a source tree
        return "0"


def server_routes(api: RestApi, service: CaxtonService, *, mtp: AccEndpoint | None,
                  max_request_bytes: int) -> None:
    """Health, readiness, the OpenAPI document and the FIPA HTTP MTP's ``/acc``."""

    @api.operation("GET", "/health", operation_id="health", tag="server", summary="Liveness",
                   responses=(reply(200, "The process is alive.", Health),))
    async def health(_: Call) -> Response:
        return JSON(service.health())

    @api.operation("GET", "/ready", operation_id="ready", tag="server",
                   summary="Readiness (store open, agents restored)",
                   responses=(reply(200, "Ready.", Readiness),
                              reply(503, "Still starting or shutting down.", Readiness)))
    async def ready(_: Call) -> Response:
        body = service.readiness()
        return JSON(body, status_code=200 if body["status"] == "ready" else 503)

    @api.operation("GET", "/openapi.json", operation_id="openapi", tag="server",
                   summary="This API's OpenAPI 3.1 document",
                   responses=(reply(200, "The document.", dict[str, Any]),))
    async def openapi(_: Call) -> Response:
        return JSON(document(api.operations, title="Caxton management API",
                             version=_version(), description=DESCRIPTION))

    if mtp is None:
        return

    @api.operation(
        "POST", "/acc", operation_id="receiveMtpMessage", tag="mtp",
        summary="FIPA HTTP MTP (fipa.mts.mtp.http.std): a message from another platform",
        description="multipart/mixed: the XML transport envelope (SC00085), then the ACL "
                    "message in the FIPA string representation (SC00070). Delivered to the "
                    "envelope's intended receivers; unknown ones get the sender a FIPA failure "
                    "from ams.",
        # The endpoint reads the body itself, so that it counts and logs what it refuses.
        bodies=(Body(RAW, max_request_bytes, media_type="multipart/mixed", fallback=True,
                     read_by_handler=True),),
        responses=(reply(200, "Accepted and logged: no body (what FIPA peers such as JADE "
                              "expect), or the AccAccepted JSON when Accept asks for "
                              "application/json.", AccAccepted),
                   reply(400, "The body cannot be read (the message says why); nothing "
                              "delivered."),
                   reply(403, "sender_refused: the sender or reply-to claims an agent of "
                              "this platform (a bare name, NAME@<platform_name>, or this "
                              "platform's /acc as its address); nothing delivered."),
                   reply(409, "message_id_conflict: the message's X-caxton-message-id was "
                              "accepted before for a different message; nothing delivered."),
                   reply(413, "The body is over max_request_bytes; nothing delivered."),
                   reply(503, "The message could not be logged.")))
    async def acc(call: Call) -> Response:
        return await mtp.receive(call.request)


def build_app(
    service: CaxtonService,
    *,
    max_request_bytes: int,
    max_module_bytes: int,
    lifespan: Callable[[Starlette], AbstractAsyncContextManager[None]] | None = None,
    mtp: AccEndpoint | None = None,
    body_timeout_s: float = 30.0,
    deploy_upload_timeout_s: float = 120.0,
    security: SecurityService | None = None,
    guard: dict[str, Any] | None = None,
) -> Starlette:
    api = RestApi()
    server_routes(api, service, mtp=mtp, max_request_bytes=max_request_bytes)
    agent_routes(api, service, max_module_bytes=max_module_bytes,
                 upload_timeout_s=deploy_upload_timeout_s)
    deployment_routes(api, service, max_module_bytes=max_module_bytes)  # 202 at once
    message_routes(api, service, max_request_bytes=max_request_bytes)
    message_stream_routes(api, service)
    dead_letter_routes(api, service)
    directory_routes(api, service)
    platform_routes(api, service)
    protocol_routes(api, service, max_request_bytes)
    event_stream_routes(api, service)
    if security is not None:
        security_routes(api, security)

    async def on_caxton_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, errors.CaxtonError)
        status = next((s for cls, s in _STATUS.items() if isinstance(exc, cls)), 500)
        extra = {"field": exc.field} if isinstance(
            exc, errors.InvalidMessageError | errors.LimitAboveCeilingError) else {}
        response = error(status, exc.code, exc.message, **extra)
        if isinstance(exc, errors.TooManyDeploysError | errors.RateLimitedError):
            response.headers["retry-after"] = str(max(1, round(exc.retry_after_s + 0.49)))
        if isinstance(exc, errors.AuthenticationError):
            response.headers["www-authenticate"] = 'Bearer realm="caxton"'
        return response

    async def on_bad_request(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestError)
        return exc.response()

    async def on_http(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        response = error(exc.status_code, _HTTP_CODES.get(exc.status_code, "http_error"),
                         str(exc.detail))
        for name, value in (exc.headers or {}).items():
            # 405: Allow lists the path's methods (in a stable order)
            response.headers[name] = ", ".join(sorted(m.strip() for m in value.split(","))) \
                if name.lower() == "allow" else value
        return response

    async def on_unexpected(_: Request, exc: Exception) -> Response:
        return error(500, "internal", f"internal error: {type(exc).__name__}")

    app = Starlette(
        routes=api.routes(),
        lifespan=lifespan,
        exception_handlers={
            errors.CaxtonError: on_caxton_error,
            RequestError: on_bad_request,
            HTTPException: on_http,
            Exception: on_unexpected,
        },
    )
    app.state.api = api
    if guard is not None:  # auth, browser safety, rate limits, audit: around every route
        open_paths = frozenset(op.path for op in api.operations
                               if REST[op.operation_id] is Permission.open)
        app.add_middleware(RestGuard, open_paths=open_paths, **guard)
    # Outside the guard, which must see the path: "POST http://host:port/acc" as MTP clients
    # (JADE) send it becomes "/acc".
    app.add_middleware(AbsoluteFormTarget)
    app.add_middleware(BodyTimeout, seconds=body_timeout_s)  # a stalled body: 408
    return app
