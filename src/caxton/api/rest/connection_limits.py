"""What both REST protocols (h11 and httptools) add to uvicorn's: the header deadline, the
rate-limited warnings about refused connections, the bounds of lingering after an early answer,
and the client certificate in the request scope."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import structlog

from caxton.security.client_certs import SCOPE_KEY, from_peercert
from caxton.security.principal import ClientCertificate

log = structlog.get_logger("caxton.api.http")
WARN_EVERY_S = 10.0
LINGER_S = 2.0  # after an early answer, how long the rest of a body is read and dropped
LINGER_BYTES = 64 * 1024 * 1024  # and at most this much of it


class HeaderDeadline:
    """Mixin for a protocol: a request's line and headers must be in within
    ``header_timeout_s`` of the connection opening, or of the next request's first byte on a
    kept-alive connection (slowloris). The protocol says when it awaits headers."""

    header_timeout_s = 10.0
    # Shared by all connections of a server (a subclass per server).
    stats: dict[str, float]
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    _header_timer: asyncio.TimerHandle | None

    _lingering: int | None  # bytes dropped after an early answer (None: not lingering)
    app: Any

    def _awaiting_headers(self) -> bool:
        raise NotImplementedError

    def _take_client_certificate(self, transport: asyncio.Transport) -> None:
        """Over TLS (the handshake is over by now), the verified client certificate goes
        into each request's scope."""
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            cert = from_peercert(ssl_object.getpeercert())
            if cert is not None:
                self.app = with_client_certificate(self.app, cert)

    def _dropped_while_lingering(self, data: bytes) -> bool:
        """After an early answer the rest of the body is read and dropped (a bounded amount);
        True when ``data`` was such."""
        if self._lingering is None:
            return False
        self._lingering += len(data)
        if self._lingering > LINGER_BYTES:
            self.transport.close()
        return True

    def _arm(self) -> None:
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._expired)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _expired(self) -> None:
        self._header_timer = None
        if self._awaiting_headers() and not self.transport.is_closing():
            self.transport.close()
            self._warn("header_timeouts", "connections closed: no complete request headers "
                       f"within {self.header_timeout_s:g}s")

    def _warn(self, counter: str, message: str) -> None:
        """Count an event; log it at most every few seconds (an attack must not flood logs)."""
        stats = self.stats
        stats[counter] = stats.get(counter, 0) + 1
        now = time.monotonic()
        if now - stats.get(f"{counter}_logged_at", 0.0) >= WARN_EVERY_S:
            stats[f"{counter}_logged_at"] = now
            log.warning(message, total=int(stats[counter]))


def with_client_certificate(app: Any, cert: ClientCertificate) -> Any:
    """``app``, seeing ``cert`` in the scope of each request of this connection."""

    async def with_certificate(scope: dict[str, Any], receive: Any, send: Any) -> None:
        scope[SCOPE_KEY] = cert
        await app(scope, receive, send)

    return with_certificate
