"""The subscribe driver (fipa-subscribe, FIPA SC00035) run for an API client.

``open`` sends ``subscribe`` from a fresh client inbox; the subscription's events are what the
participant says in that conversation (``agree``, each ``inform``, or a ``refuse`` or
``failure`` that ends it), plus the platform's reports about it. ``cancel`` sends ``cancel`` and
waits (bounded) for the participant's answer: ``inform`` (cancelled) or ``failure``. The events
end with a ``cancelled`` event carrying that answer, or with the act that ended the
subscription. A stream given a ``count`` cancels after that many informs; one whose client goes
away cancels too (the answer is then only recorded in the conversation). When the server shuts
down (the service ends its message watches), open subscriptions are cancelled the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from caxton.api.drivers.common import (
    ConversationInbox,
    check_fields,
    extras,
    optional_string,
    receivers,
    seconds,
    transport_addresses,
)
from caxton.domain.acl import AclMessage, Performative
from caxton.domain.ids import is_platform_agent, new_id
from caxton.errors import CaxtonError, InvalidMessageError

if TYPE_CHECKING:
    from caxton.api.service import CaxtonService

PROTOCOL = "fipa-subscribe"
_P = Performative
_FIELDS = frozenset({"receiver", "content", "count", "cancel_timeout_s", "conversation_id",
                     "language", "ontology", "addresses"})
# Acts after which the subscription is over.
_ENDING = frozenset({_P.REFUSE, _P.FAILURE, _P.NOT_UNDERSTOOD})
# The outcome of a cancel.
CANCELLED, CANCEL_FAILED, NO_ANSWER, NOT_UNDERSTOOD = (
    "cancelled", "cancel-failed", "no-answer", "not-understood")


@dataclass(frozen=True, slots=True)
class SubscribeRequest:
    receiver: str
    content: Any = None
    count: int | None = None  # cancel after this many informs
    cancel_timeout_s: float = 10.0
    conversation_id: str | None = None
    extras: dict[str, str] = field(default_factory=dict)
    # The receiver's transport addresses when it is on another platform (else the book's).
    addresses: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, obj: Any) -> SubscribeRequest:
        """``{"receiver", "content", "count", "cancel_timeout_s", "conversation_id",
        "language", "ontology", "addresses", "X-...": "..."}``"""
        obj = check_fields(obj, _FIELDS)
        count = obj.get("count")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int)
                                  or not 1 <= count <= 1_000_000):
            raise InvalidMessageError("count", "must be an integer from 1 to 1000000")
        receiver = receivers(obj, single=True)[0]
        return cls(receiver=receiver, content=obj.get("content"),
                   count=count, cancel_timeout_s=seconds(obj, "cancel_timeout_s", 10.0),
                   conversation_id=optional_string(obj, "conversation_id"),
                   extras=extras(obj), addresses=transport_addresses(obj, (receiver,)))

    def routing(self) -> dict[str, Any]:
        """The ``addresses`` member of the messages sent to the receiver (none if unknown)."""
        found = {name: list(urls) for name, urls in self.addresses.items()}
        return {"addresses": found} if found else {}


class Subscription:
    """One open subscription; iterate ``events()`` and call ``cancel()`` (from any task)."""

    def __init__(self, service: CaxtonService, request: SubscribeRequest) -> None:
        self._service = service
        self._request = request
        self._loop = asyncio.get_running_loop()
        self.conversation_id = request.conversation_id or new_id()
        self._inbox = ConversationInbox(service.router, self.conversation_id, self._arrived)
        self._events: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._started = self._loop.time()
        self._cancel_key: str | None = None
        self._answer: asyncio.Future[AclMessage] = self._loop.create_future()
        self._cancelling: asyncio.Task[dict[str, Any]] | None = None
        self.ended = False
        self._opened = self._released = False
        self.on_close: Callable[[Subscription], None] | None = None
        # Ends when the server ends its streams (shutdown): then cancel.
        self._shutdown = service.watch_messages(agent=self._inbox.name, capacity=1)
        self._watcher = self._loop.create_task(self._watch_shutdown())

    async def open(self) -> dict[str, Any]:
        """Send the subscribe; returns the ``subscribed`` event."""
        request = self._request
        self._started = self._loop.time()
        result = await self._service.send({
            "performative": _P.SUBSCRIBE.value, "sender": self._inbox.name,
            "receiver": [request.receiver], "protocol": PROTOCOL,
            "conversation_id": self.conversation_id, **request.routing(), **request.extras,
            "content": request.content})
        self._opened = True
        return self._event("subscribed", message=result.message.to_dict(), at=self._started)

    def _arrived(self, at: float, msg: AclMessage) -> bool:  # on the loop
        if self._answers_cancel(msg):
            if not self._answer.done():
                self._answer.set_result(msg)
            return False
        if self.ended:
            return False
        if is_platform_agent(msg.sender) and msg.performative is not _P.FAILURE:
            return False  # not about the subscription (say, a late reject)
        self._events.put_nowait(self._event(msg.performative.value, message=msg.to_dict(),
                                            at=at))
        if msg.performative in _ENDING:
            self._end()
        return False

    def _answers_cancel(self, msg: AclMessage) -> bool:
        key = self._cancel_key
        if key is None:
            return False
        if is_platform_agent(msg.sender):  # the cancel itself broke the protocol
            return msg.performative is _P.NOT_UNDERSTOOD and msg.in_reply_to == key
        return (msg.sender == self._request.receiver
                and msg.performative in (_P.INFORM, _P.FAILURE, _P.NOT_UNDERSTOOD)
                and msg.in_reply_to in (None, key))

    def _event(self, kind: str, *, at: float | None = None, **fields: Any) -> dict[str, Any]:
        at = self._loop.time() if at is None else at
        return {"event": kind, "conversation_id": self.conversation_id, **fields,
                "after_s": round(at - self._started, 6)}

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """What the participant says, until the subscription ends or is cancelled. With a
        ``count``, cancels after that many informs; informs that cross the cancel are left to
        the conversation's record."""
        count, informs = self._request.count, 0
        while (event := await self._events.get()) is not None:
            if event["event"] == "inform" and count is not None:
                if informs >= count:
                    continue
                informs += 1
                yield event
                if informs == count:
                    await self.cancel()
                continue
            yield event

    async def cancel(self) -> dict[str, Any]:
        """Cancel (once; later calls wait for the same answer): the ``cancelled`` event."""
        if self._cancelling is None:
            self._cancelling = self._loop.create_task(self._cancel())
        return await asyncio.shield(self._cancelling)

    async def _cancel(self) -> dict[str, Any]:
        if self.ended:
            return self._event("cancelled", message=None, answer=None, outcome=NO_ANSWER,
                               reason="the subscription had already ended")
        self._cancel_key = new_id()
        request = self._request
        try:
            cancel = await self._service.send({
                "performative": _P.CANCEL.value, "sender": self._inbox.name,
                "receiver": [request.receiver], "protocol": PROTOCOL,
                "conversation_id": self.conversation_id, "reply_with": self._cancel_key,
                **request.routing(), **request.extras, "content": request.content})
        except CaxtonError as exc:  # say, the server is going away
            event = self._event("cancelled", message=None, answer=None, outcome=NO_ANSWER,
                                reason=f"the cancel could not be sent: {exc.message}")
            self._events.put_nowait(event)
            self._end()
            return event
        answer: AclMessage | None = None
        with contextlib.suppress(TimeoutError):
            answer = await asyncio.wait_for(asyncio.shield(self._answer),
                                            request.cancel_timeout_s)
        outcome = NO_ANSWER if answer is None else {
            _P.INFORM: CANCELLED, _P.FAILURE: CANCEL_FAILED}.get(answer.performative,
                                                                 NOT_UNDERSTOOD)
        event = self._event("cancelled", message=cancel.message.to_dict(),
                            answer=answer.to_dict() if answer is not None else None,
                            outcome=outcome)
        self._events.put_nowait(event)
        self._end()
        return event

    def _end(self) -> None:
        if not self.ended:
            self.ended = True
            self._events.put_nowait(None)

    async def _watch_shutdown(self) -> None:
        async for _ in self._shutdown:
            pass  # only the end matters: the server is shutting down
        if not self._released:
            await self.close()

    async def close(self) -> None:
        """The client has gone: cancel if still open, then release the inbox."""
        if self._released:
            return
        try:
            if self._opened and not self.ended:
                await self.cancel()
        finally:
            self._released = True
            self._end()
            self._shutdown.close()
            if asyncio.current_task() is not self._watcher:
                self._watcher.cancel()
            self._inbox.close()
            if self.on_close is not None:
                self.on_close(self)
