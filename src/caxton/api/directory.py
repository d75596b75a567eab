"""The directory operations every API offers (REST ``/api/v1/directory``, gRPC
``DirectoryService``, the CLI's ``caxton directory``), over the in-memory directory.

API clients may register, modify and deregister any agent (agents themselves go through the
``df`` platform agent, which lets each act only for itself). Every change returns once it is
durably stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from caxton.domain.directory import (
    ServiceDescription,
    parse_description,
    parse_max_results,
    parse_services,
)
from caxton.errors import AgentUnavailableError, InvalidMessageError, NotRegisteredError, StoreError
from caxton.runtime.directory import Directory
from caxton.security.context import require
from caxton.security.permissions import Permission
from caxton.store.writer import OnCommit

if TYPE_CHECKING:
    from caxton.api.service import CaxtonService

_T = TypeVar("_T")


class DirectoryService:
    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    # -- the agent lifecycle's hooks -----------------------------------------------------------
    @staticmethod
    def parse_services(value: Any) -> tuple[ServiceDescription, ...]:
        """A deployment's ``services`` (checked before anything is deployed)."""
        return parse_services(value)

    async def declare(self, agent: str, services: tuple[ServiceDescription, ...]) -> None:
        """A deployment of ``agent`` succeeded: its registration is what it declared."""
        await self._durably(lambda done: self.directory.declare(agent, services,
                                                                on_commit=done))

    async def removed(self, agent: str) -> None:
        await self._durably(lambda done: self.directory.forget(agent, on_commit=done))

    # -- DF operations -------------------------------------------------------------------------
    async def register(self, obj: Any) -> dict[str, Any]:
        description = parse_description(obj)
        require(Permission.directory_manage, description.agent)  # a grant scoped to agents
        await self._durably(lambda done: self.directory.register(description, on_commit=done))
        return description.to_dict()

    async def modify(self, obj: Any, agent: str | None = None) -> dict[str, Any]:
        """Replace ``agent``'s registration (``agent`` from the URL; the body may omit it)."""
        if agent is not None and isinstance(obj, dict):
            named = obj.get("agent", agent)
            if named != agent:
                raise InvalidMessageError("description.agent",
                                          f"'{named}' is not the agent of the URL ('{agent}')")
            obj = {**obj, "agent": agent}
        description = parse_description(obj)
        require(Permission.directory_manage, description.agent)
        await self._durably(lambda done: self.directory.modify(description, on_commit=done))
        return description.to_dict()

    async def deregister(self, agent: str) -> None:
        require(Permission.directory_manage, agent)
        await self._durably(lambda done: self.directory.deregister(agent, on_commit=done))

    async def get(self, agent: str) -> dict[str, Any]:
        found = self.directory.get(agent)
        if found is None:
            raise NotRegisteredError(f"agent '{agent}' is not registered")
        return found.to_dict()

    async def search(self, template: Any, max_results: Any = None) -> list[dict[str, Any]]:
        parsed = parse_description(template or {}, template=True, where="template")
        limit = parse_max_results(max_results)
        return [d.to_dict() for d in self.directory.search(parsed, limit)]

    @staticmethod
    async def _durably(change: Callable[[OnCommit], _T]) -> _T:
        loop = asyncio.get_running_loop()
        stored: asyncio.Future[None] = loop.create_future()

        def done(error: BaseException | None) -> None:
            loop.call_soon_threadsafe(_settle, stored, error)

        result = change(done)
        await stored
        return result


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(StoreError(f"could not store the directory change: {error}"))


def directory_of(service: CaxtonService) -> DirectoryService:
    """The service's directory, or AgentUnavailableError when the server runs without one."""
    found: DirectoryService | None = getattr(service, "directory", None)
    if found is None:
        raise AgentUnavailableError("the directory facilitator is not running")
    return found
