"""caxton.v1.ProtocolService: the protocol drivers, the twin of /api/v1/protocols."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from caxton.api.drivers import ContractNetRequest, SubscribeRequest, drivers_of
from caxton.api.grpc import convert_protocols as cp
from caxton.api.grpc._generated import protocols_pb2
from caxton.api.grpc.handlers import Context, rpc
from caxton.api.service import CaxtonService

# A subscription whose call ended is closed (cancelled) in a task of its own, kept here.
_closing: set[asyncio.Task[None]] = set()


class ProtocolHandlers:
    """caxton.v1.ProtocolService"""

    def __init__(self, service: CaxtonService) -> None:
        self._drivers = drivers_of(service)

    @rpc
    async def ContractNet(self, request: protocols_pb2.ContractNetRequest,  # noqa: N802
                          context: Context) -> protocols_pb2.ContractNetOutcome:
        outcome = await self._drivers.contract_net(
            ContractNetRequest.from_json(cp.contract_net_request_to_json(request)))
        return cp.outcome_to_proto(outcome)

    @rpc
    async def Subscribe(self, request: protocols_pb2.SubscribeRequest,  # noqa: N802
                        context: Context) -> AsyncIterator[protocols_pb2.SubscriptionEvent]:
        subscription, first = await self._drivers.subscribe(
            SubscribeRequest.from_json(cp.subscribe_request_to_json(request)))
        try:
            yield cp.event_to_proto(first)
            async for event in subscription.events():
                yield cp.event_to_proto(event)
        finally:
            # The client may have gone (the call is cancelled): cancel outside this task.
            task = asyncio.get_running_loop().create_task(subscription.close())
            _closing.add(task)
            task.add_done_callback(_closing.discard)

    @rpc
    async def CancelSubscription(  # noqa: N802
            self, request: protocols_pb2.CancelSubscriptionRequest,
            context: Context) -> protocols_pb2.SubscriptionEvent:
        return cp.event_to_proto(await self._drivers.cancel_subscription(request.conversation_id))
