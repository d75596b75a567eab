"""HTTP/1.1 on the REST port: uvicorn's h11 protocol, reading request lines as RFC 9112 asks.

RFC 9112 section 2.2: "a server that is expecting to receive and parse a request-line SHOULD
ignore at least one empty line (CRLF) received prior to the request-line". JADE's HTTP MTP
writes CRLF after every request body (beyond its Content-Length) and sends the next message on
the same connection. h11 takes that line for a missing request line, so uvicorn answered the
next message ``400`` and closed the connection, and JADE sent it again on a new one.

``H11Protocol`` is uvicorn's protocol with an h11 connection that skips such lines (a few per
request: an endless stream of them is still an error) and changes nothing else. uvicorn takes
the class as its ``http`` setting.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from h11._connection import DEFAULT_MAX_INCOMPLETE_EVENT_SIZE
from h11._receivebuffer import ReceiveBuffer
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol as _UvicornH11Protocol
from uvicorn.server import ServerState

# Empty lines skipped before one request line; more is not a peer's quirk but a stream of junk.
MAX_EMPTY_LINES = 8


class EmptyLineTolerantConnection(h11.Connection):
    """An h11 connection that ignores up to ``MAX_EMPTY_LINES`` empty lines (CRLF, or a bare
    LF) before each request line."""

    def __init__(self, our_role: type[h11.CLIENT] | type[h11.SERVER],
                 max_incomplete_event_size: int = DEFAULT_MAX_INCOMPLETE_EVENT_SIZE) -> None:
        super().__init__(our_role, max_incomplete_event_size)
        self._skipped = 0

    def next_event(self) -> Any:
        if self.their_state is h11.IDLE:
            waiting = self._skip_empty_lines(self._receive_buffer)
            if waiting and not self._receive_buffer_closed:
                return h11.NEED_DATA
        event = super().next_event()
        if isinstance(event, h11.Request):
            self._skipped = 0
        return event

    def _skip_empty_lines(self, buffer: ReceiveBuffer) -> bool:
        """Drop empty lines at the start of ``buffer``; True when all it holds is a CR that may
        be the start of one (wait for more before h11 calls it an illegal request line)."""
        data = buffer._data  # h11 keeps what it has not parsed yet here
        while self._skipped < MAX_EMPTY_LINES:
            if data.startswith(b"\r\n"):
                buffer._extract(2)
            elif data.startswith(b"\n"):
                buffer._extract(1)
            else:
                break
            self._skipped += 1
        return data == b"\r" and self._skipped < MAX_EMPTY_LINES


class H11Protocol(_UvicornH11Protocol):
    """uvicorn's h11 protocol with an ``EmptyLineTolerantConnection``."""

    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        size = config.h11_max_incomplete_event_size
        self.conn = EmptyLineTolerantConnection(
            h11.SERVER, DEFAULT_MAX_INCOMPLETE_EVENT_SIZE if size is None else size)
