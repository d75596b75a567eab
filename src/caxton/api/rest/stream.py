"""GET /api/v1/messages/stream: routed messages as server-sent events.

The REST twin of gRPC's ``MessageService/StreamMessages``, on the same service-layer watch
(``CaxtonService.watch_messages``): a bounded queue fed by a router tap, which drops and counts
rather than slow routing when the client reads too slowly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Generic, TypeVar

import orjson
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from caxton.api.rest.models.messages import MessageStreamItem, MessageStreamQuery
from caxton.api.rest.operations import SSE, Call, Reply, RestApi, reply
from caxton.api.service import CaxtonService
from caxton.api.watch import Watch
from caxton.domain.acl import AclMessage

T = TypeVar("T")


class WatchResponse(StreamingResponse, Generic[T]):
    """A watch as server-sent events, ``render`` giving each event's data; the watch is closed
    however the response ends (even unstarted)."""

    def __init__(self, watch: Watch[T], render: Callable[[T, int], bytes]) -> None:
        super().__init__(_events(watch, render), media_type="text/event-stream",
                         headers={"cache-control": "no-cache", "x-accel-buffering": "no"})
        self._watch = watch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._watch.close()


async def _events(watch: Watch[T], render: Callable[[T, int], bytes]) -> AsyncIterator[bytes]:
    # A comment first: the client sees the headers, and knows the watch is in place.
    yield b": watching\n\n"
    async for item in watch:
        yield b"data: " + render(item, watch.dropped) + b"\n\n"


def _message(msg: AclMessage, dropped: int) -> bytes:
    return orjson.dumps({"message": msg.to_dict(), "dropped": dropped})


def message_stream_routes(api: RestApi, service: CaxtonService) -> None:
    @api.operation(
        "GET", "/api/v1/messages/stream", operation_id="streamMessages", tag="messages",
        summary="Watch routed messages as server-sent events",
        description="Every message routed from now on that ?agent= sent or receives and that "
                    "has the ?performative= (both optional). The stream starts with a comment "
                    "line and ends when the client disconnects or the server shuts down.",
        query=MessageStreamQuery,
        responses=(Reply(200, "A text/event-stream; each event's data is a MessageStreamItem.",
                         media_type=SSE, events=MessageStreamItem),
                   reply(400, "Unknown performative.")))
    async def stream_messages(call: Call) -> Response:
        query: MessageStreamQuery = call.query
        return WatchResponse(service.watch_messages(agent=query.agent,
                                                    performative=query.performative), _message)
