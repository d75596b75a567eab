"""The asyncio client: ``AsyncCaxtonClient`` and its message stream (grpc.aio underneath)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar

import grpc

from caxton.api.grpc import convert
from caxton.api.grpc._generated import (
    agents_pb2,
    conversations_pb2,
    dead_letters_pb2,
    platforms_pb2,
    server_pb2,
)
from caxton.client import _common as c
from caxton.client import _directory as d
from caxton.client import _platforms as pf
from caxton.client._streams import AsyncServerStream
from caxton.client.errors import from_rpc_error, translate
from caxton.client.events import AsyncEventStream, open_async_stream
from caxton.client.types import (
    AgentView,
    Conversation,
    ConversationSummary,
    DeadLetter,
    Deployment,
    LogLine,
    Message,
    SendResult,
    ServerStatus,
)
from caxton.security.client_tls import ClientTls

_T = TypeVar("_T")


class AsyncMessageStream(AsyncServerStream[Message]):
    """``MessageStream`` for asyncio: ``async for`` it; ``close()`` or ``async with`` ends it."""

    def _convert(self, item: Any) -> Message:
        return convert.message_from_proto(item.message)


class AsyncCaxtonClient:
    """``CaxtonClient`` with coroutine methods; create and use it inside one event loop.

    >>> async with AsyncCaxtonClient("127.0.0.1:50051") as client:
    ...     agents = await client.agents()
    """

    def __init__(self, target: str = c.DEFAULT_TARGET, *,
                 timeout: float | None = c.DEFAULT_TIMEOUT_S,
                 tls: ClientTls | None = None, token: str | None = None) -> None:
        self.target = target
        self.timeout = timeout
        self._channel = c.aio_channel(target, tls, token)
        self._stubs = c.Stubs(self._channel)

    async def close(self) -> None:
        await self._channel.close()

    async def __aenter__(self) -> AsyncCaxtonClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    async def _call(self, method: Any, request: object, decode: Callable[[Any], _T], *,
                    timeout: float | None = None) -> _T:
        try:
            response = await method(request, timeout=timeout or self.timeout)
        except grpc.RpcError as exc:
            raise from_rpc_error(exc, self.target) from None
        return decode(response)

    # -- agents --------------------------------------------------------------------------------
    async def deploy(self, name: str, module: bytes, *, version: str = "0.1.0",
                     fuel: int | None = None, memory_bytes: int | None = None,
                     timeout_ms: int | None = None, max_message_bytes: int | None = None,
                     max_host_calls: int | None = None,
                     max_sends_per_message: int | None = None,
                     services: Sequence[Mapping[str, Any]] | None = None,
                     permissions: Mapping[str, Any] | None = None) -> AgentView:
        """Validate ``module`` (.wasm bytes or .wat text) and deploy it as ``name``
        (``permissions``: see docs/agent-permissions.md; None declares none)."""
        limits = c.limits(fuel, memory_bytes, timeout_ms, max_message_bytes, max_host_calls,
                          max_sends_per_message)
        return await self._call(self._stubs.agents.DeployAgent,
                                c.deploy_request(name, module, version, limits, services,
                                                 permissions), c.agent)

    async def start_deployment(self, name: str, module: bytes, *, version: str = "0.1.0",
                         fuel: int | None = None, memory_bytes: int | None = None,
                         timeout_ms: int | None = None, max_message_bytes: int | None = None,
                         max_host_calls: int | None = None,
                         max_sends_per_message: int | None = None,
                         services: Sequence[Mapping[str, Any]] | None = None,
                         permissions: Mapping[str, Any] | None = None) -> Deployment:
        """Start deploying ``module`` as ``name`` and return at once: the deploy runs on in the
        server (a large component compiles for a while). Follow it with ``deployment``."""
        limits = c.limits(fuel, memory_bytes, timeout_ms, max_message_bytes, max_host_calls,
                          max_sends_per_message)
        return await self._call(self._stubs.agents.StartDeployment,
                          c.deploy_request(name, module, version, limits, services, permissions),
                          c.deployment)

    async def deployment(self, deployment_id: str) -> Deployment:
        """Where a deployment is: its stage, progress, and when done the agent or the error."""
        return await self._call(self._stubs.agents.GetDeployment,
                          agents_pb2.GetDeploymentRequest(id=deployment_id), c.deployment)

    async def agents(self) -> list[AgentView]:
        return await self._call(self._stubs.agents.ListAgents, agents_pb2.ListAgentsRequest(),
                                c.agents)

    async def agent(self, name: str) -> AgentView:
        return await self._call(self._stubs.agents.GetAgent,
                                agents_pb2.GetAgentRequest(name=name), c.agent)

    async def agent_logs(self, name: str, limit: int = 100) -> list[LogLine]:
        return await self._call(self._stubs.agents.GetAgentLogs,
                                agents_pb2.GetAgentLogsRequest(name=name, limit=limit),
                                c.log_lines)

    async def remove_agent(self, name: str) -> None:
        await self._call(self._stubs.agents.RemoveAgent,
                         agents_pb2.RemoveAgentRequest(name=name), lambda _: None)

    async def stop_agent(self, name: str) -> AgentView:
        return await self._call(self._stubs.agents.StopAgent,
                                agents_pb2.StopAgentRequest(name=name), c.agent)

    async def start_agent(self, name: str) -> AgentView:
        return await self._call(self._stubs.agents.StartAgent,
                                agents_pb2.StartAgentRequest(name=name), c.agent)

    # -- messages ------------------------------------------------------------------------------
    async def send(self, message: Mapping[str, Any]) -> SendResult:
        """Send ``message`` (JSON form); returns once the server has durably logged it."""
        return await self._call(self._stubs.messages.SendMessage, c.send_request(message),
                                c.sent)

    async def send_and_wait(self, message: Mapping[str, Any], *, timeout: float = 30.0
                            ) -> SendResult:
        """Send ``message`` and return the first reply (ReplyTimeoutError if none comes)."""
        return await self._call(self._stubs.messages.SendAndWait,
                                c.wait_request(message, timeout), c.answered,
                                timeout=timeout + c.WAIT_MARGIN_S)

    async def stream_messages(self, *, agent: str | None = None,
                              performative: str | None = None) -> AsyncMessageStream:
        """Watch routed messages; returns once the server is watching."""
        call = self._stubs.messages.StreamMessages(c.stream_request(agent, performative))
        try:
            await call.initial_metadata()
            if call.done():
                code = await call.code()
                if code is not grpc.StatusCode.OK:
                    raise translate(code, await call.details(), await call.trailing_metadata(),
                                    self.target)
        except grpc.RpcError as exc:
            raise from_rpc_error(exc, self.target) from None
        return AsyncMessageStream(call, self.target)

    async def stream_events(self, *, agent: str | None = None, kind: str | None = None
                            ) -> AsyncEventStream:
        """Watch agent lifecycle and deployment events; returns once the server is watching."""
        return await open_async_stream(self._channel, self.target, agent, kind)

    # -- conversations -------------------------------------------------------------------------
    async def conversations(self, *, limit: int = 100, participant: str | None = None
                            ) -> list[ConversationSummary]:
        return await self._call(self._stubs.conversations.ListConversations,
                                c.conversations_request(limit, participant), c.summaries)

    async def conversation(self, conversation_id: str) -> Conversation:
        request = conversations_pb2.GetConversationRequest(conversation_id=conversation_id)
        return await self._call(self._stubs.conversations.GetConversation, request,
                                c.conversation)

    # -- dead letters -------------------------------------------------------------------------
    async def dead_letters(self, *, agent: str | None = None, limit: int = 100
                           ) -> list[DeadLetter]:
        """Messages that failed every delivery attempt, newest first."""
        return await self._call(self._stubs.dead_letters.ListDeadLetters,
                                c.dead_letters_request(agent, limit), c.dead_letters)

    async def dead_letter(self, message_id: str) -> list[DeadLetter]:
        """One dead letter: an entry per receiver that gave up on it."""
        request = dead_letters_pb2.GetDeadLetterRequest(message_id=message_id)
        return await self._call(self._stubs.dead_letters.GetDeadLetter, request, c.dead_letters)

    async def replay_dead_letter(self, message_id: str) -> int:
        """Deliver it again (attempts start over); returns how many receivers."""
        request = dead_letters_pb2.ReplayDeadLetterRequest(message_id=message_id)
        return await self._call(self._stubs.dead_letters.ReplayDeadLetter, request,
                                lambda pb: int(pb.replayed))

    async def purge_dead_letters(self, message_id: str | None = None) -> int:
        """Delete one dead letter, or all of them; returns how many were deleted."""
        request = dead_letters_pb2.PurgeDeadLettersRequest(message_id=message_id)
        return await self._call(self._stubs.dead_letters.PurgeDeadLetters, request,
                                lambda pb: int(pb.purged))

    # -- directory (FIPA DF) --------------------------------------------------------------------
    async def df_register(self, description: Mapping[str, Any]) -> dict[str, Any]:
        """Register an agent's description (see docs/directory.md); AlreadyRegisteredError."""
        return await self._call(self._stubs.directory.Register, d.register_request(description),
                                d.description)

    async def df_modify(self, description: Mapping[str, Any]) -> dict[str, Any]:
        """Replace a registered agent's description; NotRegisteredError."""
        return await self._call(self._stubs.directory.Modify, d.modify_request(description),
                                d.description)

    async def df_deregister(self, agent: str) -> None:
        await self._call(self._stubs.directory.Deregister, d.deregister_request(agent),
                         lambda _: None)

    async def df_search(self, template: Mapping[str, Any] | None = None, *,
                        max_results: int | None = None) -> list[dict[str, Any]]:
        """The registrations ``template`` matches (FIPA DF search), by agent name."""
        return await self._call(self._stubs.directory.Search,
                                d.search_request(template, max_results), d.descriptions)

    # -- the platform address book --------------------------------------------------------------
    async def platforms(self) -> list[dict[str, Any]]:
        """Every platform of the address book: ``{"name", "urls", "source"}``, by name."""
        return await self._call(self._stubs.platforms.ListPlatforms,
                          platforms_pb2.ListPlatformsRequest(), pf.entries)

    async def add_platform(self, name: str, urls: list[str]) -> dict[str, Any]:
        """Add a platform (or replace its URLs); the entry, with ``created``."""
        return await self._call(self._stubs.platforms.AddPlatform, pf.add_request(name, urls),
                          pf.added)

    async def remove_platform(self, name: str) -> None:
        """Remove a platform; PlatformNotFoundError when it is not in the book."""
        await self._call(self._stubs.platforms.RemovePlatform,
                   platforms_pb2.RemovePlatformRequest(name=name), lambda _: None)

    # -- server --------------------------------------------------------------------------------
    async def status(self) -> ServerStatus:
        return await self._call(self._stubs.server.GetStatus, server_pb2.GetStatusRequest(),
                                c.server_status)
