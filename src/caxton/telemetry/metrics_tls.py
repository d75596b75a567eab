"""The separate metrics port over TLS.

prometheus_client can serve TLS itself, but it wraps the listening socket, so every handshake
runs in the one thread that accepts connections: a client that connects and sends nothing
would stop the port for everyone. Here the accepting thread only accepts; the handshake runs in
the connection's own thread, with a deadline, and a client that fails it (plain HTTP, no or a
wrong client certificate, too slow) is dropped without a word in the log.

The SSL context is the REST listener's (``caxton.security.tls.ServerTls.rest_context``), so the
metrics port presents the same certificate, asks for client certificates as REST does, and
follows its reloads.
"""

from __future__ import annotations

import socket
import ssl
import threading
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from prometheus_client import make_wsgi_app
from prometheus_client.registry import CollectorRegistry


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not logged."""


class TlsMetricsServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    ssl_context: ssl.SSLContext
    timeout_s: float

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(self.timeout_s)
        try:
            connection = self.ssl_context.wrap_socket(request, server_side=True)
        except OSError:  # ssl.SSLError is one: a failed handshake ends only this connection
            return
        try:
            super().finish_request(connection, client_address)
        finally:
            connection.close()


def serve_metrics_tls(registry: CollectorRegistry, host: str, port: int,
                      context: ssl.SSLContext, timeout_s: float) -> TlsMetricsServer:
    """Serve ``registry`` at ``https://host:port/metrics`` on a daemon thread; OSError when
    the port cannot be had. A handshake, and each read of a request, must end within
    ``timeout_s``."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    server_class = type("TlsMetricsServer", (TlsMetricsServer,), {
        "address_family": family, "ssl_context": context, "timeout_s": timeout_s})
    server: TlsMetricsServer = server_class((host, port), _QuietHandler)
    server.set_app(make_wsgi_app(registry))
    threading.Thread(target=server.serve_forever, daemon=True,
                     name="caxton-metrics-tls").start()
    return server
