"""/api/v1/protocols: the protocol drivers (``caxton.api.drivers``) over REST.

- ``POST /api/v1/protocols/contract-net`` runs one Contract Net and answers its outcome;
- ``POST /api/v1/protocols/subscribe`` subscribes and streams the subscription's events as
  server-sent events, cancelling when the client disconnects;
- ``POST /api/v1/protocols/subscribe/{conversation_id}/cancel`` cancels an open subscription
  and answers the participant's answer (the stream then ends with the same event).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from caxton.api.drivers import ContractNetRequest, SubscribeRequest, Subscription, drivers_of
from caxton.api.rest.common import JSON, read_json
from caxton.api.service import CaxtonService

# Closing a subscription sends a cancel and waits for the answer: after the client has gone, so
# in a task of its own, kept here until it is done.
_closing: set[asyncio.Task[None]] = set()


class _SubscriptionResponse(StreamingResponse):
    """An event stream that closes (cancels) its subscription however the response ends."""

    def __init__(self, subscription: Subscription, first: dict[str, Any]) -> None:
        super().__init__(_events(subscription, first), media_type="text/event-stream",
                         headers={"cache-control": "no-cache", "x-accel-buffering": "no"})
        self._subscription = subscription

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            task = asyncio.get_running_loop().create_task(self._subscription.close())
            _closing.add(task)
            task.add_done_callback(_closing.discard)


async def _events(subscription: Subscription, first: dict[str, Any]) -> AsyncIterator[bytes]:
    yield b"data: " + orjson.dumps(first) + b"\n\n"
    async for event in subscription.events():
        yield b"data: " + orjson.dumps(event) + b"\n\n"


def protocol_routes(service: CaxtonService, max_request_bytes: int) -> list[Route]:
    drivers = drivers_of(service)

    async def contract_net(request: Request) -> JSON:
        """
        summary: Run a Contract Net (fipa-contract-net) and return its outcome
        description: >
          Body {"receiver": names or a service:TYPE/all address, "content", "deadline_s"
          (default 5), "pick" ("min:FIELD" (default min:price), "max:FIELD" or "first"),
          "result_timeout_s" (default 10), "conversation_id", "language", "ontology",
          "X-...": "..."}. One cfp with reply_by = now + deadline_s; proposals collected until
          all answered or the deadline; the best accepted, the others rejected with the reason;
          the winner's inform or failure awaited. The answer lists every participant's answer
          (proposed, refused, timed-out, late, failed) with timings, and a status (done,
          failed, no-result, no-proposals, none-acceptable).
        responses:
          200: {description: The outcome.}
          400: {description: An invalid field (named in the message).}
          409: {description: The cfp broke the conversation's protocol (a reused id).}
        """
        body = await read_json(request, max_request_bytes)
        return JSON(await drivers.contract_net(ContractNetRequest.from_json(body)))

    async def subscribe(request: Request) -> StreamingResponse:
        """
        summary: Subscribe (fipa-subscribe) and stream the subscription's events
        description: >
          Body {"receiver": one agent, "content", "count" (cancel after this many informs),
          "cancel_timeout_s" (default 10), "conversation_id", "language", "ontology",
          "X-...": "..."}. Server-sent events, each {"event", "conversation_id", "after_s",
          ...}: subscribed (with the subscribe message), then agree, inform, refuse, failure
          or not-understood (with the message), and last cancelled (the cancel "message", the
          participant's "answer" and the "outcome": cancelled, cancel-failed, no-answer or
          not-understood). When the client disconnects the subscription is cancelled.
        responses:
          200: {description: A text/event-stream.}
          400: {description: An invalid field.}
          404: {description: No agent by the receiver's name.}
        """
        body = await read_json(request, max_request_bytes)
        subscription, first = await drivers.subscribe(SubscribeRequest.from_json(body))
        return _SubscriptionResponse(subscription, first)

    async def cancel(request: Request) -> JSON:
        """
        summary: Cancel an open subscription and return the participant's answer
        responses:
          200: {description: The cancelled event with the participant's answer.}
          404: {description: No open subscription in that conversation.}
        """
        return JSON(await drivers.cancel_subscription(request.path_params["conversation_id"]))

    return [
        Route("/api/v1/protocols/contract-net", contract_net, methods=["POST"]),
        Route("/api/v1/protocols/subscribe", subscribe, methods=["POST"]),
        Route("/api/v1/protocols/subscribe/{conversation_id}/cancel", cancel, methods=["POST"]),
    ]
