"""Requests that are not the protobuf their method takes: INVALID_ARGUMENT, not UNKNOWN.

grpc.aio deserializes a request before any handler runs; when the bytes do not parse it logs the
``DecodeError`` with a traceback and answers UNKNOWN, which blames the server for the client's
bytes. This interceptor wraps every method's request deserializer so that a failure becomes a
marker instead of an exception, and wraps the method so that, given the marker, it aborts with
INVALID_ARGUMENT (and the same ``ErrorInfo`` details as every Caxton error) without running the
handler.

Every method Caxton serves takes a single request (unary-unary or unary-stream, including the
standard health and reflection services' unary ones); a method that streams requests is passed
through unchanged.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import structlog

from caxton.api.grpc.status import to_status
from caxton.errors import InvalidMessageError

log = structlog.get_logger("caxton.api.grpc")

Context = grpc.aio.ServicerContext[Any, Any]


class _Undecodable:
    """What the wrapped deserializer returns for bytes that do not parse."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _tolerant(deserialize: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    def parse(data: bytes) -> Any:
        try:
            return deserialize(data)
        except Exception as exc:  # protobuf's DecodeError, or whatever a custom one raises
            return _Undecodable(str(exc) or type(exc).__name__)

    return parse


async def _refuse(request: _Undecodable, context: Context, method: str) -> None:
    log.info("grpc request refused: not the method's protobuf", method=method,
             reason=request.reason)
    await context.abort_with_status(to_status(InvalidMessageError(
        "request", f"the request body is not a valid protobuf message: {request.reason}")))


def _unary_unary(behaviour: Callable[[Any, Context], Awaitable[Any]], method: str
                 ) -> Callable[[Any, Context], Awaitable[Any]]:
    async def call(request: Any, context: Context) -> Any:
        if isinstance(request, _Undecodable):
            await _refuse(request, context, method)
        return await behaviour(request, context)

    return call


def _unary_stream(behaviour: Callable[[Any, Context], Any], method: str
                  ) -> Callable[[Any, Context], Any]:
    if not inspect.isasyncgenfunction(behaviour):  # one that writes with context.write()
        return _unary_unary(behaviour, method)

    async def call(request: Any, context: Context) -> AsyncIterator[Any]:
        if isinstance(request, _Undecodable):
            await _refuse(request, context, method)
        async for item in behaviour(request, context):
            yield item

    return call


class RefuseUndecodable(grpc.aio.ServerInterceptor):
    """The server interceptor; pass it in ``grpc.aio.server(interceptors=...)``."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails],
                               Awaitable[grpc.RpcMethodHandler[Any, Any] | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        if handler is None or handler.request_streaming or handler.request_deserializer is None:
            return handler
        method = str(handler_call_details.method)
        deserializer = _tolerant(handler.request_deserializer)
        # The stubs type the synchronous server's behaviours; grpc.aio's are coroutines.
        behaviour: Any = handler.unary_stream if handler.response_streaming else \
            handler.unary_unary
        if handler.response_streaming:
            return grpc.unary_stream_rpc_method_handler(
                _unary_stream(behaviour, method), request_deserializer=deserializer,
                response_serializer=handler.response_serializer)
        return grpc.unary_unary_rpc_method_handler(
            _unary_unary(behaviour, method), request_deserializer=deserializer,
            response_serializer=handler.response_serializer)
