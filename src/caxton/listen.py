"""The server's listening ports, checked before anything else starts.

A port that is taken must fail ``caxton server start`` with one line that names the port and the
option that moves it, before the store is opened or agents restored, and before gRPC's own
C-core logs a line of its own about the failed bind.
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass

from caxton.config import ServerConfig
from caxton.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Listener:
    what: str  # "HTTP", "gRPC", "metrics"
    host: str
    port: int
    flag: str  # the `caxton server start` option that sets the port


def listeners(config: ServerConfig) -> list[Listener]:
    out = [Listener("HTTP", config.host, config.port, "--port"),
           Listener("gRPC", config.grpc_listen_host, config.grpc_port, "--grpc-port")]
    if config.metrics_port >= 0:
        out.append(Listener("metrics", config.host, config.metrics_port, "--metrics-port"))
    return out


def listen_error(listener: Listener, exc: OSError | None, reason: str = "") -> ConfigError:
    """One line: which address, why, and what to do about it."""
    where = f"{listener.host}:{listener.port}"
    code = exc.errno if exc is not None else errno.EADDRINUSE
    if code == errno.EADDRINUSE:
        why = reason or "address in use"
        hint = f"use {listener.flag} PORT, or {listener.flag} 0 for any free port"
    elif code == errno.EACCES:
        why = "permission denied"
        hint = f"ports below 1024 need privileges: use {listener.flag} PORT above 1023"
    elif code in (errno.EADDRNOTAVAIL, socket.EAI_NONAME, socket.EAI_NODATA):
        why = "no such local address"
        flag = "--grpc-host" if listener.what == "gRPC" else "--host"
        hint = f"use {flag} with an address of this machine, e.g. 127.0.0.1"
    else:
        why = (exc.strerror if exc is not None else None) or str(exc)
        hint = f"use {listener.flag} PORT"
    return ConfigError(f"cannot listen for {listener.what} on {where}: {why} ({hint})")


def _probe(listener: Listener) -> None:
    """Bind (and release) the address the way the real servers will; raise what they would."""
    try:
        infos = socket.getaddrinfo(listener.host, listener.port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise listen_error(listener, OSError(exc.errno, exc.strerror)) from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        # As uvicorn's socket and gRPC do: a port in TIME_WAIT is free, a listening one is not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            raise listen_error(listener, exc) from None


def check_ports(config: ServerConfig) -> None:
    """Raise ConfigError for the first port the server could not listen on."""
    chosen: dict[tuple[str, int], Listener] = {}
    for listener in listeners(config):
        if listener.port == 0:
            continue  # the system picks a free one
        other = chosen.get((listener.host, listener.port))
        if other is not None:
            raise listen_error(listener, None, f"{other.flag} uses it already")
        chosen[(listener.host, listener.port)] = listener
        _probe(listener)
