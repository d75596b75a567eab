"""Agent lifecycle and deployment events over gRPC (``EventService/StreamEvents``).

``CaxtonClient.stream_events`` and ``AsyncCaxtonClient.stream_events`` return these streams;
each item is an event in the JSON form ``GET /api/v1/events`` sends (``caxton.client.types``
documents its keys).
"""

from __future__ import annotations

from typing import Any

import grpc

from caxton.api.grpc._generated import events_pb2, events_pb2_grpc
from caxton.api.grpc.convert_events import event_from_proto
from caxton.client._streams import AsyncServerStream, ServerStream
from caxton.client.errors import from_rpc_error, translate

Event = dict[str, Any]
"""``{"at", "kind", "agent", "version", "module_hash", "state", "reason", "old_version",
"old_module_hash"}``; keys that do not apply are None."""


def _request(agent: str | None, kind: str | None) -> events_pb2.StreamEventsRequest:
    return events_pb2.StreamEventsRequest(agent=agent or "", kind=kind or "")


class EventStream(ServerStream[Event]):
    """Events from the moment the stream opened, in order; ``dropped`` counts those the server
    skipped because this consumer fell behind. ``close()`` (or leaving ``with``) ends it."""

    def _convert(self, item: Any) -> Event:
        return event_from_proto(item.event)


class AsyncEventStream(AsyncServerStream[Event]):
    """``EventStream`` for asyncio: ``async for`` it; ``close()`` or ``async with`` ends it."""

    def _convert(self, item: Any) -> Event:
        return event_from_proto(item.event)


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
