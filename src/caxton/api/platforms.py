"""The platform address book's operations every API offers (REST ``/api/v1/platforms``, gRPC
``PlatformService``, the CLI's ``caxton platforms``). A change returns once it is stored."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from caxton.errors import AgentUnavailableError, PlatformNotFoundError, StoreError
from caxton.runtime.platforms import PlatformBook

if TYPE_CHECKING:
    from caxton.api.service import CaxtonService


class PlatformService:
    def __init__(self, book: PlatformBook) -> None:
        self.book = book

    async def list(self) -> list[dict[str, Any]]:
        return [entry.to_dict() for entry in self.book.entries()]

    async def get(self, name: str) -> dict[str, Any]:
        found = self.book.get(name)
        if found is None:
            raise PlatformNotFoundError(f"platform '{name}' is not in the address book")
        return found.to_dict()

    async def add(self, name: str, urls: Any) -> tuple[dict[str, Any], bool]:
        """Add ``name`` with ``urls`` (or replace its URLs); the entry and whether it is new."""
        stored = _Commit()
        entry, created = self.book.add(name, urls, on_commit=stored.done)
        await stored.wait()
        return entry.to_dict(), created

    async def remove(self, name: str) -> None:
        stored = _Commit()
        self.book.remove(name, on_commit=stored.done)
        await stored.wait()


class _Commit:
    """The writer's commit callback (any thread) as something the event loop can await."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._future: asyncio.Future[None] = self._loop.create_future()

    def done(self, error: BaseException | None) -> None:
        self._loop.call_soon_threadsafe(self._settle, error)

    def _settle(self, error: BaseException | None) -> None:
        if self._future.done():
            return
        if error is None:
            self._future.set_result(None)
        else:
            self._future.set_exception(StoreError(f"could not store the change: {error}"))

    async def wait(self) -> None:
        await self._future


def platforms_of(service: CaxtonService) -> PlatformService:
    """The service's address book, or AgentUnavailableError when the server runs without one."""
    found: PlatformService | None = getattr(service, "platforms", None)
    if found is None:
        raise AgentUnavailableError("the platform address book is not available")
    return found
