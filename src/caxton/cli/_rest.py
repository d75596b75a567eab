"""The CLI's REST transport: httpx against /api/v1, every failure one CliError line."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from caxton.cli._endpoint import Endpoint
from caxton.cli._errors import EXIT_ERROR, EXIT_TIMEOUT, EXIT_UNREACHABLE, EXIT_USAGE, CliError
from caxton.errors import ConfigError

_UPLOAD_CHUNK = 256 * 1024  # a module is sent in pieces of this size, for the progress bar


class ApiClient:
    """A small synchronous REST client: paths in, JSON out, failures as CliError."""

    def __init__(self, endpoint: Endpoint, timeout: float = 60.0) -> None:
        self.base = endpoint.url
        tls = endpoint.rest_tls
        try:
            verify: ssl.SSLContext | bool = tls.ssl_context() if tls is not None else True
        except ConfigError as exc:
            raise CliError(exc.message, EXIT_USAGE) from None
        headers = {"authorization": f"Bearer {endpoint.token}"} if endpoint.token else {}
        self._http = httpx.Client(base_url=self.base, timeout=timeout, verify=verify,
                                  headers=headers)

    def request(self, method: str, path: str, *, expect: tuple[int, ...] = (200,),
                **kwargs: Any) -> Any:
        response = self.request_response(method, path, expect=expect, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def request_response(self, method: str, path: str, *, expect: tuple[int, ...] = (200,),
                         **kwargs: Any) -> httpx.Response:
        """The response itself (when its status matters), once it is one of ``expect``."""
        with self._errors():
            response = self._http.request(method, path, **kwargs)
        if response.status_code not in expect:
            raise _api_error(response)
        return response

    @contextmanager
    def stream(self, path: str, method: str = "GET", **kwargs: Any
               ) -> Iterator[httpx.Response]:
        """A streamed request, GET unless told (no read timeout: events may be far apart)."""
        with self._errors(), self._http.stream(method, path, timeout=httpx.Timeout(
                self._http.timeout.connect, read=None), **kwargs) as response:
            if response.status_code != 200:
                response.read()
                raise _api_error(response)
            yield response

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except httpx.HTTPError as exc:
            raise self._failure(exc) from None

    def _failure(self, exc: httpx.HTTPError) -> CliError:
        tls = _tls_failure(exc)
        if tls is not None:
            return CliError(f"TLS with {self.base} failed: {tls}", EXIT_UNREACHABLE)
        if isinstance(exc, httpx.ConnectError):
            return CliError(f"cannot reach the Caxton server at {self.base} (is it running? "
                            "set --server or CAXTON_SERVER)", EXIT_UNREACHABLE)
        if isinstance(exc, httpx.TimeoutException):
            return CliError(f"the server at {self.base} did not answer in time", EXIT_TIMEOUT)
        hint = ""
        if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
            # TLS 1.3: a server that refuses the client's certificate (or the lack of one)
            # says so after the handshake, and the client often sees only the connection end.
            hint = (" (if the server has TLS on, use an https:// URL)"
                    if self.base.startswith("http://") else
                    " (does the server want a client certificate? --tls-cert FILE --tls-key "
                    "FILE, or CAXTON_TLS_CERT and CAXTON_TLS_KEY)")
        return CliError(f"request to {self.base} failed: {exc}{hint}", EXIT_UNREACHABLE)


def _tls_failure(exc: BaseException) -> str | None:
    """What went wrong in TLS, with what to do about it, if ``exc`` came from TLS."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, ssl.SSLError):
        cause = cause.__cause__ or cause.__context__
    if cause is None:
        return None
    if isinstance(cause, ssl.SSLCertVerificationError):
        return (f"{cause.verify_message} (trust the server's CA with --tls-ca FILE or "
                "CAXTON_TLS_CA)")
    reason = cause.reason or str(cause)
    if "CERTIFICATE" in reason.upper() or "UNKNOWN_CA" in reason.upper():
        return (f"{reason} (the server wants a client certificate it trusts: --tls-cert FILE "
                "--tls-key FILE, or CAXTON_TLS_CERT and CAXTON_TLS_KEY)")
    return reason


def _api_error(response: httpx.Response) -> CliError:
    try:
        body = response.json()
        message = body.get("message") or response.text
    except ValueError:
        message = response.text.strip() or response.reason_phrase
    code = EXIT_TIMEOUT if response.status_code == 504 else EXIT_ERROR
    return CliError(f"{message} (HTTP {response.status_code})", code)


class RestTransport:
    """The operations the commands need, over REST."""

    def __init__(self, endpoint: Endpoint, timeout: float = 60.0) -> None:
        self.api = ApiClient(endpoint, timeout)
        self.target = self.api.base

    def start_deployment(self, name: str, module: bytes, version: str, limits: dict[str, int],
                         services: list[dict[str, Any]] | None = None,
                         permissions: dict[str, Any] | None = None,
                         on_upload: Callable[[int], None] | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"name": name, "version": version, **limits}
        if services is not None:
            params["services"] = orjson.dumps(services).decode()
        if permissions is not None:
            params["permissions"] = orjson.dumps(permissions).decode()

        def chunks() -> Iterator[bytes]:
            for start in range(0, len(module), _UPLOAD_CHUNK):
                yield module[start:start + _UPLOAD_CHUNK]
                if on_upload is not None:
                    on_upload(min(len(module), start + _UPLOAD_CHUNK))

        return dict(self.api.request(
            "POST", "/api/v1/deployments", params=params, content=chunks(), expect=(202,),
            headers={"content-type": "application/wasm", "content-length": str(len(module))}))

    def deployment(self, deployment_id: str) -> dict[str, Any]:
        return dict(self.api.request("GET", f"/api/v1/deployments/{deployment_id}"))

    def list_agents(self) -> list[dict[str, Any]]:
        return list(self.api.request("GET", "/api/v1/agents")["agents"])

    def get_agent(self, name: str) -> dict[str, Any]:
        return dict(self.api.request("GET", f"/api/v1/agents/{name}"))

    def agent_logs(self, name: str, limit: int) -> list[dict[str, Any]]:
        return list(self.api.request("GET", f"/api/v1/agents/{name}/logs",
                                     params={"limit": limit})["logs"])

    def remove_agent(self, name: str) -> None:
        self.api.request("DELETE", f"/api/v1/agents/{name}", expect=(204,))

    def stop_agent(self, name: str) -> dict[str, Any]:
        return dict(self.api.request("POST", f"/api/v1/agents/{name}/stop"))

    def start_agent(self, name: str) -> dict[str, Any]:
        return dict(self.api.request("POST", f"/api/v1/agents/{name}/start"))

    def send(self, message: dict[str, Any], *, wait: bool, timeout: float) -> dict[str, Any]:
        params = {"wait": "true", "timeout": str(timeout)} if wait else {}
        return dict(self.api.request("POST", "/api/v1/messages", json=message, params=params,
                                     expect=(200, 202)))

    @contextmanager
    def tail(self, agent: str | None, performative: str | None
             ) -> Iterator[Iterator[dict[str, Any]]]:
        params = {k: v for k, v in (("agent", agent), ("performative", performative)) if v}
        with self.api.stream("/api/v1/messages/stream", params=params) as response:
            yield (orjson.loads(line[6:]) for line in response.iter_lines()
                   if line.startswith("data: "))

    @contextmanager
    def events(self, agent: str | None, kind: str | None) -> Iterator[Iterator[dict[str, Any]]]:
        params = {k: v for k, v in (("agent", agent), ("kind", kind)) if v}
        with self.api.stream("/api/v1/events", params=params) as response:
            yield (orjson.loads(line[6:]) for line in response.iter_lines()
                   if line.startswith("data: "))

    def contract_net(self, request: dict[str, Any]) -> dict[str, Any]:
        return dict(self.api.request("POST", "/api/v1/protocols/contract-net", json=request))

    @contextmanager
    def subscribe(self, request: dict[str, Any]) -> Iterator[Iterator[dict[str, Any]]]:
        with self.api.stream("/api/v1/protocols/subscribe", "POST", json=request) as response:
            yield (orjson.loads(line[6:]) for line in response.iter_lines()
                   if line.startswith("data: "))

    def cancel_subscription(self, conversation_id: str) -> dict[str, Any]:
        return dict(self.api.request(
            "POST", f"/api/v1/protocols/subscribe/{conversation_id}/cancel"))

    def list_conversations(self, limit: int, participant: str | None) -> list[dict[str, Any]]:
        params: dict[str, str | int] = {"limit": limit}
        if participant:
            params["participant"] = participant
        return list(self.api.request("GET", "/api/v1/conversations",
                                     params=params)["conversations"])

    def get_conversation(self, conversation_id: str) -> dict[str, Any]:
        return dict(self.api.request("GET", f"/api/v1/conversations/{conversation_id}"))

    def list_dead_letters(self, agent: str | None, limit: int) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit}
        if agent:
            params["agent"] = agent
        return list(self.api.request("GET", "/api/v1/dead-letters",
                                     params=params)["dead_letters"])

    def get_dead_letter(self, message_id: str) -> list[dict[str, Any]]:
        return list(self.api.request("GET", f"/api/v1/dead-letters/{message_id}")
                    ["dead_letters"])

    def replay_dead_letter(self, message_id: str) -> dict[str, Any]:
        return dict(self.api.request("POST", f"/api/v1/dead-letters/{message_id}/replay"))

    def purge_dead_letters(self, message_id: str | None) -> dict[str, Any]:
        path = "/api/v1/dead-letters" + (f"/{message_id}" if message_id else "")
        return dict(self.api.request("DELETE", path))

    def status(self) -> dict[str, Any]:
        return {"health": self.api.request("GET", "/health"),
                "ready": self.api.request("GET", "/ready", expect=(200, 503))}

    def df_register(self, description: dict[str, Any]) -> dict[str, Any]:
        return dict(self.api.request("POST", "/api/v1/directory", json=description,
                                     expect=(201,)))

    def df_modify(self, description: dict[str, Any]) -> dict[str, Any]:
        return dict(self.api.request("PUT", f"/api/v1/directory/{description.get('agent')}",
                                     json=description))

    def df_deregister(self, agent: str) -> None:
        self.api.request("DELETE", f"/api/v1/directory/{agent}", expect=(204,))

    def df_search(self, template: dict[str, Any], max_results: int | None
                  ) -> list[dict[str, Any]]:
        return list(self.api.request("POST", "/api/v1/directory/search", json={
            "template": template, "max_results": max_results})["agents"])

    def list_platforms(self) -> list[dict[str, Any]]:
        return list(self.api.request("GET", "/api/v1/platforms")["platforms"])

    def add_platform(self, name: str, urls: list[str]) -> dict[str, Any]:
        found = self.api.request_response("PUT", f"/api/v1/platforms/{quote(name, safe='')}",
                                          json={"urls": urls}, expect=(200, 201))
        return {**found.json(), "created": found.status_code == 201}

    def remove_platform(self, name: str) -> None:
        self.api.request("DELETE", f"/api/v1/platforms/{quote(name, safe='')}", expect=(204,))
