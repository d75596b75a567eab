"""GET /api/v1/events: agent lifecycle and deployment events as server-sent events.

The REST twin of gRPC's ``EventService/StreamEvents``, on the service layer's event bus
(``CaxtonService.events``): a bounded queue per client, which drops and counts rather than slow
the server when the client reads too slowly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from caxton.api.events import EventWatch
from caxton.api.service import CaxtonService


class _EventResponse(StreamingResponse):
    """An event stream that closes its watch however the response ends (even unstarted)."""

    def __init__(self, watch: EventWatch) -> None:
        super().__init__(_events(watch), media_type="text/event-stream",
                         headers={"cache-control": "no-cache", "x-accel-buffering": "no"})
        self._watch = watch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._watch.close()


async def _events(watch: EventWatch) -> AsyncIterator[bytes]:
    # A comment first: the client sees the headers, and knows the watch is in place.
    yield b": watching\n\n"
    async for event in watch:
        body = orjson.dumps({"event": event.to_dict(), "dropped": watch.dropped})
        yield b"data: " + body + b"\n\n"


def event_stream_routes(service: CaxtonService) -> list[Route]:
    async def stream_events(request: Request) -> StreamingResponse:
        """
        summary: Watch agent lifecycle and deployment events as server-sent events
        description: >
          Every event from now on of the ?agent= (optional) and of the ?kind= (optional):
          comma-separated kinds (deployed, upgraded, removed, loaded, started, stopping,
          stopped, failed) or groups (deployment, lifecycle). Each event's data is
          {"event": {"at", "kind", "agent", "version", "module_hash", "state", "reason",
          "old_version", "old_module_hash"}, "dropped": N}, N counting the events skipped
          because this client read too slowly. The stream ends when the client disconnects
          or the server shuts down.
        responses:
          200: {description: A text/event-stream.}
          400: {description: Unknown event kind.}
        """
        params = request.query_params
        return _EventResponse(service.events.watch(agent=params.get("agent"),
                                                   kind=params.get("kind")))

    return [Route("/api/v1/events", stream_events, methods=["GET"])]
