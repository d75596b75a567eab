"""HTTP under abuse: slow headers, stalled bodies, too many connections; logs stay JSON."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.conftest import ServerProcess, auth

SLOW = 200  # slow connections


def address(server: ServerProcess) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def is_closed(sock: socket.socket) -> bool:
    """True once the server has closed the connection (without blocking)."""
    try:
        return sock.recv(1024) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


@contextlib.contextmanager
def connections(server: ServerProcess, count: int) -> Iterator[list[socket.socket]]:
    socks = [socket.create_connection(address(server), timeout=10) for _ in range(count)]
    for sock in socks:
        sock.setblocking(False)
    try:
        yield socks
    finally:
        for sock in socks:
            sock.close()


def test_slow_header_connections_are_closed_and_others_served(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", env={"CAXTON_HTTP_HEADER_TIMEOUT_S": "3"}).start()
    request = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 100
    closed_at: dict[int, float] = {}
    served = []
    try:
        with connections(server, SLOW) as socks:
            started = time.monotonic()
            for second in range(10):  # one header byte per second on each connection
                for i, sock in enumerate(socks):
                    if i in closed_at:
                        continue
                    try:
                        sock.send(request[second:second + 1])
                    except OSError:
                        closed_at[i] = time.monotonic() - started
                        continue
                    if is_closed(sock):
                        closed_at[i] = time.monotonic() - started
                t0 = time.monotonic()
                assert httpx.get(server.url + "/health", timeout=10).status_code == 200
                served.append(time.monotonic() - t0)
                if len(closed_at) == SLOW:
                    break
                time.sleep(max(0.0, started + second + 1 - time.monotonic()))
    finally:
        server.stop()
    print(f"{len(closed_at)} of {SLOW} slow connections closed, from {min(closed_at.values()):.1f}"
          f" to {max(closed_at.values()):.1f}s; {len(served)} normal requests meanwhile, "
          f"slowest {max(served) * 1000:.0f} ms")
    assert len(closed_at) == SLOW  # every one, within 10 s
    assert min(closed_at.values()) > 2.0  # ... and none before its 3 s header deadline


def test_a_stalled_body_is_answered_408_and_the_connection_closed(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", env={"CAXTON_HTTP_BODY_TIMEOUT_S": "2"}).start()
    try:
        with socket.create_connection(address(server), timeout=15) as sock:
            sock.sendall(b"POST /api/v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         + auth(server)
                         + b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"perf")
            answer = b""
            while data := sock.recv(4096):  # read to the end: the server closes
                answer += data
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408 "), answer[:200]
        assert json.loads(body) == {"code": "request_timeout", "message":
                                    "the request body stalled: nothing received for 2s"}
        assert httpx.get(server.url + "/health").status_code == 200
    finally:
        server.stop()


def test_connections_beyond_the_cap_are_refused_with_503(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", env={"CAXTON_MAX_CONNECTIONS": "20"}).start()
    try:
        with connections(server, 20):  # idle: they hold every place
            refused = httpx.get(server.url + "/health", timeout=10)
            assert refused.status_code == 503
            assert refused.headers["retry-after"] == "1"
            assert refused.json() == {"code": "too_many_connections", "message": (
                "the server has 20 connections open (config max_connections); retry shortly")}
        time.sleep(0.5)  # the server sees them go
        assert httpx.get(server.url + "/health", timeout=10).status_code == 200
    finally:
        server.stop()


@pytest.mark.parametrize("fmt", ["auto", "json"])
def test_the_server_writes_only_json_lines_when_provoked(tmp_path: Path, fmt: str) -> None:
    server = ServerProcess(tmp_path / "data", env={
        "CAXTON_LOG_FORMAT": fmt, "CAXTON_HTTP_HEADER_TIMEOUT_S": "1",
        "CAXTON_HTTP_BODY_TIMEOUT_S": "1", "CAXTON_MAX_CONNECTIONS": "5"}).start()
    host, port = address(server)

    def raw(data: bytes, linger: float = 0.3) -> bytes:
        with socket.create_connection((host, port), timeout=5) as sock:
            sock.sendall(data)
            time.sleep(linger)
            try:
                return sock.recv(4096)
            except OSError:
                return b""

    try:
        assert raw(b"GARBAGE\r\n\r\n").startswith(b"HTTP/1.1 400 ")  # uvicorn's own warning
        assert raw(b"GET /api/v1/conversations?limit=%C2%B2 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   + auth(server) + b"\r\n"
                   ).startswith(b"HTTP/1.1 400 ")  # '²' passed isdigit(): a 500 and traceback
        assert raw(b"POST /api/v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   + auth(server) + b"Content-Length: 9\r\n\r\n{",
                   2.5).startswith(b"HTTP/1.1 408 ")
        assert raw(b"GET /health HT", 2.0) == b""  # header deadline
        with connections(server, 6):
            pass
        grpc_host, grpc_port = server.grpc_target.rsplit(":", 1)
        with socket.create_connection((grpc_host, int(grpc_port))) as sock:  # not HTTP/2
            sock.sendall(b"GET / HTTP/1.1\r\n\r\n" + b"\0" * 64)
            time.sleep(0.3)
        assert httpx.get(server.url + "/health").status_code == 200
    finally:
        assert server.stop() == 0
    lines = [line for line in server.stderr().splitlines() if line.strip()]
    bad = []
    for line in lines:
        try:
            assert isinstance(json.loads(line), dict)
        except (ValueError, AssertionError):
            bad.append(line)
    assert bad == [], "\n".join(bad[:20])
    events = [json.loads(line) for line in lines]
    assert {"event": "Invalid HTTP request received.", "level": "warning",
            "logger": "uvicorn.error"}.items() <= next(
        e for e in events if e.get("logger") == "uvicorn.error").items()
    assert any(e["event"].startswith("connections closed: no complete request headers")
               for e in events)
