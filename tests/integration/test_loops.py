"""Loops and fork bombs through the real server, with real WebAssembly agents: a long dialogue
goes on; a reply loop and a fork bomb are cut within bounded work, and each cut shows as a
failure to the sender, a dead letter, a metric and a mark in the conversation; one handled
message may only make so many sends."""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.conftest import CAXTON, FIXTURES, ServerProcess

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture(scope="module")
def loops_server(tmp_path_factory: pytest.TempPathFactory, examples: Path
                 ) -> Iterator[ServerProcess]:
    """Default limits: max_hops 1,000, max_cascade_in_flight 1,000, 100 sends per message."""
    proc = ServerProcess(tmp_path_factory.mktemp("loops") / "data").start()
    proc.deploy(examples / "wat" / "echo.wat", "echo")
    yield proc
    proc.stop()


def _scrape(server: ServerProcess) -> Samples:
    samples = {}
    for family in text_string_to_metric_families(server.http.get("/metrics").text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _routed(samples: Samples) -> float:
    return sum(v for (name, _), v in samples.items() if name == "caxton_messages_routed_total")


def _handled(server: ServerProcess, *agents: str) -> int:
    return sum(server.http.get(f"/api/v1/agents/{a}").json()["stats"]["handled"]
               for a in agents)


def _until_quiet(server: ServerProcess, *agents: str, timeout: float = 60,
                 during: Callable[[], None] | None = None) -> int:
    """Wait until the agents have handled nothing new for a second; their handled total."""
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        if during is not None:
            during()
        now = _handled(server, *agents)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= 1.0:
            return now
        time.sleep(0.1)
    raise AssertionError(f"{agents} still busy after {timeout}s ({last} handled)")


def _send(server: ServerProcess, body: dict, **params: str) -> dict:
    response = server.http.post("/api/v1/messages", json=body, params=params)
    assert response.status_code in (200, 202), response.text
    return response.json()


def test_a_rally_of_10000_request_reply_exchanges_completes(loops_server: ServerProcess) -> None:
    """Before: every chain was cut at hop 1,000, silently (a 600-move game died at move 500)."""
    server = loops_server
    server.deploy(FIXTURES / "rally.wat", "rally-a")
    server.deploy(FIXTURES / "rally.wat", "rally-b")
    before = _scrape(server)
    started = time.monotonic()
    _send(server, {"performative": "request", "receiver": "rally-a", "reply_to": "rally-b",
                   "conversation_id": "rally-10000", "content": 20_000})
    deadline = started + 120
    while _handled(server, "rally-a", "rally-b") < 20_001:
        assert time.monotonic() < deadline, "the rally stopped before its 10,000th exchange"
        time.sleep(0.2)
    elapsed = time.monotonic() - started
    print(f"\n10,000 exchanges (20,001 messages) in {elapsed:.1f}s: "
          f"{20_001 / elapsed:,.0f} messages/s")
    agents = [server.http.get(f"/api/v1/agents/{a}").json() for a in ("rally-a", "rally-b")]
    assert [a["stats"]["sent"] for a in agents] == [10_000, 10_000]
    assert [a["stats"]["failed"] for a in agents] == [0, 0]
    conversation = server.http.get("/api/v1/conversations/rally-10000").json()
    assert conversation["message_count"] == 20_001
    assert conversation["events"] == []
    after = _scrape(server)
    for reason in ("loop", "fanout"):
        assert _value(after, "caxton_cascades_cut_total", reason=reason) == \
            _value(before, "caxton_cascades_cut_total", reason=reason)
    letters = server.http.get("/api/v1/dead-letters").json()["dead_letters"]
    assert not [d for d in letters if d["receiver"].startswith("rally-")]


def test_a_reply_loop_is_cut_and_the_cut_is_visible(tmp_path: Path, examples: Path) -> None:
    """Two echo agents answering each other for ever, with max_hops 50 so that the whole
    conversation fits in one listing. Before: dropped at the limit with a server log line
    only (no failure, no dead letter, nothing in the conversation)."""
    server = ServerProcess(tmp_path / "data", env={"CAXTON_MAX_HOPS": "50"}).start()
    try:
        server.deploy(examples / "wat" / "echo.wat", "echo-a")
        server.deploy(examples / "wat" / "echo.wat", "echo-b")
        _send(server, {"performative": "request", "receiver": "echo-a", "reply_to": "echo-b",
                       "conversation_id": "loop-1", "content": "again"})
        # the request, 50 answers in a row, and the failure telling about the 51st
        assert _until_quiet(server, "echo-a", "echo-b") == 1 + 50 + 1
        conversation = server.http.get("/api/v1/conversations/loop-1").json()
        messages = conversation["messages"]
        assert conversation["message_count"] == len(messages) == 1 + 50 + 1 + 1
        (failure,) = [m for m in messages if m["performative"] == "failure"]
        cut = next(m for m in messages if m["message_id"] == failure["content"]["message_id"])
        assert failure["sender"] == "ams" and failure["receiver"] == [cut["sender"]]
        assert failure["content"]["error"] == "loop"
        assert failure["content"]["reason"].startswith("51 answers in a row without a new "
                                                       "request passed the limit of 50")
        (event,) = conversation["events"]
        assert (event["kind"], event["message_id"]) == ("loop", cut["message_id"])
        letters = json.loads(server.cli("dead-letters", "list", "-o", "json").stdout)
        (letter,) = [d for d in letters if d["message_id"] == cut["message_id"]]
        assert letter["receiver"] == cut["receiver"][0] and letter["attempts"] == 0
        assert letter["reason"].startswith("loop: 51 answers in a row")
        metrics = _scrape(server)
        assert _value(metrics, "caxton_cascades_cut_total", reason="loop") == 1
        assert _value(metrics, "caxton_messages_cut_total", reason="loop") == 2  # + the echo
        assert _value(metrics, "caxton_cascades_in_flight") == 0
        shown = server.cli("conversations", "show", "loop-1").stdout
        assert "cut " in shown and "loop at " in shown and "✗ loop: cut: 51 answers" in shown
        # replaying the dead letter starts the loop again, and it is cut again
        server.cli("dead-letters", "replay", cut["message_id"])
        assert _until_quiet(server, "echo-a", "echo-b") > 1 + 50 + 1
        assert _value(_scrape(server), "caxton_cascades_cut_total", reason="loop") == 2
    finally:
        server.stop()


def test_a_fork_bomb_is_stopped_while_echo_keeps_answering(loops_server: ServerProcess
                                                           ) -> None:
    """Each message the bomb handles makes two new requests to itself, each in a new
    conversation. Before: it ran until the server was stopped (its mailbox full, bouncing)."""
    server = loops_server
    server.deploy(FIXTURES / "forkbomb.wat", "bomb")
    before = _scrape(server)
    latencies: list[float] = []

    def ping() -> None:
        started = time.monotonic()
        answer = _send(server, {"performative": "request", "receiver": "echo",
                                "content": len(latencies)}, wait="true", timeout="30")
        assert answer["reply"]["content"] == len(latencies)
        latencies.append(time.monotonic() - started)

    _send(server, {"performative": "request", "receiver": "bomb", "content": "go"})
    _until_quiet(server, "bomb", during=ping)
    for _ in range(3):
        ping()
    after = _scrape(server)
    bomb_routed = _routed(after) - _routed(before) - 2 * len(latencies)  # pings are 2 each
    print(f"\nfork bomb: {bomb_routed:.0f} messages routed before it stopped; echo latency "
          f"median {statistics.median(latencies) * 1000:.0f} ms, max "
          f"{max(latencies) * 1000:.0f} ms over {len(latencies)} pings")
    # ~2 per handled message until 1,000 are in flight, then the failure about the cut
    assert 1000 <= bomb_routed <= 2 * 1000 + 10
    assert _value(after, "caxton_cascades_cut_total", reason="fanout") - \
        _value(before, "caxton_cascades_cut_total", reason="fanout") == 1
    assert _value(after, "caxton_messages_cut_total", reason="fanout") - \
        _value(before, "caxton_messages_cut_total", reason="fanout") >= 1000
    assert max(latencies) < 5.0  # generous: echo was never starved
    bomb = server.http.get("/api/v1/agents/bomb").json()
    assert bomb["state"] == "running" and bomb["mailbox_depth"] == 0
    letters = server.http.get("/api/v1/dead-letters", params={"agent": "bomb"}).json()
    (letter,) = letters["dead_letters"]
    assert letter["reason"].startswith("fanout: its cascade already had 1000 messages in flight")
    conversation = server.http.get(
        f"/api/v1/conversations/{letter['message']['conversation_id']}").json()
    assert [e["kind"] for e in conversation["events"]] == ["fanout"]
    (failure,) = [m for m in conversation["messages"] if m["performative"] == "failure"]
    assert failure["receiver"] == ["bomb"] and failure["content"]["error"] == "fanout"
    time.sleep(1)
    assert _handled(server, "bomb") == bomb["stats"]["handled"]  # and it stays stopped


def test_one_handled_message_may_make_only_so_many_sends(loops_server: ServerProcess) -> None:
    """Before: every one of the 150 sends was released."""
    server = loops_server
    server.deploy(FIXTURES / "sink.wat", "sink")
    server.deploy(FIXTURES / "spray.wat", "spray")
    server.deploy(FIXTURES / "spray.wat", "spray-5", "--max-sends-per-message", "5")
    before = _handled(server, "sink")
    _send(server, {"performative": "request", "receiver": "spray", "content": 150})
    assert _until_quiet(server, "sink", "spray") - before == 100 + 1
    spray = server.http.get("/api/v1/agents/spray").json()
    assert spray["limits"]["max_sends_per_message"] == 100
    assert (spray["stats"]["sent"], spray["stats"]["sends_refused"]) == (100, 50)
    logs = server.cli("agents", "logs", "spray").stdout
    assert logs.count("send refused: the budget of 100 sends per handled message is spent") == 1
    assert _value(_scrape(server), "caxton_agent_sends_refused_total", agent="spray") == 50
    _send(server, {"performative": "request", "receiver": "spray-5", "content": 150})
    assert _until_quiet(server, "sink", "spray-5") - before == 100 + 5 + 1
    shown = server.cli("agents", "show", "spray-5").stdout
    assert re.search(r"max sends\s+5\n", shown) and re.search(r"sends refused\s+145\n", shown)


@pytest.mark.parametrize(("variable", "value", "needle"), [
    ("CAXTON_MAX_HOPS", "0", "max_hops must be from 1 to 999999999 (answers in a row), not 0"),
    ("CAXTON_MAX_CASCADE_IN_FLIGHT", "-3", "max_cascade_in_flight must be from 2"),
    ("CAXTON_DEFAULT_MAX_SENDS_PER_MESSAGE", "0", "field 'max_sends_per_message'"),
])
def test_the_server_refuses_zero_and_negative_limits(tmp_path: Path, variable: str, value: str,
                                                     needle: str) -> None:
    result = subprocess.run([CAXTON, "server", "start", "--data-dir", str(tmp_path), "--port",
                             "0"], capture_output=True, text=True, timeout=60,
                            env={**os.environ, variable: value})
    assert result.returncode == 1
    assert needle in result.stderr
