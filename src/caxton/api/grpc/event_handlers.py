"""caxton.v1.EventService: agent lifecycle and deployment events, the twin of GET /api/v1/events.

Like ``MessageService/StreamMessages``, over the service layer's bounded watch
(``CaxtonService.events``): a consumer that reads too slowly loses events, counted in
``dropped``, and never slows the server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from caxton.api.grpc._generated import events_pb2
from caxton.api.grpc.convert_events import event_to_proto
from caxton.api.grpc.handlers import Context, rpc
from caxton.api.service import CaxtonService

EventItem = events_pb2.StreamEventsResponse


class EventHandlers:
    """caxton.v1.EventService"""

    def __init__(self, service: CaxtonService) -> None:
        self._service = service

    @rpc
    async def StreamEvents(self, request: events_pb2.StreamEventsRequest, context: Context
                           ) -> AsyncIterator[EventItem]:
        watch = self._service.events.watch(agent=request.agent or None,
                                           kind=request.kind or None)
        try:
            # Headers now tell the client that the watch is in place.
            await context.send_initial_metadata(())
            async for event in watch:
                yield EventItem(event=event_to_proto(event.to_dict()), dropped=watch.dropped)
        finally:
            watch.close()
