"""Conversation tracking in a real server: protocol state, not-understood, deadlines, restart,
expiry and the CLI's sequence chart. Agents: the WAT echo (answers inform), a Rust Contract Net
bidder, and a sink that never answers."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import FIXTURES, ServerProcess


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def post(server: ServerProcess, body: dict[str, Any], *, wait: bool = False) -> dict[str, Any]:
    params = {"wait": "true", "timeout": "20"} if wait else {}
    response = server.http.post("/api/v1/messages", json=body, params=params)
    assert response.status_code in (200, 202), response.text
    result: dict[str, Any] = response.json()
    return result


def conversation(server: ServerProcess, cid: str) -> dict[str, Any]:
    response = server.http.get(f"/api/v1/conversations/{cid}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def until(server: ServerProcess, cid: str, check: Callable[[dict[str, Any]], bool],
          timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = server.http.get(f"/api/v1/conversations/{cid}")
        if response.status_code == 200 and check(conv := response.json()):
            return conv
        if time.monotonic() > deadline:
            raise AssertionError(f"conversation {cid} never got there: {response.text}")
        time.sleep(0.05)


def acts(conv: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m["sender"], m["performative"]) for m in conv["messages"]]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, examples: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("conv") / "data").start()
    try:
        proc.deploy(examples / "wat" / "echo.wat", "echo")
        proc.deploy(examples / "rust" / "bidder.wasm", "b1")
        proc.deploy(FIXTURES / "sink.wat", "sink")
        yield proc
    finally:
        proc.stop()


def test_a_request_is_followed_to_done_and_drawn_by_the_cli(server: ServerProcess) -> None:
    result = post(server, {"performative": "request", "receiver": "echo", "content": 1,
                           "protocol": "fipa-request", "conversation_id": "req-1"}, wait=True)
    assert result["reply"]["performative"] == "inform"
    conv = until(server, "req-1", lambda c: c["status"] == "done")
    assert conv["parties"]["echo"]["state"] == "done"
    assert conv["events"] == []
    listed = server.cli("conversations", "list", "--agent", "echo").stdout
    assert any("req-1" in line and "done" in line for line in listed.splitlines())
    shown = server.cli("conversations", "show", "req-1", env={"COLUMNS": "100"}).stdout
    lines = shown.splitlines()
    header = next(line for line in lines if "echo" in line and "client" in line)
    assert header.split() == ["client", "echo"]
    request = next(line for line in lines if " request " in line)
    inform = next(line for line in lines if " inform " in line)
    assert request.startswith("+0.000s") and "●" in request and "▶" in request
    assert "◀" in inform and inform.index("◀") < inform.index("●")
    assert any([w for w in line.split() if w != "│"][:2] == ["echo", "done"] for line in lines)


def test_a_message_that_breaks_the_protocol_is_answered_not_understood(
        server: ServerProcess) -> None:
    handled = server.http.get("/api/v1/agents/echo").json()["stats"]["handled"]
    result = post(server, {"performative": "inform", "receiver": "echo", "content": 2,
                           "protocol": "fipa-request", "conversation_id": "bad-1"}, wait=True)
    answer = result["reply"]
    assert (answer["performative"], answer["sender"]) == ("not-understood", "ams")
    assert answer["in_reply_to"] == result["message"]["message_id"]
    assert "fipa-request" in answer["content"]["reason"]
    assert answer["content"]["expected"] == ["request"]
    conv = conversation(server, "bad-1")
    (event,) = conv["events"]
    assert (event["kind"], event["party"]) == ("violation", result["message"]["sender"])
    assert event["message_id"] == result["message"]["message_id"]
    # Recorded, never delivered: echo handled nothing and answered nothing.
    assert acts(conv) == [(result["message"]["sender"], "inform"), ("ams", "not-understood")]
    assert server.http.get("/api/v1/agents/echo").json()["stats"]["handled"] == handled
    shown = server.cli("conversations", "show", "bad-1", env={"COLUMNS": "100"}).stdout
    assert "✗ violation: fipa-request" in shown


def test_an_agent_breaking_a_protocol_is_told_so(server: ServerProcess) -> None:
    # echo answers a cfp with inform, which fipa-contract-net does not allow.
    result = post(server, {"performative": "cfp", "receiver": "echo", "content": 3,
                           "protocol": "fipa-contract-net", "conversation_id": "bad-2"})
    conv = until(server, "bad-2", lambda c: len(c["messages"]) >= 3)
    client = result["message"]["sender"]
    assert acts(conv)[:3] == [(client, "cfp"), ("echo", "inform"), ("ams", "not-understood")]
    assert conv["messages"][2]["receiver"] == ["echo"]
    # echo answers even the not-understood (to ams); that is not a step, so no loop follows.
    time.sleep(0.5)
    conv = conversation(server, "bad-2")
    assert acts(conv)[3:] == [("echo", "inform")] and len(conv["events"]) == 1
    assert conv["events"][0]["party"] == "echo"
    assert conv["parties"]["echo"]["state"] == "invited"


def test_contract_net_deadline_times_out_the_silent_and_rejects_the_late(
        server: ServerProcess) -> None:
    deadline = datetime.now(UTC) + timedelta(seconds=2)
    post(server, {"performative": "cfp", "sender": "buyer", "receiver": ["b1", "sink"],
                  "content": {"task": "t", "size": 3}, "protocol": "fipa-contract-net",
                  "conversation_id": "cn-1", "reply_by": iso(deadline)})
    conv = until(server, "cn-1", lambda c: any(e["kind"] == "timeout" for e in c["events"]))
    assert datetime.now(UTC) >= deadline - timedelta(milliseconds=100)
    assert conv["parties"]["b1"]["state"] == "proposed"
    assert conv["parties"]["sink"]["state"] == "timed-out"
    (timeout,) = [e for e in conv["events"] if e["kind"] == "timeout"]
    assert timeout["party"] == "sink"
    report = next(m for m in conv["messages"] if m["sender"] == "ams"
                  and m["performative"] == "failure" and m["receiver"] == ["buyer"])
    assert report["content"]["error"] == "timeout" and report["content"]["party"] == "sink"

    # A cfp whose deadline has already passed: b1's proposal is late, held and rejected.
    post(server, {"performative": "cfp", "sender": "buyer", "receiver": "b1",
                  "content": {"task": "t", "size": 3}, "protocol": "fipa-contract-net",
                  "conversation_id": "cn-2",
                  "reply_by": iso(datetime.now(UTC) - timedelta(seconds=1))})
    conv = until(server, "cn-2", lambda c: any(e["kind"] == "late" for e in c["events"]))
    assert conv["parties"]["b1"]["state"] == "late"
    proposal = next(m for m in conv["messages"] if m["performative"] == "propose")
    reject = next(m for m in conv["messages"] if m["performative"] == "reject-proposal")
    assert (reject["sender"], reject["receiver"]) == ("ams", ["b1"])
    assert reject["in_reply_to"] == proposal["message_id"]
    assert reject["content"]["error"] == "late"


def test_open_conversations_survive_a_restart(tmp_path: Path, examples: Path) -> None:
    data = tmp_path / "data"
    first = ServerProcess(data).start()
    try:
        first.deploy(examples / "rust" / "bidder.wasm", "b1")
        cfp = post(first, {"performative": "cfp", "sender": "buyer", "receiver": "b1",
                           "content": {"task": "t", "size": 2},
                           "protocol": "fipa-contract-net", "conversation_id": "kept"})
        conv = until(first, "kept", lambda c: c["parties"].get("b1", {}).get("state")
                     == "proposed")
        assert conv["status"] == "open"
    finally:
        first.stop()
    second = ServerProcess(data).start()
    try:
        assert conversation(second, "kept")["parties"]["b1"]["state"] == "proposed"
        accept = {"performative": "accept-proposal", "sender": "buyer", "receiver": "b1",
                  "protocol": "fipa-contract-net", "conversation_id": "kept",
                  "in_reply_to": cfp["message"]["message_id"], "content": {}}
        post(second, accept)
        conv = until(second, "kept", lambda c: c["status"] == "done")
        assert conv["parties"]["b1"]["state"] == "done"
        # The state came back from the store: a second accept is out of protocol.
        post(second, accept)
        conv = until(second, "kept", lambda c: bool(c["events"]))
        assert conv["events"][0]["kind"] == "violation"
        assert "over" in conv["events"][0]["detail"]
    finally:
        second.stop()


def test_idle_conversations_expire_and_are_pruned(tmp_path: Path, examples: Path) -> None:
    proc = ServerProcess(tmp_path / "data", env={
        "CAXTON_CONVERSATION_IDLE_TIMEOUT_S": "0.5",
        "CAXTON_CONVERSATION_RETENTION_S": "3"}).start()
    try:
        proc.deploy(FIXTURES / "sink.wat", "sink")
        post(proc, {"performative": "request", "receiver": "sink", "content": 1,
                    "protocol": "fipa-request", "conversation_id": "idle"})
        conv = until(proc, "idle", lambda c: c["status"] == "expired")
        assert conv["events"][-1]["kind"] == "expired"
        deadline = time.monotonic() + 20
        while proc.http.get("/api/v1/conversations/idle").status_code != 404:
            assert time.monotonic() < deadline, "the expired conversation was never pruned"
            time.sleep(0.2)
    finally:
        proc.stop()


def test_a_fipa_request_to_the_ams_is_answered_and_done(server: ServerProcess) -> None:
    result = post(server, {"performative": "request", "receiver": "ams",
                           "protocol": "fipa-request", "ontology": "fipa-agent-management",
                           "conversation_id": "ams-1",
                           "content": {"action": "get-description"}}, wait=True)
    assert (result["reply"]["sender"], result["reply"]["performative"]) == ("ams", "inform")
    conv = until(server, "ams-1", lambda c: c["status"] == "done")
    assert conv["events"] == [] and conv["parties"]["ams"]["state"] == "done"


@pytest.mark.parametrize("transport", ["rest", "grpc"])
def test_cli_reply_by_sets_a_deadline_the_platform_enforces(server: ServerProcess,
                                                           transport: str) -> None:
    cid = f"rb-{transport}"
    # 2 s, not less: the CLI computes the deadline before it starts its channel, which took
    # more than half a second on a loaded machine, and the deadline came before the send.
    server.cli("messages", "send", "--to", "sink", "--protocol", "fipa-request",
               "--reply-by", "2s", "--conversation-id", cid, "--transport", transport)
    conv = until(server, cid, lambda c: any(e["kind"] == "timeout" for e in c["events"]))
    assert conv["parties"]["sink"]["state"] == "timed-out"
    assert conv["messages"][0]["reply_by"] > conv["messages"][0]["timestamp"]
    bad = server.cli("messages", "send", "--to", "sink", "--reply-by", "soon", check=False)
    assert bad.returncode == 2 and "--reply-by" in bad.stderr
