"""Agent events: the kinds and their filter, the bus (bounded, drops instead of blocking), the
runtime's emitter, and the protobuf twin of an event's JSON form."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from caxton.api.events import EventBus, EventWatch
from caxton.api.grpc.convert_events import event_from_proto, event_to_proto
from caxton.domain.agent import AgentRecord
from caxton.domain.events import (
    DEPLOYMENT,
    LIFECYCLE,
    AgentEvent,
    EventKind,
    entered,
    parse_kinds,
)
from caxton.domain.lifecycle import AgentState
from caxton.domain.limits import DEFAULT_LIMITS
from caxton.errors import InvalidMessageError
from caxton.runtime.events import EventEmitter, cell_event


def _event(i: int = 0, agent: str = "a", kind: EventKind = EventKind.STARTED) -> AgentEvent:
    return AgentEvent(kind, agent, version=str(i), state="running")


# -- kinds -------------------------------------------------------------------------------------
def test_every_kind_is_in_exactly_one_group_and_states_map_to_kinds() -> None:
    assert set(EventKind) == DEPLOYMENT | LIFECYCLE and not DEPLOYMENT & LIFECYCLE
    assert entered(AgentState.RUNNING) is EventKind.STARTED
    assert entered(AgentState.DRAINING) is EventKind.STOPPING
    assert entered(AgentState.FAILED) is EventKind.FAILED
    assert entered(AgentState.UNLOADED) is None


def test_kind_filter_takes_kinds_and_groups_and_refuses_unknown_names() -> None:
    assert parse_kinds(None) is None and parse_kinds("") is None and parse_kinds(" , ") is None
    assert parse_kinds("failed") == {EventKind.FAILED}
    assert parse_kinds("Failed, removed") == {EventKind.FAILED, EventKind.REMOVED}
    assert parse_kinds("deployment") == DEPLOYMENT
    assert parse_kinds("lifecycle,deployed") == LIFECYCLE | {EventKind.DEPLOYED}
    with pytest.raises(InvalidMessageError) as info:
        parse_kinds("started,exploded")
    assert info.value.field == "kind" and "exploded" in info.value.message


def test_an_event_is_one_flat_json_object_with_every_key() -> None:
    event = AgentEvent(EventKind.UPGRADED, "echo", version="2", module_hash="bb",
                       state="running", old_version="1", old_module_hash="aa")
    out = event.to_dict()
    assert list(out) == ["at", "kind", "agent", "version", "module_hash", "state", "reason",
                         "old_version", "old_module_hash"]
    assert out["kind"] == "upgraded" and out["reason"] is None
    assert out["at"].endswith("Z")


def test_protobuf_twin_gives_back_the_same_dictionary() -> None:
    for event in (AgentEvent(EventKind.UPGRADED, "echo", version="2", module_hash="bb",
                             state="running", old_version="1", old_module_hash="aa"),
                  AgentEvent(EventKind.FAILED, "t", version="1", state="failed",
                             reason="2 consecutive failures"),
                  AgentEvent(EventKind.REMOVED, "gone")):
        assert event_from_proto(event_to_proto(event.to_dict())) == event.to_dict()


# -- the runtime side --------------------------------------------------------------------------
class _Cell:
    def __init__(self, state: AgentState) -> None:
        self.name = "echo"
        self.state = state
        self.record = AgentRecord(name="echo", version="2", module_hash="bb",
                                  limits=DEFAULT_LIMITS)


def test_cell_events_carry_the_record_and_an_upgrade_the_previous_one() -> None:
    previous = AgentRecord(name="echo", version="1", module_hash="aa", limits=DEFAULT_LIMITS)
    up = cell_event(EventKind.UPGRADED, _Cell(AgentState.RUNNING), previous=previous)  # type: ignore[arg-type]
    assert (up.version, up.module_hash, up.old_version, up.old_module_hash, up.state) == (
        "2", "bb", "1", "aa", "running")
    gone = cell_event(EventKind.REMOVED, _Cell(AgentState.DRAINING))  # type: ignore[arg-type]
    assert gone.state is None and gone.old_version is None


def test_emitter_survives_a_failing_listener_and_listeners_can_be_removed() -> None:
    emitter = EventEmitter()
    assert not emitter.listening
    got: list[AgentEvent] = []

    def broken(_: AgentEvent) -> None:
        raise RuntimeError("bug")

    emitter.add_listener(broken)
    remove = emitter.add_listener(got.append)
    emitter.emit(_event(1))
    remove()
    emitter.emit(_event(2))
    assert [e.version for e in got] == ["1"]


# -- the bus -----------------------------------------------------------------------------------
def test_watches_filter_by_agent_and_kind() -> None:
    async def main() -> None:
        bus = EventBus()
        everything = bus.watch()
        of_b = bus.watch(agent="b")
        failures = bus.watch(kind="failed,removed")
        bus.publish(_event(1, "a"))
        bus.publish(_event(2, "b", EventKind.FAILED))
        bus.publish(_event(3, "c", EventKind.REMOVED))
        bus.end()
        assert [e.version async for e in everything] == ["1", "2", "3"]
        assert [e.version async for e in of_b] == ["2"]
        assert [e.version async for e in failures] == ["2", "3"]

    asyncio.run(main())


def test_a_bad_kind_refuses_the_watch() -> None:
    async def main() -> None:
        bus = EventBus()
        with pytest.raises(InvalidMessageError):
            bus.watch(kind="nope")
        assert bus.watching == 0

    asyncio.run(main())


def test_events_from_other_threads_arrive_in_order_and_close_unsubscribes() -> None:
    async def main() -> None:
        bus = EventBus()
        watch = bus.watch(capacity=1000)
        publisher = threading.Thread(target=lambda: [bus.publish(_event(i)) for i in range(200)])
        publisher.start()
        got = [(await watch.next()).version for _ in range(200)]  # type: ignore[union-attr]
        publisher.join()
        assert got == [str(i) for i in range(200)]
        assert bus.watching == 1
        watch.close()
        watch.close()  # twice is harmless
        assert bus.watching == 0
        bus.publish(_event(999))  # nobody watches: nothing happens

    asyncio.run(main())


def test_a_slow_consumer_loses_events_but_never_blocks_the_publisher() -> None:
    async def main() -> None:
        bus = EventBus()
        watch = bus.watch(capacity=10)
        costs: list[float] = []

        def publish() -> None:
            for i in range(20_000):
                started = time.perf_counter()
                bus.publish(_event(i))
                costs.append(time.perf_counter() - started)

        publisher = threading.Thread(target=publish)
        publisher.start()
        publisher.join(30)  # nobody reads meanwhile
        assert not publisher.is_alive()
        await asyncio.sleep(0)  # let the handed-off events land
        assert watch.dropped == 20_000 - 10
        got = [(await watch.next()).version for _ in range(10)]  # type: ignore[union-attr]
        assert got == [str(i) for i in range(10)]  # the first ones, in order
        assert max(costs) < 0.5 and sum(costs) / len(costs) < 0.001
        bus.publish(_event(99))  # room again once read
        assert (await watch.next()).version == "99"  # type: ignore[union-attr]
        bus.end()  # ends even when full
        assert await watch.next() is None
        assert await watch.next() is None  # and stays ended

    asyncio.run(main())


def test_a_watch_opened_after_the_end_ends_at_once_and_a_closed_loop_is_harmless() -> None:
    async def main() -> None:
        bus = EventBus()
        bus.end()
        assert [e async for e in bus.watch()] == []

    asyncio.run(main())
    loop = asyncio.new_event_loop()
    watch = EventWatch(loop)
    loop.close()
    watch.offer(_event())  # the server went away: dropped silently
    watch.close()  # no bus: nothing to do
