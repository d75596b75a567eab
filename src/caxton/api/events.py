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

from caxton.api.watch import DEFAULT_CAPACITY, Watch
from caxton.domain.events import AgentEvent, EventKind, parse_kinds


class EventWatch(Watch[AgentEvent]):
    """Events of ``agent`` and of ``kinds`` (both optional) published since the watch began."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        bus: EventBus | None = None,
        *,
        agent: str | None = None,
        kinds: frozenset[EventKind] | None = None,
        capacity: int = DEFAULT_CAPACITY,
    ) -> None:
        super().__init__(loop, capacity=capacity)
        self.agent = agent
        self.kinds = kinds
        if bus is not None:
            self.on_close(lambda: bus.forget(self))

    def matches(self, item: AgentEvent) -> bool:
        if self.kinds is not None and item.kind not in self.kinds:
            return False
        return self.agent is None or item.agent == self.agent


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
