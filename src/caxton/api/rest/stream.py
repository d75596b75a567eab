"""GET /api/v1/messages/stream: routed messages as server-sent events.

The REST twin of gRPC's ``MessageService/StreamMessages``, on the same service-layer watch
(``CaxtonService.watch_messages``): a bounded queue fed by a router tap, which drops and counts
rather than slow routing when the client reads too slowly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Generic, TypeVar

import orjson
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

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


def message_stream_routes(service: CaxtonService) -> list[Route]:
    async def stream_messages(request: Request) -> StreamingResponse:
        """
        summary: Watch routed messages as server-sent events
        description: >
          Every message routed from now on that ?agent= sent or receives and that has the
          ?performative= (both optional). Each event's data is {"message": ..., "dropped": N},
          N counting the messages skipped because this client read too slowly. The stream ends
          when the client disconnects or the server shuts down.
        responses:
          200: {description: A text/event-stream.}
          400: {description: Unknown performative.}
        """
        params = request.query_params
        return WatchResponse(service.watch_messages(agent=params.get("agent"),
                                                    performative=params.get("performative")),
                             _message)

    return [Route("/api/v1/messages/stream", stream_messages, methods=["GET"])]
