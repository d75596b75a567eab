"""A small pool of worker threads running agents that have mail.

An agent is on at most one worker at a time, so its instance needs no locking; different agents
run in parallel while wasmtime executes (ctypes releases the GIL around calls into wasm).
"""

from __future__ import annotations

import queue
import threading
from typing import Protocol

import structlog

log = structlog.get_logger("caxton.runtime")


class Runnable(Protocol):
    def run(self) -> bool:
        """Process some mail; True when more remains and the agent should be queued again."""
        ...


class Scheduler:
    def __init__(self, workers: int) -> None:
        self._ready: queue.SimpleQueue[Runnable | None] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._work, name=f"caxton-worker-{i}", daemon=True)
            for i in range(workers)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def ready(self, item: Runnable) -> None:
        self._ready.put(item)

    def stop(self, timeout: float = 5.0) -> None:
        for _ in self._threads:
            self._ready.put(None)
        for thread in self._threads:
            thread.join(timeout)

    def _work(self) -> None:
        ready = self._ready
        while (item := ready.get()) is not None:
            try:
                again = item.run()
            except Exception:  # a bug in one agent's bookkeeping must not kill the worker
                log.exception("agent run failed")
                continue
            if again:
                ready.put(item)
