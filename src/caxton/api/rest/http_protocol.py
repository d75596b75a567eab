"""uvicorn's HTTP/1.1 protocol with the limits it lacks: a header deadline and a connection cap.

uvicorn's only timer is the keep-alive one, armed after a response and cancelled by any byte
received, so a client that sends a request one byte at a time (slowloris) holds its connection
for ever. Here a request's headers must arrive within ``header_timeout_s`` of the connection
opening (or, on a kept-alive connection, of the next request's first byte), or the connection
is closed. A body is read by the application and has its own idle timeout there
(``BodyTimeout``); a response that ends before its request's body was read closes the
connection rather than wait for the rest.

Connections beyond ``max_connections`` are answered ``503`` (JSON, ``Retry-After``) as soon as
their request line and headers arrive, and closed.

Over TLS, a client certificate the handshake verified is put into each request's ASGI scope as
``scope["caxton.client_cert"]`` (a ``ClientCertificate``), for authentication to map to a role.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import orjson

from caxton.api.rest.connection_limits import (
    LINGER_S,
    HeaderDeadline,
)
from caxton.api.rest.http11 import H11Protocol  # uvicorn's, tolerant of JADE's empty lines


class GuardedH11Protocol(HeaderDeadline, H11Protocol):
    max_connections = 1000

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._take_client_certificate(transport)
        self._header_timer: asyncio.TimerHandle | None = None
        self._lingering: int | None = None  # bytes dropped after an early answer
        self._over_cap = len(self.connections) > self.max_connections
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._dropped_while_lingering(data):  # answered already: the rest of the body
            return
        if self._over_cap:
            self._refuse(data)
            return
        if self._header_timer is None and self.conn.their_state is h11.IDLE:
            self._arm()  # the next request on a kept-alive connection: its headers are timed
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm()  # the headers are in

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.conn.their_state is h11.SEND_BODY and not self.transport.is_closing():
            # Answered before the body was read (413, 408, an error): do not wait for the rest,
            # but do not close at once either. A socket closed with unread bytes in it is reset,
            # and the reset can reach the client before it has read the answer. So: send FIN,
            # drop what still comes for a moment (a bounded amount), then close.
            self._lingering = 0
            if self.transport.can_write_eof():
                self.transport.write_eof()
            self.loop.call_later(LINGER_S, self._end_linger)

    def _end_linger(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()

    # -- the header deadline (HeaderDeadline) -------------------------------------------------
    def _awaiting_headers(self) -> bool:
        return bool(self.conn.their_state is h11.IDLE)

    # -- the connection cap ------------------------------------------------------------------
    def _refuse(self, data: bytes) -> None:
        try:
            self.conn.receive_data(data)
            event = self.conn.next_event()
        except h11.RemoteProtocolError:
            self.transport.close()
            return
        if not isinstance(event, h11.Request):
            return  # the headers are not all in yet (the deadline still applies)
        self._disarm()
        body = orjson.dumps({"code": "too_many_connections", "message": (
            f"the server has {self.max_connections} connections open (config "
            "max_connections); retry shortly")})
        headers = [(b"content-type", b"application/json"), (b"retry-after", b"1"),
                   (b"content-length", str(len(body)).encode()), (b"connection", b"close")]
        for out in (h11.Response(status_code=503, headers=headers), h11.Data(data=body),
                    h11.EndOfMessage()):
            self.transport.write(self.conn.send(out) or b"")
        self.transport.close()
        self._warn("refused", f"connections refused: over the cap of {self.max_connections}")


def guarded_protocol(*, header_timeout_s: float, max_connections: int) -> type[H11Protocol]:
    """A protocol class for ``uvicorn.Config(http=...)`` with these limits."""
    settings: dict[str, Any] = {"header_timeout_s": header_timeout_s,
                                "max_connections": max_connections, "stats": {}}
    return type("GuardedH11Protocol", (GuardedH11Protocol,), settings)
