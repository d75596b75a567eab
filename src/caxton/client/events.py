"""Agent lifecycle and deployment events over gRPC (``EventService/StreamEvents``).

``CaxtonClient.stream_events`` and ``AsyncCaxtonClient.stream_events`` return these streams;
each item is an event in the JSON form ``GET /api/v1/events`` sends (``caxton.client.types``
documents its keys).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc

from caxton.api.grpc._generated import events_pb2, events_pb2_grpc
from caxton.api.grpc.convert_events import event_from_proto
from caxton.client.errors import from_rpc_error, translate

Event = dict[str, Any]
"""``{"at", "kind", "agent", "version", "module_hash", "state", "reason", "old_version",
"old_module_hash"}``; keys that do not apply are None."""


def _request(agent: str | None, kind: str | None) -> events_pb2.StreamEventsRequest:
    return events_pb2.StreamEventsRequest(agent=agent or "", kind=kind or "")


class EventStream:
    """Events from the moment the stream opened, in order; ``dropped`` counts those the server
    skipped because this consumer fell behind. ``close()`` (or leaving ``with``) ends it."""

    def __init__(self, call: Any, target: str) -> None:
        self._call = call
        self._target = target
        self._closed = False
        self.dropped = 0

    def __iter__(self) -> Iterator[Event]:
        try:
            for item in self._call:
                self.dropped = item.dropped
                yield event_from_proto(item.event)
        except grpc.RpcError as exc:
            if self._closed and self._call.code() is grpc.StatusCode.CANCELLED:
                return
            raise from_rpc_error(exc, self._target) from None

    def close(self) -> None:
        self._closed = True
        self._call.cancel()

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class AsyncEventStream:
    """``EventStream`` for asyncio: ``async for`` it; ``close()`` or ``async with`` ends it."""

    def __init__(self, call: Any, target: str) -> None:
        self._call = call
        self._target = target
        self._closed = False
        self.dropped = 0

    async def __aiter__(self) -> AsyncIterator[Event]:
        try:
            async for item in self._call:
                self.dropped = item.dropped
                yield event_from_proto(item.event)
        except grpc.RpcError as exc:
            if self._closed and isinstance(exc, grpc.aio.AioRpcError) \
                    and exc.code() is grpc.StatusCode.CANCELLED:
                return
            raise from_rpc_error(exc, self._target) from None

    def close(self) -> None:
        self._closed = True
        self._call.cancel()

    async def __aenter__(self) -> AsyncEventStream:
        return self

    async def __aexit__(self, *_: object) -> None:
        self.close()


def open_stream(channel: grpc.Channel, target: str, agent: str | None, kind: str | None
                ) -> EventStream:
    """Returns once the server is watching, so anything that happens afterwards is seen."""
    call = events_pb2_grpc.EventServiceStub(channel).StreamEvents(_request(agent, kind))
    try:
        call.initial_metadata()  # the server sends its headers once the watch is in place
        if call.done() and call.code() is not grpc.StatusCode.OK:
            raise from_rpc_error(call, target)
    except grpc.RpcError as exc:
        raise from_rpc_error(exc, target) from None
    return EventStream(call, target)


async def open_async_stream(channel: grpc.aio.Channel, target: str, agent: str | None,
                            kind: str | None) -> AsyncEventStream:
    call = events_pb2_grpc.EventServiceStub(channel).StreamEvents(_request(agent, kind))
    try:
        await call.initial_metadata()
        if call.done():
            code = await call.code()
            if code is not grpc.StatusCode.OK:
                raise translate(code, await call.details(), await call.trailing_metadata(),
                                target)
    except grpc.RpcError as exc:
        raise from_rpc_error(exc, target) from None
    return AsyncEventStream(call, target)
