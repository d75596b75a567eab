"""The blocking client: ``CaxtonClient`` and its message stream."""

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
from caxton.client._streams import ServerStream
from caxton.client.errors import from_rpc_error
from caxton.client.events import EventStream, open_stream
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


class MessageStream(ServerStream[Message]):
    """Messages routed from the moment the stream opened, in order; ``dropped`` counts those
    the server skipped because this consumer fell behind."""

    def _convert(self, item: Any) -> Message:
        return convert.message_from_proto(item.message)


class CaxtonClient:
    """A blocking client for the gRPC management API of a Caxton server.

    Methods return the JSON shapes REST returns (see ``caxton.client.types``) and raise the
    errors of ``caxton.errors`` the server raised, plus ``ServerUnreachableError``.

    >>> with CaxtonClient("127.0.0.1:50051") as client:
    ...     client.send_and_wait({"performative": "request", "receiver": ["echo"],
    ...                           "content": {"hello": "world"}})["reply"]["content"]
    {'hello': 'world'}
    """

    def __init__(self, target: str = c.DEFAULT_TARGET, *,
                 timeout: float | None = c.DEFAULT_TIMEOUT_S,
                 tls: ClientTls | None = None, token: str | None = None) -> None:
        """``tls``: reach a server with TLS on (``ClientTls(ca_file=...)``; with
        ``cert_file`` and ``key_file`` for a client certificate); None: plain gRPC.
        ``token``: an API key or JWT sent with every call."""
        self.target = target
        self.timeout = timeout
        self._channel = c.channel(target, tls, token)
        self._stubs = c.Stubs(self._channel)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> CaxtonClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _call(self, method: Any, request: object, decode: Callable[[Any], _T], *,
              timeout: float | None = None) -> _T:
        try:
            response = method(request, timeout=timeout or self.timeout)
        except grpc.RpcError as exc:
            raise from_rpc_error(exc, self.target) from None
        return decode(response)

    # -- agents --------------------------------------------------------------------------------
    def deploy(self, name: str, module: bytes, *, version: str = "0.1.0",
               fuel: int | None = None, memory_bytes: int | None = None,
               timeout_ms: int | None = None, max_message_bytes: int | None = None,
               max_host_calls: int | None = None,
               max_sends_per_message: int | None = None,
               services: Sequence[Mapping[str, Any]] | None = None,
               permissions: Mapping[str, Any] | None = None) -> AgentView:
        """Validate ``module`` (.wasm bytes or .wat text) and deploy it as ``name``.

        Limits left as None take the server's defaults. ``permissions`` (a JSON object as in
        docs/agent-permissions.md) holds the agent to least privilege; None declares none.
        """
        limits = c.limits(fuel, memory_bytes, timeout_ms, max_message_bytes, max_host_calls,
                          max_sends_per_message)
        return self._call(self._stubs.agents.DeployAgent,
                          c.deploy_request(name, module, version, limits, services, permissions),
                          c.agent)

    def start_deployment(self, name: str, module: bytes, *, version: str = "0.1.0",
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
        return self._call(self._stubs.agents.StartDeployment,
                          c.deploy_request(name, module, version, limits, services, permissions),
                          c.deployment)

    def deployment(self, deployment_id: str) -> Deployment:
        """Where a deployment is: its stage, progress, and when done the agent or the error."""
        return self._call(self._stubs.agents.GetDeployment,
                          agents_pb2.GetDeploymentRequest(id=deployment_id), c.deployment)

    def agents(self) -> list[AgentView]:
        return self._call(self._stubs.agents.ListAgents, agents_pb2.ListAgentsRequest(),
                          c.agents)

    def agent(self, name: str) -> AgentView:
        return self._call(self._stubs.agents.GetAgent, agents_pb2.GetAgentRequest(name=name),
                          c.agent)

    def agent_logs(self, name: str, limit: int = 100) -> list[LogLine]:
        return self._call(self._stubs.agents.GetAgentLogs,
                          agents_pb2.GetAgentLogsRequest(name=name, limit=limit), c.log_lines)

    def remove_agent(self, name: str) -> None:
        self._call(self._stubs.agents.RemoveAgent, agents_pb2.RemoveAgentRequest(name=name),
                   lambda _: None)

    def stop_agent(self, name: str) -> AgentView:
        return self._call(self._stubs.agents.StopAgent, agents_pb2.StopAgentRequest(name=name),
                          c.agent)

    def start_agent(self, name: str) -> AgentView:
        return self._call(self._stubs.agents.StartAgent,
                          agents_pb2.StartAgentRequest(name=name), c.agent)

    # -- messages ------------------------------------------------------------------------------
    def send(self, message: Mapping[str, Any]) -> SendResult:
        """Send ``message`` (JSON form); returns once the server has durably logged it."""
        return self._call(self._stubs.messages.SendMessage, c.send_request(message), c.sent)

    def send_and_wait(self, message: Mapping[str, Any], *, timeout: float = 30.0
                      ) -> SendResult:
        """Send ``message`` and return the first reply (ReplyTimeoutError if none comes)."""
        return self._call(self._stubs.messages.SendAndWait, c.wait_request(message, timeout),
                          c.answered, timeout=timeout + c.WAIT_MARGIN_S)

    def stream_messages(self, *, agent: str | None = None, performative: str | None = None
                        ) -> MessageStream:
        """Watch routed messages (those ``agent`` sends or receives; of one performative).

        Returns once the server is watching, so anything sent afterwards is seen.
        """
        call = self._stubs.messages.StreamMessages(c.stream_request(agent, performative))
        try:
            call.initial_metadata()  # the server sends its headers once the watch is in place
            if call.done() and call.code() is not grpc.StatusCode.OK:
                raise from_rpc_error(call, self.target)
        except grpc.RpcError as exc:
            raise from_rpc_error(exc, self.target) from None
        return MessageStream(call, self.target)

    def stream_events(self, *, agent: str | None = None, kind: str | None = None
                      ) -> EventStream:
        """Watch agent lifecycle and deployment events (of ``agent``; ``kind``: kinds or
        groups, comma-separated). Returns once the server is watching."""
        return open_stream(self._channel, self.target, agent, kind)

    # -- conversations -------------------------------------------------------------------------
    def conversations(self, *, limit: int = 100, participant: str | None = None
                      ) -> list[ConversationSummary]:
        """Recent conversations, most recent first."""
        return self._call(self._stubs.conversations.ListConversations,
                          c.conversations_request(limit, participant), c.summaries)

    def conversation(self, conversation_id: str) -> Conversation:
        """One conversation with its messages in order."""
        request = conversations_pb2.GetConversationRequest(conversation_id=conversation_id)
        return self._call(self._stubs.conversations.GetConversation, request, c.conversation)

    # -- dead letters -------------------------------------------------------------------------
    def dead_letters(self, *, agent: str | None = None, limit: int = 100
                     ) -> list[DeadLetter]:
        """Messages that failed every delivery attempt, newest first."""
        return self._call(self._stubs.dead_letters.ListDeadLetters,
                          c.dead_letters_request(agent, limit), c.dead_letters)

    def dead_letter(self, message_id: str) -> list[DeadLetter]:
        """One dead letter: an entry per receiver that gave up on it."""
        request = dead_letters_pb2.GetDeadLetterRequest(message_id=message_id)
        return self._call(self._stubs.dead_letters.GetDeadLetter, request, c.dead_letters)

    def replay_dead_letter(self, message_id: str) -> int:
        """Deliver it again (attempts start over); returns how many receivers."""
        request = dead_letters_pb2.ReplayDeadLetterRequest(message_id=message_id)
        return self._call(self._stubs.dead_letters.ReplayDeadLetter, request,
                          lambda pb: int(pb.replayed))

    def purge_dead_letters(self, message_id: str | None = None) -> int:
        """Delete one dead letter, or all of them; returns how many were deleted."""
        request = dead_letters_pb2.PurgeDeadLettersRequest(message_id=message_id)
        return self._call(self._stubs.dead_letters.PurgeDeadLetters, request,
                          lambda pb: int(pb.purged))

    # -- directory (FIPA DF) --------------------------------------------------------------------
    def df_register(self, description: Mapping[str, Any]) -> dict[str, Any]:
        """Register an agent's description (see docs/directory.md); AlreadyRegisteredError."""
        return self._call(self._stubs.directory.Register, d.register_request(description),
                          d.description)

    def df_modify(self, description: Mapping[str, Any]) -> dict[str, Any]:
        """Replace a registered agent's description; NotRegisteredError."""
        return self._call(self._stubs.directory.Modify, d.modify_request(description),
                          d.description)

    def df_deregister(self, agent: str) -> None:
        self._call(self._stubs.directory.Deregister, d.deregister_request(agent),
                   lambda _: None)

    def df_search(self, template: Mapping[str, Any] | None = None, *,
                  max_results: int | None = None) -> list[dict[str, Any]]:
        """The registrations ``template`` matches (FIPA DF search), by agent name."""
        return self._call(self._stubs.directory.Search,
                          d.search_request(template, max_results), d.descriptions)

    # -- the platform address book --------------------------------------------------------------
    def platforms(self) -> list[dict[str, Any]]:
        """Every platform of the address book: ``{"name", "urls", "source"}``, by name."""
        return self._call(self._stubs.platforms.ListPlatforms,
                          platforms_pb2.ListPlatformsRequest(), pf.entries)

    def add_platform(self, name: str, urls: list[str]) -> dict[str, Any]:
        """Add a platform (or replace its URLs); the entry, with ``created``."""
        return self._call(self._stubs.platforms.AddPlatform, pf.add_request(name, urls),
                          pf.added)

    def remove_platform(self, name: str) -> None:
        """Remove a platform; PlatformNotFoundError when it is not in the book."""
        self._call(self._stubs.platforms.RemovePlatform,
                   platforms_pb2.RemovePlatformRequest(name=name), lambda _: None)

    # -- server --------------------------------------------------------------------------------
    def status(self) -> ServerStatus:
        """Liveness and readiness, as REST's ``/health`` and ``/ready`` report them."""
        return self._call(self._stubs.server.GetStatus, server_pb2.GetStatusRequest(),
                          c.server_status)
