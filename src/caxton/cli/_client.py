"""How CLI commands reach the server: one Transport interface, REST or gRPC underneath.

Commands call operations (``deploy``, ``send``, ``tail``...) and print what comes back; the
transport chosen with ``--transport`` (or ``CAXTON_TRANSPORT``) decides how they travel. Both
return the same JSON shapes and raise CliError with the same exit codes, so a command never
needs to know which one it has.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from enum import StrEnum
from typing import Any, Protocol

from caxton.cli._endpoint import DEFAULT_SERVER, Endpoint, resolve
from caxton.cli._errors import EXIT_ERROR, EXIT_TIMEOUT, EXIT_UNREACHABLE, EXIT_USAGE, CliError
from caxton.cli._rest import ApiClient, RestTransport


class TransportKind(StrEnum):
    rest = "rest"
    grpc = "grpc"


class Transport(Protocol):
    """The server operations the CLI uses. Answers are REST's JSON shapes."""

    target: str

    def start_deployment(self, name: str, module: bytes, version: str, limits: dict[str, int],
                         services: list[dict[str, Any]] | None = None,
                         permissions: dict[str, Any] | None = None,
                         on_upload: Callable[[int], None] | None = None) -> dict[str, Any]:
        """Start a deploy that runs on in the server: the deployment, as REST shows it.

        ``permissions`` None declares none; ``on_upload`` hears how many bytes of the module
        have been sent so far."""
        ...

    def deployment(self, deployment_id: str) -> dict[str, Any]: ...

    def list_agents(self) -> list[dict[str, Any]]: ...

    def get_agent(self, name: str) -> dict[str, Any]: ...

    def agent_logs(self, name: str, limit: int) -> list[dict[str, Any]]: ...

    def remove_agent(self, name: str) -> None: ...

    def stop_agent(self, name: str) -> dict[str, Any]: ...

    def start_agent(self, name: str) -> dict[str, Any]: ...

    def send(self, message: dict[str, Any], *, wait: bool, timeout: float
             ) -> dict[str, Any]:
        """``{"message": ..., "reply": ...}``; the reply is None without ``wait``."""
        ...

    def tail(self, agent: str | None, performative: str | None
             ) -> AbstractContextManager[Iterator[dict[str, Any]]]:
        """Routed messages as ``{"message": ..., "dropped": n}``, until the block is left."""
        ...

    def events(self, agent: str | None, kind: str | None
               ) -> AbstractContextManager[Iterator[dict[str, Any]]]:
        """Agent events as ``{"event": ..., "dropped": n}``, until the block is left."""
        ...

    # The protocol drivers (docs/messaging.md, "Protocol drivers").
    def contract_net(self, request: dict[str, Any]) -> dict[str, Any]:
        """Run a Contract Net; the outcome as POST /api/v1/protocols/contract-net answers."""
        ...

    def subscribe(self, request: dict[str, Any]
                  ) -> AbstractContextManager[Iterator[dict[str, Any]]]:
        """A subscription's events (the first: subscribed), until it ends or is cancelled."""
        ...

    def cancel_subscription(self, conversation_id: str) -> dict[str, Any]:
        """Cancel an open subscription: its cancelled event."""
        ...

    def list_conversations(self, limit: int, participant: str | None
                           ) -> list[dict[str, Any]]: ...

    def get_conversation(self, conversation_id: str) -> dict[str, Any]: ...

    def list_dead_letters(self, agent: str | None, limit: int) -> list[dict[str, Any]]: ...

    def get_dead_letter(self, message_id: str) -> list[dict[str, Any]]: ...

    def replay_dead_letter(self, message_id: str) -> dict[str, Any]:
        """``{"replayed": n}``"""
        ...

    def purge_dead_letters(self, message_id: str | None) -> dict[str, Any]:
        """``{"purged": n}``; every dead letter when ``message_id`` is None."""
        ...

    def status(self) -> dict[str, Any]:
        """``{"health": ..., "ready": ...}`` as REST's /health and /ready answer."""
        ...

    # The directory (FIPA DF): descriptions as docs/directory.md shows them.
    def df_register(self, description: dict[str, Any]) -> dict[str, Any]: ...

    def df_modify(self, description: dict[str, Any]) -> dict[str, Any]: ...

    def df_deregister(self, agent: str) -> None: ...

    def df_search(self, template: dict[str, Any], max_results: int | None
                  ) -> list[dict[str, Any]]: ...

    # The platform address book: entries {"name", "urls", "source"}.
    def list_platforms(self) -> list[dict[str, Any]]: ...

    def add_platform(self, name: str, urls: list[str]) -> dict[str, Any]:
        """The entry, with ``created`` (False: its URLs were replaced)."""
        ...

    def remove_platform(self, name: str) -> None: ...


def connect(server: str | None, transport: TransportKind = TransportKind.rest,
            grpc_server: str | None = None, *, timeout: float = 60.0) -> Transport:
    """The transport the command's options ask for (imports gRPC only when chosen)."""
    endpoint = resolve(server, grpc_server)
    if transport is TransportKind.grpc:
        from caxton.cli._grpc import GrpcTransport  # noqa: PLC0415

        return GrpcTransport(endpoint, timeout)
    return RestTransport(endpoint, timeout)


__all__ = [
    "DEFAULT_SERVER",
    "EXIT_ERROR",
    "EXIT_TIMEOUT",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "ApiClient",
    "CliError",
    "Endpoint",
    "Transport",
    "TransportKind",
    "connect",
]
