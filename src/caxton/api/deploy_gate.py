"""How many deploys may read, compile and start a module at once, and how many may wait.

A deploy holds its module several times over while it works (the request body, the decoded
module, wasmtime's copy and the compiled code): with no bound, twenty concurrent 40 MB deploys
took a server from 95 MB to 1.5 GB. A deploy takes a slot *before* its body is read, so one
that waits holds no more than the transport's small read buffer (the rest stays with the
client, held back by TCP flow control). Beyond the queue a deploy is refused at once with
TooManyDeploysError (503 with Retry-After), not left to pile up.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from caxton.errors import TooManyDeploysError


class DeployGate:
    def __init__(self, slots: int, queue: int) -> None:
        self.slots = slots
        self.queue = queue
        self._free = asyncio.Semaphore(slots)
        self.running = 0
        self.waiting = 0
        self.refused = 0

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one deploy slot for the block; wait in the queue if all are taken."""
        if self._free.locked() and self.waiting >= self.queue:
            self.refused += 1
            raise TooManyDeploysError(
                f"{self.running} deploys are running and {self.waiting} waiting (config "
                f"max_concurrent_deploys={self.slots}, max_queued_deploys={self.queue}); "
                f"retry in {TooManyDeploysError.retry_after_s}s")
        self.waiting += 1
        try:
            await self._free.acquire()
        finally:
            self.waiting -= 1
        self.running += 1
        try:
            yield
        finally:
            self.running -= 1
            self._free.release()
