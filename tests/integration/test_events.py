"""Agent events against a real server: GET /api/v1/events (server-sent events), its gRPC twin
EventService/StreamEvents, `caxton events tail` over both transports, and the message rates
of `caxton server status`."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import CAXTON, FIXTURES, ROOT, ServerProcess

from caxton.client import CaxtonClient, InvalidMessageError

ECHO = ROOT / "examples" / "agents" / "wat" / "echo.wat"  # the server assembles WAT itself
SINK = FIXTURES / "sink.wat"
TRAP = FIXTURES / "trap.wat"


@pytest.fixture(scope="module")
def events_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # Two failed messages in a row mark an agent failed, each after a single attempt.
    proc = ServerProcess(tmp_path_factory.mktemp("events") / "data", env={
        "CAXTON_FAILURE_THRESHOLD": "2", "CAXTON_MAX_ATTEMPTS": "1"}).start()
    yield proc
    proc.stop()


class Tail:
    """One SSE client of /api/v1/events, read on the test's own thread."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.iter_lines()

    def take(self, count: int) -> list[dict[str, Any]]:
        """The next ``count`` items, ``{"event": ..., "dropped": n}``."""
        items: list[dict[str, Any]] = []
        for line in self._lines:
            if line.startswith("data: "):
                items.append(json.loads(line[6:]))
                if len(items) == count:
                    break
        assert len(items) == count
        return items

    def events(self, count: int) -> list[dict[str, Any]]:
        return [item["event"] for item in self.take(count)]


@contextmanager
def tail(server: ServerProcess, **params: str) -> Iterator[Tail]:
    with httpx.stream("GET", server.url + "/api/v1/events", headers=server.headers, params=params,
                      timeout=30) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = Tail(response)
        assert next(stream._lines) == ": watching"  # the watch is in place from here
        yield stream


def deploy(server: ServerProcess, path: Path, name: str, version: str = "0.1.0"
           ) -> dict[str, Any]:
    response = server.http.post("/api/v1/agents", json={
        "name": name, "version": version,
        "module_base64": base64.b64encode(path.read_bytes()).decode()})
    assert response.status_code == 201, response.text
    return dict(response.json())


def act(server: ServerProcess, verb: str, name: str) -> None:
    if verb == "remove":
        assert server.http.delete(f"/api/v1/agents/{name}").status_code == 204
    else:
        assert server.http.post(f"/api/v1/agents/{name}/{verb}").status_code == 200


def test_deploy_upgrade_stop_start_and_remove_in_order(events_server: ServerProcess) -> None:
    with tail(events_server, agent="life") as stream:
        first = deploy(events_server, ECHO, "life", "1.0.0")
        second = deploy(events_server, SINK, "life", "2.0.0")  # hot upgrade, another module
        act(events_server, "stop", "life")
        act(events_server, "start", "life")
        act(events_server, "remove", "life")
        events = stream.events(9)
    assert [(e["kind"], e["state"]) for e in events] == [
        ("loaded", "loaded"), ("started", "running"), ("deployed", "running"),
        ("upgraded", "running"),
        ("stopping", "draining"), ("stopped", "stopped"),
        ("started", "running"),
        ("stopping", "draining"), ("removed", None)]
    assert {e["agent"] for e in events} == {"life"}
    deployed, upgraded, removed = events[2], events[3], events[8]
    assert (deployed["version"], deployed["module_hash"]) == ("1.0.0", first["module_hash"])
    assert (upgraded["old_version"], upgraded["version"]) == ("1.0.0", "2.0.0")
    assert (upgraded["old_module_hash"], upgraded["module_hash"]) == (
        first["module_hash"], second["module_hash"])
    assert first["module_hash"] != second["module_hash"]
    assert removed["version"] == "2.0.0"
    assert all(e["reason"] is None for e in events)
    stamps = [e["at"] for e in events]
    assert stamps == sorted(stamps) and all(s.endswith("Z") for s in stamps)


def test_a_failing_agent_reports_failed_with_the_reason(events_server: ServerProcess) -> None:
    deploy(events_server, TRAP, "trapper")
    with tail(events_server, agent="trapper", kind="failed") as stream:
        for i in range(2):  # the server marks an agent failed after two failures in a row
            response = events_server.http.post("/api/v1/messages", json={
                "performative": "request", "receiver": "trapper", "content": i})
            assert response.status_code == 202
        [failed] = stream.events(1)
    assert (failed["kind"], failed["agent"], failed["state"]) == ("failed", "trapper", "failed")
    assert "2 consecutive failures" in failed["reason"]
    assert "unreachable" in failed["reason"]  # the trap's kind
    assert events_server.http.get("/api/v1/agents/trapper").json()["state"] == "failed"
    with tail(events_server, agent="trapper") as stream:
        act(events_server, "start", "trapper")  # a restart after the failure
        assert [(e["kind"], e["reason"]) for e in stream.events(1)] == [("started", None)]


def test_filters_by_agent_and_kind(events_server: ServerProcess) -> None:
    with tail(events_server, agent="f1", kind="deployment") as f1_deployment, \
            tail(events_server, kind="stopped,failed") as stops, \
            tail(events_server, kind="lifecycle", agent="f2") as f2_lifecycle:
        deploy(events_server, SINK, "f1")
        deploy(events_server, SINK, "f2")
        act(events_server, "stop", "f2")
        act(events_server, "remove", "f1")
        act(events_server, "remove", "f2")
        assert [(e["kind"], e["agent"]) for e in f1_deployment.events(2)] == [
            ("deployed", "f1"), ("removed", "f1")]
        assert [(e["kind"], e["agent"]) for e in stops.events(1)] == [("stopped", "f2")]
        assert [e["kind"] for e in f2_lifecycle.events(4)] == [
            "loaded", "started", "stopping", "stopped"]
    response = events_server.http.get("/api/v1/events", params={"kind": "exploded"})
    assert response.status_code == 400
    assert response.json()["field"] == "kind"


def test_a_stalled_consumer_never_slows_the_server(
        events_server: ServerProcess) -> None:
    """A client that never reads holds its stream open through 900 events: the server answers
    about as fast as without it, a client that does read misses nothing, and the stalled one,
    read at last, has every event either delivered or counted as dropped.

    (Socket buffers on loopback hold megabytes, more than such a test can fill, so whether the
    server's own per-client queue is bounded and drops is tests/unit/test_events.py's part.)"""
    deploy(events_server, SINK, "churn")

    def churn(cycles: int) -> float:
        """Seconds per stop-and-start (three events)."""
        started = time.monotonic()
        for _ in range(cycles):
            act(events_server, "stop", "churn")
            act(events_server, "start", "churn")
        return (time.monotonic() - started) / cycles

    alone = churn(50)
    cycles = 300
    with tail(events_server, agent="churn") as stalled, \
            tail(events_server, agent="churn") as reader:
        got: list[list[dict[str, Any]]] = []
        reading = threading.Thread(target=lambda: got.append(reader.take(3 * cycles)))
        reading.start()
        crowded = churn(cycles)  # nobody reads `stalled` meanwhile
        reading.join(60)
        assert got, "the reading client did not get every event"
        assert all(item["dropped"] == 0 for item in got[0])
        assert [i["event"]["kind"] for i in got[0]] == ["stopping", "stopped", "started"] * cycles
        assert crowded < alone * 4 + 0.02, (alone, crowded)  # seconds per cycle
        delivered = dropped = 0
        while delivered + dropped < 3 * cycles:
            [item] = stalled.take(1)
            delivered += 1
            dropped = item["dropped"]
        assert delivered + dropped == 3 * cycles, (delivered, dropped)
    act(events_server, "remove", "churn")


def test_grpc_twin_gives_the_same_events(events_server: ServerProcess) -> None:
    with CaxtonClient(events_server.grpc_target, token=events_server.token) as client, \
            client.stream_events(agent="twin") as grpc_stream, \
            tail(events_server, agent="twin") as sse:
        deploy(events_server, SINK, "twin")
        act(events_server, "remove", "twin")
        over_sse = sse.events(5)
        over_grpc = [event for _, event in zip(range(5), grpc_stream, strict=False)]
        assert grpc_stream.dropped == 0
    assert over_grpc == over_sse  # key for key, the very same events
    assert [e["kind"] for e in over_grpc] == [
        "loaded", "started", "deployed", "stopping", "removed"]
    with CaxtonClient(events_server.grpc_target, token=events_server.token) as client, \
            pytest.raises(InvalidMessageError):
        client.stream_events(kind="exploded")


@pytest.mark.parametrize("transport", ["rest", "grpc"])
def test_cli_events_tail(events_server: ServerProcess, transport: str) -> None:
    name = f"cli-{transport}"
    tail_cli = subprocess.Popen(
        [CAXTON, "events", "tail", "--agent", name, "--kind", "deployed,upgraded", "--count",
         "2", "-o", "json", "--transport", transport, "--server", events_server.url,
         "--grpc-server", events_server.grpc_target], stdout=subprocess.PIPE, text=True,
        env={**os.environ, "CAXTON_TOKEN": events_server.token})
    try:
        deadline, version = time.monotonic() + 30, 0
        while tail_cli.poll() is None and time.monotonic() < deadline:
            version += 1  # the first deploys may come before the stream is open
            deploy(events_server, SINK, name, f"{version}.0")
            time.sleep(0.3)
        out, _ = tail_cli.communicate(timeout=10)
    finally:
        if tail_cli.poll() is None:
            tail_cli.kill()
    assert tail_cli.returncode == 0
    events = [json.loads(line) for line in out.splitlines()]
    assert len(events) == 2 and events[1]["kind"] == "upgraded"
    assert {e["agent"] for e in events} == {name}
    refused = events_server.cli("events", "tail", "--kind", "nope", "--transport", transport,
                                check=False)
    assert refused.returncode == 1 and "unknown event kind 'nope'" in refused.stderr
    act(events_server, "remove", name)


def test_status_shows_message_rates_after_traffic(events_server: ServerProcess) -> None:
    deploy(events_server, ECHO, "rated")
    for i in range(20):
        response = events_server.http.post("/api/v1/messages", params={"wait": "true"}, json={
            "performative": "request", "receiver": "rated", "content": i})
        assert response.status_code == 200
    keys = []
    for transport in ("rest", "grpc"):
        answer = json.loads(events_server.cli("server", "status", "-o", "json",
                                              "--transport", transport).stdout)
        rates = answer["ready"]["messages"]
        keys.append(list(rates))
        assert rates["routed_per_s"] > 0 and rates["processed_per_s"] > 0, rates
        assert rates["routed_total"] >= 40 and rates["processed_total"] >= 20, rates
        assert 0 < rates["window_s"] <= 62
        assert answer["health"]["status"] == "ok" and answer["ready"]["status"] == "ready"
    assert keys[0] == keys[1] == [
        "routed_per_s", "processed_per_s", "routed_total", "processed_total", "window_s"]
    table = events_server.cli("server", "status").stdout
    fields = dict(line.split(None, 1) for line in table.splitlines())
    assert fields["health"] == "ok" and fields["status"] == "ready"
    assert "routed/s" in fields["messages"] and "processed/s" in fields["messages"]
    assert "running of" in fields["agents"] and fields["uptime"].endswith("s")
    metrics = events_server.http.get("/metrics").text
    assert 'caxton_agent_events_total{kind="deployed"}' in metrics
    act(events_server, "remove", "rated")
