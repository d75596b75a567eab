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
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from caxton.api.drivers import ContractNetRequest, SubscribeRequest, Subscription, drivers_of
from caxton.api.rest.common import JSON
from caxton.api.rest.models.protocols import (
    ContractNetBody,
    ContractNetOutcome,
    SubscribeBody,
    SubscriptionEvent,
)
from caxton.api.rest.operations import SSE, Body, Call, PathParam, Reply, RestApi, reply
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


def protocol_routes(api: RestApi, service: CaxtonService, max_request_bytes: int) -> None:
    drivers = drivers_of(service)

    def body(model: type) -> Body:
        return Body(model, max_request_bytes, error_code="invalid_message")

    @api.operation(
        "POST", "/api/v1/protocols/contract-net", operation_id="runContractNet",
        tag="protocols", summary="Run a Contract Net (fipa-contract-net) and answer its outcome",
        description="One cfp with reply_by = now + deadline_s; proposals collected until all "
                    "answered or the deadline; the best accepted by pick, the others rejected "
                    "with the reason; the winner's inform or failure awaited for "
                    "result_timeout_s. The outcome lists every participant's answer.",
        bodies=(body(ContractNetBody),),
        responses=(reply(200, "The outcome.", ContractNetOutcome),
                   reply(400, "An invalid field (named in the message)."),
                   reply(404, "No agent by a receiver's name."),
                   reply(409, "The cfp broke the conversation's protocol (a reused id)."),
                   reply(429, "A receiver's mailbox is full."),
                   reply(503, "The store is behind or a receiver cannot take messages now.")))
    async def contract_net(call: Call) -> Response:
        return JSON(await drivers.contract_net(ContractNetRequest.from_json(call.json)))

    @api.operation(
        "POST", "/api/v1/protocols/subscribe", operation_id="subscribe", tag="protocols",
        summary="Subscribe (fipa-subscribe) and stream the subscription's events",
        description="Server-sent events, each's data a SubscriptionEvent: subscribed (with the "
                    "subscribe message), then agree, inform, refuse, failure or "
                    "not-understood, and last cancelled (with the participant's answer). When "
                    "the client disconnects the subscription is cancelled.",
        bodies=(body(SubscribeBody),),
        responses=(Reply(200, "A text/event-stream; each event's data is a SubscriptionEvent.",
                         media_type=SSE, events=SubscriptionEvent),
                   reply(400, "An invalid field."),
                   reply(404, "No agent by the receiver's name."),
                   reply(409, "The subscribe broke the conversation's protocol (a reused id)."),
                   reply(429, "The receiver's mailbox is full."),
                   reply(503, "The store is behind or the receiver cannot take messages now.")))
    async def subscribe(call: Call) -> Response:
        subscription, first = await drivers.subscribe(SubscribeRequest.from_json(call.json))
        return _SubscriptionResponse(subscription, first)

    @api.operation(
        "POST", "/api/v1/protocols/subscribe/{conversation_id}/cancel",
        operation_id="cancelSubscription", tag="protocols",
        summary="Cancel an open subscription and answer the participant's answer",
        path_params=(PathParam("conversation_id", "The subscription's conversation."),),
        responses=(reply(200, "The cancelled event with the participant's answer.",
                         SubscriptionEvent),
                   reply(404, "No open subscription in that conversation.")))
    async def cancel(call: Call) -> Response:
        return JSON(await drivers.cancel_subscription(call.path["conversation_id"]))
