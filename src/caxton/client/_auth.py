"""A bearer token on every call of a channel: ``authorization: Bearer <token>`` metadata,
added by a client interceptor (blocking and asyncio)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc


def _with_token(details: Any, token: str) -> Any:
    metadata = [*(details.metadata or ()), ("authorization", f"Bearer {token}")]
    return details._replace(metadata=metadata) if hasattr(details, "_replace") else \
        _Details(details, metadata)


class _Details(grpc.ClientCallDetails):
    def __init__(self, base: Any, metadata: list[tuple[str, str]]) -> None:
        self.method = base.method
        self.timeout = base.timeout
        self.metadata = tuple(metadata)
        self.credentials = base.credentials
        self.wait_for_ready = getattr(base, "wait_for_ready", None)
        self.compression = getattr(base, "compression", None)


class BearerInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor,
                        grpc.StreamUnaryClientInterceptor, grpc.StreamStreamClientInterceptor):
    """For ``grpc.intercept_channel`` (the blocking client)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def intercept_unary_unary(self, continuation: Callable[..., Any], details: Any,
                              request: Any) -> Any:
        return continuation(_with_token(details, self._token), request)

    def intercept_unary_stream(self, continuation: Callable[..., Any], details: Any,
                               request: Any) -> Any:
        return continuation(_with_token(details, self._token), request)

    def intercept_stream_unary(self, continuation: Callable[..., Any], details: Any,
                               requests: Any) -> Any:
        return continuation(_with_token(details, self._token), requests)

    def intercept_stream_stream(self, continuation: Callable[..., Any], details: Any,
                                requests: Any) -> Any:
        return continuation(_with_token(details, self._token), requests)


def aio_interceptors(token: str) -> list[grpc.aio.ClientInterceptor]:
    """For ``grpc.aio`` channels (the asyncio client)."""

    class UnaryUnary(grpc.aio.UnaryUnaryClientInterceptor):
        async def intercept_unary_unary(self, continuation: Any, details: Any,
                                        request: Any) -> Any:
            return await continuation(_aio_details(details, token), request)

    class UnaryStream(grpc.aio.UnaryStreamClientInterceptor):
        async def intercept_unary_stream(self, continuation: Any, details: Any,
                                         request: Any) -> Any:
            return await continuation(_aio_details(details, token), request)

    return [UnaryUnary(), UnaryStream()]


def _aio_details(details: Any, token: str) -> Any:
    metadata = grpc.aio.Metadata(*(details.metadata or ()))
    metadata.add("authorization", f"Bearer {token}")
    return grpc.aio.ClientCallDetails(details.method, details.timeout, metadata,
                                      details.credentials, details.wait_for_ready)

