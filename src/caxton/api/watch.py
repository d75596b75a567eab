"""Watches: one API stream (gRPC or SSE) fed from any thread, consumed on the event loop.

Producers (a router tap for routed messages, the event bus for agent events) run on whichever
thread routes a message or changes an agent, so ``offer`` only filters and hands the item to the
loop with ``call_soon_threadsafe``. Every watch has a fixed capacity: when its consumer falls
that far behind, further items are dropped and counted instead of queued, so a slow watcher can
never slow the server or grow its memory.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from typing import Generic, TypeVar

from caxton.domain.acl import AclMessage, Performative

DEFAULT_CAPACITY = 1000
T = TypeVar("T")


class Watch(Generic[T]):
    """The items offered since the watch began that ``matches`` keeps, oldest first.

    Iterate it with ``async for`` on the event loop that created it; iteration ends when
    :meth:`end` is called (server shutdown). Call :meth:`close` when done.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, *,
                 capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._loop = loop
        # One slot more than the backlog bound: room for the end marker even when full.
        self._queue: asyncio.Queue[T | None] = asyncio.Queue(capacity + 1)
        self._lock = threading.Lock()  # producers run on several threads at once
        self._backlog = 0  # handed to the loop and not yet taken by the consumer
        self._ended = False
        self._on_close: Callable[[], None] | None = None
        self.dropped = 0

    def matches(self, item: T) -> bool:
        return True

    def offer(self, item: T) -> None:
        """Filter, then hand off without blocking (drop and count when full)."""
        if not self.matches(item):
            return
        with self._lock:
            if self._backlog >= self.capacity:
                self.dropped += 1
                return
            self._backlog += 1
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the loop is closed: the server is going away
            with self._lock:
                self._backlog -= 1

    def on_close(self, callback: Callable[[], None]) -> None:
        self._on_close = callback

    def end(self) -> None:
        """Finish iteration after the items already handed off (call on the loop)."""
        if not self._ended:
            self._ended = True
            # Through the loop's queue of callbacks: behind the items still on their way.
            self._loop.call_soon(self._queue.put_nowait, None)

    def close(self) -> None:
        """Stop watching. Safe to call more than once."""
        callback, self._on_close = self._on_close, None
        if callback is not None:
            callback()

    async def next(self) -> T | None:
        """The next item, or None once the watch has ended."""
        item = await self._queue.get()
        if item is None:
            self._queue.put_nowait(None)  # later calls end too
            return None
        with self._lock:
            self._backlog -= 1
        return item

    async def __aiter__(self) -> AsyncIterator[T]:
        while (item := await self.next()) is not None:
            yield item


class MessageWatch(Watch[AclMessage]):
    """Routed messages that ``agent`` sent or receives, of ``performative`` (both optional)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, *, agent: str | None = None,
                 performative: Performative | None = None,
                 capacity: int = DEFAULT_CAPACITY) -> None:
        super().__init__(loop, capacity=capacity)
        self.agent = agent
        self.performative = performative

    def matches(self, item: AclMessage) -> bool:
        if self.performative is not None and item.performative is not self.performative:
            return False
        agent = self.agent
        return agent is None or item.sender == agent or agent in item.receiver

    def tap(self, msg: AclMessage) -> None:
        """The router tap."""
        self.offer(msg)
