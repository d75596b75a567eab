"""The REST listener's front door: browser safety, rate limits, authentication and the audit
trail, before any route runs. Authorisation by the permission table happens per operation
(``operations._endpoint``), where the operation and its path parameters are known.

In order: the Host header must be one of ours (DNS rebinding); a browser's Origin must be
allowed (no CORS unless configured); mutating calls must not carry the form or text types a
page can post without a preflight; the source address and then the credential's rate limits;
the credential itself. Every mutating call and every refusal is audited.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from caxton.api.rest.common import error
from caxton.errors import AuthenticationError
from caxton.security.audit import AuditEvent, AuditTrail
from caxton.security.authenticator import Authenticator
from caxton.security.context import CALLER
from caxton.security.permissions import Permission, Role, mutating
from caxton.security.rate_limit import Limits

log = structlog.get_logger("caxton.security")
_SIMPLE_TYPES = ("text/plain", "application/x-www-form-urlencoded")  # no preflight needed
_UNLIMITED = frozenset({"/health", "/ready"})  # probes: never refused
_DRAIN_LIMIT = 64 * 1024  # bodies up to this size are read before a refusal


@dataclass
class BrowserPolicy:
    """Which Host headers name this server and which browser origins may call it."""

    hosts: frozenset[str] = frozenset()  # lower-case names; "*": any
    origins: frozenset[str] = frozenset()  # "https://ui.example.org"; "*": any
    # Host headers seen, with the verdict: parsing an address costs more than the key check
    # (bench/auth.py); bounded, as a client chooses what it sends.
    _seen: dict[str, bool] = field(default_factory=dict)

    def host_allowed(self, host_header: str) -> bool:
        known = self._seen.get(host_header)
        if known is None:
            known = self._host_allowed(host_header)
            if len(self._seen) < 1024:
                self._seen[host_header] = known
        return known

    def _host_allowed(self, host_header: str) -> bool:
        if "*" in self.hosts:
            return True
        host = _host_name(host_header)
        if not host:
            return False
        try:  # an address is not a name an attacker's DNS can point at us: no rebinding
            ipaddress.ip_address(host)
            return True
        except ValueError:
            return host in self.hosts

    def origin_allowed(self, origin: str, host_header: str) -> bool:
        if "*" in self.origins or origin in self.origins:
            return True
        scheme, _, rest = origin.partition("://")
        return bool(rest) and scheme in ("http", "https") and rest.lower() == host_header.lower()


def _host_name(host_header: str) -> str:
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else ""
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


@dataclass
class RestGuard:
    """The ASGI middleware (configured by the composition root)."""

    app: ASGIApp
    auth: Authenticator
    browser: BrowserPolicy
    limits: Limits
    audit: AuditTrail | None
    open_paths: frozenset[str] = frozenset()
    metrics_open: bool = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        source = _source(scope)
        headers = _headers(scope["headers"])
        if path in _UNLIMITED:
            await self.app(scope, receive, send)
            return
        wait = self.limits.per_address.take(source.partition(" ")[2].rpartition(":")[0])
        if wait:
            await self._refuse(scope, receive, send, 429, "rate_limited", "too many requests from "
                               "this address; retry later", source, retry_after=wait,
                               audit=False)
            return
        if path in self.open_paths or (path == "/metrics" and self.metrics_open):
            await self.app(scope, receive, send)
            return
        refused = self._browser_refusal(method, headers)
        if refused is not None:
            await self._refuse(scope, receive, send, refused[0], refused[1], refused[2], source)
            return
        cors = self._cors_headers(headers)
        if method == "OPTIONS" and cors:
            await _answer(send, 204, b"", cors)
            return
        try:
            principal = await self.auth.authenticate(headers.get("authorization"),
                                                     scope.get("caxton.client_cert"))
        except AuthenticationError as exc:
            await self._unauthenticated(scope, receive, send, exc, source)
            return
        if principal.role is not Role.admin and principal.method != "open":
            wait = self.limits.per_token.take(principal.actor)
            if wait:
                await self._refuse(scope, receive, send, 429, "rate_limited", "too many requests "
                                   "for this token; retry later", source, retry_after=wait,
                                   actor=principal.actor, audit=False)
                return
        if path == "/metrics" and not principal.allows(Permission.metrics_read):
            await self._refuse(scope, receive, send, 403, "permission_denied", f"{principal.actor} "
                               f"({principal.role}) lacks the permission metrics.read", source,
                               actor=principal.actor)
            return
        scope["caxton.principal"] = principal
        token = CALLER.set(principal)
        status = 0

        async def send_watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if cors:
                    message["headers"] = [*message.get("headers", []), *cors]
            await send(message)

        try:
            await self.app(scope, receive, send_watched)
        finally:
            CALLER.reset(token)
            if self.audit is not None and (mutating(method) or status in (401, 403)):
                self.audit.record(AuditEvent(
                    principal.actor, source, scope.get("caxton.operation", f"{method} {path}"),
                    scope.get("caxton.target", ""), _outcome(status), status or 500))

    def _browser_refusal(self, method: str, headers: dict[str, str]
                         ) -> tuple[int, str, str] | None:
        host = headers.get("host", "")
        if not self.browser.host_allowed(host):
            return (403, "host_not_allowed", f"Host {host!r} does not name this server (set "
                    "allowed_hosts to serve it under that name)")
        origin = headers.get("origin")
        if origin is not None and not self.browser.origin_allowed(origin, host):
            return (403, "origin_not_allowed", f"requests from the web origin {origin!r} are "
                    "not allowed (allowed_origins)")
        media = headers.get("content-type", "").partition(";")[0].strip().lower()
        if mutating(method) and media in _SIMPLE_TYPES:
            return (415, "unsupported_media_type", f"Content-Type {media!r} is not accepted "
                    "for a call that changes state; send application/json")
        return None

    def _cors_headers(self, headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
        origin = headers.get("origin")
        if origin is None or not self.browser.origins:
            return []
        if "*" not in self.browser.origins and origin not in self.browser.origins:
            return []
        return [(b"access-control-allow-origin", origin.encode("latin-1")),
                (b"access-control-allow-headers", b"authorization, content-type"),
                (b"access-control-allow-methods", b"GET, POST, PUT, DELETE"),
                (b"vary", b"Origin")]

    async def _unauthenticated(self, scope: Scope, receive: Receive, send: Send,
                               exc: AuthenticationError,
                               source: str) -> None:
        address = source.partition(" ")[2].rpartition(":")[0]
        wait = self.limits.failures.take(address)
        if wait:  # a brute force: refused without checking, and not audited row by row
            await self._refuse(scope, receive, send, 429, "rate_limited", "too many failed "
                               "authentications from this address; retry later", source,
                               retry_after=wait, audit=False)
            return
        await self._refuse(scope, receive, send, 401, exc.code, exc.message, source,
                           extra=[(b"www-authenticate", b'Bearer realm="caxton"')])

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int, code: str,
                      message: str, source: str, *, retry_after: float = 0.0,
                      actor: str = "anonymous", audit: bool = True,
                      extra: Iterable[tuple[bytes, bytes]] = ()) -> None:
        await _drain(scope, receive)
        response = error(status, code, message)
        headers = [(k.encode(), v.encode()) for k, v in response.headers.items()]
        if retry_after:
            headers.append((b"retry-after", str(max(1, round(retry_after + 0.49))).encode()))
        await _answer(send, status, bytes(response.body), [*headers, *extra])
        if audit and self.audit is not None:
            self.audit.record(AuditEvent(actor, source, f"{scope['method']} {scope['path']}",
                                         "", _outcome(status), status, message))


async def _drain(scope: Scope, receive: Receive) -> None:
    """Read (and drop) a small declared body before refusing: a connection closed with unread
    bytes in it is reset, and a keep-alive client would lose the answer or its next request.
    A large or undeclared one is left: the connection is closed after the answer instead."""
    declared = dict(scope["headers"]).get(b"content-length", b"")
    if not declared.isdigit() or not 0 < int(declared) <= _DRAIN_LIMIT:
        return
    read = 0
    while read <= _DRAIN_LIMIT:
        message = await receive()
        read += len(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


async def _answer(send: Send, status: int, body: bytes,
                  headers: list[tuple[bytes, bytes]]) -> None:
    if not any(k == b"content-length" for k, _ in headers):
        headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# The headers the guard reads; decoding only these keeps a request's every header (a dozen
# from a browser) from being decoded on every call.
_READ = frozenset({b"host", b"origin", b"content-type", b"authorization"})


def _headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    return {name.decode("latin-1"): v.decode("latin-1") for k, v in raw
            if (name := k.lower()) in _READ}


def _source(scope: Scope) -> str:
    client: Any = scope.get("client")
    return f"rest {client[0]}:{client[1]}" if client else "rest unknown"


def _outcome(status: int) -> str:
    return {401: "unauthenticated", 403: "denied", 429: "rate_limited"}.get(
        status, "ok" if 200 <= status < 400 else "error")


