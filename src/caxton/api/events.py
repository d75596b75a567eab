"""The event bus: agent lifecycle and deployment events, fanned out to API streams.

The runtime publishes on whichever thread changed an agent (an API call's worker thread, an
agent worker that saw it fail, start-up), so ``publish`` only filters and hands the event to
each watcher's event loop with ``call_soon_threadsafe``, as ``MessageWatch`` does for routed
messages. Every watch has a fixed capacity: when its consumer falls that far behind, further
events are dropped and counted instead of queued, so a slow client can never slow the server
or grow its memory.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

from caxton.domain.events import AgentEvent, EventKind, parse_kinds

DEFAULT_CAPACITY = 1000


class EventWatch:
    """The events published since the watch began that match its filters, oldest first.

    Iterate it with ``async for`` on the event loop that created it; iteration ends when
    :meth:`end` is called (server shutdown). Call :meth:`close` when done.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        bus: EventBus | None = None,
        *,
        agent: str | None = None,
        kinds: frozenset[EventKind] | None = None,
        capacity: int = DEFAULT_CAPACITY,
    ) -> None:
        self.agent = agent
        self.kinds = kinds
        self.capacity = capacity
        self._loop = loop
        self._bus = bus
        # One slot more than the backlog bound: room for the end marker even when full.
        self._queue: asyncio.Queue[AgentEvent | None] = asyncio.Queue(capacity + 1)
        self._lock = threading.Lock()  # publishers run on several threads at once
        self._backlog = 0  # handed to the loop and not yet taken by the consumer
        self._ended = False
        self.dropped = 0

    def matches(self, event: AgentEvent) -> bool:
        if self.kinds is not None and event.kind not in self.kinds:
            return False
        return self.agent is None or event.agent == self.agent

    def offer(self, event: AgentEvent) -> None:
        """Filter, then hand off without blocking (drop and count when full)."""
        if not self.matches(event):
            return
        with self._lock:
            if self._backlog >= self.capacity:
                self.dropped += 1
                return
            self._backlog += 1
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, event)
        except RuntimeError:  # the loop is closed: the server is going away
            with self._lock:
                self._backlog -= 1

    def end(self) -> None:
        """Finish iteration after the events already handed off (call on the loop)."""
        if not self._ended:
            self._ended = True
            # Through the loop's queue of callbacks: behind the events still on their way.
            self._loop.call_soon(self._queue.put_nowait, None)

    def close(self) -> None:
        """Stop watching. Safe to call more than once."""
        bus, self._bus = self._bus, None
        if bus is not None:
            bus.forget(self)

    async def next(self) -> AgentEvent | None:
        """The next event, or None once the watch has ended."""
        event = await self._queue.get()
        if event is None:
            self._queue.put_nowait(None)  # later calls end too
            return None
        with self._lock:
            self._backlog -= 1
        return event

    async def __aiter__(self) -> AsyncIterator[AgentEvent]:
        while (event := await self.next()) is not None:
            yield event


class EventBus:
    """Fans events out to the open watches; ``publish`` is safe from any thread."""

    def __init__(self) -> None:
        # Replaced, never mutated: publishers iterate it without a lock.
        self._watches: tuple[EventWatch, ...] = ()
        self._change = threading.Lock()
        self._ended = False

    def publish(self, event: AgentEvent) -> None:
        for watch in self._watches:
            watch.offer(event)

    def watch(self, *, agent: str | None = None, kind: str | None = None,
              capacity: int = DEFAULT_CAPACITY) -> EventWatch:
        """Watch events from now on: those of ``agent``, of the kinds ``kind`` names
        (comma-separated kinds or ``lifecycle``/``deployment``; InvalidMessageError if
        unknown). Call on the event loop; close the watch when the client goes away."""
        watch = EventWatch(asyncio.get_running_loop(), self, agent=agent or None,
                           kinds=parse_kinds(kind), capacity=capacity)
        with self._change:
            self._watches = (*self._watches, watch)
        if self._ended:
            watch.end()
        return watch

    def forget(self, watch: EventWatch) -> None:
        with self._change:
            self._watches = tuple(w for w in self._watches if w is not watch)

    @property
    def watching(self) -> int:
        return len(self._watches)

    def end(self) -> None:
        """End every stream cleanly (shutdown): they finish what is queued, then return."""
        self._ended = True
        for watch in self._watches:
            watch.end()
