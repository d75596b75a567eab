"""Watching routed messages: a router tap feeding one API stream (gRPC or SSE) on the event loop.

The tap runs on whichever thread routes a message (an agent worker, or the loop itself), so it
only filters and hands the message to the loop with ``call_soon_threadsafe``. Every watch has a
fixed capacity: when its consumer falls that far behind, further messages are dropped and
counted instead of queued, so a slow watcher can never slow routing or grow memory.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable

from caxton.domain.acl import AclMessage, Performative

DEFAULT_CAPACITY = 1000


class MessageWatch:
    """The messages routed since the watch began that match its filters, oldest first.

    Iterate it with ``async for`` on the event loop that created it; iteration ends when
    :meth:`end` is called (server shutdown). Call :meth:`close` when done to remove the tap.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        agent: str | None = None,
        performative: Performative | None = None,
        capacity: int = DEFAULT_CAPACITY,
    ) -> None:
        self.agent = agent
        self.performative = performative
        self.capacity = capacity
        self._loop = loop
        # One slot more than the backlog bound: room for the end marker even when full.
        self._queue: asyncio.Queue[AclMessage | None] = asyncio.Queue(capacity + 1)
        self._lock = threading.Lock()  # taps run on several routing threads at once
        self._backlog = 0  # handed to the loop and not yet taken by the consumer
        self._ended = False
        self._on_close: Callable[[], None] | None = None
        self.dropped = 0

    def matches(self, msg: AclMessage) -> bool:
        if self.performative is not None and msg.performative is not self.performative:
            return False
        agent = self.agent
        return agent is None or msg.sender == agent or agent in msg.receiver

    def tap(self, msg: AclMessage) -> None:
        """The router tap: filter, then hand off without blocking (drop when full)."""
        if not self.matches(msg):
            return
        with self._lock:
            if self._backlog >= self.capacity:
                self.dropped += 1
                return
            self._backlog += 1
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, msg)
        except RuntimeError:  # the loop is closed: the server is going away
            with self._lock:
                self._backlog -= 1

    def on_close(self, callback: Callable[[], None]) -> None:
        self._on_close = callback

    def end(self) -> None:
        """Finish iteration after the messages already queued (call on the loop)."""
        if not self._ended:
            self._ended = True
            self._queue.put_nowait(None)

    def close(self) -> None:
        """Stop watching: remove the tap. Safe to call more than once."""
        callback, self._on_close = self._on_close, None
        if callback is not None:
            callback()

    async def next(self) -> AclMessage | None:
        """The next message, or None once the watch has ended."""
        msg = await self._queue.get()
        if msg is None:
            self._queue.put_nowait(None)  # later calls end too
            return None
        with self._lock:
            self._backlog -= 1
        return msg

    async def __aiter__(self) -> AsyncIterator[AclMessage]:
        while (msg := await self.next()) is not None:
            yield msg
