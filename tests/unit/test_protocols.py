"""Unit tests for caxton.domain.protocols: every FIPA interaction protocol's happy path and its
failure branches (refuse, failure, not-understood, timeout, cancel, out-of-order messages)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from caxton.domain.acl import AclMessage, Performative
from caxton.domain.protocols import (
    PROTOCOLS,
    ConversationState,
    Kind,
    Party,
    Role,
    begin,
    expire,
    expired,
    overdue,
    protocol_for,
)
from caxton.errors import CaxtonError, ProtocolViolation

DEADLINE = "2030-01-01T00:00:00.000000Z"
BEFORE = "2029-12-31T23:59:59.000000Z"
AFTER = "2030-01-01T00:00:01.000000Z"
NOW_BEFORE = datetime(2029, 12, 31, 12, tzinfo=UTC)
NOW_AFTER = datetime(2030, 1, 2, tzinfo=UTC)


def message(perf: str, sender: str, to: str, **fields: Any) -> AclMessage:
    fields.setdefault("timestamp", BEFORE)
    return AclMessage(performative=Performative(perf), sender=sender,
                      receiver=tuple(to.split(",")), **fields)


class Conversation:
    """Drives one conversation; ``a`` is the initiator unless told otherwise."""

    def __init__(self, protocol: str, initiator: str = "a") -> None:
        found = protocol_for(protocol)
        assert found is not None
        self.state = ConversationState.start(found)
        self.initiator = initiator

    def send(self, perf: str, sender: str, to: str, **fields: Any) -> Conversation:
        msg = message(perf, sender, to, **fields)
        self.state = self.state.advance(msg, from_initiator=sender == self.initiator)
        return self

    def refused(self, perf: str, sender: str, to: str, **fields: Any) -> str:
        before = self.state
        with pytest.raises(ProtocolViolation) as info:
            self.send(perf, sender, to, **fields)
        assert self.state is before
        return str(info.value)

    def states(self) -> dict[str, str]:
        return {name: party.state for name, party in self.state.parties.items()}

    @property
    def done(self) -> bool:
        return self.state.done


# -- registry ---------------------------------------------------------------------------------

NAMES = ["fipa-request", "fipa-query", "fipa-request-when", "fipa-contract-net",
         "fipa-iterated-contract-net", "fipa-subscribe", "fipa-propose", "fipa-brokering",
         "fipa-recruiting", "fipa-auction-english", "fipa-auction-dutch"]


def test_the_registry_holds_the_eleven_protocols_of_the_issue() -> None:
    assert sorted(PROTOCOLS) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_protocol_for_finds_each_name_case_insensitively(name: str) -> None:
    protocol = protocol_for(name)
    assert protocol is not None
    assert protocol.name == name
    assert protocol_for(name.upper()) is protocol
    assert protocol_for(f"  {name.replace('-', '_')} ") is protocol
    assert protocol.opening  # every protocol says how it starts
    assert "start" in protocol.states


def test_protocol_for_knows_the_spec_title_spellings_and_nothing_else() -> None:
    assert protocol_for("FIPA-English-Auction") is PROTOCOLS["fipa-auction-english"]
    assert protocol_for("fipa-dutch-auction") is PROTOCOLS["fipa-auction-dutch"]
    assert protocol_for("my-protocol") is None
    assert protocol_for("") is None
    assert protocol_for(None) is None


def test_begin_starts_a_conversation_only_for_a_known_protocol() -> None:
    state = begin(message("request", "a", "b", protocol="fipa-request"))
    assert state is not None
    assert state.initiator == "a"
    assert state.party("b").state == "asked"
    assert begin(message("request", "a", "b", protocol="home-made")) is None
    assert begin(message("request", "a", "b")) is None


def test_a_violation_is_a_caxton_error_that_says_what_was_expected() -> None:
    conv = Conversation("fipa-request").send("request", "a", "b").send("agree", "b", "a")
    with pytest.raises(ProtocolViolation) as info:
        conv.send("propose", "b", "a")
    error = info.value
    assert isinstance(error, CaxtonError)
    assert error.code == "protocol_violation"
    assert str(error) == ("fipa-request: after 'agree' the participant may send inform, "
                          "failure; not 'propose'")
    assert (error.protocol, error.performative) == ("fipa-request", "propose")
    assert error.expected == ("inform", "failure")


# -- fipa-request -----------------------------------------------------------------------------


def test_request_agree_inform() -> None:
    conv = Conversation("fipa-request").send("request", "a", "b").send("agree", "b", "a")
    assert not conv.done
    conv.send("inform", "b", "a")
    assert conv.done
    assert conv.states() == {"b": "done"}


def test_request_may_be_answered_without_agree() -> None:
    assert Conversation("fipa-request").send("request", "a", "b").send("inform", "b", "a").done


@pytest.mark.parametrize(("answers", "end"), [
    (["refuse"], "refused"),
    (["failure"], "failed"),
    (["agree", "failure"], "failed"),
    (["not-understood"], "not-understood"),
    (["agree", "not-understood"], "not-understood"),
])
def test_request_failure_branches(answers: list[str], end: str) -> None:
    conv = Conversation("fipa-request").send("request", "a", "b")
    for perf in answers:
        conv.send(perf, "b", "a")
    assert conv.states() == {"b": end}
    assert conv.done


def test_the_initiator_may_not_understand_an_answer() -> None:
    conv = Conversation("fipa-request").send("request", "a", "b").send("agree", "b", "a")
    conv.send("not-understood", "a", "b")
    assert conv.states() == {"b": "not-understood"}


def test_request_must_open_the_conversation() -> None:
    conv = Conversation("fipa-request")
    assert conv.refused("inform", "b", "a") == (
        "fipa-request: the conversation begins with the initiator's request, not with b's "
        "message; not 'inform'")
    assert conv.refused("query-ref", "a", "b") == (
        "fipa-request: the initiator's first message to b must be request; not 'query-ref'")
    assert conv.refused("not-understood", "a", "b").startswith("fipa-request: nothing has been")


def test_out_of_order_and_after_the_end() -> None:
    conv = Conversation("fipa-request").send("request", "a", "b")
    assert conv.refused("agree", "a", "b") == (
        "fipa-request: after 'request' it is the participant's turn (agree, refuse, inform, "
        "failure); not 'agree'")
    assert conv.refused("propose", "b", "a") == (
        "fipa-request: after 'request' the participant may send agree, refuse, inform, failure; "
        "not 'propose'")
    conv.send("refuse", "b", "a")
    assert conv.refused("inform", "b", "a") == (
        "fipa-request: the conversation is over (it ended with 'refuse'); not 'inform'")
    assert "over" in conv.refused("request", "a", "b")


def test_strangers_and_self_addressed_messages_are_refused() -> None:
    conv = Conversation("fipa-request").send("request", "a", "b")
    assert conv.refused("inform", "mallory", "a") == (
        "fipa-request: mallory is not a party to this conversation; not 'inform'")
    assert "addressed to no other party" in conv.refused("request", "a", "a")


def test_replies_may_go_to_the_initiators_reply_to_address() -> None:
    conv = Conversation("fipa-request").send("request", "a", "b", reply_to=("_client-1",))
    conv.send("agree", "b", "_client-1").send("inform", "b", "_client-1")
    assert conv.done


def test_several_receivers_each_follow_the_protocol() -> None:
    conv = Conversation("fipa-request").send("request", "a", "b,c")
    conv.send("inform", "b", "a")
    assert not conv.done
    assert conv.refused("agree", "b", "a").startswith("fipa-request: the conversation with b is")
    conv.send("refuse", "c", "a")
    assert conv.done


# -- cancel (the FIPA cancel meta-protocol) -----------------------------------------------------


def test_cancel_answered_with_inform_ends_the_conversation() -> None:
    conv = Conversation("fipa-request").send("request", "a", "b").send("agree", "b", "a")
    conv.send("cancel", "a", "b", reply_with="c-1")
    assert conv.state.party("b").cancel == "c-1"
    assert not conv.done
    conv.send("inform", "b", "a", in_reply_to="c-1")
    assert conv.states() == {"b": "cancelled"}
    assert conv.done


def test_a_failed_cancel_leaves_the_conversation_where_it_was() -> None:
    conv = Conversation("fipa-request").send("request", "a", "b").send("agree", "b", "a")
    conv.send("cancel", "a", "b").send("failure", "b", "a")
    assert conv.states() == {"b": "agreed"}
    assert conv.state.party("b").cancel is None
    conv.send("inform", "b", "a")
    assert conv.states() == {"b": "done"}


def test_a_result_in_flight_is_told_apart_from_the_cancel_answer_by_in_reply_to() -> None:
    conv = Conversation("fipa-request").send("request", "a", "b", reply_with="r-1")
    conv.send("agree", "b", "a", in_reply_to="r-1").send("cancel", "a", "b", reply_with="c-1")
    conv.send("inform", "b", "a", in_reply_to="r-1")  # the result crossed the cancel
    assert conv.states() == {"b": "done"}
    conv.send("inform", "b", "a", in_reply_to="c-1")  # and then the cancel is confirmed
    assert conv.states() == {"b": "cancelled"}


def test_nothing_to_cancel_before_the_request_or_after_the_end() -> None:
    conv = Conversation("fipa-request")
    assert "nothing to cancel" in conv.refused("cancel", "a", "b")
    conv.send("request", "a", "b").send("inform", "b", "a")
    assert conv.refused("cancel", "a", "b") == (
        "fipa-request: after 'inform' b owes the initiator nothing to cancel; not 'cancel'")


def test_only_the_initiator_cancels() -> None:
    conv = Conversation("fipa-request").send("request", "a", "b")
    assert "not 'cancel'" in conv.refused("cancel", "b", "a")


# -- reply-by deadlines -----------------------------------------------------------------------


def test_request_expires_after_its_reply_by() -> None:
    conv = Conversation("fipa-request").send("request", "a", "b", reply_by=DEADLINE)
    assert not expired(conv.state, NOW_BEFORE)
    assert expired(conv.state, NOW_AFTER)
    assert overdue(conv.state, NOW_AFTER) == ("b",)
    timed_out = expire(conv.state, NOW_AFTER)
    assert timed_out.party("b").state == "timed-out"
    assert timed_out.done
    assert not expired(timed_out, NOW_AFTER)
    assert expire(conv.state, NOW_BEFORE) is conv.state
    conv.state = timed_out
    assert conv.refused("inform", "b", "a") == (
        f"fipa-request: b did not answer by {DEADLINE}; its part timed out; not 'inform'")


def test_no_deadline_no_expiry_and_answered_parties_do_not_expire() -> None:
    conv = Conversation("fipa-request").send("request", "a", "b")
    assert not expired(conv.state, NOW_AFTER)
    conv = Conversation("fipa-request").send("request", "a", "b", reply_by=DEADLINE)
    conv.send("inform", "b", "a")
    assert not expired(conv.state, NOW_AFTER)


def test_expiry_takes_naive_now_as_utc() -> None:
    conv = Conversation("fipa-query").send("query-ref", "a", "b", reply_by=DEADLINE)
    assert expired(conv.state, datetime(2030, 1, 2))


# -- persistence ------------------------------------------------------------------------------


def test_state_round_trips_through_json() -> None:
    conv = Conversation("fipa-contract-net").send("cfp", "a", "b,c", reply_by=DEADLINE,
                                                   reply_to=("_client-1",))
    conv.send("propose", "b", "a").send("cancel", "a", "c", reply_with="k")
    data = orjson.loads(orjson.dumps(conv.state.to_dict()))
    protocol = protocol_for(data["protocol"])
    assert protocol is not None
    restored = ConversationState.from_dict(data, protocol)
    assert restored == conv.state
    assert restored.party("b") == Party(Kind.PARTICIPANT, "proposed", Performative.PROPOSE,
                                        Role.PARTICIPANT, DEADLINE, None)
    assert restored.party("c") == Party(Kind.PARTICIPANT, "invited", Performative.CFP,
                                        Role.INITIATOR, DEADLINE, "k")
    with pytest.raises(ValueError, match="fipa-contract-net"):
        ConversationState.from_dict(data, PROTOCOLS["fipa-request"])


# -- fipa-query, fipa-request-when, fipa-propose ---------------------------------------------


@pytest.mark.parametrize("opening", ["query-if", "query-ref"])
def test_query_happy_paths(opening: str) -> None:
    assert Conversation("fipa-query").send(opening, "a", "b").send("inform", "b", "a").done
    conv = Conversation("fipa-query").send(opening, "a", "b").send("agree", "b", "a")
    assert conv.send("failure", "b", "a").states() == {"b": "failed"}


def test_query_refuse_and_wrong_opening() -> None:
    assert Conversation("fipa-query").send("query-if", "a", "b").send("refuse", "b", "a").done
    assert "must be query-if, query-ref" in Conversation("fipa-query").refused("request", "a", "b")


def test_request_when_agrees_then_informs_when_the_condition_holds() -> None:
    conv = Conversation("fipa-request-when").send("request-when", "a", "b", reply_by=DEADLINE)
    conv.send("agree", "b", "a")
    # The deadline was for the agreement; the result waits for the condition.
    assert not expired(conv.state, NOW_AFTER)
    assert conv.send("inform", "b", "a").done


def test_request_when_refuse_and_failure() -> None:
    assert Conversation("fipa-request-when").send("request-when", "a", "b").send(
        "refuse", "b", "a").states() == {"b": "refused"}
    conv = Conversation("fipa-request-when").send("request-when", "a", "b")
    assert conv.send("agree", "b", "a").send("failure", "b", "a").states() == {"b": "failed"}


@pytest.mark.parametrize(("answer", "end"), [("accept-proposal", "accepted"),
                                              ("reject-proposal", "rejected")])
def test_propose_is_accepted_or_rejected(answer: str, end: str) -> None:
    conv = Conversation("fipa-propose").send("propose", "a", "b").send(answer, "b", "a")
    assert conv.states() == {"b": end}
    assert conv.done


def test_propose_cannot_be_answered_with_anything_else() -> None:
    conv = Conversation("fipa-propose").send("propose", "a", "b")
    assert conv.refused("inform", "b", "a") == (
        "fipa-propose: after 'propose' the participant may send accept-proposal, "
        "reject-proposal; not 'inform'")
    assert conv.send("not-understood", "b", "a").done


# -- fipa-subscribe ---------------------------------------------------------------------------


def test_subscription_informs_until_cancelled() -> None:
    conv = Conversation("fipa-subscribe").send("subscribe", "a", "b", reply_with="s-1")
    conv.send("agree", "b", "a", in_reply_to="s-1")
    for _ in range(3):
        conv.send("inform", "b", "a", in_reply_to="s-1")
        assert not conv.done
    conv.send("cancel", "a", "b", reply_with="c-1")
    conv.send("inform", "b", "a", in_reply_to="s-1")  # a notification crossing the cancel
    assert conv.states() == {"b": "active"}
    conv.send("inform", "b", "a", in_reply_to="c-1")
    assert conv.states() == {"b": "cancelled"}
    assert conv.done
    assert "over" in conv.refused("inform", "b", "a")


def test_subscription_may_start_informing_without_agree() -> None:
    conv = Conversation("fipa-subscribe").send("subscribe", "a", "b").send("inform", "b", "a")
    assert conv.states() == {"b": "active"}


@pytest.mark.parametrize(("answers", "end"), [
    (["refuse"], "refused"), (["agree", "inform", "failure"], "failed"),
    (["agree", "not-understood"], "not-understood"),
])
def test_subscription_ends_with_refuse_failure_or_not_understood(answers: list[str],
                                                                  end: str) -> None:
    conv = Conversation("fipa-subscribe").send("subscribe", "a", "b")
    for perf in answers:
        conv.send(perf, "b", "a")
    assert conv.states() == {"b": end}
    assert conv.done


def test_subscription_agree_is_due_by_reply_by_but_notifications_are_not() -> None:
    conv = Conversation("fipa-subscribe").send("subscribe", "a", "b", reply_by=DEADLINE)
    assert expired(conv.state, NOW_AFTER)
    conv.send("agree", "b", "a")
    assert not expired(conv.state, NOW_AFTER)


# -- fipa-contract-net ------------------------------------------------------------------------


def cfp(protocol: str = "fipa-contract-net", to: str = "b,c,d") -> Conversation:
    return Conversation(protocol).send("cfp", "a", to, reply_by=DEADLINE)


def test_contract_net_one_cfp_many_proposals_one_award() -> None:
    conv = cfp()
    assert conv.states() == {"b": "invited", "c": "invited", "d": "invited"}
    conv.send("propose", "b", "a").send("refuse", "c", "a").send("propose", "d", "a")
    conv.send("accept-proposal", "a", "b").send("reject-proposal", "a", "d")
    assert not conv.done
    conv.send("inform", "b", "a")
    assert conv.states() == {"b": "done", "c": "refused", "d": "rejected"}
    assert conv.done


def test_contract_net_accept_and_reject_may_go_out_in_one_message_each() -> None:
    conv = cfp().send("propose", "b", "a").send("propose", "c", "a").send("propose", "d", "a")
    conv.send("accept-proposal", "a", "b,c").send("reject-proposal", "a", "d")
    conv.send("inform", "b", "a").send("failure", "c", "a")
    assert conv.states() == {"b": "done", "c": "failed", "d": "rejected"}
    assert conv.done


def test_contract_net_out_of_order_messages() -> None:
    conv = cfp().send("propose", "b", "a")
    assert conv.refused("accept-proposal", "a", "c") == (
        "fipa-contract-net: after 'cfp' to c it is the participant's turn (propose, refuse); "
        "not 'accept-proposal'")
    assert conv.refused("propose", "b", "a") == (
        "fipa-contract-net: after 'propose' from b it is the initiator's turn "
        "(accept-proposal, reject-proposal); not 'propose'")
    assert conv.refused("inform", "a", "b") == (
        "fipa-contract-net: after 'propose' from b the initiator may send accept-proposal, "
        "reject-proposal; not 'inform'")
    assert "after 'cfp' to b" not in conv.refused("cfp", "a", "b")  # no second round here
    conv.send("accept-proposal", "a", "b")
    assert conv.refused("propose", "b", "a") == (
        "fipa-contract-net: after 'accept-proposal' to b the participant may send inform, "
        "failure; not 'propose'")


def test_contract_net_rejects_late_proposals() -> None:
    conv = cfp().send("propose", "b", "a")
    conv.send("propose", "c", "a", timestamp=AFTER)
    assert conv.states()["c"] == "late"
    assert conv.refused("accept-proposal", "a", "c") == (
        f"fipa-contract-net: c's 'propose' came after its reply-by deadline {DEADLINE}; the "
        "initiator may send reject-proposal; not 'accept-proposal'")
    conv.send("reject-proposal", "a", "c")
    assert conv.states()["c"] == "rejected"


def test_contract_net_times_out_silent_participants() -> None:
    conv = cfp().send("propose", "b", "a")
    assert overdue(conv.state, NOW_AFTER) == ("c", "d")
    conv.state = expire(conv.state, NOW_AFTER)
    assert conv.states() == {"b": "proposed", "c": "timed-out", "d": "timed-out"}
    conv.send("propose", "c", "a", timestamp=AFTER)  # late: to be rejected
    conv.send("refuse", "d", "a", timestamp=AFTER)  # a late refusal is harmless
    conv.send("accept-proposal", "a", "b").send("reject-proposal", "a", "c")
    conv.send("inform", "b", "a")
    assert conv.states() == {"b": "done", "c": "rejected", "d": "refused"}
    assert conv.done


def test_contract_net_not_understood_ends_only_that_participant() -> None:
    conv = cfp().send("not-understood", "c", "a").send("propose", "b", "a")
    assert conv.states() == {"b": "proposed", "c": "not-understood", "d": "invited"}
    assert not conv.done


def test_contract_net_cancel_of_an_awarded_task() -> None:
    conv = cfp(to="b").send("propose", "b", "a").send("accept-proposal", "a", "b")
    conv.send("cancel", "a", "b").send("inform", "b", "a")
    assert conv.states() == {"b": "cancelled"}
    assert conv.done
    conv = cfp(to="b").send("propose", "b", "a")
    assert conv.refused("cancel", "a", "b") == (
        "fipa-contract-net: after 'propose' b owes the initiator nothing to cancel; not 'cancel'")


def test_iterated_contract_net_runs_another_round_with_chosen_proposers() -> None:
    conv = cfp("fipa-iterated-contract-net").send("propose", "b", "a").send("propose", "c", "a")
    conv.send("refuse", "d", "a")
    conv.send("reject-proposal", "a", "c")
    conv.send("cfp", "a", "b", reply_by="2030-02-01T00:00:00.000000Z")  # a revised call
    assert conv.states() == {"b": "invited", "c": "rejected", "d": "refused"}
    assert conv.state.party("b").deadline == "2030-02-01T00:00:00.000000Z"
    assert not expired(conv.state, NOW_AFTER)  # the new round has its own deadline
    conv.send("propose", "b", "a").send("accept-proposal", "a", "b").send("inform", "b", "a")
    assert conv.done
    assert "not 'cfp'" in conv.refused("cfp", "a", "c")  # a rejected bidder is out


# -- auctions ---------------------------------------------------------------------------------


def test_english_auction_rising_bids_leader_wins_and_settles() -> None:
    conv = Conversation("fipa-auction-english")
    conv.send("inform", "a", "b,c").send("cfp", "a", "b,c", reply_by=DEADLINE)
    conv.send("propose", "b", "a").send("accept-proposal", "a", "b")
    conv.send("cfp", "a", "b,c", reply_by=DEADLINE)
    assert conv.states() == {"b": "leading", "c": "called"}
    conv.send("propose", "c", "a").send("accept-proposal", "a", "c")
    assert conv.states() == {"b": "outbid", "c": "leading"}  # the old leader is outbid
    conv.send("cfp", "a", "b,c", reply_by=DEADLINE)
    conv.send("inform", "a", "b,c")  # nobody bid higher: end of auction
    assert conv.states() == {"b": "closed", "c": "won"}
    assert conv.done
    conv.send("request", "a", "c").send("agree", "c", "a").send("inform", "c", "a")
    assert conv.states()["c"] == "settled"
    assert conv.done


def test_english_auction_refusals() -> None:
    conv = Conversation("fipa-auction-english").send("inform", "a", "b,c")
    assert conv.refused("propose", "b", "a") == (
        "fipa-auction-english: after 'inform' to b it is the auctioneer's turn (cfp, inform); "
        "not 'propose'")
    conv.send("cfp", "a", "b,c").send("propose", "b", "a").send("propose", "c", "a")
    assert conv.refused("accept-proposal", "a", "b,c") == (
        "fipa-auction-english: one bid is accepted at a time; not 'accept-proposal'")
    conv.send("accept-proposal", "a", "b").send("reject-proposal", "a", "c")
    conv.send("inform", "a", "b,c")
    assert "not 'request'" in conv.refused("request", "a", "c")  # only the winner settles


def test_english_auction_late_bids_and_silent_rounds() -> None:
    conv = Conversation("fipa-auction-english").send("cfp", "a", "b,c", reply_by=DEADLINE)
    conv.send("propose", "b", "a", timestamp=AFTER)
    assert conv.states()["b"] == "late"
    assert overdue(conv.state, NOW_AFTER) == ("c",)
    conv.state = expire(conv.state, NOW_AFTER)
    conv.send("reject-proposal", "a", "b").send("cfp", "a", "b,c", reply_by=DEADLINE)
    assert conv.states() == {"b": "called", "c": "called"}
    conv.state = expire(conv.state, NOW_AFTER)
    assert conv.states() == {"b": "timed-out", "c": "timed-out"}
    assert not conv.done  # a silent round does not end an auction: the auctioneer does
    conv.send("inform", "a", "b,c")
    assert conv.states() == {"b": "closed", "c": "closed"}
    assert conv.done


def test_dutch_auction_first_bid_wins() -> None:
    conv = Conversation("fipa-auction-dutch").send("cfp", "a", "b,c,d", reply_by=DEADLINE)
    conv.send("cfp", "a", "b,c,d", reply_by=DEADLINE)  # no taker: the price drops
    conv.send("propose", "b", "a").send("propose", "c", "a")
    conv.send("accept-proposal", "a", "b")
    assert conv.refused("cfp", "a", "c,d") == (
        "fipa-auction-dutch: the item went to b; the auctioneer may only reject other bids and "
        "close the auction (inform); not 'cfp'")
    assert "the item went to b" in conv.refused("accept-proposal", "a", "c")
    conv.send("reject-proposal", "a", "c").send("inform", "a", "b,c,d")
    assert conv.states() == {"b": "won", "c": "closed", "d": "closed"}
    assert conv.done
    conv.send("request", "a", "b").send("failure", "b", "a")
    assert conv.states()["b"] == "failed"


def test_dutch_auction_without_a_sale() -> None:
    conv = Conversation("fipa-auction-dutch").send("inform", "a", "b").send("cfp", "a", "b")
    conv.send("not-understood", "b", "a")
    assert conv.done
    conv = Conversation("fipa-auction-dutch").send("cfp", "a", "b").send("inform", "a", "b")
    assert conv.states() == {"b": "closed"}
    assert "not 'request'" in conv.refused("request", "a", "b")


def test_auction_roles_are_named_in_messages() -> None:
    conv = Conversation("fipa-auction-dutch").send("cfp", "a", "b")
    assert "the bidder may send propose" in conv.refused("inform", "b", "a")


# -- brokering and recruiting ------------------------------------------------------------------


def test_brokering_forwards_and_relays_replies() -> None:
    conv = Conversation("fipa-brokering").send("proxy", "a", "broker").send("agree", "broker", "a")
    conv.send("request", "broker", "t1,t2")  # the proxied message, forwarded
    assert conv.states() == {"broker": "brokering", "t1": "contacted", "t2": "contacted"}
    conv.send("inform", "t1", "broker").send("inform", "broker", "a")  # relayed
    assert not conv.done
    conv.send("failure", "t2", "broker").send("failure", "broker", "a")
    assert conv.states() == {"broker": "failed", "t1": "replied", "t2": "replied"}
    assert conv.done


def test_brokering_relays_complete_the_conversation() -> None:
    conv = Conversation("fipa-brokering").send("proxy", "a", "broker").send("agree", "broker", "a")
    conv.send("query-ref", "broker", "t1").send("inform", "t1", "broker")
    conv.send("inform", "broker", "a")
    assert conv.states() == {"broker": "relaying", "t1": "replied"}
    assert conv.done


@pytest.mark.parametrize(("answer", "end"), [("refuse", "refused"), ("failure", "failed")])
def test_brokering_refusal_and_no_match(answer: str, end: str) -> None:
    conv = Conversation("fipa-brokering").send("proxy", "a", "broker").send(answer, "broker", "a")
    assert conv.states() == {"broker": end}
    assert conv.done


def test_brokering_out_of_order() -> None:
    conv = Conversation("fipa-brokering").send("proxy", "a", "broker")
    assert conv.refused("request", "broker", "t1") == (
        "fipa-brokering: broker may contact other agents only after agreeing (it is at "
        "'proxy'); not 'request'")
    assert conv.refused("inform", "t1", "a") == (
        "fipa-brokering: t1 is not a party to this conversation; not 'inform'")
    assert conv.refused("inform", "broker", "a") == (
        "fipa-brokering: after 'proxy' the broker may send agree, refuse, failure; not 'inform'")
    conv.send("agree", "broker", "a")
    assert "the target may send" not in conv.refused("cfp", "a", "broker")


def test_recruiting_targets_answer_the_initiator() -> None:
    conv = Conversation("fipa-recruiting").send("proxy", "a", "r").send("agree", "r", "a")
    conv.send("query-ref", "r", "t1").send("inform", "r", "a")  # done: passed on
    assert not conv.done  # t1 has not answered yet
    conv.send("inform", "t1", "a")
    assert conv.done
    conv.send("query-ref", "a", "t1").send("inform", "t1", "a")  # they may go on talking
    assert conv.states() == {"r": "done", "t1": "replied"}


def test_recruiting_refusals() -> None:
    conv = Conversation("fipa-recruiting").send("proxy", "a", "r")
    assert conv.refused("inform", "r", "a") == (
        "fipa-recruiting: after 'proxy' the recruiter may send agree, refuse, failure; "
        "not 'inform'")
    conv.send("agree", "r", "a").send("inform", "r", "a")
    assert "only after agreeing" in conv.refused("request", "r", "t2")
    assert Conversation("fipa-recruiting").send("proxy", "a", "r").send(
        "failure", "r", "a").done


def test_next_deadline_and_utc_keys() -> None:
    from caxton.domain.acl import AclMessage, Performative  # noqa: PLC0415
    from caxton.domain.protocols import begin, next_deadline, utc_key  # noqa: PLC0415

    assert utc_key("2026-11-23T12:00:00+01:00") == "2026-11-23T11:00:00.000000Z"
    call = AclMessage(performative=Performative.CFP, sender="i", receiver=("a", "b"),
                      protocol="fipa-contract-net", reply_by="2026-11-23T11:00:00.000000Z")
    state = begin(call)
    assert state is not None and next_deadline(state) == "2026-11-23T11:00:00.000000Z"
    note = AclMessage(performative=Performative.INFORM, sender="a", receiver=("ledger",))
    assert state.aside(note) and not state.aside(
        AclMessage(performative=Performative.PROPOSE, sender="a", receiver=("i",)))
