"""The conversation manager on its own: a fake store and router, real protocol state machines."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from caxton.domain.acl import AclMessage, Performative, reply
from caxton.router.local import PASS
from caxton.runtime.conversations import ConversationManager, ConversationSettings
from caxton.store.conversation_log import ADD_EVENT, SAVE_STATE, OpenConversation
from caxton.store.writer import Statement

P = Performative


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Harness:
    def __init__(self, **settings: Any) -> None:
        self.submitted: list[Statement] = []
        self.routed: list[AclMessage] = []
        self.clock = Clock()
        self.manager = ConversationManager(
            ConversationSettings(**settings), submit=self.submitted.extend,
            route=self.route, clock=self.clock)

    def route(self, messages: Sequence[AclMessage]) -> None:
        self.routed.extend(messages)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def msg(perf: Performative, sender: str, *receivers: str, **fields: Any) -> AclMessage:
    return AclMessage(performative=perf, sender=sender, receiver=receivers, **fields)


def states(statements: list[Statement]) -> list[tuple[Any, ...]]:
    """The state saves, with the state as the JSON text SQLite would store."""
    return [(*params[:6], str(params[6]), *params[7:])
            for sql, params in statements if sql is SAVE_STATE]


def events(statements: list[Statement]) -> list[tuple[Any, ...]]:
    return [tuple(params) for sql, params in statements if sql is ADD_EVENT]


def test_messages_without_a_known_protocol_pass_untouched() -> None:
    h = Harness()
    assert h.manager.observe(msg(P.INFORM, "a", "b", conversation_id="c1")) is PASS
    assert h.manager.observe(msg(P.INFORM, "a", "b", protocol="my-own")) is PASS
    assert h.manager.open_count == 0


def test_request_conversation_advances_and_is_saved_with_each_message() -> None:
    h = Harness()
    request = msg(P.REQUEST, "a", "b", protocol="fipa-request", conversation_id="c1")
    first = h.manager.observe(request)
    assert not first.hold and not first.answers
    assert states(first.statements)[0][5] == "open"
    agree = reply(request, sender="b", performative=P.AGREE)
    assert states(h.manager.observe(agree).statements)[0][5] == "open"
    done = h.manager.observe(reply(request, sender="b", performative=P.INFORM))
    saved = states(done.statements)[0]
    assert saved[5] == "done"
    revisions = [states(v.statements)[0][7] for v in (first, done)]
    assert revisions == sorted(set(revisions))  # each save supersedes the one before
    assert h.manager.open_count == 0


def test_a_protocol_message_without_conversation_id_gets_one() -> None:
    h = Harness()
    request = msg(P.REQUEST, "a", "b", protocol="fipa-request")
    request.to_wire()
    h.manager.observe(request)
    assert request.conversation_id is not None
    assert request.conversation_id.encode() in request.to_wire()


def test_violation_is_held_answered_with_not_understood_and_recorded() -> None:
    h = Harness()
    request = msg(P.REQUEST, "a", "b", protocol="fipa-request", conversation_id="c1")
    h.manager.observe(request)
    bad = reply(request, sender="b", performative=P.PROPOSE)
    verdict = h.manager.observe(bad)
    assert verdict.hold
    (answer,) = verdict.answers
    assert answer.performative is P.NOT_UNDERSTOOD and answer.sender == "ams"
    assert answer.receiver == ("b",) and answer.in_reply_to == bad.reply_key
    assert answer.conversation_id == "c1"
    assert "fipa-request" in answer.content["reason"]
    assert "agree" in answer.content["expected"]
    (event,) = events(verdict.statements)
    assert event[2] == "violation" and event[3] == "b" and event[4] == bad.message_id
    # The state did not move: the right answer is still accepted.
    assert not h.manager.observe(reply(request, sender="b", performative=P.AGREE)).hold


def test_a_conversation_must_open_with_its_protocols_first_act() -> None:
    h = Harness()
    verdict = h.manager.observe(msg(P.INFORM, "a", "b", protocol="fipa-request",
                                    conversation_id="c1"))
    assert verdict.hold and verdict.answers[0].performative is P.NOT_UNDERSTOOD
    assert h.manager.open_count == 0


def test_a_finished_conversation_refuses_more_messages() -> None:
    h = Harness()
    request = msg(P.REQUEST, "a", "b", protocol="fipa-request", conversation_id="c1")
    h.manager.observe(request)
    h.manager.observe(reply(request, sender="b", performative=P.INFORM))
    again = h.manager.observe(reply(request, sender="b", performative=P.INFORM))
    assert again.hold and "over" in again.answers[0].content["reason"]


def test_platform_reports_do_not_advance_conversations() -> None:
    h = Harness()
    request = msg(P.REQUEST, "a", "b", protocol="fipa-request", conversation_id="c1")
    h.manager.observe(request)
    bounce = reply(request, sender="ams", performative=P.FAILURE)
    assert h.manager.observe(bounce) is PASS


def cfp(deadline: datetime, *bidders: str) -> AclMessage:
    return msg(P.CFP, "buyer", *bidders, protocol="fipa-contract-net", conversation_id="cn",
               reply_by=iso(deadline))


def test_late_proposal_is_kept_from_the_initiator_and_rejected() -> None:
    h = Harness()
    now = datetime.now(UTC)
    call = cfp(now + timedelta(seconds=1), "s1", "s2")
    h.manager.observe(call)
    on_time = reply(call, sender="s1", performative=P.PROPOSE)
    assert not h.manager.observe(on_time).hold
    late = reply(call, sender="s2", performative=P.PROPOSE)
    late.timestamp = iso(now + timedelta(seconds=2))
    verdict = h.manager.observe(late)
    assert verdict.hold
    (answer,) = verdict.answers
    assert answer.performative is P.REJECT_PROPOSAL and answer.receiver == ("s2",)
    assert answer.content["error"] == "late"
    assert events(verdict.statements)[0][2] == "late"


def test_silent_participants_time_out_and_the_initiator_is_told() -> None:
    h = Harness()
    now = datetime.now(UTC)
    call = cfp(now + timedelta(seconds=1), "s1", "s2")
    h.manager.observe(call)
    h.manager.observe(reply(call, sender="s1", performative=P.PROPOSE))
    assert h.manager.sweep(now) == 0  # not yet
    assert h.manager.sweep(now + timedelta(seconds=2)) == 1
    (report,) = h.routed
    assert report.performative is P.FAILURE and report.receiver == ("buyer",)
    assert report.content["party"] == "s2" and report.content["error"] == "timeout"
    assert report.conversation_id == "cn"
    assert [e[2:4] for e in events(h.submitted)] == [("timeout", "s2")]
    # A refusal may still come after the timeout; a proposal is late.
    late = reply(call, sender="s2", performative=P.PROPOSE)
    late.timestamp = iso(now + timedelta(seconds=3))
    assert h.manager.observe(late).answers[0].performative is P.REJECT_PROPOSAL
    # Sweeping again reports nothing twice.
    h.manager.sweep(now + timedelta(seconds=5))
    assert len(h.routed) == 1


def test_idle_conversations_expire() -> None:
    h = Harness(idle_timeout_s=10)
    h.manager.observe(msg(P.REQUEST, "a", "b", protocol="fipa-request", conversation_id="c1"))
    h.clock.now += 5
    h.manager.observe(msg(P.REQUEST, "a", "c", protocol="fipa-request", conversation_id="c2"))
    h.clock.now += 6
    assert h.manager.sweep() == 1
    assert [s[0] for s in states(h.submitted)] == ["c1"]
    assert states(h.submitted)[0][5] == "expired"
    assert events(h.submitted)[0][2] == "expired"
    assert h.manager.open_count == 1


def test_restore_continues_where_the_store_left_off() -> None:
    h = Harness()
    request = msg(P.REQUEST, "a", "b", protocol="fipa-request", conversation_id="c1")
    saved = states(h.manager.observe(request).statements)[0]
    import orjson  # noqa: PLC0415

    again = Harness()
    assert again.manager.restore([OpenConversation("c1", orjson.loads(saved[6]), saved[3],
                                                   saved[7])]) == 1
    verdict = again.manager.observe(reply(request, sender="b", performative=P.AGREE))
    assert not verdict.hold and states(verdict.statements)[0][7] > saved[7]


def test_prune_statements_cut_at_the_retention() -> None:
    h = Harness(retention_s=3600)
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    statements = h.manager.prune_statements(now)
    assert all(params == ("2026-01-01T11:00:00.000000Z",) for _, params in statements)


@pytest.mark.parametrize("name", ["fipa-request", "FIPA-Request", "fipa_request"])
def test_protocol_names_are_matched_loosely(name: str) -> None:
    h = Harness()
    h.manager.observe(msg(P.REQUEST, "a", "b", protocol=name, conversation_id="c1"))
    assert h.manager.open_count == 1


def test_messages_not_naming_the_protocol_are_side_messages() -> None:
    h = Harness()
    request = msg(P.REQUEST, "a", "b", protocol="fipa-request", conversation_id="c1")
    h.manager.observe(request)
    note = msg(P.INFORM, "b", "ledger", conversation_id="c1")
    assert h.manager.observe(note) is PASS
    assert not h.manager.observe(reply(request, sender="b", performative=P.AGREE)).hold


def test_answers_to_the_platform_are_not_steps() -> None:
    # An agent that answers everything (the echo example) must not loop with the platform.
    h = Harness()
    call = msg(P.CFP, "buyer", "echo", protocol="fipa-contract-net", conversation_id="c1")
    h.manager.observe(call)
    wrong = reply(call, sender="echo", performative=P.INFORM)
    (told,) = h.manager.observe(wrong).answers
    assert h.manager.observe(reply(told, sender="echo", performative=P.INFORM)) is PASS


def test_a_request_to_the_platform_is_a_conversation_with_it() -> None:
    h = Harness()
    request = msg(P.REQUEST, "_client-1", "ams", protocol="fipa-request", conversation_id="c1")
    assert states(h.manager.observe(request).statements)
    done = h.manager.observe(reply(request, sender="ams", performative=P.INFORM))
    assert not done.hold and states(done.statements)[0][5] == "done"


def test_a_participants_note_to_an_outsider_naming_the_protocol_passes() -> None:
    h = Harness()
    call = msg(P.CFP, "buyer", "b1", protocol="fipa-contract-net", conversation_id="c1")
    h.manager.observe(call)
    note = msg(P.INFORM, "b1", "ledger", protocol="fipa-contract-net", conversation_id="c1")
    assert h.manager.observe(note) is PASS
    # but a wrong step towards the initiator is still a violation
    assert h.manager.observe(reply(call, sender="b1", performative=P.INFORM)).hold


def test_messages_after_expiry_are_refused_as_expired() -> None:
    h = Harness(idle_timeout_s=10)
    request = msg(P.REQUEST, "a", "b", protocol="fipa-request", conversation_id="c1")
    h.manager.observe(request)
    h.clock.now += 11
    h.manager.sweep()
    late = h.manager.observe(reply(request, sender="b", performative=P.INFORM))
    assert late.hold and "expired" in late.answers[0].content["reason"]
    again = h.manager.observe(msg(P.REQUEST, "a", "b", protocol="fipa-request",
                                  conversation_id="c1"))
    assert again.hold


def test_ended_conversations_come_back_after_a_restart() -> None:
    h = Harness()
    request = msg(P.REQUEST, "a", "b", protocol="fipa-request", conversation_id="c1")
    h.manager.observe(request)
    saved = states(h.manager.observe(reply(request, sender="b",
                                           performative=P.INFORM)).statements)[0]
    import orjson  # noqa: PLC0415

    again = Harness()
    again.manager.restore([OpenConversation("c1", orjson.loads(saved[6]), saved[3], saved[7],
                                            "done")])
    assert again.manager.open_count == 0
    verdict = again.manager.observe(reply(request, sender="b", performative=P.INFORM))
    assert verdict.hold and "over" in verdict.answers[0].content["reason"]


def test_revisions_only_grow_even_for_a_conversation_tracked_anew() -> None:
    h = Harness(recently_closed=0)
    first = states(h.manager.observe(msg(P.REQUEST, "a", "b", protocol="fipa-request",
                                         conversation_id="c1")).statements)[0][7]
    h.manager.observe(msg(P.REQUEST, "a", "c", protocol="fipa-request", conversation_id="c2"))
    again = Harness()  # a restart that forgot c1
    second = states(again.manager.observe(msg(P.REQUEST, "a", "b", protocol="fipa-request",
                                              conversation_id="c9")).statements)[0][7]
    assert second > first
