"""Outbound MTP messages are owed until sent: one still retrying when the server is killed is
sent after the restart, and nothing already sent goes twice."""

from __future__ import annotations

import queue
import signal
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.conftest import ServerProcess


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class _Acc:
    """A bare /acc on a chosen port that records the message ids it is sent."""

    def __init__(self, port: int) -> None:
        self.bodies: queue.Queue[bytes] = queue.Queue()
        acc = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                acc.bodies.put(self.rfile.read(int(self.headers["content-length"])))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _send(server: ServerProcess, url: str, mark: str) -> None:
    response = server.http.post("/api/v1/messages", json={
        "performative": "inform", "receiver": ["far@other"], "conversation_id": mark,
        "addresses": {"far@other": [url]}, "content": {"mark": mark}})
    assert response.status_code == 202, response.text


def test_a_message_owed_to_another_platform_survives_a_kill(tmp_path: Path) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/acc"
    data = tmp_path / "data"
    env = {"CAXTON_MTP_ALLOWED_HOSTS": f"127.0.0.1:{port}"}
    first = ServerProcess(data, env=env).start()
    _send(first, url, "owed-1")  # logged; its platform is down, so it is retrying
    assert first.stop(signal.SIGKILL) != 0
    acc = _Acc(port)
    try:
        second = ServerProcess(data, env=env).start()
        try:
            body = acc.bodies.get(timeout=20)
            assert b"owed-1" in body
            _send(second, url, "sent-2")
            assert b"sent-2" in acc.bodies.get(timeout=20)
        finally:
            second.stop()
        third = ServerProcess(data, env=env).start()  # nothing is owed any more: nothing goes again
        try:
            _send(third, url, "sent-3")
            assert b"sent-3" in acc.bodies.get(timeout=20)
            assert acc.bodies.empty()
        finally:
            third.stop()
    finally:
        acc.close()
