"""Where the outbound FIPA HTTP MTP may POST.

Any client or agent can put an address in a message, and any foreign platform can give its
agents addresses that our agents' replies go to; without limits the server would POST wherever
they point, its own management API included. So an outbound address is checked twice:

- ``Destinations.refusal``, on the routing thread and without IO, before anything is queued:
  the URL is ``http(s)://``; its path is not under ``/api/`` (the management API of a Caxton
  server, never an MTP endpoint); it is not this server's own ``acc_url`` host and port; and it
  is a URL of the platform address book, or its host (or ``host:port``) matches an
  ``mtp_allowed_hosts`` pattern (``*`` matches any host).
- ``GuardedBackend``, when a worker connects: the host name is resolved once, the connection is
  refused when any of its addresses is this server's (a loopback, unspecified or own address of
  the machine, on a port the server listens on: REST, gRPC, metrics), and the socket connects to
  the addresses just checked, so a name whose DNS answer changes in between cannot be steered
  to the server itself.

Redirects are never followed (an answer ``3xx`` is a failed delivery), and proxy settings from
the environment are not used: the connection must go where it was checked to go. What is left:
an allowed host pattern trusts that name's DNS (except for this server's own addresses).
"""

from __future__ import annotations

import fnmatch
import ipaddress
import posixpath
import re
import socket
import ssl
import threading
from collections.abc import Callable, Iterable
from typing import Any

import httpcore
import httpx

from caxton.domain.platforms import url_key
from caxton.errors import DestinationRefusedError

Known = Callable[[str], bool]  # is this URL one of the platform address book's?
_SCHEMES = ("http", "https")
_OWN = "it is this server's own address"


class Destinations:
    """The routing-thread check: which URLs the outbound MTP may POST to."""

    def __init__(self, allowed_hosts: Iterable[str] = (), known: Known | None = None,
                 own: OwnAddresses | None = None) -> None:
        self._allowed = tuple(p.strip().lower() for p in allowed_hosts if p.strip())
        self._any = "*" in self._allowed
        self._known: Known = known or (lambda _url: False)
        self.own = own or OwnAddresses()

    def refusal(self, url: str) -> str | None:
        """Why the MTP may not POST to ``url``, or None when it may."""
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError):
            return "not a valid URL"
        if parsed.scheme not in _SCHEMES or not parsed.host:
            return "not an http:// or https:// URL"
        if api_path(parsed.path):
            return "its path is under /api/, a management API, never an MTP endpoint"
        if self.own.names(url):
            return _OWN
        if self._any or self._known(url) or self.matches(parsed):
            return None
        return ("neither in the platform address book nor on a host mtp_allowed_hosts allows "
                "(caxton platforms add, or mtp_allowed_hosts)")

    def matches(self, parsed: httpx.URL) -> bool:
        host = parsed.host.lower().rstrip(".")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        return any(fnmatch.fnmatchcase(host, p) or fnmatch.fnmatchcase(f"{host}:{port}", p)
                   for p in self._allowed)


def api_path(path: str) -> bool:
    """Whether ``path`` (percent-decoded) is ``/api`` or under it, however it is spelled
    (case, repeated slashes, dot segments)."""
    normal = posixpath.normpath(re.sub(r"/+", "/", "/" + path.lower()))
    return normal == "/api" or normal.startswith("/api/")


class OwnAddresses:
    """Where this server can be reached: the ports it listens on (for the connect-time check)
    and its ``acc_url``'s host and port (a name that may lead to a proxy in front of it)."""

    def __init__(self) -> None:
        self._ports: frozenset[int] = frozenset()
        self._acc: tuple[str, int] | None = None
        self._lock = threading.Lock()

    def listening(self, port: int) -> None:
        """The server listens on ``port`` (on some or all of the machine's addresses)."""
        with self._lock:
            self._ports = self._ports | {port}

    def acc_url(self, url: str) -> None:
        key = url_key(url)
        self._acc = (key[1], key[2]) if key is not None else None

    @property
    def ports(self) -> frozenset[int]:
        return self._ports

    def names(self, url: str) -> bool:
        """Whether ``url`` names our ``acc_url``'s host and port, as written (no lookup)."""
        key = url_key(url)
        return key is not None and self._acc is not None and (key[1], key[2]) == self._acc

    def reaches(self, ip: str, port: int) -> bool:
        """Whether a connection to ``ip:port`` could reach this server: ``port`` is one we
        listen on and ``ip`` is an address of this machine (any loopback address, the
        unspecified address, which connects to the machine itself, or one it can bind)."""
        return port in self._ports and _local(ip)


def _local(ip: str) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return True  # what cannot be read is not trusted to be elsewhere
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback or address.is_unspecified:
        return True
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    try:  # an address of this machine is one a socket can be bound to
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((ip, 0))
    except OSError:
        return False
    return True


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's network backend, resolving each host once: refused when an address is the
    server's own, else connected to the addresses that were checked."""

    def __init__(self, own: OwnAddresses) -> None:
        self._own = own

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:  # name not found: as a refused connection, retried
            raise httpcore.ConnectError(f"{host}: {exc}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
        ours = [ip for ip in addresses if self._own.reaches(ip, port)]
        if ours:
            raise DestinationRefusedError(f"{_OWN} ({host} is {', '.join(ours)}, port {port})")
        problem: Exception = httpcore.ConnectError(f"{host}: no address")
        for ip in addresses:
            try:
                return super().connect_tcp(ip, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                problem = exc
        raise problem


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport over a connection pool that connects through ``GuardedBackend``."""

    def __init__(self, own: OwnAddresses, limits: httpx.Limits,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        # https:// peers: the given context (mtp_tls_*), else SSL_CERT_FILE / SSL_CERT_DIR or
        # httpx's CAs; the proxy variables are not read (the client has trust_env=False).
        ssl_context = ssl_context or httpx.create_ssl_context()
        super().__init__(verify=ssl_context, limits=limits, trust_env=False)
        # httpx builds its pool without a way to pass a network backend: build the same pool
        # (httpcore's public API) with ours.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(own))
