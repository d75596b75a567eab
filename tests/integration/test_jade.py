"""Caxton and the real JADE 4.6.5 talk FIPA over the HTTP MTP on 127.0.0.1, in both directions.

One JADE main container (``jade_peer.JadePlatform``) runs for the module beside one Caxton
server; each knows the other's MTP address (Caxton through its platform address book). JADE's
side is played by the small agents of ``tests/peers/jade``, which report every message they get
and write; Caxton's by WebAssembly agents from ``examples/`` and by the CLI. Every test counts
the conversation's messages on both sides: each message crosses the MTP exactly once, and no
POST is retried, refused or failed.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import ServerProcess
from tests.integration.jade_peer import JadePlatform, JadeUnavailable, compiled, jade_dir

JADE = "JadePlat"
CAXTON = "caxton"
_WIRE = ("caxton_mtp_retries_total", "caxton_mtp_requests_rejected_total",
         "caxton_mtp_messages_failed_total")


@dataclass
class Platforms:
    caxton: ServerProcess
    jade: JadePlatform

    def conversation(self, cid: str) -> dict[str, Any]:
        response = self.caxton.http.get(f"/api/v1/conversations/{cid}")
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    def metrics(self) -> dict[str, float]:
        text = self.caxton.http.get("/metrics").text
        return {name: float(re.search(rf"^{name} (\S+)$", text, re.M)[1])  # type: ignore[index]
                for name in _WIRE}

    def settled(self, cid: str, *, status: str | None = "done", timeout: float = 60.0,
                missing: tuple[str, ...] = ()) -> tuple[int, int]:
        """Wait until every message of conversation ``cid`` has crossed, then check that each
        crossed exactly once (to each of its receivers; ``missing`` are JADE agents that do
        not exist); returns the (JADE to Caxton, Caxton to JADE) counts."""
        deadline = time.monotonic() + timeout
        while True:
            found = self._crossings(cid, missing)
            done = status is None or self.conversation(cid).get("status") == status
            if (done and found[0] == found[1] and found[2] == found[3]) \
                    or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        time.sleep(0.5)  # a duplicate would come now
        wrote, arrived, owed, got = self._crossings(cid, missing)
        assert arrived == wrote, f"JADE wrote {wrote}; Caxton logged {arrived}"
        assert got == owed, f"Caxton sent {owed}; JADE received {got}"
        if status is not None:
            assert self.conversation(cid)["status"] == status
        print(f"{cid}: JADE->Caxton {len(wrote)}, Caxton->JADE {len(owed)}")
        return len(wrote), len(owed)

    def _crossings(self, cid: str, missing: tuple[str, ...] = ()) -> tuple[list[Sent], ...]:
        """(written at JADE, logged at Caxton, sent by Caxton, received at JADE), each a sorted
        list of (message id, receiver): a message to two agents crosses twice."""
        logged = self.conversation(cid)["messages"]
        wrote = sorted((e["message"]["jade_id"], _guid(r))
                       for e in self.jade.messages("sent", cid)
                       for r in e["message"]["receivers"] if not _at_jade(r))
        arrived = sorted((m["X-Jade-Id"], _guid(r)) for m in logged if "X-Jade-Id" in m
                         for r in m["receiver"])
        gone = {name.lower() for name in missing}
        owed = sorted((m["message_id"], r.lower()) for m in logged for r in m["receiver"]
                      if _at_jade(r) and r.lower() not in gone)
        got = sorted((e["message"]["caxton_id"], f"{e['agent']}@{JADE}".lower())
                     for e in self.jade.messages("recv", cid) if e["message"]["caxton_id"])
        return wrote, arrived, owed, got


Sent = tuple[str, str]  # (message id, receiver)


def _at_jade(name: str) -> bool:
    return name.lower().endswith(f"@{JADE.lower()}")


def _guid(name: str) -> str:
    return (name if "@" in name else f"{name}@{CAXTON}").lower()


@pytest.fixture(scope="module")
def platforms(tmp_path_factory: pytest.TempPathFactory, examples: Path) -> Iterator[Platforms]:
    try:
        jade, classes = jade_dir(), None
        classes = compiled(jade)
    except JadeUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    work = tmp_path_factory.mktemp("jade")
    # JADE listens on 127.0.0.1; with it out of the address book (``without_book``) Caxton
    # answers it at the addresses its messages carry, which this allows.
    caxton = ServerProcess(work / "caxton", env={"CAXTON_PLATFORM_NAME": CAXTON,
                                                 "CAXTON_MTP_ALLOWED_HOSTS": "127.0.0.1"}
                           ).start()
    peer = None
    try:
        for name, module in (("party", "c/fipa_party.wasm"), ("b1", "c/fipa_party.wasm"),
                             ("b2", "c/fipa_party.wasm"), ("echo", "c/echo.wasm"),
                             ("forwarder", "wat/forwarder.wat"), ("ticker", "c/ticker.wasm")):
            caxton.deploy(examples / module, name)
        peer = JadePlatform(jade, classes, caxton_acc=f"{caxton.url}/acc",
                            caxton_platform=CAXTON, log=work / "jade.log").start()
        caxton.cli("platforms", "add", JADE, peer.mtp_url)
        for name, cls, *args in (("jresp", "Responder"), ("jb1", "Bidder", 30),
                                 ("jb2", "Bidder", 20), ("jpub", "Publisher", 2),
                                 ("jsink", "Sink")):
            peer.start_agent(name, cls, *args)
        yield Platforms(caxton, peer)
    finally:
        if peer is not None:
            peer.stop()
        caxton.stop()


@pytest.fixture(autouse=True)
def clean_wire(platforms: Platforms) -> Iterator[None]:
    """No POST of the test is retried, refused (a 400 makes JADE send again) or failed."""
    before = platforms.metrics()
    yield
    assert platforms.metrics() == before


@pytest.fixture
def without_book(platforms: Platforms) -> Iterator[None]:
    """JADE out of Caxton's address book: what reaches it must find its way by the addresses
    that came with JADE's messages."""
    platforms.caxton.cli("platforms", "remove", JADE)
    try:
        yield
    finally:
        platforms.caxton.cli("platforms", "add", JADE, platforms.jade.mtp_url)


def _json(text: str | None) -> Any:
    return json.loads(text) if text else None


# -- fipa-request ------------------------------------------------------------------------------
@pytest.mark.parametrize(("script", "answers"), [
    ({"answer": ["agree", "inform"], "content": "done"}, ["agree", "inform"]),
    ({"answer": ["refuse"], "content": "busy"}, ["refuse"]),
    ({"answer": ["agree", "failure"], "content": "broken"}, ["agree", "failure"]),
    ("do something", ["not-understood"]),
], ids=["agree-inform", "refuse", "failure", "not-understood"])
def test_jade_requests_of_a_caxton_agent(platforms: Platforms, script: Any,
                                         answers: list[str]) -> None:
    name = f"req-{answers[-1]}"
    language = "json" if isinstance(script, dict) else ""
    content = json.dumps(script) if isinstance(script, dict) else script
    platforms.jade.start_agent(name, "Requester", "party", "request", "fipa-request", content,
                               language, "", name)
    assert platforms.jade.result(name)["answers"] == answers
    assert platforms.settled(name) == (1, len(answers))
    parties = platforms.conversation(name)["parties"]
    assert parties["party"]["last"] == answers[-1]


@pytest.mark.parametrize(("order", "first", "last", "content"), [
    ("agree", "agree", "inform", "done"),
    ("refuse", "refuse", "refuse", "busy"),
    ("fail", "agree", "failure", "broken"),
    ("dance", "not-understood", "not-understood", "unknown order: dance"),
], ids=["agree-inform", "refuse", "failure", "not-understood"])
def test_caxton_requests_of_a_jade_agent(platforms: Platforms, order: str, first: str,
                                         last: str, content: str) -> None:
    cid = f"ask-{order}"
    sent = platforms.caxton.cli(
        "messages", "send", "--to", f"jresp@{JADE}", "--protocol", "fipa-request",
        "--content", json.dumps(order), "--conversation-id", cid, "--wait", "-o", "json",
        check=False)
    reply = json.loads(sent.stdout)["reply"]
    assert (reply["performative"], reply["sender"]) == (first, f"jresp@{JADE}")
    assert sent.returncode == (1 if first == "not-understood" else 0), sent.stderr
    # The client waited for the first answer only; the last one is filed under its inbox all
    # the same, and ends the conversation.
    expected = (2, 1) if first != last else (1, 1)
    assert platforms.settled(cid) == expected
    messages = platforms.conversation(cid)["messages"]
    assert messages[-1]["performative"] == last and messages[-1]["content"] == content
    assert messages[-1]["receiver"] == [messages[0]["sender"]]  # _client-..., not ...@caxton


# -- fipa-query --------------------------------------------------------------------------------
@pytest.mark.parametrize("performative", ["query-ref", "query-if"])
def test_jade_queries_a_caxton_agent(platforms: Platforms, performative: str) -> None:
    name = f"{performative}-jade"
    script = {"answer": ["inform"], "content": {"price": 42}}
    platforms.jade.start_agent(name, "Requester", "party", performative, "fipa-query",
                               json.dumps(script), "json", "", name)
    assert platforms.jade.result(name)["answers"] == ["inform"]
    assert platforms.settled(name) == (1, 1)
    (inform,) = [e["message"] for e in platforms.jade.messages("recv", name)]
    assert _json(inform["content"]) == {"price": 42} and inform["language"] == "json"


@pytest.mark.parametrize("performative", ["query-ref", "query-if"])
def test_caxton_queries_a_jade_agent(platforms: Platforms, performative: str) -> None:
    cid = f"{performative}-caxton"
    sent = platforms.caxton.cli(
        "messages", "send", "--to", f"jresp@{JADE}", "--performative", performative,
        "--protocol", "fipa-query", "--content", '"(price book)"', "--conversation-id", cid,
        "--wait")
    assert sent.stdout.strip() == f'inform jresp@{JADE} -> {_inbox(platforms, cid)}: ' \
                                  f'"(answer (price book))"'
    assert platforms.settled(cid) == (1, 1)


def _inbox(platforms: Platforms, cid: str) -> str:
    sender: str = platforms.conversation(cid)["messages"][0]["sender"]
    return sender


# -- fipa-contract-net -------------------------------------------------------------------------
def test_a_jade_contract_net_with_caxton_bidders(platforms: Platforms) -> None:
    for bidder in ("b1", "b2"):  # fipa_party learns its name, to pick its part of the script
        platforms.caxton.cli("messages", "send", "--to", bidder, "--performative", "inform",
                             "--content", json.dumps({"iam": bidder}))
    cfp = {"by": {"b1": {"price": 30}, "b2": {"price": 20}}}
    accept = {"answer": ["inform"], "content": {"done": True}}
    platforms.jade.start_agent("cnet", "CnetInitiator", "b1,b2", json.dumps(cfp), 20,
                               json.dumps(accept))
    outcome = platforms.jade.result("cnet")
    assert sorted((who, act, _json(content)) for who, act, content in outcome["proposals"]) == [
        (f"b1@{CAXTON}", "propose", {"price": 30}), (f"b2@{CAXTON}", "propose", {"price": 20})]
    assert [(who, act, _json(c)) for who, act, c in outcome["results"]] == [
        (f"b2@{CAXTON}", "inform", {"done": True})]
    # cfp to each, accept and reject; two proposals and the winner's inform.
    assert platforms.settled("cnet") == (4, 3)
    parties = platforms.conversation("cnet")["parties"]
    assert (parties["b1"]["last"], parties["b2"]["last"]) == ("reject-proposal", "inform")


def test_caxton_messages_cfp_with_jade_bidders(platforms: Platforms,
                                               without_book: None) -> None:
    url = platforms.jade.mtp_url  # explicit addresses, JADE being out of the address book
    run = platforms.caxton.cli(
        "messages", "cfp", "--to", f"jb1@{JADE},jb2@{JADE}", "--content", '{"task": "print"}',
        "--address", f"jb1@{JADE}={url}", "--address", f"jb2@{JADE}={url}",
        "--deadline", "20s", "--conversation-id", "cfp-jade", "-o", "json")
    outcome = json.loads(run.stdout)
    assert (outcome["status"], outcome["winner"], outcome["proposal"]) == (
        "done", f"jb2@{JADE}", {"price": 20})
    assert outcome["result"]["content"] == {"done": True, "price": 20}
    answers = {p["agent"]: (p["answer"], p["decision"]) for p in outcome["participants"]}
    assert answers == {f"jb1@{JADE}": ("proposed", "rejected"),
                       f"jb2@{JADE}": ("proposed", "accepted")}
    assert outcome["elapsed_s"] < 15  # everyone answered: no wait for the deadline
    # cfp to each, accept and reject; two proposals and the winner's inform.
    assert platforms.settled("cfp-jade") == (3, 4)


def test_a_cfp_to_a_jade_agent_that_does_not_exist_fails_that_participant_at_once(
        platforms: Platforms) -> None:
    run = platforms.caxton.cli(
        "messages", "cfp", "--to", f"jb1@{JADE},ghost@{JADE}", "--content", '{"task": "x"}',
        "--deadline", "6s", "--conversation-id", "cfp-ghost", "-o", "json")
    outcome = json.loads(run.stdout)
    assert (outcome["status"], outcome["winner"]) == ("done", f"jb1@{JADE}")
    ghost = next(p for p in outcome["participants"] if p["agent"] == f"ghost@{JADE}")
    assert ghost["answer"] == "failed" and "Agent not found" in ghost["reason"]
    assert ghost["after_s"] < 6  # JADE's AMS said so: no wait for the deadline
    # After the deadline the platform times the ghost out, which ends the conversation.
    assert platforms.settled("cfp-ghost", missing=(f"ghost@{JADE}",)) == (2, 2)
    parties = platforms.conversation("cfp-ghost")["parties"]
    assert (parties[f"ghost@{JADE}"]["state"], parties[f"jb1@{JADE}"]["last"]) == (
        "timed-out", "inform")


# -- fipa-subscribe ----------------------------------------------------------------------------
def test_jade_subscribes_to_a_caxton_agent(platforms: Platforms) -> None:
    platforms.jade.start_agent("sub", "Subscriber", "ticker", '{"count": 2}', 2)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        acts = [e["message"]["performative"] for e in platforms.jade.messages("recv", "sub")]
        if len(acts) >= 4:
            break
        time.sleep(0.2)
    assert acts == ["agree", "inform", "inform", "inform"], acts  # the last answers the cancel
    last = platforms.jade.messages("recv", "sub")[-1]["message"]
    assert _json(last["content"]) == {"cancelled": True, "ticks": 2}
    # subscribe and cancel; agree, two informs and the cancel's inform.
    assert platforms.settled("sub") == (2, 4)


def test_caxton_subscribes_to_a_jade_agent(platforms: Platforms, without_book: None) -> None:
    # Over gRPC this time, with the publisher's address given.
    run = platforms.caxton.cli("messages", "subscribe", "--to", f"jpub@{JADE}", "--count", "2",
                               "--address", f"jpub@{JADE}={platforms.jade.mtp_url}",
                               "--transport", "grpc", "--conversation-id", "sub-jade",
                               "-o", "json")
    events = [json.loads(line) for line in run.stdout.splitlines()]
    assert [e["event"] for e in events] == ["subscribed", "agree", "inform", "inform",
                                            "cancelled"]
    assert [e["message"]["content"] for e in events[2:4]] == [{"tick": 1}, {"tick": 2}]
    assert events[-1]["outcome"] == "cancelled"
    assert events[-1]["answer"]["content"] == {"cancelled": True}
    assert platforms.settled("sub-jade") == (4, 2)


# -- the directory -----------------------------------------------------------------------------
def test_a_jade_agent_registers_and_searches_in_caxtons_df(platforms: Platforms,
                                                           without_book: None) -> None:
    platforms.caxton.cli("directory", "register", "echo", "--service",
                         '{"type": "caxton-echo", "name": "echoing"}')
    platforms.jade.start_agent("dfuser", "DfUser", "jade-printing", "caxton-echo")
    steps = platforms.jade.result("dfuser")["steps"]
    assert steps == ["registered", {"type": "caxton-echo", "found": [f"echo@{CAXTON}"]},
                     {"type": "jade-printing", "found": [f"dfuser@{JADE}"]}, "deregistered"]
    assert platforms.caxton.http.get(f"/api/v1/directory/dfuser@{JADE}").status_code == 404
    # register, two searches, deregister: one conversation each, a request from JADE (sent by
    # DFService, so not tagged) and df's answer, received once.
    listed = platforms.caxton.http.get("/api/v1/conversations",
                                       params={"participant": f"dfuser@{JADE}"}).json()
    ids = [c["conversation_id"] for c in listed["conversations"]]
    assert len(ids) == 4
    for cid in ids:
        assert [m["performative"] for m in platforms.conversation(cid)["messages"]] == [
            "request", "inform"]
        assert platforms.settled(cid) == (0, 1)


# -- failures and relays between the platforms -------------------------------------------------
def test_a_caxton_agent_learns_that_a_jade_agent_does_not_exist(platforms: Platforms) -> None:
    handled = platforms.caxton.http.get("/api/v1/agents/party").json()["stats"]["handled"]
    script = {"answer": ["agree", "forward", "inform"], "forward": f"ghost@{JADE}",
              "message": {"performative": "request", "content": "anyone there?"}}
    platforms.caxton.cli("messages", "send", "--to", "party", "--protocol", "fipa-request",
                         "--content", json.dumps(script), "--conversation-id", "ghost",
                         "--wait")

    def failure() -> dict[str, Any] | None:
        return next((m for m in platforms.conversation("ghost")["messages"]
                     if m["sender"] == f"ams@{JADE}"), None)

    deadline = time.monotonic() + 30
    while failure() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    report = failure()
    assert report is not None and report["performative"] == "failure"
    assert report["receiver"] == ["party"]
    assert f"ghost@{JADE}" in report["content"] and "MTS-error" in report["content"]
    # It reached the agent (delivered, not refused as a stranger to the conversation).
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = platforms.caxton.http.get("/api/v1/agents/party").json()["stats"]["handled"]
        if now >= handled + 2:
            break
        time.sleep(0.2)
    assert now == handled + 2  # the client's request and the AMS's failure
    conversation = platforms.conversation("ghost")
    assert [m["performative"] for m in conversation["messages"]] == [
        "request", "agree", "request", "inform", "failure"]
    assert conversation["status"] == "done" and not conversation.get("events")
    # The request reached JADE's platform once (no agent there to count it); the AMS's
    # failure reached Caxton once.
    assert platforms.settled("ghost", missing=(f"ghost@{JADE}",)) == (0, 0)
    assert [m["sender"] for m in platforms.conversation("ghost")["messages"]].count(
        f"ams@{JADE}") == 1


def test_a_forwarder_relays_from_jade_and_echo_answers_there(platforms: Platforms,
                                                             without_book: None) -> None:
    # JADE -> forwarder@caxton, which passes it on to echo with reply_to the JADE agent; echo's
    # answer goes straight back to JADE.
    platforms.jade.start_agent("fwd", "Sender", "request", "forwarder", "relay me", "fwd")
    found = platforms.jade.wait(lambda e: e["kind"] == "recv" and e["agent"] == "fwd",
                                what="echo's answer")["message"]
    assert (found["performative"], found["sender"], found["content"]) == (
        "inform", f"echo@{CAXTON}", "relay me")
    assert platforms.settled("fwd", status=None) == (1, 1)
    senders = [m["sender"] for m in platforms.conversation("fwd")["messages"]]
    assert senders == [f"fwd@{JADE}", "forwarder", "echo"]


def test_an_answer_goes_to_the_reply_to_agent_on_jade(platforms: Platforms,
                                                      without_book: None) -> None:
    platforms.jade.start_agent("asker", "Sender", "request", "echo", "for the sink", "to-sink",
                               "jsink")
    found = platforms.jade.wait(lambda e: e["kind"] == "recv" and e["agent"] == "jsink",
                                what="echo's answer at the reply-to agent")["message"]
    assert (found["performative"], found["sender"], found["content"]) == (
        "inform", f"echo@{CAXTON}", "for the sink")
    assert found["conversation_id"] == "to-sink"
    assert platforms.settled("to-sink", status=None) == (1, 1)
    assert not platforms.jade.messages("recv", "to-sink")[:-1]  # the asker got nothing


def test_a_jade_initiator_hears_that_its_caxton_participant_timed_out(
        platforms: Platforms, without_book: None) -> None:
    platforms.jade.start_agent("late", "Requester", "party", "request", "fipa-request",
                               json.dumps({"answer": []}), "json", 2, "late")
    report = platforms.jade.wait(
        lambda e: e["kind"] == "recv" and e["agent"] == "late", timeout=30,
        what="the timeout report")["message"]
    assert (report["performative"], report["sender"]) == ("failure", f"ams@{CAXTON}")
    assert '"timeout"' in report["content"] and '"party"' in report["content"]
    assert platforms.jade.result("late")["answers"] == []  # JADE's own deadline passed too
    assert platforms.settled("late") == (1, 1)
    assert platforms.conversation("late")["parties"]["party"]["state"] == "timed-out"
