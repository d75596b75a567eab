"""A small pool of worker threads running agents that have mail, fairly.

An agent is on at most one worker at a time, so its instance needs no locking; different agents
run in parallel while wasmtime executes (ctypes releases the GIL around calls into wasm).

Agents are served in the order they became ready, with one exception that keeps slow agents
from starving quick ones: an agent whose last turn on a worker took longer than ``slow_s`` is
*slow*, and slow agents may occupy at most ``workers - reserved`` workers at once. The
reserved workers stay free for agents that answer quickly, so four agents looping until their
deadline cannot stop an echo agent from answering. An agent is judged by its latest turn only:
one that becomes quick again is treated as quick again.
"""

from __future__ import annotations

import collections
import itertools
import threading
import time
import weakref
from typing import Protocol

import structlog

log = structlog.get_logger("caxton.runtime")

SLOW_S = 0.1  # a turn longer than this marks the agent slow (a quick batch takes milliseconds)


class Runnable(Protocol):
    def run(self) -> bool:
        """Process some mail; True when more remains and the agent should be queued again."""
        ...


def reserved_workers(workers: int) -> int:
    """Workers kept for quick agents: a quarter of them, at least one (none with one worker)."""
    return 0 if workers < 2 else max(1, workers // 4)


class Scheduler:
    def __init__(self, workers: int, *, slow_s: float = SLOW_S) -> None:
        self.workers = workers
        self.slow_cap = workers - reserved_workers(workers)  # slow agents running at once
        self._slow_s = slow_s
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        # Ready agents in arrival order, quick and slow apart: (sequence number, agent).
        self._quick: collections.deque[tuple[int, Runnable]] = collections.deque()
        self._slow_queue: collections.deque[tuple[int, Runnable]] = collections.deque()
        self._order = itertools.count()
        self._slow: weakref.WeakSet[Runnable] = weakref.WeakSet()  # judged by the last turn
        self._slow_running = 0
        self._stopping = False
        self._threads = [
            threading.Thread(target=self._work, name=f"caxton-worker-{i}", daemon=True)
            for i in range(workers)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def ready(self, item: Runnable) -> None:
        with self._lock:
            self._enqueue(item)
            self._wake.notify()

    def stop(self, timeout: float = 5.0) -> None:
        with self._lock:
            self._stopping = True
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(timeout)

    @property
    def slow_running(self) -> int:
        return self._slow_running

    def _enqueue(self, item: Runnable) -> None:
        queue = self._slow_queue if item in self._slow else self._quick
        queue.append((next(self._order), item))

    def _take(self) -> tuple[Runnable, bool] | None:
        """The longest-waiting agent that may run now, and whether it is slow."""
        quick, slow = self._quick, self._slow_queue
        slow_ok = bool(slow) and self._slow_running < self.slow_cap
        if quick and (not slow_ok or quick[0][0] < slow[0][0]):
            return quick.popleft()[1], False
        if slow_ok:
            self._slow_running += 1
            return slow.popleft()[1], True
        return None

    def _work(self) -> None:
        while True:
            with self._lock:
                while (taken := self._take()) is None:
                    if self._stopping:
                        return
                    self._wake.wait()
            item, was_slow = taken
            started = time.monotonic()
            try:
                again = item.run()
            except Exception:  # a bug in one agent's bookkeeping must not kill the worker
                log.exception("agent run failed")
                again = False
            took = time.monotonic() - started
            with self._lock:
                if was_slow:
                    self._slow_running -= 1
                if took > self._slow_s:
                    self._slow.add(item)
                else:
                    self._slow.discard(item)
                if again:
                    self._enqueue(item)
                self._wake.notify(2 if was_slow else 1)  # a slow slot may have opened too
