"""What the blocking and the asyncio client share: stubs, requests, and decoding answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import grpc

from caxton.api.grpc import convert, convert_deployments
from caxton.api.grpc._generated import (
    agents_pb2,
    agents_pb2_grpc,
    conversations_pb2,
    conversations_pb2_grpc,
    dead_letters_pb2,
    dead_letters_pb2_grpc,
    directory_pb2_grpc,
    messages_pb2,
    messages_pb2_grpc,
    platforms_pb2_grpc,
    server_pb2_grpc,
)
from caxton.api.grpc.convert_directory import services_to_proto
from caxton.api.grpc.convert_permissions import permissions_to_proto
from caxton.client._auth import BearerInterceptor, aio_interceptors
from caxton.client.types import (
    AgentView,
    Conversation,
    ConversationSummary,
    DeadLetter,
    Deployment,
    LogLine,
    SendResult,
    ServerStatus,
)
from caxton.security.client_tls import ClientTls

DEFAULT_TARGET = "127.0.0.1:50051"
DEFAULT_TIMEOUT_S = 60.0
# Replies carry up to the server's message limit and deployments whole modules: gRPC's 4 MB
# default would refuse a large conversation before the server could say anything useful.
CHANNEL_OPTIONS = [("grpc.max_receive_message_length", -1),
                   ("grpc.max_send_message_length", -1)]
# A send-and-wait may take its whole timeout on the server; the call's deadline allows more.
WAIT_MARGIN_S = 30.0


def channel(target: str, tls: ClientTls | None, token: str | None = None) -> grpc.Channel:
    """A blocking channel to ``target``: TLS with ``tls`` (ConfigError when its files cannot
    be read), else plain; ``token`` (an API key or JWT) goes with every call."""
    if tls is None:
        plain = grpc.insecure_channel(target, options=CHANNEL_OPTIONS)
    else:
        plain = grpc.secure_channel(target, tls.channel_credentials(), options=CHANNEL_OPTIONS)
    return plain if token is None else grpc.intercept_channel(plain, BearerInterceptor(token))


def aio_channel(target: str, tls: ClientTls | None, token: str | None = None
                ) -> grpc.aio.Channel:
    """``channel`` for asyncio."""
    interceptors = aio_interceptors(token) if token else None
    if tls is None:
        return grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS,
                                         interceptors=interceptors)
    return grpc.aio.secure_channel(target, tls.channel_credentials(), options=CHANNEL_OPTIONS,
                                   interceptors=interceptors)


class Stubs:
    """The generated stubs over one channel (blocking or asyncio: they work on both)."""

    def __init__(self, channel: Any) -> None:
        self.agents = agents_pb2_grpc.AgentServiceStub(channel)
        self.messages = messages_pb2_grpc.MessageServiceStub(channel)
        self.conversations = conversations_pb2_grpc.ConversationServiceStub(channel)
        self.dead_letters = dead_letters_pb2_grpc.DeadLetterServiceStub(channel)
        self.server = server_pb2_grpc.ServerServiceStub(channel)
        self.directory = directory_pb2_grpc.DirectoryServiceStub(channel)
        self.platforms = platforms_pb2_grpc.PlatformServiceStub(channel)


def deploy_request(name: str, module: bytes, version: str, limits: Mapping[str, int | None],
                   services: Sequence[Mapping[str, Any]] | None = None,
                   permissions: Mapping[str, Any] | None = None
                   ) -> agents_pb2.DeployAgentRequest:
    """``permissions`` None: none declared (the agent may do everything)."""
    return agents_pb2.DeployAgentRequest(
        name=name, module=module, version=version, limits=convert.limits_to_proto(limits),
        services=services_to_proto(services),
        permissions=None if permissions is None else permissions_to_proto(permissions))


def send_request(message: Mapping[str, Any]) -> messages_pb2.SendMessageRequest:
    return messages_pb2.SendMessageRequest(message=convert.message_to_proto(message))


def wait_request(message: Mapping[str, Any], timeout: float) -> messages_pb2.SendAndWaitRequest:
    return messages_pb2.SendAndWaitRequest(message=convert.message_to_proto(message),
                                           timeout_s=timeout)


def stream_request(agent: str | None, performative: str | None
                   ) -> messages_pb2.StreamMessagesRequest:
    return messages_pb2.StreamMessagesRequest(agent=agent or "",
                                              performative=performative or "")


def conversations_request(limit: int, participant: str | None
                          ) -> conversations_pb2.ListConversationsRequest:
    return conversations_pb2.ListConversationsRequest(limit=limit, participant=participant)


def deployment(pb: agents_pb2.Deployment) -> Deployment:
    return cast(Deployment, convert_deployments.deployment_from_proto(pb))


def agent(pb: agents_pb2.AgentView) -> AgentView:
    return cast(AgentView, convert.agent_from_proto(pb))


def agents(pb: agents_pb2.ListAgentsResponse) -> list[AgentView]:
    return [agent(a) for a in pb.agents]


def log_lines(pb: agents_pb2.GetAgentLogsResponse) -> list[LogLine]:
    return [cast(LogLine, convert.log_line_from_proto(line)) for line in pb.logs]


def sent(pb: messages_pb2.SendMessageResponse) -> SendResult:
    result = SendResult(message=convert.message_from_proto(pb.message), reply=None)
    if pb.duplicate:
        result["duplicate"] = True
    return result


def answered(pb: messages_pb2.SendAndWaitResponse) -> SendResult:
    return SendResult(message=convert.message_from_proto(pb.message),
                      reply=convert.message_from_proto(pb.reply))


def summaries(pb: conversations_pb2.ListConversationsResponse) -> list[ConversationSummary]:
    return [cast(ConversationSummary, convert.summary_from_proto(s)) for s in pb.conversations]


def conversation(pb: conversations_pb2.Conversation) -> Conversation:
    return cast(Conversation, convert.conversation_from_proto(pb))


def dead_letters(pb: dead_letters_pb2.ListDeadLettersResponse
                 | dead_letters_pb2.GetDeadLetterResponse) -> list[DeadLetter]:
    return [cast(DeadLetter, convert.dead_letter_from_proto(d)) for d in pb.dead_letters]


def dead_letters_request(agent: str | None, limit: int
                         ) -> dead_letters_pb2.ListDeadLettersRequest:
    return dead_letters_pb2.ListDeadLettersRequest(agent=agent, limit=limit)


def server_status(pb: Any) -> ServerStatus:
    health, ready = convert.status_from_proto(pb)
    return ServerStatus(health=health, ready=ready)


def limits(fuel: int | None, memory_bytes: int | None, timeout_ms: int | None,
           max_message_bytes: int | None, max_host_calls: int | None,
           max_sends_per_message: int | None = None) -> dict[str, int | None]:
    return {"fuel": fuel, "memory_bytes": memory_bytes, "timeout_ms": timeout_ms,
            "max_message_bytes": max_message_bytes, "max_host_calls": max_host_calls,
            "max_sends_per_message": max_sends_per_message}
