"""Agents, their versions, limits and state survive a restart."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import FIXTURES, ServerProcess


def _count(server: ServerProcess) -> int:
    response = server.http.post("/api/v1/messages", params={"wait": "true", "timeout": "5"},
                                json={"performative": "request", "receiver": "counter"})
    return int(response.json()["reply"]["content"])


def test_agents_come_back_running_with_versions_limits_and_state(tmp_path: Path,
                                                                 examples: Path) -> None:
    data = tmp_path / "data"
    first = ServerProcess(data).start()
    first.deploy(examples / "wat" / "echo.wat", "echo", "--version", "2.0.1",
                 "--fuel", "3000000", "--timeout-ms", "750")
    first.deploy(FIXTURES / "counter.wat", "counter", "--version", "1.0")
    first.deploy(FIXTURES / "sink.wat", "paused")
    first.cli("agents", "stop", "paused")
    assert [_count(first) for _ in range(3)] == [1, 2, 3]
    before = json.loads(first.cli("agents", "list", "-o", "json").stdout)
    assert first.stop() == 0

    second = ServerProcess(data).start()
    try:
        after = json.loads(second.cli("agents", "list", "-o", "json").stdout)
        keep = ("name", "version", "state", "limits", "module_hash", "deployed_at")
        assert [{k: a[k] for k in keep} for a in after] == \
               [{k: a[k] for k in keep} for a in before]
        states = {a["name"]: a["state"] for a in after}
        assert states == {"counter": "running", "echo": "running", "paused": "stopped"}
        echo = next(a for a in after if a["name"] == "echo")
        assert echo["version"] == "2.0.1"
        assert echo["limits"]["fuel"] == 3_000_000
        assert echo["limits"]["timeout_ms"] == 750
        assert _count(second) == 4  # state was kept
        reply = second.cli("messages", "send", "--to", "echo", "--content", '"back"',
                           "--wait").stdout
        assert reply.strip().endswith('"back"')
    finally:
        second.stop()


def test_conversations_survive_a_restart(tmp_path: Path, examples: Path) -> None:
    data = tmp_path / "data"
    first = ServerProcess(data).start()
    first.deploy(examples / "wat" / "echo.wat", "echo")
    first.cli("messages", "send", "--to", "echo", "--content", "1", "--conversation-id",
              "kept", "--wait")
    first.stop()
    second = ServerProcess(data).start()
    try:
        shown = second.http.get("/api/v1/conversations/kept").json()
        assert [m["performative"] for m in shown["messages"]] == ["request", "inform"]
    finally:
        second.stop()


def test_removed_agent_stays_removed(tmp_path: Path, examples: Path) -> None:
    data = tmp_path / "data"
    first = ServerProcess(data).start()
    first.deploy(examples / "wat" / "echo.wat", "echo")
    first.cli("agents", "remove", "echo")
    first.stop()
    second = ServerProcess(data).start()
    try:
        assert second.http.get("/api/v1/agents").json()["agents"] == []
    finally:
        second.stop()


def test_sigterm_finishes_queued_messages_before_exit(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = ServerProcess(data).start()
    first.deploy(FIXTURES / "slow_counter.wat", "counter", "--fuel", "1000000000",
                 "--timeout-ms", "5000")
    for _ in range(20):  # about a second of work, queued behind each other
        response = first.http.post("/api/v1/messages",
                                   json={"performative": "request", "receiver": "counter"})
        assert response.status_code == 202
    assert first.stop() == 0
    second = ServerProcess(data).start()
    try:
        assert _count(second) == 21  # all twenty were handled before the first server exited
    finally:
        second.stop()


def test_state_list_by_prefix_sees_own_and_stored_keys(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = ServerProcess(data).start()
    try:
        first.deploy(FIXTURES / "lister.wat", "lister")
        for _ in range(2):  # the second run lists keys committed by the first
            reply = first.http.post("/api/v1/messages", params={"wait": "true", "timeout": "5"},
                                    json={"performative": "request",
                                          "receiver": "lister"}).json()["reply"]
            assert reply["content"] == ["k:a", "k:b"]
    finally:
        first.stop()


def test_state_size_limit_per_agent_refuses_writes_clearly(tmp_path: Path) -> None:
    # "k:a" + 1 byte is 4 bytes, "k:b" + 1 another 4: a 7-byte quota takes only the first
    server = ServerProcess(tmp_path / "data", env={"CAXTON_MAX_STATE_BYTES": "7"}).start()
    try:
        server.deploy(FIXTURES / "lister.wat", "lister")
        reply = server.http.post("/api/v1/messages", params={"wait": "true", "timeout": "5"},
                                 json={"performative": "request",
                                       "receiver": "lister"}).json()["reply"]
        assert reply["content"] == ["k:a"]
        logs = server.cli("agents", "logs", "lister").stdout
        assert "state_put refused: the agent's state limit is reached (key 'k:b', 1 bytes)" in logs
    finally:
        server.stop()


def test_full_mailbox_is_429_and_state_survives_an_upgrade(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", env={"CAXTON_MAILBOX_CAPACITY": "2"}).start()
    try:
        server.deploy(FIXTURES / "counter.wat", "counter", "--version", "1")
        assert _count(server) == 1
        server.cli("agents", "stop", "counter")  # messages now wait in the mailbox
        body = {"performative": "request", "receiver": "counter"}
        assert [server.http.post("/api/v1/messages", json=body).status_code
                for _ in range(2)] == [202, 202]
        full = server.http.post("/api/v1/messages", json=body)
        assert full.status_code == 429
        assert full.json() == {"code": "mailbox_full",
                               "message": "mailbox of agent 'counter' is full"}
        # upgrade while messages wait: the new version keeps the state and takes the queue
        (tmp_path / "v2.wat").write_text((FIXTURES / "counter.wat").read_text() + "\n")
        server.deploy(tmp_path / "v2.wat", "counter", "--version", "2")
        agent = server.http.get("/api/v1/agents/counter").json()
        assert agent["version"] == "2" and agent["state"] == "running"
        assert _count(server) == 4  # 1 before, 2 queued, and this one
    finally:
        server.stop()
