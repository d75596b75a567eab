"""GET /api/v1/events: agent lifecycle and deployment events as server-sent events.

The REST twin of gRPC's ``EventService/StreamEvents``, on the service layer's event bus
(``CaxtonService.events``): a bounded queue per client, which drops and counts rather than slow
the server when the client reads too slowly.
"""

from __future__ import annotations

import orjson
from starlette.responses import Response

from caxton.api.rest.models.server import AgentEventItem, EventStreamQuery
from caxton.api.rest.operations import SSE, Call, Reply, RestApi, reply
from caxton.api.rest.stream import WatchResponse
from caxton.api.service import CaxtonService
from caxton.domain.events import AgentEvent


def _event(event: AgentEvent, dropped: int) -> bytes:
    return orjson.dumps({"event": event.to_dict(), "dropped": dropped})


def event_stream_routes(api: RestApi, service: CaxtonService) -> None:
    @api.operation(
        "GET", "/api/v1/events", operation_id="streamEvents", tag="events",
        summary="Watch agent lifecycle and deployment events as server-sent events",
        description="Every event from now on of the ?agent= and of the ?kind= (both "
                    "optional). The stream ends when the client disconnects or the server "
                    "shuts down.",
        query=EventStreamQuery,
        responses=(Reply(200, "A text/event-stream; each event's data is an AgentEventItem.",
                         media_type=SSE, events=AgentEventItem),
                   reply(400, "Unknown event kind.")))
    async def stream_events(call: Call) -> Response:
        query: EventStreamQuery = call.query
        return WatchResponse(service.events.watch(agent=query.agent, kind=query.kind), _event)
