"""Hibernation with the real server: idle agents drop their sandbox and wake on their next
message with their stored state; mail sent while they sleep arrives once, in order; removing,
upgrading and restarting work while they sleep."""

from __future__ import annotations

import functools
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import FIXTURES, ServerProcess, eventually

from caxton.config import ServerConfig
from caxton.domain.acl import AclMessage, Performative
from caxton.domain.limits import ResourceLimits
from caxton.router.local import ClientInbox
from caxton.server import Runtime

IDLE_S = "0.3"


@pytest.fixture
def sleepy(tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path / "data", env={"CAXTON_HIBERNATE_IDLE_S": IDLE_S}).start()
    yield server
    server.stop()


def _agent(http: httpx.Client, name: str) -> dict[str, Any]:
    response = http.get(f"/api/v1/agents/{name}")
    assert response.status_code == 200, response.text
    agent: dict[str, Any] = response.json()
    return agent


def _asleep(http: httpx.Client, name: str) -> None:
    assert eventually(lambda: _agent(http, name)["hibernated"]), _agent(http, name)


def _ask(http: httpx.Client, name: str, content: object = "n") -> Any:
    response = http.post("/api/v1/messages", params={"wait": "true", "timeout": "30"},
                         json={"performative": "request", "receiver": name, "content": content})
    assert response.status_code == 200, response.text
    reply = response.json()["reply"]
    assert reply is not None and reply["performative"] == "inform", reply
    return reply["content"]


def _metric(server: ServerProcess, name: str) -> float:
    text = server.http.get("/metrics").text
    for line in text.splitlines():
        if line.startswith((name + " ", name + "{")):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


def test_an_idle_agent_hibernates_and_wakes_with_its_stored_state(
        sleepy: ServerProcess) -> None:
    sleepy.deploy(FIXTURES / "counter.wat", "counter")
    assert _ask(sleepy.http, "counter") == 1
    _asleep(sleepy.http, "counter")
    agent = _agent(sleepy.http, "counter")
    assert agent["state"] == "running"  # a flag, not a lifecycle state: it still takes mail
    assert agent["memory_bytes"] == 0
    assert _metric(sleepy, "caxton_agents_hibernated") == 1
    shown = sleepy.cli("agents", "show", "counter").stdout
    assert "hibernated" in shown and "True" in shown.split("hibernated", 1)[1].splitlines()[0]

    assert _ask(sleepy.http, "counter") == 2  # a fresh instance; the count came from the store
    assert _metric(sleepy, "caxton_agent_wakes_total") >= 1
    _asleep(sleepy.http, "counter")
    assert _ask(sleepy.http, "counter") == 3


def test_mail_sent_while_an_agent_sleeps_arrives_once_and_in_order(
        sleepy: ServerProcess) -> None:
    sleepy.deploy(FIXTURES / "counter.wat", "counter")
    assert _ask(sleepy.http, "counter") == 1
    for round_ in range(3):
        _asleep(sleepy.http, "counter")
        base = _ask(sleepy.http, "counter", "first") if round_ == 2 else None  # one awake round
        n = 40
        for i in range(n):  # one-way: they queue while the first of them wakes the agent
            response = sleepy.http.post("/api/v1/messages", json={
                "performative": "request", "receiver": "counter", "content": i,
                "conversation_id": f"r{round_}-{i}"})
            assert response.status_code == 202, response.text
        counts = []
        for i in range(n):
            def answered(cid: str = f"r{round_}-{i}") -> bool:
                messages = sleepy.http.get(f"/api/v1/conversations/{cid}").json()["messages"]
                return any(m["sender"] == "counter" for m in messages)
            assert eventually(answered), f"r{round_}-{i} never answered"
            messages = sleepy.http.get(f"/api/v1/conversations/r{round_}-{i}").json()["messages"]
            replies = [m["content"] for m in messages if m["sender"] == "counter"]
            assert len(replies) == 1, replies  # handled once
            counts.append(replies[0])
        first = counts[0]
        assert counts == list(range(first, first + n)), counts  # in the order sent, none lost
        if base is not None:
            assert first == base + 1
    assert _agent(sleepy.http, "counter")["stats"]["failed"] == 0


def test_remove_upgrade_and_restart_while_hibernated(sleepy: ServerProcess,
                                                     examples: Path) -> None:
    sleepy.deploy(FIXTURES / "counter.wat", "counter")
    assert _ask(sleepy.http, "counter") == 1
    _asleep(sleepy.http, "counter")
    # Upgrade (hot reload) a sleeping agent: the new version runs, the stored count stays.
    sleepy.deploy(FIXTURES / "slow_counter.wat", "counter", "--version", "2", "--fuel",
                  "10000000000", "--timeout-ms", "5000")
    agent = _agent(sleepy.http, "counter")
    assert agent["version"] == "2"
    assert _ask(sleepy.http, "counter") == 2
    _asleep(sleepy.http, "counter")
    # Remove a sleeping agent, then deploy the name again: a new agent, a new count.
    assert sleepy.http.delete("/api/v1/agents/counter").status_code in (200, 204)
    assert sleepy.http.get("/api/v1/agents/counter").status_code == 404
    sleepy.deploy(FIXTURES / "counter.wat", "counter")
    assert _ask(sleepy.http, "counter") == 1
    sleepy.deploy(examples / "wat" / "echo.wat", "echo")
    _asleep(sleepy.http, "counter")
    _asleep(sleepy.http, "echo")
    # A stopped agent may sleep too; start it and it wakes for its mail.
    assert sleepy.http.post("/api/v1/agents/echo/stop").status_code == 200
    assert sleepy.http.post("/api/v1/agents/echo/start").status_code == 200
    assert _ask(sleepy.http, "echo", {"x": 1}) == {"x": 1}

    # A restart brings the agents back asleep: none is instantiated until its first message.
    sleepy.stop()
    sleepy.start()
    assert _agent(sleepy.http, "counter")["hibernated"]
    assert _agent(sleepy.http, "echo")["hibernated"]
    assert _ask(sleepy.http, "counter") == 2
    assert _ask(sleepy.http, "echo", [1, 2]) == [1, 2]


def test_sweeping_while_mail_streams_in_loses_and_repeats_nothing(tmp_path: Path) -> None:
    # The sweeper races every delivery: each gap in the stream may put the agent to sleep,
    # and the next message wakes it. The count in its store must end at exactly the total.
    config = ServerConfig(data_dir=tmp_path / "data", durability="normal", workers=2,
                          hibernate_idle_s=0.001)
    rt = Runtime.open(config)
    try:
        rt.host.deploy("counter", (FIXTURES / "counter.wat").read_bytes(), "1",
                       ResourceLimits())
        rt.router.register("_client-t", ClientInbox(lambda _msg: None))
        stop = threading.Event()

        def sweep() -> None:
            while not stop.is_set():
                rt.host.hibernation.sweep()

        sweeper = threading.Thread(target=sweep)
        sweeper.start()
        total = 600
        try:
            for n in range(total):
                rt.router.route(AclMessage(performative=Performative.REQUEST,
                                           sender="_client-t", receiver=("counter",),
                                           content=n))
                if n % 20 == 19:  # a gap: everything handled, then swept asleep
                    assert eventually(functools.partial(_counted, rt, n + 1), 30), n
                    assert eventually(lambda: rt.host.get("counter").hibernated, 30)
            assert eventually(lambda: _count(rt) >= total, 60), _count(rt)
        finally:
            stop.set()
            sweeper.join()
        time.sleep(0.3)
        cell = rt.host.get("counter")
        assert _count(rt) == total
        assert cell.stats.handled == total and cell.stats.failed == 0, cell.stats
        assert rt.host.hibernation.stats.woken >= total // 20 - 1  # slept and woke often
    finally:
        rt.close()


def _counted(rt: Runtime, expected: int) -> bool:
    return _count(rt) == expected


def _count(rt: Runtime) -> int:
    raw = rt.host.state_read("counter", "count")
    return 0 if raw is None else int(struct.unpack("<q", raw)[0])
