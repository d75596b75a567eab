"""uvicorn's httptools (llhttp, C) HTTP/1.1 protocol with the limits of ``http_protocol``.

The default REST protocol (config ``http_parser = "httptools"``): parsing in C costs a
send-and-wait about 100 us less server CPU than h11 (docs/performance.md). It keeps what
``GuardedH11Protocol`` adds to uvicorn:

- a request's line and headers must arrive within ``header_timeout_s`` of the connection
  opening, or of the next request's first byte on a kept-alive connection (slowloris);
- at most ``max_header_bytes`` of request target and headers (llhttp sets no limit of its
  own): more is answered ``431`` and the connection closed;
- connections beyond ``max_connections`` are answered ``503`` (JSON, ``Retry-After``) once their
  headers are in, and closed;
- an answer that ends before its request's body was read (413, 408, an error) does not reset
  the connection under the client: FIN, then the rest of the body is read and dropped for a
  moment (bounded), then close;
- over TLS, the verified client certificate is in each request's scope.

Empty lines before a request line (JADE writes CRLF after each body, RFC 9112 section 2.2)
are skipped by llhttp itself without keeping them; an endless stream of them meets the header
deadline.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from caxton.api.rest.connection_limits import (
    LINGER_S,
    HeaderDeadline,
)

MAX_HEADER_BYTES = 64 * 1024


class GuardedHttpToolsProtocol(HeaderDeadline, HttpToolsProtocol):
    max_connections = 1000
    max_header_bytes = MAX_HEADER_BYTES

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._take_client_certificate(transport)
        # uvicorn's request cycle closes the transport itself after a "Connection: close"
        # answer: this one lingers instead while the request's body is still coming.
        self.transport = cast(asyncio.Transport, _LingeringClose(transport, self))
        self._header_timer: asyncio.TimerHandle | None = None
        self._lingering: int | None = None  # bytes dropped after an early answer
        self._over_cap = len(self.connections) > self.max_connections
        self._in_message = False  # a request has begun and its body is not all in
        self._reading_headers = True  # the next request's line and headers are not all in
        self._header_bytes = 0
        self._refused = False
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._dropped_while_lingering(data):  # answered already: the rest of the body
            return
        if self._refused:
            return
        if self._header_timer is None and self._reading_headers:
            self._arm()  # the next request on a kept-alive connection: its headers are timed
        super().data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    # -- parser callbacks --------------------------------------------------------------------
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_message = True
        self._header_bytes = 0

    def on_url(self, url: bytes) -> None:
        if self._counted(len(url)):
            super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._counted(len(name) + len(value) + 4):
            super().on_header(name, value)

    def _counted(self, size: int) -> bool:
        """Add ``size`` bytes to the request's line and headers; False once over the limit."""
        if self._refused:
            return False
        self._header_bytes += size
        if self._header_bytes <= self.max_header_bytes:
            return True
        self._answer_and_close(431, "headers_too_large", "the request line and headers are "
                               f"over {self.max_header_bytes} bytes")
        return False

    def on_headers_complete(self) -> None:
        self._disarm()
        self._reading_headers = False
        if self._refused:
            return
        if self._over_cap:
            self._refuse_over_cap()
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        self._in_message = False
        self._reading_headers = True
        if not self._refused:
            super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._in_message and self._lingering is None and not self.transport.is_closing():
            self._linger()  # answered with a keep-alive answer before the body was read

    # -- an early answer ---------------------------------------------------------------------
    def _linger(self) -> None:
        """A socket closed with unread bytes in it is reset, and the reset can reach the client
        before it has read the answer. So: send FIN, drop what still comes for a moment (a
        bounded amount), then close."""
        real = self.transport.real if isinstance(self.transport, _LingeringClose) else None
        if real is None or real.is_closing() or self._lingering is not None:
            return
        self._lingering = 0
        if real.can_write_eof():
            real.write_eof()
        self.loop.call_later(LINGER_S, self._end_linger)

    def _end_linger(self) -> None:
        if not self.transport.is_closing():
            self.transport.real.close()  # type: ignore[attr-defined]

    # -- the header deadline (HeaderDeadline) -------------------------------------------------
    def _awaiting_headers(self) -> bool:
        return self._reading_headers

    # -- refusals ----------------------------------------------------------------------------
    def _refuse_over_cap(self) -> None:
        self._answer_and_close(503, "too_many_connections", (
            f"the server has {self.max_connections} connections open (config "
            "max_connections); retry shortly"), retry_after=True)
        self._warn("refused", f"connections refused: over the cap of {self.max_connections}")

    def _answer_and_close(self, status: int, code: str, message: str, *,
                          retry_after: bool = False) -> None:
        self._refused = True
        self._disarm()
        body = orjson.dumps({"code": code, "message": message})
        reason = {431: b"Request Header Fields Too Large", 503: b"Service Unavailable"}[status]
        head = [b"HTTP/1.1 %d %s\r\n" % (status, reason),
                b"content-type: application/json\r\n",
                b"content-length: %d\r\n" % len(body), b"connection: close\r\n"]
        if retry_after:
            head.append(b"retry-after: 1\r\n")
        real = self.transport.real if isinstance(self.transport, _LingeringClose) \
            else self.transport
        if not real.is_closing():
            real.write(b"".join(head) + b"\r\n" + body)
            real.close()


class _LingeringClose:
    """The connection's transport as uvicorn's request cycle sees it: ``close()`` while the
    request's body is still coming lingers (see ``GuardedHttpToolsProtocol._linger``)."""

    def __init__(self, real: asyncio.Transport, protocol: GuardedHttpToolsProtocol) -> None:
        self.real = real
        self._protocol = protocol

    def close(self) -> None:
        protocol = self._protocol
        if protocol._in_message and not protocol._refused and not self.real.is_closing():
            protocol._linger()
        else:
            self.real.close()

    def write(self, data: bytes) -> None:
        self.real.write(data)

    def is_closing(self) -> bool:
        return self.real.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def guarded_protocol(*, header_timeout_s: float, max_connections: int
                     ) -> type[GuardedHttpToolsProtocol]:
    """A protocol class for ``uvicorn.Config(http=...)`` with these limits."""
    settings: dict[str, Any] = {"header_timeout_s": header_timeout_s,
                                "max_connections": max_connections, "stats": {}}
    return type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,), settings)
