"""The REST port's HTTP/1.1 parsing (``api.rest.http11``): empty lines before a request line
are ignored (RFC 9112 section 2.2), as JADE's MTP needs; nothing else changes."""

from __future__ import annotations

import h11
import pytest

from caxton.api.rest.http11 import MAX_EMPTY_LINES, EmptyLineTolerantConnection

POST = b"POST /acc HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"


def _events(conn: h11.Connection) -> list[object]:
    out: list[object] = []
    while True:
        event = conn.next_event()
        if event in (h11.NEED_DATA, h11.PAUSED):
            return [*out, event]
        out.append(event)


def _respond(conn: h11.Connection) -> None:
    conn.send(h11.Response(status_code=200, headers=[("content-length", "0")]))
    conn.send(h11.EndOfMessage())
    conn.start_next_cycle()


@pytest.mark.parametrize("between", [b"\r\n", b"\n", b"\r\n\r\n"])
def test_empty_lines_after_a_body_are_skipped_before_the_next_request(between: bytes) -> None:
    conn = EmptyLineTolerantConnection(h11.SERVER)
    conn.receive_data(POST + between + POST)  # JADE: CRLF beyond the Content-Length
    first = _events(conn)
    assert isinstance(first[0], h11.Request) and first[-1] is h11.PAUSED
    _respond(conn)
    second = _events(conn)
    assert isinstance(second[0], h11.Request), second
    assert isinstance(second[1], h11.Data) and second[1].data == b"hello"


def test_an_empty_line_that_comes_alone_after_the_answer_is_skipped() -> None:
    conn = EmptyLineTolerantConnection(h11.SERVER)
    conn.receive_data(POST)
    _events(conn)
    _respond(conn)
    conn.receive_data(b"\r")  # half of it: wait for the rest
    assert conn.next_event() is h11.NEED_DATA
    conn.receive_data(b"\n")
    assert conn.next_event() is h11.NEED_DATA
    conn.receive_data(POST)
    assert isinstance(conn.next_event(), h11.Request)


def test_plain_h11_refuses_the_same_bytes() -> None:
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(POST + b"\r\n" + POST)
    _events(conn)
    _respond(conn)
    with pytest.raises(h11.RemoteProtocolError, match="no request line"):
        _events(conn)


def test_an_endless_run_of_empty_lines_is_still_an_error() -> None:
    conn = EmptyLineTolerantConnection(h11.SERVER)
    conn.receive_data(b"\r\n" * (MAX_EMPTY_LINES + 1) + POST)
    with pytest.raises(h11.RemoteProtocolError):
        conn.next_event()


def test_junk_before_a_request_line_is_still_an_error() -> None:
    conn = EmptyLineTolerantConnection(h11.SERVER)
    conn.receive_data(b"\r\n \r\nPOST / HTTP/1.1\r\n\r\n")
    with pytest.raises(h11.RemoteProtocolError):
        conn.next_event()
