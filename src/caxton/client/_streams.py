"""Server streams as iterators: one base for every gRPC stream the client returns (messages,
events, subscriptions), blocking and asyncio. A subclass says how to turn an item into the
JSON form REST sends (``_convert``); ``dropped`` follows the items that carry that count."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, Generic, Self, TypeVar

import grpc

from caxton.client.errors import from_rpc_error

T = TypeVar("T")


class _Stream(Generic[T]):
    def __init__(self, call: Any, target: str) -> None:
        self._call = call
        self._target = target
        self._closed = False
        self.dropped = 0  # items the server skipped because this consumer fell behind

    def _convert(self, item: Any) -> T:
        raise NotImplementedError

    def _take(self, item: Any) -> T:
        self.dropped = getattr(item, "dropped", self.dropped)
        return self._convert(item)

    def close(self) -> None:
        """End the call (the server sees the client go)."""
        self._closed = True
        self._call.cancel()


class ServerStream(_Stream[T]):
    """Iterate it; ``close()`` (or leaving ``with``) ends it."""

    def __iter__(self) -> Iterator[T]:
        try:
            for item in self._call:
                yield self._take(item)
        except grpc.RpcError as exc:
            if self._closed and self._call.code() is grpc.StatusCode.CANCELLED:
                return
            raise from_rpc_error(exc, self._target) from None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class AsyncServerStream(_Stream[T]):
    """``async for`` it; ``close()`` or ``async with`` ends it."""

    async def __aiter__(self) -> AsyncIterator[T]:
        try:
            async for item in self._call:
                yield self._take(item)
        except grpc.RpcError as exc:
            if self._closed and isinstance(exc, grpc.aio.AioRpcError) \
                    and exc.code() is grpc.StatusCode.CANCELLED:
                return
            raise from_rpc_error(exc, self._target) from None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        self.close()
