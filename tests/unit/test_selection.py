"""Picking the winning Contract Net proposal (domain.selection), and the drivers' small parsers:
request fields, CLI durations and parameters, and the protobuf form of outcomes and events."""

from __future__ import annotations

from typing import Any

import pytest

from caxton.api.drivers import ContractNetRequest, SubscribeRequest
from caxton.api.grpc import convert_protocols as cp
from caxton.cli._drivers import duration, outcome_error, params
from caxton.cli._errors import CliError
from caxton.domain.selection import Mode, PickRule, Proposal, select
from caxton.errors import InvalidMessageError


def proposals(*pairs: tuple[str, Any]) -> list[Proposal]:
    return [Proposal(agent, content) for agent, content in pairs]


def test_rules_parse_and_print() -> None:
    assert PickRule.parse(None) == PickRule(Mode.MIN, "price")
    assert PickRule.parse("") == PickRule(Mode.MIN, "price")
    assert PickRule.parse("max:score") == PickRule(Mode.MAX, "score")
    assert PickRule.parse(" first ") == PickRule(Mode.FIRST)
    assert PickRule.parse("min:quote.total_eur") == PickRule(Mode.MIN, "quote.total_eur")
    assert [str(PickRule.parse(t)) for t in ("min:price", "max:a.b", "first")] == [
        "min:price", "max:a.b", "first"]


@pytest.mark.parametrize("text", ["median:price", "min", "min:", "max:1abc", "first:price",
                                  "min:a..b", "min:a b", "MIN:price"])
def test_bad_rules_are_refused(text: str) -> None:
    with pytest.raises(InvalidMessageError) as info:
        PickRule.parse(text)
    assert info.value.field == "pick"


def test_min_picks_the_lowest_and_rejects_the_rest_in_arrival_order() -> None:
    got = select(PickRule.parse("min:price"), proposals(
        ("a", {"price": 30}), ("b", {"price": 12.5}), ("c", {"price": 40})))
    assert got.winner == Proposal("b", {"price": 12.5})
    assert [(p.agent, why) for p, why in got.rejected] == [
        ("a", "not the best proposal by min:price"), ("c", "not the best proposal by min:price")]


def test_max_picks_the_highest() -> None:
    got = select(PickRule.parse("max:score"), proposals(
        ("a", {"score": -1}), ("b", {"score": 7}), ("c", {"score": 3})))
    assert got.winner is not None and got.winner.agent == "b"


def test_ties_go_to_the_first_to_arrive() -> None:
    for rule in ("min:price", "max:price"):
        got = select(PickRule.parse(rule), proposals(
            ("late", {"price": 5}), ("early", {"price": 5})))
        assert got.winner is not None and got.winner.agent == "late", rule


def test_first_picks_the_first_whatever_the_content() -> None:
    got = select(PickRule.parse("first"), proposals(("a", None), ("b", {"price": 1})))
    assert got.winner == Proposal("a", None)
    assert [(p.agent, why) for p, why in got.rejected] == [("b", "another proposal came first")]
    assert select(PickRule.parse("first"), []).winner is None


def test_proposals_without_a_number_are_rejected_with_the_reason() -> None:
    got = select(PickRule.parse("min:price"), proposals(
        ("text", {"price": "10"}), ("bool", {"price": True}), ("none", None),
        ("list", [1]), ("ok", {"price": 9}), ("nested", {"price": {"eur": 1}})))
    assert got.winner is not None and got.winner.agent == "ok"
    reasons = {p.agent: why for p, why in got.rejected}
    assert set(reasons) == {"text", "bool", "none", "list", "nested"}
    assert reasons["text"] == "the proposal has no number at 'price' to compare by min:price"
    assert [p.agent for p, _ in got.rejected] == ["text", "bool", "none", "list", "nested"]


def test_nested_fields_and_no_usable_proposal() -> None:
    rule = PickRule.parse("min:quote.total")
    assert rule.value({"quote": {"total": 3}}) == 3.0
    assert rule.value({"quote": 3}) is None
    got = select(rule, proposals(("a", {"total": 1}), ("b", {})))
    assert got.winner is None
    assert [p.agent for p, _ in got.rejected] == ["a", "b"]
    assert select(rule, []) == select(rule, [])
    assert select(rule, []).winner is None and select(rule, []).rejected == ()


def test_contract_net_requests() -> None:
    req = ContractNetRequest.from_json({
        "receiver": "a, b,a", "content": {"size": 2}, "deadline_s": 1.5, "pick": "max:score",
        "result_timeout_s": 0, "ontology": "logistics", "X-Ledger": "books"})
    assert req.receivers == ("a", "b")
    assert (req.deadline_s, req.result_timeout_s, str(req.pick)) == (1.5, 0.0, "max:score")
    assert dict(req.extras) == {"ontology": "logistics", "X-Ledger": "books"}
    default = ContractNetRequest.from_json({"receiver": ["a"]})
    assert (default.deadline_s, default.result_timeout_s, str(default.pick)) == (
        5.0, 10.0, "min:price")
    for body, field in [([], "request"), ({}, "receiver"), ({"receiver": 3}, "receiver"),
                        ({"receiver": "a", "deadline_s": -1}, "deadline_s"),
                        ({"receiver": "a", "deadline_s": True}, "deadline_s"),
                        ({"receiver": "a", "pick": 3}, "pick"),
                        ({"receiver": "a", "conversation_id": ""}, "conversation_id"),
                        ({"receiver": "a", "sender": "me"}, "sender")]:
        with pytest.raises(InvalidMessageError) as info:
            ContractNetRequest.from_json(body)
        assert info.value.field == field, body
    sub = SubscribeRequest.from_json({"receiver": "ticker", "count": 2})
    assert (sub.receiver, sub.count, sub.cancel_timeout_s) == ("ticker", 2, 10.0)
    with pytest.raises(InvalidMessageError):
        SubscribeRequest.from_json({"receiver": "ticker", "count": 0})


def test_durations_and_params() -> None:
    assert duration("5s", "--deadline") == 5.0
    assert duration("250ms", "--deadline") == 0.25
    assert duration("2m", "--deadline") == 120.0
    assert duration("1.5", "--deadline") == 1.5
    for bad in ("", "5 h", "-1s", "s"):
        with pytest.raises(CliError) as info:
            duration(bad, "--deadline")
        assert info.value.exit_code == 2
    assert params(["X-Ledger=books", "x-a=b=c"]) == {"X-Ledger": "books", "x-a": "b=c"}
    with pytest.raises(CliError):
        params(["Ledger=books"])


OUTCOME: dict[str, Any] = {
    "conversation_id": "c1", "protocol": "fipa-contract-net", "rule": "min:price",
    "reply_by": "2026-11-23T10:00:02.000000Z", "status": "done", "winner": "b",
    "proposal": {"price": 3}, "result": {"performative": "inform", "content": {"done": True},
                                         "after_s": 0.25, "message_id": "m9"},
    "participants": [
        {"agent": "b", "answer": "proposed", "after_s": 0.01, "content": {"price": 3},
         "message_id": "m1", "decision": "accepted", "reason": None},
        {"agent": "s", "answer": "timed-out", "after_s": None, "content": None,
         "message_id": None, "decision": None, "reason": "no answer"},
        {"agent": "r", "answer": "refused", "after_s": 0.02, "content": None,
         "message_id": "m2", "decision": None, "reason": None}],
    "elapsed_s": 2.5,
}


def test_outcomes_and_events_survive_protobuf() -> None:
    assert cp.outcome_from_proto(cp.outcome_to_proto(OUTCOME)) == OUTCOME
    empty = {**OUTCOME, "status": "no-proposals", "winner": None, "proposal": None,
             "result": None, "participants": []}
    assert cp.outcome_from_proto(cp.outcome_to_proto(empty)) == empty
    msg = {"message_id": "m1", "performative": "inform", "sender": "ticker",
           "receiver": ["_client-1"], "timestamp": "2026-11-23T10:00:00.000000Z",
           "content": {"tick": 1}}
    event = {"event": "inform", "conversation_id": "c1", "message": msg, "after_s": 0.5}
    assert cp.event_from_proto(cp.event_to_proto(event)) == event
    cancelled = {"event": "cancelled", "conversation_id": "c1", "message": None,
                 "answer": None, "outcome": "no-answer", "reason": "ended", "after_s": 1.0}
    assert cp.event_from_proto(cp.event_to_proto(cancelled)) == cancelled
    request = {"receiver": ["a"], "content": [1], "deadline_s": 2.0, "pick": "first",
               "result_timeout_s": 0.0, "ontology": "o", "X-Ledger": "l"}
    assert cp.contract_net_request_to_json(cp.contract_net_request_from_json(request)) == request
    sub = {"receiver": "t", "content": None, "count": 3, "cancel_timeout_s": 1.0,
           "conversation_id": "c", "X-A": "b"}
    assert cp.subscribe_request_to_json(cp.subscribe_request_from_json(sub)) == sub


def test_exit_codes_follow_the_status() -> None:
    assert outcome_error(OUTCOME) is None
    codes = {status: outcome_error({**OUTCOME, "status": status})
             for status in ("no-proposals", "none-acceptable", "failed", "no-result")}
    assert {s: e.exit_code for s, e in codes.items() if e} == {
        "no-proposals": 1, "none-acceptable": 1, "failed": 1, "no-result": 4}
    assert codes["no-proposals"] is not None
    assert codes["no-proposals"].message == "nobody proposed"
