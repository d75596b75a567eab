"""GET /api/v1/events: agent lifecycle and deployment events as server-sent events.

The REST twin of gRPC's ``EventService/StreamEvents``, on the service layer's event bus
(``CaxtonService.events``): a bounded queue per client, which drops and counts rather than slow
the server when the client reads too slowly.
"""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from caxton.api.rest.stream import WatchResponse
from caxton.api.service import CaxtonService
from caxton.domain.events import AgentEvent


def _event(event: AgentEvent, dropped: int) -> bytes:
    return orjson.dumps({"event": event.to_dict(), "dropped": dropped})


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
        return WatchResponse(service.events.watch(agent=params.get("agent"),
                                                  kind=params.get("kind")), _event)

    return [Route("/api/v1/events", stream_events, methods=["GET"])]
