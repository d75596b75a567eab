"""GET /api/v1/messages/stream (server-sent events) and `caxton messages tail` over REST."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from tests.conftest import CAXTON, FIXTURES, ServerProcess


@pytest.fixture(scope="module")
def sse_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("sse") / "data").start()
    proc.deploy(FIXTURES / "sink.wat", "sink")
    yield proc
    proc.stop()


def _send(server: ServerProcess, content: object) -> None:
    response = server.http.post("/api/v1/messages", json={
        "performative": "inform", "receiver": "sink", "content": content})
    assert response.status_code == 202


def test_events_arrive_in_order_and_the_watch_goes_with_the_client(sse_server: ServerProcess
                                                                   ) -> None:
    with httpx.stream("GET", sse_server.url + "/api/v1/messages/stream",
                      headers=sse_server.headers,
                      params={"agent": "sink", "performative": "inform"}, timeout=30) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        lines = resp.iter_lines()
        assert next(lines) == ": watching"  # the watch is in place from here
        for i in range(10):
            _send(sse_server, i)
        events = []
        for line in lines:
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
                if len(events) == 10:
                    break
    assert [e["message"]["content"] for e in events] == list(range(10))
    assert all(e["dropped"] == 0 for e in events)
    _send(sse_server, "after")  # nobody watches now; routing is unaffected
    assert sse_server.http.get("/health").status_code == 200


def test_bad_filter_is_400(sse_server: ServerProcess) -> None:
    response = sse_server.http.get("/api/v1/messages/stream", params={"performative": "shout"})
    assert response.status_code == 400
    assert response.json()["field"] == "performative"


def test_cli_tail_over_rest(sse_server: ServerProcess) -> None:
    tail = subprocess.Popen([CAXTON, "messages", "tail", "--agent", "sink", "--count", "3",
                             "-o", "json", "--server", sse_server.url],
                            stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "CAXTON_TOKEN": sse_server.token})
    deadline = time.monotonic() + 30
    while tail.poll() is None and time.monotonic() < deadline:
        _send(sse_server, "tail")
        time.sleep(0.2)
    out, _ = tail.communicate(timeout=10)
    assert tail.returncode == 0
    messages = [json.loads(line) for line in out.splitlines()]
    assert len(messages) == 3 and all(m["content"] == "tail" for m in messages)


def test_streams_end_when_the_server_stops(server: ServerProcess) -> None:
    ended: list[bool] = []
    watching = threading.Event()

    def watch() -> None:
        with httpx.stream("GET", server.url + "/api/v1/messages/stream",
                          headers=server.headers, timeout=30) as resp:
            lines = resp.iter_lines()
            if next(lines) == ": watching":
                watching.set()
            ended.append(all(not line.startswith("data: ") for line in lines))

    reader = threading.Thread(target=watch)
    reader.start()
    assert watching.wait(10)
    started = time.monotonic()
    assert server.stop() == 0
    reader.join(15)
    assert ended == [True]
    assert time.monotonic() - started < 5  # not held up to the graceful-shutdown timeout
