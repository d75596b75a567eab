"""Every FIPA interaction protocol end to end, with real agents in a real server.

The participants are instances of one scriptable C agent, ``examples/agents/c/fipa_party.c``:
the content of each message tells it how to answer (``{"answer": ["agree", "inform"]}``,
``{"price": 10}``, ``{"answer": []}`` for silence, ``{"forward": ...}`` to broker; see its
header). The test itself is the initiator: it posts messages as ``buyer`` with replies going
to ``_client-buyer`` (a client inbox: replies are recorded in the conversation and never
bounce). Each protocol's happy path and its failure branches (refuse, failure, the
participant's own not-understood, a protocol violation by the agent, a reply-by timeout,
cancel, late proposals, several rounds) are checked through ``GET /api/v1/conversations/{id}``:
its status, each party's state, the events and the message sequence.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import ServerProcess

BUYER = "buyer"
INBOX = "_client-buyer"  # where the buyer's replies go (a client inbox: recorded, not bounced)
PARTIES = ("seller", "b1", "b2", "b3", "broker", "t1")
ASKS = {"fipa-request": "request", "fipa-query": "query-ref",
        "fipa-request-when": "request-when"}
# Conversation ids are unique per call so that tests never see each other's conversations.
_ids = itertools.count(1)

Conv = dict[str, Any]


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def soon(seconds: float) -> str:
    return iso(datetime.now(UTC) + timedelta(seconds=seconds))


def new_cid(label: str) -> str:
    return f"{label}-{next(_ids)}"


def say(server: ServerProcess, perf: str, to: str | list[str], cid: str, protocol: str,
        content: Any = None, **fields: Any) -> dict[str, Any]:
    """Send as the buyer (replies to its inbox); returns the message as the server logged it."""
    body = {"performative": perf, "sender": BUYER, "reply_to": [INBOX], "receiver": to,
            "conversation_id": cid, "protocol": protocol, "content": content, **fields}
    response = server.http.post("/api/v1/messages", json=body)
    assert response.status_code == 202, response.text
    message: dict[str, Any] = response.json()["message"]
    return message


def until(server: ServerProcess, cid: str, check: Callable[[Conv], bool],
          timeout: float = 15) -> Conv:
    deadline = time.monotonic() + timeout
    while True:
        response = server.http.get(f"/api/v1/conversations/{cid}")
        conv: Conv = response.json()
        if response.status_code == 200 and check(conv):
            return conv
        if time.monotonic() > deadline:
            raise AssertionError(f"conversation {cid} never got there: {response.text}")
        time.sleep(0.03)


def settled(server: ServerProcess, cid: str, count: int, timeout: float = 15) -> Conv:
    """The conversation once it holds ``count`` messages (and then no more for a moment)."""
    conv = until(server, cid, lambda c: c["message_count"] >= count, timeout)
    time.sleep(0.15)  # anything a party would still say comes within this
    again: Conv = server.http.get(f"/api/v1/conversations/{cid}").json()
    assert again["message_count"] == count, flow(again)
    assert conv["message_count"] == count, flow(conv)
    return again


def states(conv: Conv) -> dict[str, str]:
    return {name: party["state"] for name, party in conv["parties"].items()}


def _who(name: str) -> str:
    return BUYER if name == INBOX else name


def flow(conv: Conv) -> list[tuple[str, str, str]]:
    """The message sequence as ``(from, act, to)``, the buyer's inbox shown as the buyer."""
    return [(_who(m["sender"]), m["performative"], ",".join(_who(r) for r in m["receiver"]))
            for m in conv["messages"]]


def kinds(conv: Conv) -> list[tuple[str, str]]:
    return [(e["kind"], e["party"]) for e in conv["events"]]


def message(conv: Conv, sender: str, perf: str) -> dict[str, Any]:
    found = [m for m in conv["messages"] if _who(m["sender"]) == sender
             and m["performative"] == perf]
    assert found, f"no {perf} from {sender} in {flow(conv)}"
    last: dict[str, Any] = found[-1]
    return last


def assert_violation(conv: Conv, party: str, perf: str, reason: str) -> dict[str, Any]:
    """``party``'s ``perf`` was held: a violation event, and not-understood from ams to it."""
    offending = message(conv, party, perf)
    (event,) = [e for e in conv["events"] if e["kind"] == "violation"]
    assert (event["party"], event["message_id"]) == (party, offending["message_id"])
    assert reason in event["detail"], event["detail"]
    answer: dict[str, Any] = next(m for m in conv["messages"] if m["sender"] == "ams"
                                  and m["performative"] == "not-understood")
    assert answer["receiver"] == [INBOX if party == BUYER else party]
    assert answer["in_reply_to"] == offending["message_id"]
    assert answer["content"]["error"] == "protocol-violation"
    assert reason in answer["content"]["reason"]
    assert answer["content"]["protocol"] == conv["protocol"]
    return answer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, examples: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("flows") / "data").start()
    try:
        module = (examples / "c" / "fipa_party.wasm").read_bytes()
        for name in PARTIES:
            response = proc.http.post("/api/v1/agents", params={"name": name}, content=module,
                                      headers={"content-type": "application/wasm"})
            assert response.status_code == 201, response.text
            # Tell each party its name, for scripts that differ per receiver ({"by": ...}).
            response = proc.http.post("/api/v1/messages", json={
                "performative": "inform", "receiver": name, "content": {"iam": name}})
            assert response.status_code == 202, response.text
        yield proc
    finally:
        proc.stop()


# -- fipa-request, fipa-query, fipa-request-when ----------------------------------------------

@pytest.mark.parametrize("protocol", list(ASKS))
def test_ask_happy_path_agree_then_inform(server: ServerProcess, protocol: str) -> None:
    cid, opening = new_cid(protocol), ASKS[protocol]
    asked = say(server, opening, "seller", cid, protocol,
                {"answer": ["agree", "inform"], "content": {"result": 42}})
    conv = settled(server, cid, 3)
    assert conv["status"] == "done" and conv["protocol"] == protocol
    assert conv["initiator"] == BUYER
    assert states(conv) == {"seller": "done"}
    assert flow(conv) == [(BUYER, opening, "seller"), ("seller", "agree", BUYER),
                          ("seller", "inform", BUYER)]
    inform = message(conv, "seller", "inform")
    assert inform["content"] == {"result": 42}
    assert inform["in_reply_to"] == asked["message_id"] and inform["protocol"] == protocol
    assert conv["events"] == []


def test_query_if_answered_at_once(server: ServerProcess) -> None:
    cid = new_cid("query-if")
    say(server, "query-if", "seller", cid, "fipa-query", {"answer": ["inform"], "content": True})
    conv = settled(server, cid, 2)
    assert conv["status"] == "done" and states(conv) == {"seller": "done"}
    assert flow(conv)[1] == ("seller", "inform", BUYER)


@pytest.mark.parametrize("protocol", list(ASKS))
@pytest.mark.parametrize(("answers", "end"), [(["refuse"], "refused"),
                                              (["agree", "failure"], "failed"),
                                              (["failure"], "failed")])
def test_ask_refuse_and_failure(server: ServerProcess, protocol: str, answers: list[str],
                                end: str) -> None:
    cid = new_cid(protocol)
    say(server, ASKS[protocol], "seller", cid, protocol, {"answer": answers})
    conv = settled(server, cid, 1 + len(answers))
    assert conv["status"] == "done"
    assert states(conv) == {"seller": end}
    assert [act for _, act, _ in flow(conv)[1:]] == answers
    assert conv["events"] == []


@pytest.mark.parametrize("protocol", list(ASKS))
def test_ask_the_participant_does_not_understand(server: ServerProcess, protocol: str) -> None:
    cid = new_cid(protocol)
    say(server, ASKS[protocol], "seller", cid, protocol, "gibberish")  # not a script
    conv = settled(server, cid, 2)
    assert conv["status"] == "done"
    assert states(conv) == {"seller": "not-understood"}
    answer = message(conv, "seller", "not-understood")
    assert answer["receiver"] == [INBOX] and answer["content"]["error"] == "no-script"
    assert conv["events"] == []


@pytest.mark.parametrize("protocol", list(ASKS))
def test_ask_violation_by_the_agent_is_held_and_the_cancel_still_works(
        server: ServerProcess, protocol: str) -> None:
    cid = new_cid(protocol)
    say(server, ASKS[protocol], "seller", cid, protocol, {"answer": ["agree", "propose"]})
    conv = settled(server, cid, 4)
    assert flow(conv) == [(BUYER, ASKS[protocol], "seller"), ("seller", "agree", BUYER),
                          ("seller", "propose", BUYER), ("ams", "not-understood", "seller")]
    assert_violation(conv, "seller", "propose",
                     f"{protocol}: after 'agree' the participant may send inform, failure; "
                     f"not 'propose'")
    assert conv["status"] == "open" and states(conv) == {"seller": "agreed"}
    # The conversation goes on from where it was: the buyer cancels, the seller confirms.
    say(server, "cancel", "seller", cid, protocol, {})
    conv = settled(server, cid, 6)
    assert conv["status"] == "done" and states(conv) == {"seller": "cancelled"}


def test_query_answered_twice_is_over(server: ServerProcess) -> None:
    cid = new_cid("query-twice")
    say(server, "query-ref", "seller", cid, "fipa-query", {"answer": ["inform", "inform"]})
    conv = settled(server, cid, 4)
    assert_violation(conv, "seller", "inform",
                     "fipa-query: the conversation is over (it ended with 'inform')")
    assert conv["status"] == "done" and states(conv) == {"seller": "done"}


@pytest.mark.parametrize("protocol", list(ASKS))
def test_ask_cancel_answered_inform_and_failure(server: ServerProcess, protocol: str) -> None:
    cid = new_cid(protocol)
    say(server, ASKS[protocol], "seller", cid, protocol, {"answer": ["agree"]})
    until(server, cid, lambda c: states(c) == {"seller": "agreed"})
    # A cancel the participant cannot honour: failure, and the conversation carries on.
    refused = say(server, "cancel", "seller", cid, protocol, {"answer": ["failure"]})
    conv = settled(server, cid, 4)
    assert message(conv, "seller", "failure")["in_reply_to"] == refused["message_id"]
    assert conv["status"] == "open" and states(conv) == {"seller": "agreed"}
    cancel = say(server, "cancel", "seller", cid, protocol, reply_with="stop-1")
    conv = settled(server, cid, 6)
    assert conv["status"] == "done" and states(conv) == {"seller": "cancelled"}
    inform = message(conv, "seller", "inform")
    assert inform["in_reply_to"] == "stop-1" and inform["content"] == {"cancelled": True}
    assert cancel["reply_with"] == "stop-1"
    assert [act for _, act, _ in flow(conv)] == [ASKS[protocol], "agree", "cancel", "failure",
                                                 "cancel", "inform"]
    assert conv["events"] == []


# -- reply-by timeouts, every protocol at once (one deadline for all of them) -----------------

# case: (protocol, opening act, receivers, content, expected states, timed out, status)
TIMEOUTS: dict[str, tuple[str, str, list[str], Any, dict[str, str], list[str], str]] = {
    "request": ("fipa-request", "request", ["seller"], {"answer": []},
                {"seller": "timed-out"}, ["seller"], "done"),
    "request-agreed": ("fipa-request", "request", ["seller"], {"answer": ["agree"]},
                       {"seller": "timed-out"}, ["seller"], "done"),
    "query": ("fipa-query", "query-if", ["seller"], {"answer": []},
              {"seller": "timed-out"}, ["seller"], "done"),
    "request-when": ("fipa-request-when", "request-when", ["seller"], {"answer": []},
                     {"seller": "timed-out"}, ["seller"], "done"),
    # After agreeing, a request-when waits for its condition: the deadline no longer applies.
    "request-when-agreed": ("fipa-request-when", "request-when", ["seller"],
                            {"answer": ["agree"]}, {"seller": "agreed"}, [], "open"),
    "subscribe": ("fipa-subscribe", "subscribe", ["seller"], {"answer": []},
                  {"seller": "timed-out"}, ["seller"], "done"),
    "subscribe-active": ("fipa-subscribe", "subscribe", ["seller"],
                         {"answer": ["agree", "inform"]}, {"seller": "active"}, [], "open"),
    "propose": ("fipa-propose", "propose", ["seller"], {"answer": []},
                {"seller": "timed-out"}, ["seller"], "done"),
    "contract-net": ("fipa-contract-net", "cfp", ["b1", "b2"],
                     {"by": {"b1": {"price": 5}, "b2": {"answer": []}}},
                     {"b1": "proposed", "b2": "timed-out"}, ["b2"], "open"),
    "iterated-contract-net": ("fipa-iterated-contract-net", "cfp", ["b3"], {"answer": []},
                              {"b3": "timed-out"}, ["b3"], "done"),
    # A silent bidder has only skipped a round: the auction is not over.
    "auction-english": ("fipa-auction-english", "cfp", ["b1"], {"answer": []},
                        {"b1": "timed-out"}, ["b1"], "open"),
    "auction-dutch": ("fipa-auction-dutch", "cfp", ["b2"], {"answer": []},
                      {"b2": "timed-out"}, ["b2"], "open"),
    "brokering": ("fipa-brokering", "proxy", ["broker"], {"answer": []},
                  {"broker": "timed-out"}, ["broker"], "done"),
    "recruiting": ("fipa-recruiting", "proxy", ["broker"], {"answer": []},
                   {"broker": "timed-out"}, ["broker"], "done"),
}


@pytest.fixture(scope="module")
def timeouts(server: ServerProcess) -> dict[str, tuple[str, str]]:
    """Start every timeout case with the same reply-by, then wait until it has passed."""
    deadline = datetime.now(UTC) + timedelta(seconds=1.5)
    started = {}
    for case, (protocol, opening, to, content, *_) in TIMEOUTS.items():
        cid = new_cid(f"timeout-{case}")
        say(server, opening, to, cid, protocol, content, reply_by=iso(deadline))
        started[case] = (cid, iso(deadline))
    # Every timed-out case has been reported; the others have had their chance to be.
    def reported(count: int) -> Callable[[Conv], bool]:
        return lambda conv: sum(e["kind"] == "timeout" for e in conv["events"]) >= count

    for case, (cid, _) in started.items():
        until(server, cid, reported(len(TIMEOUTS[case][5])))
    assert datetime.now(UTC) >= deadline
    time.sleep(0.3)  # several sweeps after the deadline
    return started


@pytest.mark.parametrize("case", list(TIMEOUTS))
def test_reply_by_timeout(server: ServerProcess, timeouts: dict[str, tuple[str, str]],
                          case: str) -> None:
    protocol, _, to, _, expected, timed_out, status = TIMEOUTS[case]
    cid, deadline = timeouts[case]
    conv = server.http.get(f"/api/v1/conversations/{cid}").json()
    assert states(conv) == expected
    assert conv["status"] == status
    assert kinds(conv) == [("timeout", party) for party in timed_out]
    reports = [m for m in conv["messages"] if m["sender"] == "ams"]
    assert [m["content"]["party"] for m in reports] == timed_out
    for report in reports:
        assert report["performative"] == "failure" and report["receiver"] == [INBOX]
        assert report["protocol"] == protocol
        assert report["content"]["error"] == "timeout"
        assert report["content"]["state"] == "timed-out"
        assert report["content"]["deadline"].startswith(deadline[:-1])
    for party in to:
        assert conv["parties"][party]["deadline"].startswith(deadline[:-1])


def test_a_bidder_who_skipped_a_round_is_called_again(
        server: ServerProcess, timeouts: dict[str, tuple[str, str]]) -> None:
    cid, _ = timeouts["auction-english"]
    say(server, "cfp", "b1", cid, "fipa-auction-english", {"price": 7})
    conv = until(server, cid, lambda c: states(c) == {"b1": "bid"})
    assert message(conv, "b1", "propose")["content"] == {"price": 7}
    assert [e["kind"] for e in conv["events"]] == ["timeout"]


def test_a_timed_out_part_is_over(server: ServerProcess,
                                  timeouts: dict[str, tuple[str, str]]) -> None:
    cid, _ = timeouts["request"]
    before = server.http.get(f"/api/v1/conversations/{cid}").json()["message_count"]
    # The buyer asks the timed-out seller again: held, and the buyer is told why.
    say(server, "request", "seller", cid, "fipa-request", {"answer": ["inform"]})
    conv = settled(server, cid, before + 2)
    assert_violation(conv, BUYER, "request", "fipa-request: seller did not answer by")
    assert states(conv) == {"seller": "timed-out"}


def test_a_waiting_client_gets_the_timeout_failure_at_its_reply_to(
        server: ServerProcess) -> None:
    """The timeout report goes where the initiator asked replies to go (FIPA reply-to): a
    client that waits while sending under a name of its own (its inbox in reply_to) gets it."""
    cid = new_cid("timeout-wait")
    response = server.http.post("/api/v1/messages", params={"wait": "true", "timeout": "10"},
                                json={"performative": "request", "sender": BUYER,
                                      "receiver": "seller", "conversation_id": cid,
                                      "protocol": "fipa-request", "reply_by": soon(1),
                                      "content": {"answer": []}})
    assert response.status_code == 200, response.text
    sent, reply = response.json()["message"], response.json()["reply"]
    assert (reply["sender"], reply["performative"]) == ("ams", "failure")
    assert reply["receiver"] == sent["reply_to"]
    assert reply["content"]["error"] == "timeout" and reply["content"]["party"] == "seller"


# -- fipa-subscribe ----------------------------------------------------------------------------

def test_subscribe_notifies_until_cancelled(server: ServerProcess) -> None:
    cid = new_cid("subscribe")
    say(server, "subscribe", "seller", cid, "fipa-subscribe",
        {"answer": ["agree", "inform", "inform"], "content": {"tick": 1}})
    conv = settled(server, cid, 4)
    assert conv["status"] == "open" and states(conv) == {"seller": "active"}
    say(server, "cancel", "seller", cid, "fipa-subscribe", {"stop": True})
    conv = settled(server, cid, 6)
    assert conv["status"] == "done" and states(conv) == {"seller": "cancelled"}
    assert flow(conv) == [(BUYER, "subscribe", "seller"), ("seller", "agree", BUYER),
                          ("seller", "inform", BUYER), ("seller", "inform", BUYER),
                          (BUYER, "cancel", "seller"), ("seller", "inform", BUYER)]
    assert conv["events"] == []


@pytest.mark.parametrize(("content", "end", "count"), [
    ({"answer": ["refuse"]}, "refused", 2),
    ({"answer": ["agree", "inform", "failure"]}, "failed", 4),
    ("gibberish", "not-understood", 2),
])
def test_subscribe_ends_with_refuse_failure_or_not_understood(
        server: ServerProcess, content: Any, end: str, count: int) -> None:
    cid = new_cid("subscribe")
    say(server, "subscribe", "seller", cid, "fipa-subscribe", content)
    conv = settled(server, cid, count)
    assert conv["status"] == "done" and states(conv) == {"seller": end}
    assert conv["events"] == []


def test_subscribe_violation_and_refused_cancel(server: ServerProcess) -> None:
    cid = new_cid("subscribe")
    say(server, "subscribe", "seller", cid, "fipa-subscribe", {"answer": ["propose"]})
    conv = settled(server, cid, 3)
    assert_violation(conv, "seller", "propose", "fipa-subscribe: after 'subscribe'")
    assert states(conv) == {"seller": "subscribed"}
    say(server, "subscribe", "seller", cid2 := new_cid("subscribe"), "fipa-subscribe",
        {"answer": ["agree"]})
    until(server, cid2, lambda c: states(c) == {"seller": "active"})
    say(server, "cancel", "seller", cid2, "fipa-subscribe", {"answer": ["failure"]})
    conv = settled(server, cid2, 4)
    assert conv["status"] == "open" and states(conv) == {"seller": "active"}


# -- fipa-propose ------------------------------------------------------------------------------

@pytest.mark.parametrize(("answer", "end"), [("accept-proposal", "accepted"),
                                             ("reject-proposal", "rejected")])
def test_propose_accepted_or_rejected(server: ServerProcess, answer: str, end: str) -> None:
    cid = new_cid("propose")
    say(server, "propose", "seller", cid, "fipa-propose", {"answer": [answer]})
    conv = settled(server, cid, 2)
    assert conv["status"] == "done" and states(conv) == {"seller": end}
    assert flow(conv) == [(BUYER, "propose", "seller"), ("seller", answer, BUYER)]


def test_propose_not_understood_and_violation(server: ServerProcess) -> None:
    cid = new_cid("propose")
    say(server, "propose", "seller", cid, "fipa-propose", "gibberish")
    conv = settled(server, cid, 2)
    assert conv["status"] == "done" and states(conv) == {"seller": "not-understood"}
    cid = new_cid("propose")
    say(server, "propose", "seller", cid, "fipa-propose", {"answer": ["inform"]})
    conv = settled(server, cid, 3)
    assert_violation(conv, "seller", "inform", "fipa-propose: after 'propose' the participant "
                     "may send accept-proposal, reject-proposal; not 'inform'")
    assert conv["status"] == "open" and states(conv) == {"seller": "proposed"}


# -- fipa-contract-net -------------------------------------------------------------------------

CN = "fipa-contract-net"


def test_contract_net_one_cfp_two_proposals_one_refusal_one_award(server: ServerProcess) -> None:
    cid = new_cid("cn")
    say(server, "cfp", ["b1", "b2", "b3"], cid, CN,
        {"by": {"b1": {"price": 10}, "b2": {"price": 12}, "b3": {"answer": ["refuse"]}}},
        reply_by=soon(30))
    conv = settled(server, cid, 4)
    assert states(conv) == {"b1": "proposed", "b2": "proposed", "b3": "refused"}
    assert message(conv, "b1", "propose")["content"] == {"price": 10}
    assert message(conv, "b2", "propose")["content"] == {"price": 12}
    say(server, "accept-proposal", "b1", cid, CN,
        {"answer": ["inform"], "content": {"delivered": True}})
    say(server, "reject-proposal", "b2", cid, CN, {"reason": "too high"})
    conv = settled(server, cid, 7)
    assert conv["status"] == "done"
    assert states(conv) == {"b1": "done", "b2": "rejected", "b3": "refused"}
    assert sorted(flow(conv)[1:4]) == [("b1", "propose", BUYER), ("b2", "propose", BUYER),
                                       ("b3", "refuse", BUYER)]
    assert sorted(flow(conv)[4:]) == [("b1", "inform", BUYER), (BUYER, "accept-proposal", "b1"),
                                      (BUYER, "reject-proposal", "b2")]
    assert flow(conv).index(("b1", "inform", BUYER)) > flow(conv).index(
        (BUYER, "accept-proposal", "b1"))
    assert message(conv, "b1", "inform")["content"] == {"delivered": True}
    assert conv["events"] == []


def test_contract_net_failure_not_understood_violation_and_cancel(
        server: ServerProcess) -> None:
    cid = new_cid("cn")
    say(server, "cfp", ["b1", "b2", "b3"], cid, CN,
        {"by": {"b1": {"price": 10}, "b2": {"price": 11}, "b3": {"answer": ["inform"]}}})
    conv = settled(server, cid, 5)  # cfp, two proposals, b3's inform and ams's answer to it
    assert_violation(conv, "b3", "inform", "fipa-contract-net: after 'cfp' to b3 the "
                     "participant may send propose, refuse; not 'inform'")
    say(server, "accept-proposal", "b1", cid, CN, {"answer": ["failure"]})
    say(server, "accept-proposal", "b2", cid, CN, {"answer": []})
    conv = settled(server, cid, 8)
    assert states(conv) == {"b1": "failed", "b2": "accepted", "b3": "invited"}
    # The awarded task is cancelled; b3's part ends with the buyer not understanding it.
    say(server, "cancel", "b2", cid, CN)
    say(server, "not-understood", "b3", cid, CN, {"error": "you said inform"})
    conv = settled(server, cid, 11)
    assert states(conv) == {"b1": "failed", "b2": "cancelled", "b3": "not-understood"}
    assert conv["status"] == "done"
    cid = new_cid("cn")
    say(server, "cfp", "b1", cid, CN, "gibberish")
    conv = settled(server, cid, 2)
    assert conv["status"] == "done" and states(conv) == {"b1": "not-understood"}


def test_contract_net_late_proposal_is_rejected_by_ams(server: ServerProcess) -> None:
    cid = new_cid("cn-late")
    # The reply-by has passed already. (The sweeper may time both out before they answer: a
    # proposal is late all the same, and a refusal still ends a part, so only the count of
    # timeout reports depends on the race.)
    say(server, "cfp", ["b1", "b2"], cid, CN,
        {"by": {"b1": {"price": 9}, "b2": {"answer": ["refuse"]}}},
        reply_by=iso(datetime.now(UTC) - timedelta(seconds=1)))
    conv = until(server, cid, lambda c: states(c) == {"b1": "late", "b2": "refused"}
                 and any(m["performative"] == "reject-proposal" for m in c["messages"]))
    proposal = message(conv, "b1", "propose")
    reject = message(conv, "ams", "reject-proposal")
    assert reject["receiver"] == ["b1"] and reject["in_reply_to"] == proposal["message_id"]
    assert reject["content"]["error"] == "late"
    (late,) = [e for e in conv["events"] if e["kind"] == "late"]
    assert (late["party"], late["message_id"]) == ("b1", proposal["message_id"])
    assert {e["kind"] for e in conv["events"]} <= {"late", "timeout"}
    assert conv["status"] == "done"  # late and refused both end a part
    # The buyer may only reject the late proposal, not accept it.
    say(server, "accept-proposal", "b1", cid, CN, {"answer": ["inform"]})
    conv = until(server, cid, lambda c: any(e["kind"] == "violation" for e in c["events"]))
    (event,) = [e for e in conv["events"] if e["kind"] == "violation"]
    assert event["party"] == BUYER
    assert "b1's 'propose' came after its reply-by deadline" in event["detail"]
    say(server, "reject-proposal", "b1", cid, CN)
    conv = until(server, cid, lambda c: states(c) == {"b1": "rejected", "b2": "refused"})
    assert conv["status"] == "done"
    assert not any(m["performative"] == "inform" for m in conv["messages"])  # b1 never ran


# -- fipa-iterated-contract-net ----------------------------------------------------------------

ICN = "fipa-iterated-contract-net"


def test_iterated_contract_net_second_round(server: ServerProcess) -> None:
    cid = new_cid("icn")
    say(server, "cfp", ["b1", "b2", "b3"], cid, ICN,
        {"by": {"b1": {"price": 10}, "b2": {"price": 12}, "b3": {"price": 15}}})
    conv = settled(server, cid, 4)
    assert states(conv) == {"b1": "proposed", "b2": "proposed", "b3": "proposed"}
    # Round two with the two cheapest; the third is rejected.
    say(server, "cfp", ["b1", "b2"], cid, ICN,
        {"by": {"b1": {"price": 8}, "b2": {"answer": ["refuse"]}}})
    say(server, "reject-proposal", "b3", cid, ICN)
    conv = settled(server, cid, 8)
    assert states(conv) == {"b1": "proposed", "b2": "refused", "b3": "rejected"}
    assert message(conv, "b1", "propose")["content"] == {"price": 8}
    say(server, "accept-proposal", "b1", cid, ICN, {"answer": ["inform"]})
    conv = settled(server, cid, 10)
    assert conv["status"] == "done"
    assert states(conv) == {"b1": "done", "b2": "refused", "b3": "rejected"}
    assert [act for _, act, _ in flow(conv)].count("cfp") == 2
    assert conv["events"] == []


def test_iterated_contract_net_cfp_to_a_refuser_is_a_violation(server: ServerProcess) -> None:
    cid = new_cid("icn")
    say(server, "cfp", "b2", cid, ICN, {"answer": ["refuse"]})
    settled(server, cid, 2)
    say(server, "cfp", "b2", cid, ICN, {"price": 3})
    conv = settled(server, cid, 4)
    assert_violation(conv, BUYER, "cfp", "fipa-iterated-contract-net: the conversation is over")


# -- fipa-auction-english ----------------------------------------------------------------------

EN = "fipa-auction-english"


def test_english_auction_rising_rounds_leader_wins_and_settles(server: ServerProcess) -> None:
    cid = new_cid("english")
    say(server, "inform", ["b1", "b2"], cid, EN, {"item": "vase", "start": 10})
    conv = settled(server, cid, 1)
    assert states(conv) == {"b1": "announced", "b2": "announced"}
    # Round 1 at 10: both bid; b2 bids more and leads.
    say(server, "cfp", ["b1", "b2"], cid, EN,
        {"ask": 10, "by": {"b1": {"price": 10}, "b2": {"price": 11}}}, reply_by=soon(30))
    until(server, cid, lambda c: states(c) == {"b1": "bid", "b2": "bid"})
    say(server, "accept-proposal", "b2", cid, EN, {"accepted": 11})
    say(server, "reject-proposal", "b1", cid, EN, {"rejected": 10})
    conv = settled(server, cid, 6)
    assert states(conv) == {"b1": "outbid", "b2": "leading"}
    # Round 2 at 12: b1 outbids the leader, who is outbid in turn.
    say(server, "cfp", ["b1", "b2"], cid, EN,
        {"ask": 12, "by": {"b1": {"price": 12}, "b2": {"answer": []}}}, reply_by=soon(30))
    until(server, cid, lambda c: states(c) == {"b1": "bid", "b2": "leading"})
    say(server, "accept-proposal", "b1", cid, EN, {"accepted": 12})
    conv = settled(server, cid, 9)
    assert states(conv) == {"b1": "leading", "b2": "outbid"}
    # Round 3 at 13: nobody bids; the auction closes and b1 pays.
    say(server, "cfp", ["b1", "b2"], cid, EN, {"ask": 13, "answer": []})
    say(server, "inform", ["b1", "b2"], cid, EN, {"sold": 12})
    conv = settled(server, cid, 11)
    assert states(conv) == {"b1": "won", "b2": "closed"}
    say(server, "request", "b1", cid, EN, {"answer": ["agree", "inform"]})
    conv = settled(server, cid, 14)
    assert conv["status"] == "done"
    assert states(conv) == {"b1": "settled", "b2": "closed"}
    assert [act for who, act, _ in flow(conv) if who == BUYER] == [
        "inform", "cfp", "accept-proposal", "reject-proposal", "cfp", "accept-proposal", "cfp",
        "inform", "request"]
    bids = [(m["sender"], m["content"]["price"]) for m in conv["messages"]
            if m["performative"] == "propose"]
    assert sorted(bids[:2]) == [("b1", 10), ("b2", 11)] and bids[2:] == [("b1", 12)]
    assert conv["events"] == []


def test_english_auction_violations_late_bid_and_refused_settlement(
        server: ServerProcess) -> None:
    cid = new_cid("english")
    say(server, "cfp", ["b1", "b2"], cid, EN,
        {"by": {"b1": {"price": 5}, "b2": {"answer": ["inform"]}}})
    conv = settled(server, cid, 4)
    assert_violation(conv, "b2", "inform", "fipa-auction-english: after 'cfp' to b2 the bidder "
                     "may send propose; not 'inform'")
    # One bid is accepted at a time.
    say(server, "accept-proposal", ["b1", "b2"], cid, EN)
    conv = settled(server, cid, 6)
    assert [e["party"] for e in conv["events"]] == ["b2", BUYER]
    assert "one bid is accepted at a time" in conv["events"][1]["detail"]
    # A bid after the round's reply-by is late: ams rejects it (b2 may have been timed out
    # first, which changes nothing but the events).
    say(server, "cfp", "b2", cid, EN, {"price": 6},
        reply_by=iso(datetime.now(UTC) - timedelta(seconds=1)))
    conv = until(server, cid, lambda c: states(c) == {"b1": "bid", "b2": "late"}
                 and any(m["performative"] == "reject-proposal" for m in c["messages"]))
    assert message(conv, "ams", "reject-proposal")["receiver"] == ["b2"]
    assert [e["party"] for e in conv["events"] if e["kind"] == "late"] == ["b2"]
    say(server, "accept-proposal", "b1", cid, EN)
    say(server, "inform", ["b1", "b2"], cid, EN, {"sold": 5})
    say(server, "request", "b1", cid, EN, {"answer": ["refuse"]})
    conv = until(server, cid, lambda c: states(c).get("b1") == "refused")
    assert conv["status"] == "done"
    assert states(conv) == {"b1": "refused", "b2": "closed"}


# -- fipa-auction-dutch ------------------------------------------------------------------------

NL = "fipa-auction-dutch"


def test_dutch_auction_falling_price_first_accepted_bid_wins(server: ServerProcess) -> None:
    cid = new_cid("dutch")
    say(server, "cfp", ["b1", "b2"], cid, NL, {"ask": 20, "answer": []})  # nobody bids
    say(server, "cfp", ["b1", "b2"], cid, NL, {"ask": 15, "price": 15})   # both bid
    conv = settled(server, cid, 4)
    assert states(conv) == {"b1": "bid", "b2": "bid"}
    say(server, "accept-proposal", "b1", cid, NL)
    conv = settled(server, cid, 5)
    assert states(conv) == {"b1": "won", "b2": "bid"}
    # Sold: neither another winner nor another round. (Both are held: b2 would answer them.)
    say(server, "accept-proposal", "b2", cid, NL, {"answer": ["inform"]})
    conv = settled(server, cid, 7)
    assert_violation(conv, BUYER, "accept-proposal",
                     "fipa-auction-dutch: the item went to b1; the auctioneer may only reject "
                     "other bids and close the auction (inform)")
    say(server, "cfp", ["b2"], cid, NL, {"price": 10})
    conv = settled(server, cid, 9)
    assert [e["kind"] for e in conv["events"]] == ["violation", "violation"]
    say(server, "reject-proposal", "b2", cid, NL)
    say(server, "inform", ["b1", "b2"], cid, NL, {"sold": 15})
    conv = settled(server, cid, 11)
    assert states(conv) == {"b1": "won", "b2": "closed"}
    say(server, "request", "b1", cid, NL, {"answer": ["agree", "inform"]})
    conv = settled(server, cid, 14)
    assert conv["status"] == "done"
    assert states(conv) == {"b1": "settled", "b2": "closed"}


def test_dutch_auction_failed_settlement_and_bad_bidder(server: ServerProcess) -> None:
    cid = new_cid("dutch")
    say(server, "cfp", ["b1", "b2"], cid, NL,
        {"by": {"b1": {"price": 9}, "b2": {"answer": ["agree"]}}})
    conv = settled(server, cid, 4)
    assert_violation(conv, "b2", "agree", "fipa-auction-dutch: after 'cfp' to b2")
    say(server, "accept-proposal", "b1", cid, NL)
    say(server, "not-understood", "b2", cid, NL)
    say(server, "inform", "b1", cid, NL, {"sold": 9})
    say(server, "request", "b1", cid, NL, {"answer": ["agree", "failure"]})
    conv = settled(server, cid, 10)
    assert conv["status"] == "done"
    assert states(conv) == {"b1": "failed", "b2": "not-understood"}


# -- fipa-brokering ----------------------------------------------------------------------------

BR = "fipa-brokering"


def broker_script(target_answers: list[str], *, mode: str = "relay",
                  broker: tuple[str, ...] = ("agree", "forward")) -> dict[str, Any]:
    return {"answer": list(broker), "forward": "t1", "mode": mode,
            "message": {"performative": "request",
                        "content": {"answer": target_answers, "content": {"stock": 7}}}}


def test_brokering_forwards_and_relays_the_targets_answer(server: ServerProcess) -> None:
    cid = new_cid("broker")
    say(server, "proxy", "broker", cid, BR, broker_script(["inform"]))
    conv = settled(server, cid, 5)
    assert conv["status"] == "done"
    assert states(conv) == {"broker": "relaying", "t1": "replied"}
    assert conv["parties"]["t1"]["kind"] == "target"
    assert flow(conv) == [(BUYER, "proxy", "broker"), ("broker", "agree", BUYER),
                          ("broker", "request", "t1"), ("t1", "inform", "broker"),
                          ("broker", "inform", BUYER)]
    assert [m["content"] for m in conv["messages"][3:]] == [{"stock": 7}, {"stock": 7}]
    assert all(m["protocol"] == BR for m in conv["messages"])
    assert conv["events"] == []
    # The broker forgot the relay once it was done: a second conversation works the same.
    cid = new_cid("broker")
    say(server, "proxy", "broker", cid, BR, broker_script(["agree", "inform"]))
    conv = settled(server, cid, 7)
    assert [act for who, act, _ in flow(conv) if who == "broker"][-2:] == ["agree", "inform"]
    assert states(conv) == {"broker": "relaying", "t1": "replied"}


@pytest.mark.parametrize(("content", "end", "count"), [
    ({"answer": ["refuse"]}, "refused", 2),
    ({"answer": ["agree", "failure"]}, "failed", 3),   # nobody to broker to
    ("gibberish", "not-understood", 2),
])
def test_brokering_refuse_failure_not_understood(server: ServerProcess, content: Any, end: str,
                                                 count: int) -> None:
    cid = new_cid("broker")
    say(server, "proxy", "broker", cid, BR, content)
    conv = settled(server, cid, count)
    assert conv["status"] == "done" and states(conv) == {"broker": end}


def test_brokering_relays_the_targets_failure(server: ServerProcess) -> None:
    cid = new_cid("broker")
    say(server, "proxy", "broker", cid, BR, broker_script(["failure"]))
    conv = settled(server, cid, 5)
    assert flow(conv)[3:] == [("t1", "failure", "broker"), ("broker", "failure", BUYER)]
    assert conv["status"] == "done"
    assert states(conv) == {"broker": "failed", "t1": "replied"}


def test_brokering_forward_before_agreeing_is_a_violation(server: ServerProcess) -> None:
    cid = new_cid("broker")
    say(server, "proxy", "broker", cid, BR, broker_script(["inform"], broker=("forward",)))
    conv = settled(server, cid, 3)
    assert flow(conv) == [(BUYER, "proxy", "broker"), ("broker", "request", "t1"),
                          ("ams", "not-understood", "broker")]
    assert_violation(conv, "broker", "request",
                     "fipa-brokering: broker may contact other agents only after agreeing")
    assert states(conv) == {"broker": "proxied"}  # t1 was never contacted


def test_brokering_cancelled_while_brokering(server: ServerProcess) -> None:
    cid = new_cid("broker")
    say(server, "proxy", "broker", cid, BR, {"answer": ["agree"]})
    until(server, cid, lambda c: states(c) == {"broker": "brokering"})
    say(server, "cancel", "broker", cid, BR)
    conv = settled(server, cid, 4)
    assert conv["status"] == "done" and states(conv) == {"broker": "cancelled"}


# -- fipa-recruiting ---------------------------------------------------------------------------

RC = "fipa-recruiting"


def test_recruiting_target_answers_the_initiator_directly(server: ServerProcess) -> None:
    cid = new_cid("recruit")
    say(server, "proxy", "broker", cid, RC,
        broker_script(["inform"], mode="direct", broker=("agree", "forward", "inform")))
    conv = settled(server, cid, 5)
    assert conv["status"] == "done"
    assert states(conv) == {"broker": "done", "t1": "replied"}
    assert flow(conv) == [(BUYER, "proxy", "broker"), ("broker", "agree", BUYER),
                          ("broker", "request", "t1"), ("broker", "inform", BUYER),
                          ("t1", "inform", BUYER)]
    assert conv["messages"][2]["reply_to"] == [INBOX]
    assert conv["events"] == []
    # The buyer may go on talking with the recruited agent.
    say(server, "request", "t1", cid, RC, {"answer": ["inform"]})
    conv = settled(server, cid, 7)
    assert states(conv) == {"broker": "done", "t1": "replied"}
    assert conv["events"] == []


@pytest.mark.parametrize(("content", "end", "count"), [
    ({"answer": ["refuse"]}, "refused", 2),
    ({"answer": ["agree", "failure"]}, "failed", 3),
    ("gibberish", "not-understood", 2),
])
def test_recruiting_refuse_failure_not_understood(server: ServerProcess, content: Any, end: str,
                                                  count: int) -> None:
    cid = new_cid("recruit")
    say(server, "proxy", "broker", cid, RC, content)
    conv = settled(server, cid, count)
    assert conv["status"] == "done" and states(conv) == {"broker": end}


def test_recruiting_inform_before_agree_is_a_violation(server: ServerProcess) -> None:
    cid = new_cid("recruit")
    say(server, "proxy", "broker", cid, RC, {"answer": ["inform"]})
    conv = settled(server, cid, 3)
    assert_violation(conv, "broker", "inform", "fipa-recruiting: after 'proxy' the recruiter "
                     "may send agree, refuse, failure; not 'inform'")
    assert states(conv) == {"broker": "proxied"}


# -- the agents ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("content", "act", "answer"), [
    ({"answer": [{"performative": "inform", "content": 5}]}, "inform", 5),
    ({"answer": ["inform"], "content": [1, "two"]}, "inform", [1, "two"]),
    ({"answer": ["inform"]}, "inform", None),
    ({"answer": "inform"}, "not-understood", None),  # not a list
    ({"answer": ["agree", "forward"]}, "not-understood", None),  # forward to nobody
])
def test_the_party_reads_its_script(server: ServerProcess, content: Any, act: str,
                                    answer: Any) -> None:
    cid = new_cid("script")
    say(server, "request", "seller", cid, "fipa-request", content)
    conv = until(server, cid, lambda c: any(m["performative"] == act for m in c["messages"]))
    reply = message(conv, "seller", act)
    if act == "not-understood":
        assert reply["content"]["error"] == "no-script"
        assert states(conv)["seller"] == "not-understood"
    else:
        assert reply["content"] == answer and states(conv) == {"seller": "done"}


def test_no_party_failed_a_message(server: ServerProcess) -> None:
    """Every message reached a party that handled it; none failed (no trap, no refused send)."""
    for name in PARTIES:
        stats = server.http.get(f"/api/v1/agents/{name}").json()["stats"]
        assert stats["failed"] == 0, (name, stats)
        assert stats["handled"] > 1, (name, stats)
