"""The gRPC listener's front door: the same authentication, permission table, rate limits and
audit trail as REST's (``caxton.api.rest.guard``), per method.

Credentials travel as ``authorization: Bearer <token>`` metadata, or as a client certificate
when the listener runs mTLS. Everything happens inside the wrapped method (not in
``intercept_service``) so that the caller is set in the call's own context, where the handler
and the service layer read it.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
import structlog

from caxton.api.grpc.status import to_status
from caxton.errors import (
    AuthenticationError,
    CaxtonError,
    PermissionDeniedError,
    RateLimitedError,
)
from caxton.security.audit import AuditEvent, AuditTrail
from caxton.security.authenticator import Authenticator
from caxton.security.context import CALLER, require
from caxton.security.permissions import GRPC, GRPC_TARGETS, READ_ONLY, Permission, Role
from caxton.security.principal import ClientCertificate, Principal
from caxton.security.rate_limit import Limits

log = structlog.get_logger("caxton.security")
Context = grpc.aio.ServicerContext[Any, Any]
CertificateOf = Callable[[Context], ClientCertificate | None]
_HTTP = {grpc.StatusCode.UNAUTHENTICATED: 401, grpc.StatusCode.PERMISSION_DENIED: 403,
         grpc.StatusCode.RESOURCE_EXHAUSTED: 429, grpc.StatusCode.NOT_FOUND: 404,
         grpc.StatusCode.INVALID_ARGUMENT: 400, grpc.StatusCode.OK: 200}


@dataclass
class GrpcGuard(grpc.aio.ServerInterceptor):
    auth: Authenticator
    limits: Limits
    audit: AuditTrail | None
    certificate_of: CertificateOf | None = None  # set when the listener runs TLS

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails],
                               Awaitable[grpc.RpcMethodHandler[Any, Any] | None]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(details)
        if handler is None:
            return None
        method = str(details.method)
        permission = GRPC.get(method)
        metadata = {k: v for k, v in details.invocation_metadata or ()
                    if isinstance(v, str)}
        call = _Call(self, method, permission, metadata.get("authorization"))
        behaviour: Any
        if handler.request_streaming and handler.response_streaming:
            behaviour = handler.stream_stream
            return grpc.stream_stream_rpc_method_handler(
                call.streaming(behaviour), handler.request_deserializer,
                handler.response_serializer)
        if handler.request_streaming:
            behaviour = handler.stream_unary
            return grpc.stream_unary_rpc_method_handler(
                call.unary(behaviour), handler.request_deserializer,
                handler.response_serializer)
        if handler.response_streaming:
            behaviour = handler.unary_stream
            wrapped = call.streaming(behaviour) if inspect.isasyncgenfunction(behaviour) \
                else call.unary(behaviour)
            return grpc.unary_stream_rpc_method_handler(
                wrapped, handler.request_deserializer, handler.response_serializer)
        behaviour = handler.unary_unary
        return grpc.unary_unary_rpc_method_handler(
            call.unary(behaviour), handler.request_deserializer,
            handler.response_serializer)


@dataclass
class _Call:
    guard: GrpcGuard
    method: str
    permission: Permission | None
    authorization: str | None

    async def admit(self, request: Any, context: Context) -> Principal:
        """The caller, authenticated and allowed; aborts the call otherwise."""
        principal: Principal | None = None
        source = f"grpc {context.peer()}"
        target = ""
        try:
            if self.permission is None:  # not in the table: not served
                raise PermissionDeniedError(f"{self.method} has no permission; it is not served")
            if self.permission is Permission.open:
                return _anonymous()
            address = context.peer().rpartition(":")[0]
            wait = self.guard.limits.per_address.take(address)
            if wait:
                raise RateLimitedError("too many requests from this address; retry later", wait)
            certificate = self.guard.certificate_of(context) if self.guard.certificate_of \
                else None
            try:
                principal = await self.guard.auth.authenticate(self.authorization, certificate)
            except AuthenticationError:
                wait = self.guard.limits.failures.take(address)
                if wait:
                    raise RateLimitedError("too many failed authentications from this "
                                           "address; retry later", wait) from None
                raise
            if principal.role is not Role.admin and principal.method != "open":
                wait = self.guard.limits.per_token.take(principal.actor)
                if wait:
                    raise RateLimitedError("too many requests for this token; retry later",
                                           wait)
            field = GRPC_TARGETS.get(self.method)
            target = str(getattr(request, field, "")) if field and request is not None else ""
            token = CALLER.set(principal)
            try:
                require(self.permission, target or None)
            finally:
                CALLER.reset(token)
            return principal
        except CaxtonError as exc:
            status = to_status(exc)
            if not isinstance(exc, RateLimitedError) and self.guard.audit is not None:
                self.guard.audit.record(AuditEvent(
                    principal.actor if principal else "anonymous", source, self.method,
                    target, "unauthenticated" if isinstance(exc, AuthenticationError)
                    else "denied", _HTTP.get(status.code, 500), exc.message))
            await context.abort_with_status(status)
            raise  # not reached: abort raises

    def audited(self, principal: Principal, request: Any, context: Context,
                error: BaseException | None) -> None:
        if self.guard.audit is None or self.permission in READ_ONLY:
            return
        code = context.code() if error is None else (
            to_status(error).code if isinstance(error, CaxtonError) else grpc.StatusCode.UNKNOWN)
        if isinstance(code, int) or code is None:
            code = grpc.StatusCode.OK
        field = GRPC_TARGETS.get(self.method)
        target = str(getattr(request, field, "")) if field and request is not None else ""
        self.guard.audit.record(AuditEvent(
            principal.actor, f"grpc {context.peer()}", self.method, target,
            "ok" if code is grpc.StatusCode.OK else "error", _HTTP.get(code, 500)))

    def unary(self, behaviour: Callable[[Any, Context], Awaitable[Any]]
              ) -> Callable[[Any, Context], Awaitable[Any]]:
        async def call(request: Any, context: Context) -> Any:
            principal = await self.admit(request, context)
            token = CALLER.set(principal)
            error: BaseException | None = None
            try:
                return await behaviour(request, context)
            except BaseException as exc:
                error = exc
                raise
            finally:
                CALLER.reset(token)
                self.audited(principal, request, context, error)

        return call

    def streaming(self, behaviour: Callable[[Any, Context], AsyncIterator[Any]]
                  ) -> Callable[[Any, Context], AsyncIterator[Any]]:
        async def call(request: Any, context: Context) -> AsyncIterator[Any]:
            principal = await self.admit(request, context)
            token = CALLER.set(principal)
            try:
                async for item in behaviour(request, context):
                    yield item
            finally:
                CALLER.reset(token)

        return call


def _anonymous() -> Principal:
    return Principal("anonymous", Role.viewer, method="open")
