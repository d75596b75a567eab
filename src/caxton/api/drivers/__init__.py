"""Protocol drivers: the platform runs a FIPA interaction protocol on an API client's behalf.

A client that wants a Contract Net or a subscription need not keep the protocol's books (who
was asked, who answered, the deadline, accepting one proposal and rejecting the rest, cancelling
a subscription). These operations do it over the service layer, for REST, gRPC and the CLI
alike (``caxton messages cfp``, ``caxton messages subscribe``):

- ``contract_net``: one ``cfp`` to many, the best proposal accepted by a stated rule, the others
  rejected with the reason, the winner's result awaited; returns the outcome;
- ``subscribe``: ``subscribe`` to one agent, its informs as a stream of events, and ``cancel``
  when the stream is done with (or ``cancel_subscription`` from another request).

The selection rules are in ``caxton.domain.selection``; see docs/messaging.md.
"""

from __future__ import annotations

import collections
import weakref
from typing import TYPE_CHECKING, Any

from caxton.api.drivers.contract_net import ContractNetRequest, run_contract_net
from caxton.api.drivers.subscribe import SubscribeRequest, Subscription
from caxton.errors import ConversationNotFoundError

if TYPE_CHECKING:
    from caxton.api.service import CaxtonService

_RECENT = 256  # closed subscriptions a late cancel can still find


class ProtocolDrivers:
    """The drivers of one service, with its open subscriptions by conversation id."""

    def __init__(self, service: CaxtonService) -> None:
        self._service = service
        self._subscriptions: dict[str, Subscription] = {}
        # Recently closed ones, so a cancel that races the client's own disconnect (Ctrl-C
        # both drops the stream, which cancels, and asks to cancel) gets the same answer.
        self._recent: collections.OrderedDict[str, Subscription] = collections.OrderedDict()

    async def contract_net(self, request: ContractNetRequest) -> dict[str, Any]:
        return await run_contract_net(self._service, request)

    async def subscribe(self, request: SubscribeRequest) -> tuple[Subscription, dict[str, Any]]:
        """Open a subscription: it and its ``subscribed`` event. ``close()`` it when done."""
        subscription = Subscription(self._service, request)
        try:
            first = await subscription.open()
        except BaseException:
            await subscription.close()
            raise
        cid = subscription.conversation_id
        self._subscriptions[cid] = subscription
        subscription.on_close = self._forget
        return subscription, first

    def _forget(self, subscription: Subscription) -> None:
        cid = subscription.conversation_id
        self._subscriptions.pop(cid, None)
        self._recent[cid] = subscription
        while len(self._recent) > _RECENT:
            self._recent.popitem(last=False)

    async def cancel_subscription(self, conversation_id: str) -> dict[str, Any]:
        """Cancel an open subscription by its conversation id: the ``cancelled`` event."""
        subscription = (self._subscriptions.get(conversation_id)
                        or self._recent.get(conversation_id))
        if subscription is None:
            raise ConversationNotFoundError(
                f"no open subscription in conversation '{conversation_id}'")
        return await subscription.cancel()

    @property
    def open_subscriptions(self) -> int:
        return len(self._subscriptions)


_DRIVERS: weakref.WeakKeyDictionary[CaxtonService, ProtocolDrivers] = (
    weakref.WeakKeyDictionary())


def drivers_of(service: CaxtonService) -> ProtocolDrivers:
    """The protocol drivers of ``service`` (made on first use)."""
    found = _DRIVERS.get(service)
    if found is None:
        found = _DRIVERS[service] = ProtocolDrivers(service)
    return found


__all__ = [
    "ContractNetRequest",
    "ProtocolDrivers",
    "SubscribeRequest",
    "Subscription",
    "drivers_of",
]
