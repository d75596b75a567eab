"""The CLI's gRPC transport: ``caxton.client`` underneath, the same answers as REST.

Errors keep the REST transport's shape, one line and the same exit codes, with the gRPC status
where REST names the HTTP status: ``no agent named 'x' (gRPC NOT_FOUND)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from caxton.api.grpc.status import status_code
from caxton.cli._endpoint import Endpoint
from caxton.cli._errors import EXIT_ERROR, EXIT_TIMEOUT, EXIT_UNREACHABLE, EXIT_USAGE, CliError
from caxton.client import CaxtonClient, ServerUnreachableError
from caxton.client.protocols import ProtocolClient
from caxton.errors import CaxtonError, ConfigError, ReplyTimeoutError

_T = TypeVar("_T")


class GrpcTransport:
    """The operations the commands need, over gRPC."""

    def __init__(self, endpoint: Endpoint, timeout: float = 60.0) -> None:
        self.target = endpoint.grpc
        self.tls = endpoint.tls
        self.token = endpoint.token
        try:
            self.client = CaxtonClient(self.target, timeout=timeout, tls=self.tls,
                                       token=endpoint.token)
        except ConfigError as exc:  # an unreadable CA or client certificate file
            raise CliError(exc.message, EXIT_USAGE) from None

    def _drivers(self) -> ProtocolClient:
        return ProtocolClient(self.target, timeout=self.client.timeout, tls=self.tls,
                              token=self.token)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except ServerUnreachableError as exc:
            if self.tls is not None:  # a refused handshake looks like this too
                why = exc.message.split("last error: ", 1)[-1].removesuffix(": OK")
                raise CliError(
                    f"cannot reach the Caxton server at {self.target} over TLS ({why}): is it "
                    "running (--grpc-server), is its CA trusted (--tls-ca), does it want a "
                    "client certificate (--tls-cert, --tls-key)?", EXIT_UNREACHABLE) from None
            raise CliError(
                f"cannot reach the Caxton server at {self.target} (is it running? "
                "set --grpc-server or CAXTON_GRPC_SERVER)", EXIT_UNREACHABLE) from None
        except CaxtonError as exc:
            code = EXIT_TIMEOUT if isinstance(exc, ReplyTimeoutError) else EXIT_ERROR
            raise CliError(f"{exc.message} (gRPC {status_code(exc).name})", code) from None

    def _do(self, call: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        with self._errors():
            return call(*args, **kwargs)

    def start_deployment(self, name: str, module: bytes, version: str, limits: dict[str, int],
                         services: list[dict[str, Any]] | None = None,
                         permissions: dict[str, Any] | None = None,
                         on_upload: Callable[[int], None] | None = None) -> dict[str, Any]:
        answer = dict(self._do(self.client.start_deployment, name, module, version=version,
                               services=services, permissions=permissions, **limits))
        if on_upload is not None:  # one message: sent whole by the time it is answered
            on_upload(len(module))
        return answer

    def deployment(self, deployment_id: str) -> dict[str, Any]:
        return dict(self._do(self.client.deployment, deployment_id))

    def list_agents(self) -> list[dict[str, Any]]:
        return [dict(a) for a in self._do(self.client.agents)]

    def get_agent(self, name: str) -> dict[str, Any]:
        return dict(self._do(self.client.agent, name))

    def agent_logs(self, name: str, limit: int) -> list[dict[str, Any]]:
        return [dict(line) for line in self._do(self.client.agent_logs, name, limit)]

    def remove_agent(self, name: str) -> None:
        self._do(self.client.remove_agent, name)

    def stop_agent(self, name: str) -> dict[str, Any]:
        return dict(self._do(self.client.stop_agent, name))

    def start_agent(self, name: str) -> dict[str, Any]:
        return dict(self._do(self.client.start_agent, name))

    def send(self, message: dict[str, Any], *, wait: bool, timeout: float) -> dict[str, Any]:
        if wait:
            return dict(self._do(self.client.send_and_wait, message, timeout=timeout))
        return dict(self._do(self.client.send, message))

    @contextmanager
    def tail(self, agent: str | None, performative: str | None
             ) -> Iterator[Iterator[dict[str, Any]]]:
        with self._errors(), self._do(self.client.stream_messages, agent=agent,
                                      performative=performative) as stream:
            yield ({"message": m, "dropped": stream.dropped} for m in stream)

    @contextmanager
    def events(self, agent: str | None, kind: str | None) -> Iterator[Iterator[dict[str, Any]]]:
        with self._errors(), self._do(self.client.stream_events, agent=agent,
                                      kind=kind) as stream:
            yield ({"event": e, "dropped": stream.dropped} for e in stream)

    def contract_net(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._drivers() as drivers:
            return self._do(drivers.contract_net, request)

    @contextmanager
    def subscribe(self, request: dict[str, Any]) -> Iterator[Iterator[dict[str, Any]]]:
        with (self._drivers() as drivers,
              self._errors(), drivers.subscribe(request) as stream):
            yield iter(stream)

    def cancel_subscription(self, conversation_id: str) -> dict[str, Any]:
        with self._drivers() as drivers:
            return self._do(drivers.cancel_subscription, conversation_id)

    def list_conversations(self, limit: int, participant: str | None) -> list[dict[str, Any]]:
        rows = self._do(self.client.conversations, limit=limit, participant=participant)
        return [dict(r) for r in rows]

    def get_conversation(self, conversation_id: str) -> dict[str, Any]:
        return dict(self._do(self.client.conversation, conversation_id))

    def list_dead_letters(self, agent: str | None, limit: int) -> list[dict[str, Any]]:
        return [dict(d) for d in self._do(self.client.dead_letters, agent=agent, limit=limit)]

    def get_dead_letter(self, message_id: str) -> list[dict[str, Any]]:
        return [dict(d) for d in self._do(self.client.dead_letter, message_id)]

    def replay_dead_letter(self, message_id: str) -> dict[str, Any]:
        return {"replayed": self._do(self.client.replay_dead_letter, message_id)}

    def purge_dead_letters(self, message_id: str | None) -> dict[str, Any]:
        return {"purged": self._do(self.client.purge_dead_letters, message_id)}

    def status(self) -> dict[str, Any]:
        return dict(self._do(self.client.status))

    def df_register(self, description: dict[str, Any]) -> dict[str, Any]:
        return self._do(self.client.df_register, description)

    def df_modify(self, description: dict[str, Any]) -> dict[str, Any]:
        return self._do(self.client.df_modify, description)

    def df_deregister(self, agent: str) -> None:
        self._do(self.client.df_deregister, agent)

    def df_search(self, template: dict[str, Any], max_results: int | None
                  ) -> list[dict[str, Any]]:
        return self._do(self.client.df_search, template, max_results=max_results)

    def list_platforms(self) -> list[dict[str, Any]]:
        return self._do(self.client.platforms)

    def add_platform(self, name: str, urls: list[str]) -> dict[str, Any]:
        return self._do(self.client.add_platform, name, urls)

    def remove_platform(self, name: str) -> None:
        self._do(self.client.remove_platform, name)
