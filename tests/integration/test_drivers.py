"""The protocol drivers against a real server: `caxton messages cfp` runs a Contract Net with
bidders in three languages, a silent sink and a refusing agent, over REST and gRPC;
`caxton messages subscribe` streams a C ticker's informs and cancels (after --count or Ctrl-C).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import CAXTON, FIXTURES, ServerProcess

from caxton.client.protocols import ProtocolClient

BIDDERS = {"rust-bidder": ("rust/bidder.wasm", 7), "zig-bidder": ("zig/bidder.wasm", 5),
           "go-bidder": ("go/bidder.wasm", 9)}
TASK = {"task": "ship", "size": 4}


@pytest.fixture(scope="module")
def drivers_server(tmp_path_factory: pytest.TempPathFactory, examples: Path
                   ) -> Iterator[ServerProcess]:
    modules = [examples / path for path, _ in BIDDERS.values()]
    modules += [examples / "c" / "ledger.wasm", examples / "c" / "ticker.wasm"]
    missing = [str(m) for m in modules if not m.exists()]
    if missing:
        pytest.skip(f"example agents not built (run scripts/install-toolchains.sh): {missing}")
    server = ServerProcess(tmp_path_factory.mktemp("drivers") / "data").start()
    try:
        for name, (path, rate) in BIDDERS.items():
            server.deploy(examples / path, name, "--service", '{"type": "courier"}')
            reply = server.cli("messages", "send", "--to", name, "--content",
                               json.dumps({"rate": rate}), "--wait").stdout
            assert f'{{"rate":{rate}}}' in reply
        server.deploy(examples / "c" / "ledger.wasm", "ledger")
        server.deploy(examples / "c" / "ticker.wasm", "ticker")
        server.deploy(FIXTURES / "sink.wat", "sink")
        yield server
    finally:
        server.stop()


def cfp(server: ServerProcess, *args: str, transport: str = "rest", check: bool = True
        ) -> tuple[dict[str, Any], subprocess.CompletedProcess[str]]:
    result = server.cli("messages", "cfp", "--transport", transport, "-o", "json", *args,
                        check=check)
    return json.loads(result.stdout), result


def conversation(server: ServerProcess, cid: str) -> dict[str, Any]:
    found: dict[str, Any] = server.http.get(f"/api/v1/conversations/{cid}").json()
    return found


def wait_for(server: ServerProcess, cid: str, performative: str, count: int,
             timeout: float = 20) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        messages = conversation(server, cid).get("messages", [])
        if sum(m["performative"] == performative for m in messages) >= count:
            return list(messages)
        if time.monotonic() > deadline:
            raise AssertionError(f"want {count} {performative} in {cid}: "
                                 f"{[(m['sender'], m['performative']) for m in messages]}")
        time.sleep(0.05)


# --- Contract Net -----------------------------------------------------------------------------
@pytest.mark.parametrize("transport", ["rest", "grpc"])
def test_cfp_accepts_the_best_and_rejects_the_rest(drivers_server: ServerProcess,
                                                   transport: str) -> None:
    started = time.monotonic()
    outcome, _ = cfp(drivers_server, "--to", "rust-bidder,zig-bidder,go-bidder,sink,ticker",
                     "--content", json.dumps(TASK), "--deadline", "1s", transport=transport)
    elapsed = time.monotonic() - started
    answers = {p["agent"]: p for p in outcome["participants"]}
    assert outcome["status"] == "done"
    assert outcome["rule"] == "min:price"
    assert outcome["winner"] == "zig-bidder"
    assert outcome["proposal"] == {"price": 20, "task": "ship"}
    assert outcome["result"]["performative"] == "inform"
    assert outcome["result"]["content"] == {"done": True, "price": 20}
    for name, (_, rate) in BIDDERS.items():
        assert answers[name]["answer"] == "proposed"
        assert answers[name]["content"] == {"price": 4 * rate, "task": "ship"}
        assert 0 <= answers[name]["after_s"] < 1.0
    assert answers["zig-bidder"]["decision"] == "accepted"
    for loser in ("rust-bidder", "go-bidder"):
        assert answers[loser]["decision"] == "rejected"
        assert answers[loser]["reason"] == "not the best proposal by min:price"
    assert answers["sink"]["answer"] == "timed-out"
    assert answers["sink"]["reason"] == "no answer by the reply-by deadline"
    assert answers["sink"]["content"]["error"] == "timeout"  # what ams reported
    assert answers["ticker"]["answer"] == "failed"  # not-understood: a ticker takes no cfp
    # the silent sink held the round up to the deadline, not beyond it
    assert 1.0 <= answers["sink"]["after_s"] < 1.6, answers["sink"]
    assert 1.0 <= outcome["elapsed_s"] < 3.0, outcome["elapsed_s"]
    assert elapsed < 10

    cid = outcome["conversation_id"]
    messages = wait_for(drivers_server, cid, "confirm", 3)  # the ledger confirmed every report
    client = next(m["sender"] for m in messages if m["performative"] == "cfp")
    cfps = [m for m in messages if m["performative"] == "cfp"]
    assert len(cfps) == 1 and cfps[0]["protocol"] == "fipa-contract-net"
    assert cfps[0]["reply_by"] == outcome["reply_by"]
    rejects = {m["receiver"][0]: m for m in messages if m["performative"] == "reject-proposal"
               and m["sender"] == client}
    assert set(rejects) == {"rust-bidder", "go-bidder"}
    assert rejects["go-bidder"]["content"] == {
        "reason": "not the best proposal by min:price", "rule": "min:price"}
    accepts = [m for m in messages if m["performative"] == "accept-proposal"]
    assert [m["receiver"] for m in accepts] == [["zig-bidder"]]
    reports = sorted((m["sender"], m["content"]["event"]) for m in messages
                     if m["receiver"] == ["ledger"])
    assert reports == [("go-bidder", "lost"), ("rust-bidder", "lost"), ("zig-bidder", "won")]
    shown = conversation(drivers_server, cid)
    assert shown["status"] == "done"
    assert shown["parties"]["zig-bidder"]["state"] == "done"
    assert shown["parties"]["sink"]["state"] == "timed-out"
    assert {shown["parties"][n]["state"] for n in ("rust-bidder", "go-bidder")} == {"rejected"}


def test_cfp_prints_a_table_and_the_conversation_shows_it(drivers_server: ServerProcess
                                                          ) -> None:
    out = drivers_server.cli("messages", "cfp", "--to", "rust-bidder,go-bidder,sink",
                             "--content", json.dumps(TASK), "--deadline", "500ms",
                             "--pick", "max:price").stdout
    assert "winner        go-bidder: {\"price\":36,\"task\":\"ship\"}" in out
    assert 'result        inform after' in out and '{"done":true,"price":36}' in out
    rows = {line.split()[0]: line for line in out.splitlines()
            if line.strip().startswith(("rust-bidder", "go-bidder", "sink"))}
    assert "accepted" in rows["go-bidder"]
    assert "rejected" in rows["rust-bidder"] and "not the best proposal by max:price" in out
    assert "timed-out" in rows["sink"]
    cid = next(line.split()[1] for line in out.splitlines() if line.startswith("conversation"))
    chart = drivers_server.cli("conversations", "show", cid).stdout
    assert "fipa-contract-net" in chart
    for act in ("cfp", "propose", "accept-proposal", "reject-proposal", "timeout"):
        assert act in chart, (act, chart)


def test_nobody_proposing_exits_non_zero(drivers_server: ServerProcess) -> None:
    refused, result = cfp(drivers_server, "--to", "rust-bidder,zig-bidder", "--content",
                          json.dumps({"task": "t", "size": 0}), "--deadline", "2s",
                          check=False)
    assert result.returncode == 1
    assert "error: nobody proposed" in result.stderr
    assert refused["status"] == "no-proposals" and refused["winner"] is None
    assert {p["answer"] for p in refused["participants"]} == {"refused"}
    assert refused["participants"][0]["reason"] == "size must be a positive integer"
    assert refused["elapsed_s"] < 1.9  # everyone answered: no waiting for the deadline

    started = time.monotonic()
    silent, result = cfp(drivers_server, "--to", "sink", "--deadline", "1s",
                         transport="grpc", check=False)
    assert result.returncode == 1 and silent["status"] == "no-proposals"
    assert silent["participants"][0]["answer"] == "timed-out"
    assert time.monotonic() - started < 8


def test_proposals_without_the_field_are_rejected_with_the_reason(
        drivers_server: ServerProcess) -> None:
    outcome, result = cfp(drivers_server, "--to", "rust-bidder,zig-bidder", "--content",
                          json.dumps(TASK), "--deadline", "2s", "--pick", "min:cost",
                          check=False)
    assert result.returncode == 1
    assert outcome["status"] == "none-acceptable"
    for answer in outcome["participants"]:
        assert answer["decision"] == "rejected"
        assert answer["reason"] == "the proposal has no number at 'cost' to compare by min:cost"
    rejects = wait_for(drivers_server, outcome["conversation_id"], "reject-proposal", 2)
    assert all(m["content"]["rule"] == "min:cost" for m in rejects
               if m["performative"] == "reject-proposal")


def test_first_and_capability_addresses(drivers_server: ServerProcess) -> None:
    outcome, _ = cfp(drivers_server, "--to", "service:courier/all", "--content",
                     json.dumps(TASK), "--deadline", "5s", "--pick", "first",
                     "--param", "X-Ledger=ledger", transport="grpc")
    assert {p["agent"] for p in outcome["participants"]} == set(BIDDERS)
    first = min(outcome["participants"], key=lambda p: p["after_s"])
    assert outcome["winner"] == first["agent"] and outcome["status"] == "done"
    assert outcome["elapsed_s"] < 4  # everyone answered before the deadline


def test_bad_requests_are_refused(drivers_server: ServerProcess) -> None:
    post = drivers_server.http.post
    for body, field in [({"receiver": []}, "receiver"),
                        ({"receiver": ["a"], "deadline_s": 0}, "deadline_s"),
                        ({"receiver": ["a"], "deadline_s": 301}, "deadline_s"),
                        ({"receiver": ["a"], "pick": "median:price"}, "pick"),
                        ({"receiver": ["a"], "X-Ledger": 3}, "X-Ledger"),
                        ({"receiver": ["a"], "colour": "red"}, "colour")]:
        response = post("/api/v1/protocols/contract-net", json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["field"] == field
    response = post("/api/v1/protocols/subscribe", json={"receiver": ["a", "b"]})
    assert response.status_code == 400 and response.json()["field"] == "receiver"
    response = post("/api/v1/protocols/subscribe/nope/cancel")
    assert response.status_code == 404
    bad = drivers_server.cli("messages", "cfp", "--to", "sink", "--deadline", "soon",
                             check=False)
    assert bad.returncode == 2 and "not a duration" in bad.stderr


# --- subscribe --------------------------------------------------------------------------------
@pytest.mark.parametrize("transport", ["rest", "grpc"])
def test_subscribe_streams_informs_then_cancels(drivers_server: ServerProcess,
                                                transport: str) -> None:
    out = drivers_server.cli("messages", "subscribe", "--to", "ticker", "--content",
                             '{"count": 3}', "--count", "2", "--transport", transport,
                             "-o", "json").stdout
    events = [json.loads(line) for line in out.splitlines()]
    assert [e["event"] for e in events] == ["subscribed", "agree", "inform", "inform",
                                            "cancelled"]
    assert [e["message"]["content"] for e in events[2:4]] == [{"tick": 1}, {"tick": 2}]
    last = events[-1]
    assert last["outcome"] == "cancelled"
    assert last["message"]["performative"] == "cancel"
    assert last["answer"]["performative"] == "inform"
    assert last["answer"]["in_reply_to"] == last["message"]["reply_with"]
    assert last["answer"]["content"]["cancelled"] is True
    cid = events[0]["conversation_id"]
    shown = conversation(drivers_server, cid)
    assert shown["protocol"] == "fipa-subscribe" and shown["status"] == "done"
    assert shown["parties"]["ticker"]["state"] == "cancelled"


@pytest.mark.parametrize("transport", ["rest", "grpc"])
def test_subscribe_until_ctrl_c(drivers_server: ServerProcess, transport: str) -> None:
    env = {"CAXTON_SERVER": drivers_server.url, "CAXTON_GRPC_SERVER": drivers_server.grpc_target,
           "CAXTON_TOKEN": drivers_server.token}
    proc = subprocess.Popen(
        [CAXTON, "messages", "subscribe", "--to", "ticker", "--content", '{"count": 1}',
         "--transport", transport], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **env})
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        assert "subscribed to ticker" in lines[0] and "agree ticker" in lines[1]
        assert 'inform ticker: {"tick":1}' in lines[2]
        drivers_server.cli("messages", "send", "--to", "ticker", "--content", '"tick"')
        lines.append(proc.stdout.readline())  # the tick reached this subscription
        assert 'inform ticker: {"tick":2}' in lines[3]
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert 'cancel answered: inform ticker: {"cancelled":true,"ticks":2} (cancelled)' in out


def test_a_client_that_goes_away_is_cancelled_for(drivers_server: ServerProcess) -> None:
    with drivers_server.client(timeout=30) as http, http.stream(
            "POST", "/api/v1/protocols/subscribe",
            json={"receiver": "ticker", "content": {"count": 1}}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        first = json.loads(next(line for line in lines if line.startswith("data: "))[6:])
    cid = first["conversation_id"]
    messages = wait_for(drivers_server, cid, "cancel", 1)
    messages = wait_for(drivers_server, cid, "inform", 2)  # the tick, and the cancel's answer
    assert messages[-1]["content"] == {"cancelled": True, "ticks": 1}

    with ProtocolClient(drivers_server.grpc_target,
                        token=drivers_server.token) as drivers, drivers.subscribe(
            {"receiver": "ticker", "content": {"count": 2}}) as stream:
        events = iter(stream)
        first = next(events)
        assert [next(events)["event"] for _ in range(3)] == ["agree", "inform", "inform"]
    messages = wait_for(drivers_server, first["conversation_id"], "cancel", 1)
    wait_for(drivers_server, first["conversation_id"], "inform", 3)


def test_cancel_from_another_request(drivers_server: ServerProcess) -> None:
    with ProtocolClient(drivers_server.grpc_target,
                        token=drivers_server.token) as drivers, drivers.subscribe(
            {"receiver": "ticker", "content": {"count": 0}}) as stream:
        events = iter(stream)
        cid = next(events)["conversation_id"]
        assert next(events)["event"] == "agree"
        cancelled = drivers_server.http.post(f"/api/v1/protocols/subscribe/{cid}/cancel").json()
        assert cancelled["outcome"] == "cancelled"
        assert cancelled["answer"]["content"] == {"cancelled": True, "ticks": 0}
        rest = list(events)  # the stream ends with the same event
        assert [e["event"] for e in rest] == ["cancelled"]
        assert rest[0]["answer"]["message_id"] == cancelled["answer"]["message_id"]


def test_subscribing_to_a_refusing_agent_ends_the_stream(drivers_server: ServerProcess
                                                         ) -> None:
    result = drivers_server.cli("messages", "subscribe", "--to", "ticker", "--content",
                                '{"count": 1000}', check=False)
    assert result.returncode == 1
    assert "refuse ticker" in result.stdout
    assert "count must be an integer from 0 to 100" in result.stderr
    missing = drivers_server.cli("messages", "subscribe", "--to", "nobody", "--transport",
                                 "grpc", check=False)
    assert missing.returncode == 1 and "no agent named 'nobody'" in missing.stderr


def test_a_cancel_racing_the_clients_own_disconnect_gets_the_same_answer(
        drivers_server: ServerProcess) -> None:
    # Ctrl-C in `caxton messages subscribe` drops the stream (the server cancels for the
    # client) and then asks to cancel: the second must not be told there is no subscription.
    with drivers_server.client(timeout=30) as http, http.stream(
            "POST", "/api/v1/protocols/subscribe",
            json={"receiver": "ticker", "content": {"count": 0}}) as response:
        lines = response.iter_lines()
        first = json.loads(next(line for line in lines if line.startswith("data: "))[6:])
    cid = first["conversation_id"]
    wait_for(drivers_server, cid, "inform", 1)  # the server's own cancel was answered
    late = drivers_server.http.post(f"/api/v1/protocols/subscribe/{cid}/cancel")
    assert late.status_code == 200, late.text
    assert late.json()["outcome"] == "cancelled"
    assert late.json()["answer"]["content"] == {"cancelled": True, "ticks": 0}
    unknown = drivers_server.http.post("/api/v1/protocols/subscribe/nope/cancel")
    assert unknown.status_code == 404
