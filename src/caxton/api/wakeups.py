"""Results handed from the router's and writer's threads to the event loop, a batch per wake-up.

A send-and-wait is settled from other threads twice: the writer reports the commit, an agent's
worker routes the reply. ``loop.call_soon_threadsafe`` per result wakes the loop once per
result (a write to its wake-up descriptor from the calling thread, a wake-up of the loop, a
handle). Under load the results come in bursts: ``Wakeups.post`` queues a callback and wakes
the loop only when none is pending, and the loop runs everything queued by then in one go.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable
from typing import Any

import structlog

log = structlog.get_logger("caxton.api.wakeups")


class Wakeups:
    """Callbacks for one event loop, posted from any thread (``post``), run on the loop in the
    order posted.

    No lock: ``post`` appends before it reads ``_pending``, and ``_drain`` clears ``_pending``
    before it takes the first item. So a ``post`` that finds a drain pending has appended
    before that drain starts taking items, and the drain runs it.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._items: collections.deque[tuple[Callable[..., Any], tuple[Any, ...]]] = (
            collections.deque())
        self._pending = False
        self.wakeups = 0  # how many times the loop was woken (for tests and benchmarks)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def post(self, callback: Callable[..., Any], *args: Any) -> None:
        """Run ``callback(*args)`` on the loop soon (thread-safe)."""
        self._items.append((callback, args))
        if not self._pending:
            self._pending = True
            self.wakeups += 1
            try:
                self._loop.call_soon_threadsafe(self._drain)
            except RuntimeError:  # the loop is closed: nobody is left to wait for these
                self._items.clear()

    def _drain(self) -> None:
        self._pending = False
        items = self._items
        while items:
            callback, args = items.popleft()
            try:
                callback(*args)
            except Exception:  # one bad callback must not strand the others
                log.exception("wake-up callback failed")
