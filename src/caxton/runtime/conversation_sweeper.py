"""The thread that keeps conversations moving when nobody sends: reply-by timeouts and idle
expiry often (``ConversationManager.sweep``), retention pruning now and then."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import structlog

from caxton.runtime.conversations import ConversationManager
from caxton.store.writer import Statement

log = structlog.get_logger("caxton.conversations")


class ConversationSweeper:
    """A thread that runs the manager's sweep often and its pruning now and then."""

    def __init__(self, manager: ConversationManager, submit: Callable[[list[Statement]], None],
                 *, interval_s: float = 0.05, prune_every_s: float = 60.0) -> None:
        self._manager = manager
        self._submit = submit
        self._interval = interval_s
        self._prune_every = prune_every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="caxton-conversations",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def _run(self) -> None:
        next_prune = time.monotonic()
        while not self._stop.wait(self._interval):
            try:
                self._manager.sweep()
                if time.monotonic() >= next_prune:
                    next_prune = time.monotonic() + self._prune_every
                    self._submit(self._manager.prune_statements())
            except Exception:
                log.exception("conversation sweep failed")
