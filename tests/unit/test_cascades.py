"""Unit tests for loop and fork-bomb control: the hop rule (caxton.domain.cascade), the send
budget of a handler run (caxton.sandbox.hostcalls) and the cascade guard
(caxton.runtime.cascades) in front of a real Router.

Agents here are small Python behaviours, but what they send goes through the real host-call
context (``CallContext.emit``, which gives every send its hops and cascade, and applies the send
budget) and the real router and guard; the "worker" loop does what ``Delivery.handled`` does:
route the sends, then settle the handled message.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Any

import orjson

from caxton.domain.acl import AclMessage, Performative, reply
from caxton.domain.cascade import FANOUT, LOOP, STARTING_ACTS, chain_hops
from caxton.domain.limits import ResourceLimits
from caxton.router.local import Router
from caxton.runtime.cascades import DROP, CascadeGuard
from caxton.sandbox.call_context import LIMIT, OK, CallContext
from caxton.store.writer import OnCommit, Statement

Behaviour = Callable[[AclMessage], list[dict[str, Any]]]  # -> sends (dicts with "reply": bool)


# -- the hop rule ------------------------------------------------------------------------------
def test_a_new_request_starts_the_hops_afresh_and_answers_add_one() -> None:
    cause = AclMessage(Performative.INFORM, "a", ("b",), hops=7)
    for act in STARTING_ACTS:
        assert chain_hops(cause, AclMessage(act, "b", ("a",))) == 0
    answer = AclMessage(Performative.REQUEST, "b", ("a",), in_reply_to="m1")
    assert chain_hops(cause, answer) == 8  # a request sent as an answer is an answer
    for act in (Performative.INFORM, Performative.AGREE, Performative.FAILURE,
                Performative.CONFIRM, Performative.CANCEL):
        assert chain_hops(cause, AclMessage(act, "b", ("a",))) == 8


def test_replies_stay_in_the_cascade_of_what_they_answer() -> None:
    first = AclMessage(Performative.REQUEST, "client", ("a",))
    assert first.cascade is None and first.cascade_root == first.message_id
    second = reply(first, sender="a", performative=Performative.INFORM)
    third = reply(second, sender="client", performative=Performative.INFORM)
    assert second.cascade_root == third.cascade_root == first.message_id
    assert (second.hops, third.hops) == (1, 2)
    assert b"cascade" not in third.to_wire() and b"hops" not in third.to_wire()


# -- the send budget of one handler run ----------------------------------------------------------
class Services:
    def __init__(self) -> None:
        self.logs: list[tuple[str, int, str]] = []

    def state_read(self, agent: str, key: str) -> bytes | None:
        return None

    def state_keys(self, agent: str, prefix: str, limit: int) -> list[str]:
        return []

    def state_room(self, agent: str) -> int:
        return 1 << 20

    def agent_log(self, agent: str, level: int, text: str) -> None:
        self.logs.append((agent, level, text))


def test_sends_past_the_budget_fail_with_limit_and_one_log_line() -> None:
    services = Services()
    ctx = CallContext("spray", ResourceLimits(max_sends_per_message=3), services)
    ctx.begin(AclMessage(Performative.REQUEST, "client", ("spray",), hops=4))
    body = orjson.dumps({"performative": "inform", "receiver": ["sink"], "content": 1})
    codes = [ctx.emit(body, as_reply=False) for _ in range(5)]
    codes.append(ctx.emit(b'{"performative": "inform"}', as_reply=True))  # replies count too
    assert codes == [OK, OK, OK, LIMIT, LIMIT, LIMIT]
    assert len(ctx.outbox) == 3 and ctx.sends_refused == 3
    assert services.logs == [("spray", 3, "send refused: the budget of 3 sends per handled "
                              "message is spent (max_sends_per_message); later sends while "
                              "handling this message are refused too")]
    assert "max_sends_per_message" in ctx.refusal
    ctx.begin(AclMessage(Performative.REQUEST, "client", ("spray",)))  # the budget is per run
    assert ctx.emit(body, as_reply=False) == OK and ctx.sends_refused == 0


def test_what_a_handler_sends_gets_its_hops_and_cascade() -> None:
    ctx = CallContext("b", ResourceLimits(), Services())
    cause = AclMessage(Performative.INFORM, "a", ("b",), hops=3, cascade="root-1")
    ctx.begin(cause)
    ctx.emit(b'{"performative": "inform"}', as_reply=True)
    ctx.emit(b'{"performative": "request", "receiver": ["a"]}', as_reply=False)
    ctx.emit(b'{"performative": "request"}', as_reply=True)
    assert [(m.hops, m.cascade) for m in ctx.outbox] == [(4, "root-1"), (0, "root-1"),
                                                         (4, "root-1")]


# -- the guard in front of a router ------------------------------------------------------------
class Log:
    def __init__(self) -> None:
        self.statements: list[Statement] = []
        self.recorded: list[str] = []

    def message_statements(self, msg: AclMessage, durable: tuple[str, ...]) -> list[Statement]:
        self.recorded.append(msg.message_id)
        return []

    def submit(self, statements: list[Statement], on_commit: OnCommit | None = None) -> None:
        self.statements.extend(statements)


class Agent:
    """A durable destination with a bounded mailbox, run by ``World.run``."""

    durable = True

    def __init__(self, name: str, behaviour: Behaviour, capacity: int = 10_000) -> None:
        self.name, self.behaviour, self.capacity = name, behaviour, capacity
        self.mailbox: collections.deque[AclMessage] = collections.deque()
        self.handled: list[AclMessage] = []
        self.ctx = CallContext(name, ResourceLimits(), Services())

    def refusal(self) -> str | None:
        return "mailbox full" if len(self.mailbox) >= self.capacity else None

    def deliver(self, msg: AclMessage) -> str | None:
        self.mailbox.append(msg)
        return None


class Inbox:
    durable = False

    def __init__(self) -> None:
        self.got: list[AclMessage] = []

    def refusal(self) -> str | None:
        return None

    def deliver(self, msg: AclMessage) -> str | None:
        self.got.append(msg)
        return None


class World:
    def __init__(self, *, max_hops: int = 1000, max_in_flight: int = 1000) -> None:
        self.log = Log()
        self.router = Router(self.log)
        self.guard = CascadeGuard(max_hops=max_hops, max_in_flight=max_in_flight)
        self.router.guard = self.guard
        self.agents: dict[str, Agent] = {}
        self.client = Inbox()
        self.router.register("client", self.client)
        self.routed = 0
        self.router.add_tap(lambda _: self._count())

    def _count(self) -> None:
        self.routed += 1

    def add(self, agent: Agent) -> Agent:
        self.agents[agent.name] = agent
        self.router.register(agent.name, agent)
        return agent

    def run(self, steps: int = 100_000) -> int:
        """Handle messages round-robin until every mailbox is empty; returns the steps."""
        for step in range(steps):
            busy = [a for a in self.agents.values() if a.mailbox]
            if not busy:
                return step
            agent = busy[step % len(busy)]
            msg = agent.mailbox.popleft()
            agent.handled.append(msg)
            ctx = agent.ctx
            ctx.begin(msg)
            for send in agent.behaviour(msg):
                as_reply = send.pop("reply", False)
                assert ctx.emit(orjson.dumps(send), as_reply=as_reply) == OK
            self.router.route_batch(ctx.outbox)  # what Delivery.handled does
            self.router.settled(msg)
        raise AssertionError("still running")

    def cuts(self) -> list[Statement]:
        return [s for s in self.log.statements if "conversation_events" in s[0]]


def echo(msg: AclMessage) -> list[dict[str, Any]]:
    return [{"reply": True, "performative": "inform", "content": msg.content}]


def rally(msg: AclMessage) -> list[dict[str, Any]]:
    """Request/reply pairs: answer a request, make a new request on an answer."""
    left = msg.content if isinstance(msg.content, int) else 0
    if left <= 0:
        return []
    if msg.performative is Performative.REQUEST:
        return [{"reply": True, "performative": "inform", "content": left - 1}]
    if msg.performative is Performative.INFORM:
        return [{"performative": "request", "receiver": [msg.sender],
                 "conversation_id": msg.conversation_id, "content": left - 1}]
    return []


def fork(msg: AclMessage) -> list[dict[str, Any]]:
    return [{"performative": "request", "receiver": ["bomb"], "content": "fork"}] * 2


def test_a_long_dialogue_of_request_reply_pairs_is_never_cut() -> None:
    world = World(max_hops=5, max_in_flight=3)
    world.add(Agent("a", rally))
    world.add(Agent("b", rally))
    world.router.route(AclMessage(Performative.REQUEST, "client", ("a",), reply_to=("b",),
                                  conversation_id="game", content=2000))
    world.run()
    assert len(world.agents["a"].handled) + len(world.agents["b"].handled) == 2001
    assert world.guard.cuts == {} and world.cuts() == []
    assert world.guard.in_flight == 0  # nothing left behind in memory


def test_a_reply_loop_is_cut_once_visibly_and_its_echoes_are_dropped() -> None:
    world = World(max_hops=10)
    a, b = world.add(Agent("a", echo)), world.add(Agent("b", echo))
    start = AclMessage(Performative.REQUEST, "client", ("a",), reply_to=("b",),
                       conversation_id="loop", content="x")
    world.router.route(start)
    world.run()
    # the request, then 10 answers in a row; the 11th is cut, a failure about it is delivered,
    # and the echo of that failure is dropped
    assert len(a.handled) + len(b.handled) == 1 + 10 + 1
    notice = b.handled[-1] if b.handled[-1].sender == "ams" else a.handled[-1]
    assert notice.performative is Performative.FAILURE and notice.content["error"] == LOOP
    assert "11 answers in a row" in notice.content["reason"]
    assert notice.conversation_id == "loop"
    assert world.guard.cuts == {LOOP: 1} and world.guard.dropped == {LOOP: 2}
    cut_id = notice.content["message_id"]
    assert cut_id in world.log.recorded  # kept in the conversation, not delivered
    dead = [s for s in world.log.statements if "'dead'" in s[0]]
    other = {"a": "b", "b": "a"}[notice.receiver[0]]  # the cut message went the other way
    assert [(row[1][0], row[1][1]) for row in dead] == [(cut_id, other)]
    (event,) = world.cuts()
    assert event[1][0] == "loop" and event[1][2] == LOOP and event[1][4] == cut_id
    assert world.guard.in_flight == 0


def test_a_loop_not_counted_in_flight_is_still_cut_only_once() -> None:
    """Regression: a message handed to an agent without the router (as a replayed dead letter
    was) left the count in flight one short, so the cut loop had no record to carry its mark:
    the echo of the failure was cut again, and that failure echoed, for ever."""
    world = World(max_hops=10)
    a, b = world.add(Agent("a", echo)), world.add(Agent("b", echo))
    a.mailbox.append(AclMessage(Performative.INFORM, "b", ("a",), content="x"))  # not counted
    world.run(steps=1000)
    assert len(a.handled) + len(b.handled) == 1 + 10 + 1
    assert world.guard.cuts == {LOOP: 1} and world.guard.dropped == {LOOP: 2}


def test_a_fork_bomb_is_stopped_within_twice_its_width() -> None:
    world = World(max_in_flight=50)
    bomb = world.add(Agent("bomb", fork))
    world.router.route(AclMessage(Performative.REQUEST, "client", ("bomb",)))
    world.run()
    assert world.guard.cuts == {FANOUT: 1}
    assert world.routed <= 2 * 50 + 2  # the API message, ~2 per handled message, the notice
    assert len(bomb.handled) <= 2 * 50 + 2
    assert any(m.sender == "ams" and m.content["error"] == FANOUT for m in bomb.handled)
    assert world.guard.in_flight == 0


def test_a_fork_bomb_refused_by_a_full_mailbox_is_still_stopped() -> None:
    """Bounces count against the width: a bomb whose mailbox (10) is smaller than the limit
    (50) cannot grow wider than its mailbox, but what it has bounced adds up."""
    world = World(max_in_flight=50)
    world.add(Agent("bomb", fork, capacity=10))
    world.router.route(AclMessage(Performative.REQUEST, "client", ("bomb",)))
    world.run(steps=5000)
    assert world.guard.cuts == {FANOUT: 1}
    assert world.router.bounced >= 30


def test_sending_to_nobody_after_every_failure_is_stopped() -> None:
    """A new request to a missing agent, answered by the platform's failure, which the agent
    answers with another new request: hops start afresh each time, the bounces add up."""
    world = World(max_in_flight=20)

    def retry(msg: AclMessage) -> list[dict[str, Any]]:
        return [{"performative": "request", "receiver": ["gone"], "content": 1}]

    agent = world.add(Agent("a", retry))
    world.router.route(AclMessage(Performative.REQUEST, "client", ("a",)))
    world.run(steps=1000)
    assert world.guard.cuts == {FANOUT: 1}
    assert len(agent.handled) <= 22


def test_notices_about_error_acts_are_not_sent_and_nothing_is_left_in_memory() -> None:
    guard = CascadeGuard(max_hops=2, max_in_flight=10)
    failure = AclMessage(Performative.FAILURE, "a", ("b",), hops=3)
    verdict = guard.admit(failure)
    assert verdict is not None and verdict.hold and verdict.answers == []
    assert guard.in_flight == 0  # no cascade in flight: no record kept
    assert guard.admit(AclMessage(Performative.INFORM, "a", ("b",), hops=2)) is None


def test_the_count_in_flight_follows_took_settled_and_bounced() -> None:
    guard = CascadeGuard(max_hops=100, max_in_flight=3)
    root = AclMessage(Performative.REQUEST, "client", ("a",))
    child = AclMessage(Performative.REQUEST, "a", ("b",), cascade=root.message_id)
    guard.took(root)
    guard.took(child)
    assert guard.admit(child) is None  # 2 in flight
    guard.bounced(child)  # 2 in flight + 1 bounced = 3: the next is cut
    verdict = guard.admit(AclMessage(Performative.REQUEST, "a", ("b",), cascade=root.message_id))
    assert verdict is not None and verdict.hold
    later = AclMessage(Performative.INFORM, "b", ("a",), cascade=root.message_id)
    assert guard.admit(later) is DROP
    guard.settled(child)
    guard.settled(root)
    assert guard.in_flight == 0
    # a settled cascade is forgotten: the same root starts afresh (it cannot send any more)
    assert guard.admit(later) is None


class Stopping(Agent):
    """Says it takes mail, then refuses it (it stopped in between)."""

    def deliver(self, msg: AclMessage) -> str | None:
        return "agent 'late' is stopped"


def test_a_delivery_refused_after_all_is_not_left_in_flight() -> None:
    world = World()
    late = world.add(Stopping("late", echo))
    world.router.route(AclMessage(Performative.REQUEST, "client", ("late",)))
    assert not late.mailbox and world.guard.in_flight == 0
    assert world.client.got[0].content["reason"] == "agent 'late' is stopped"


def test_the_smallest_width_still_lets_a_dialogue_run() -> None:
    """2 (the configured minimum): the message being handled, and its answer."""
    world = World(max_in_flight=2)
    world.add(Agent("echo", echo))
    world.add(Agent("a", rally))
    world.add(Agent("b", rally))
    world.router.route(AclMessage(Performative.REQUEST, "client", ("echo",)))
    world.router.route(AclMessage(Performative.REQUEST, "client", ("a",), reply_to=("b",),
                                  content=50))
    world.run()
    assert [m.performative for m in world.client.got] == [Performative.INFORM]
    assert len(world.agents["a"].handled) + len(world.agents["b"].handled) == 51
    assert world.guard.cuts == {}


def test_messages_admitted_ahead_in_the_same_batch_count_as_in_flight() -> None:
    """An agent's turn routes the sends of many handled messages in one batch: those admitted
    before a message count against the width, or a fork bomb overshoots by a turn's sends."""
    guard = CascadeGuard(max_hops=100, max_in_flight=3)
    root = AclMessage(Performative.REQUEST, "client", ("a",))
    guard.took(root)
    child = AclMessage(Performative.REQUEST, "a", ("b",), cascade=root.message_id)
    assert guard.admit(child, ahead=1) is None  # 1 in flight + 1 ahead
    verdict = guard.admit(child, ahead=2)  # 1 + 2 = 3: cut
    assert verdict is not None and verdict.hold and guard.cuts == {FANOUT: 1}
