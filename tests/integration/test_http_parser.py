"""The REST listener's two HTTP/1.1 parsers (config ``http_parser``): httptools, the default,
and h11 keep the same limits and tolerances, checked here on raw sockets against a real server.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from tests.conftest import ServerProcess

PARSERS = ("httptools", "h11")


@pytest.fixture(scope="module", params=PARSERS)
def server(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp(request.param) / "data",
                         env={"CAXTON_HTTP_PARSER": request.param}).start()
    try:
        yield proc
    finally:
        proc.stop()


def _connect(server: ServerProcess) -> socket.socket:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=15)


def _post(server: ServerProcess, body: bytes, *, length: int | None = None) -> bytes:
    return (f"POST /api/v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {server.token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body) if length is None else length}\r\n\r\n").encode() + body


def _answers(sock: socket.socket, count: int, deadline_s: float = 15) -> list[tuple[int, bytes]]:
    """Read ``count`` answers with Content-Length bodies: [(status, body)]."""
    data, out = b"", []
    deadline = time.monotonic() + deadline_s
    while len(out) < count and time.monotonic() < deadline:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if sep:
            lines = head.split(b"\r\n")
            length = next(int(line.split(b":", 1)[1]) for line in lines
                          if line.lower().startswith(b"content-length:"))
            if len(rest) >= length:
                out.append((int(lines[0].split()[1]), rest[:length]))
                data = rest[length:]
                continue
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return out


def test_empty_lines_after_a_body_are_skipped_on_a_kept_alive_connection(
        server: ServerProcess) -> None:
    # JADE's HTTP MTP writes CRLF after every body and sends its next message on the same
    # connection (RFC 9112 section 2.2: a server SHOULD ignore such lines).
    message = orjson.dumps({"performative": "inform", "receiver": ["nobody"], "content": 1})
    with _connect(server) as sock:
        sock.sendall(_post(server, message) + b"\r\n" + _post(server, message) + b"\r\n\r\n"
                     + _post(server, message))
        answers = _answers(sock, 3)
    assert [status for status, _ in answers] == [404, 404, 404]
    assert all(orjson.loads(body)["code"] == "agent_not_found" for _, body in answers)


def test_an_answer_before_the_body_is_in_reaches_the_client_whole(server: ServerProcess) -> None:
    # Declared over max_request_bytes (1 MiB): answered 413 at once. The client goes on
    # sending the body for a while before it reads: a server that closed with its bytes unread
    # would reset the connection, and the reset discards the answer the client has not read.
    with _connect(server) as sock:
        sock.sendall(_post(server, b"x" * 1024, length=2 * 1024 * 1024))
        sent, until = 1024, time.monotonic() + 1.0
        try:
            while time.monotonic() < until and sent < 2 * 1024 * 1024 - 4096:
                sock.sendall(b"x" * 4096)
                sent += 4096
                time.sleep(0.002)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed its side: the answer must still be readable
        answers = _answers(sock, 1)
    assert answers and answers[0][0] == 413
    assert orjson.loads(answers[0][1])["code"] == "payload_too_large"
    assert server.http.get("/health").status_code == 200


def test_oversized_headers_are_refused_and_the_server_goes_on(server: ServerProcess) -> None:
    if "httptools" not in str(server.data_dir):
        pytest.skip("h11 takes them: its 16 KiB limit is on a partial event in its buffer")
    with _connect(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     + b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * 1000) for i in range(100))
                     + b"\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 431 "), data[:300]
    assert orjson.loads(data.partition(b"\r\n\r\n")[2])["code"] == "headers_too_large"
    assert server.http.get("/health").status_code == 200


def test_a_request_with_headers_under_the_limit_is_served(server: ServerProcess) -> None:
    with _connect(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     + b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * 100) for i in range(50))
                     + b"\r\n")
        answers = _answers(sock, 1)
    assert answers and answers[0][0] == 200


def test_the_parser_in_use_is_the_configured_one(server: ServerProcess) -> None:
    assert server.proc is not None
    maps = Path(f"/proc/{server.proc.pid}/maps").read_text()
    assert ("httptools/parser" in maps) == ("httptools" in str(server.data_dir))
