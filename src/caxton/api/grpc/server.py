"""The gRPC management API server: Caxton's services, standard health checking and reflection.

It runs on the same asyncio event loop as the REST server (grpc.aio), so both call the one
``CaxtonService`` the same way. The composition root (``caxton.server``) builds, starts and stops
it.
"""

from __future__ import annotations

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from caxton.api.grpc._generated import (
    agents_pb2,
    agents_pb2_grpc,
    conversations_pb2,
    conversations_pb2_grpc,
    dead_letters_pb2,
    dead_letters_pb2_grpc,
    directory_pb2,
    directory_pb2_grpc,
    events_pb2,
    events_pb2_grpc,
    messages_pb2,
    messages_pb2_grpc,
    platforms_pb2,
    platforms_pb2_grpc,
    protocols_pb2,
    protocols_pb2_grpc,
    server_pb2,
    server_pb2_grpc,
)
from caxton.api.grpc.directory import DirectoryHandlers
from caxton.api.grpc.event_handlers import EventHandlers
from caxton.api.grpc.handlers import (
    AgentHandlers,
    ConversationHandlers,
    DeadLetterHandlers,
    MessageHandlers,
    ServerHandlers,
)
from caxton.api.grpc.platforms import PlatformHandlers
from caxton.api.grpc.protocols import ProtocolHandlers
from caxton.api.grpc.undecodable import RefuseUndecodable
from caxton.api.service import CaxtonService
from caxton.errors import ConfigError

SERVICE_NAMES = (
    agents_pb2.DESCRIPTOR.services_by_name["AgentService"].full_name,
    messages_pb2.DESCRIPTOR.services_by_name["MessageService"].full_name,
    conversations_pb2.DESCRIPTOR.services_by_name["ConversationService"].full_name,
    dead_letters_pb2.DESCRIPTOR.services_by_name["DeadLetterService"].full_name,
    server_pb2.DESCRIPTOR.services_by_name["ServerService"].full_name,
    directory_pb2.DESCRIPTOR.services_by_name["DirectoryService"].full_name,
    events_pb2.DESCRIPTOR.services_by_name["EventService"].full_name,
    protocols_pb2.DESCRIPTOR.services_by_name["ProtocolService"].full_name,
    platforms_pb2.DESCRIPTOR.services_by_name["PlatformService"].full_name,
)


def host_port(host: str, port: int) -> str:
    """``host:port``, with IPv6 addresses in brackets (gRPC's target syntax)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class GrpcServer:
    """One grpc.aio server bound to ``host:port`` (port 0 picks a free one; see ``target``),
    over TLS when given ``credentials`` (``caxton.security.tls.ServerTls.grpc_credentials``)."""

    def __init__(self, service: CaxtonService, *, host: str, port: int,
                 max_receive_bytes: int, handshake_timeout_s: float = 10.0,
                 credentials: grpc.ServerCredentials | None = None,
                 guard: grpc.aio.ServerInterceptor | None = None) -> None:
        # The guard (auth, permissions, audit) runs first: an unauthenticated caller learns
        # nothing, not even whether its request would decode.
        interceptors = [guard, RefuseUndecodable()] if guard else [RefuseUndecodable()]
        self._server = grpc.aio.server(interceptors=interceptors, options=[
            # Without this a second server could bind the same port and share its traffic.
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", max_receive_bytes),
            ("grpc.max_send_message_length", -1),
            # A connection that does not complete its handshake is closed (default 120 s).
            ("grpc.server_handshake_timeout_ms", int(handshake_timeout_s * 1000)),
        ])
        agents_pb2_grpc.add_AgentServiceServicer_to_server(AgentHandlers(service), self._server)
        messages_pb2_grpc.add_MessageServiceServicer_to_server(
            MessageHandlers(service), self._server)
        conversations_pb2_grpc.add_ConversationServiceServicer_to_server(
            ConversationHandlers(service), self._server)
        dead_letters_pb2_grpc.add_DeadLetterServiceServicer_to_server(
            DeadLetterHandlers(service), self._server)
        server_pb2_grpc.add_ServerServiceServicer_to_server(
            ServerHandlers(service), self._server)
        directory_pb2_grpc.add_DirectoryServiceServicer_to_server(
            DirectoryHandlers(service), self._server)
        events_pb2_grpc.add_EventServiceServicer_to_server(EventHandlers(service), self._server)
        protocols_pb2_grpc.add_ProtocolServiceServicer_to_server(
            ProtocolHandlers(service), self._server)
        platforms_pb2_grpc.add_PlatformServiceServicer_to_server(
            PlatformHandlers(service), self._server)
        self._health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self._health, self._server)
        reflection.enable_server_reflection(
            (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), self._server)
        try:
            address = host_port(host, port)
            bound = (self._server.add_insecure_port(address) if credentials is None
                     else self._server.add_secure_port(address, credentials))
        except RuntimeError as exc:
            raise ConfigError(f"cannot listen on {host}:{port} (gRPC): {exc}") from None
        if not bound:
            raise ConfigError(f"cannot listen on {host}:{port} (gRPC): address unavailable")
        self.host = host
        self.port = bound
        self.target = host_port(host, bound)
        self.tls = credentials is not None

    async def start(self) -> None:
        await self._server.start()
        for name in ("", *SERVICE_NAMES):
            await self._health.set(name, health_pb2.HealthCheckResponse.SERVING)

    async def stop(self, grace: float) -> None:
        """Refuse new calls, give calls in flight ``grace`` seconds, then cancel the rest."""
        await self._health.enter_graceful_shutdown()
        await self._server.stop(grace)
