"""Unit tests for caxton.runtime.scheduler: order, the slow-agent cap, stopping."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from caxton.runtime.scheduler import Scheduler, reserved_workers


class Agent:
    """A runnable that takes ``seconds`` per turn, for ``turns`` turns."""

    running = 0
    most = 0
    guard = threading.Lock()

    def __init__(self, name: str, seconds: float, turns: int, log: list[str]) -> None:
        self.name, self.seconds, self.turns, self.log = name, seconds, turns, log
        self.done = threading.Event()

    def run(self) -> bool:
        with Agent.guard:
            Agent.running += 1
            Agent.most = max(Agent.most, Agent.running)
        time.sleep(self.seconds)
        with Agent.guard:
            Agent.running -= 1
        self.log.append(self.name)
        self.turns -= 1
        if self.turns <= 0:
            self.done.set()
            return False
        return True


@pytest.fixture
def scheduler() -> Iterator[Scheduler]:
    pool = Scheduler(4, slow_s=0.05)
    pool.start()
    yield pool
    pool.stop()


def test_reserved_workers() -> None:
    assert [reserved_workers(n) for n in (1, 2, 3, 4, 7, 8, 16)] == [0, 1, 1, 1, 1, 2, 4]


def test_quick_agents_run_in_arrival_order() -> None:
    pool = Scheduler(1)
    log: list[str] = []
    agents = [Agent(f"a{i}", 0, 1, log) for i in range(5)]
    for agent in agents:
        pool.ready(agent)
    pool.start()
    for agent in agents:
        assert agent.done.wait(5)
    pool.stop()
    assert log == ["a0", "a1", "a2", "a3", "a4"]


def test_slow_agents_leave_a_worker_for_quick_ones(scheduler: Scheduler) -> None:
    log: list[str] = []
    slow = [Agent(f"slow{i}", 1.0, 2, log) for i in range(4)]
    for agent in slow:
        scheduler.ready(agent)
    time.sleep(1.3)  # first turns done: all four are known to be slow, three run again
    quick = Agent("quick", 0, 1, log)
    finished_before = len(log)
    scheduler.ready(quick)
    assert quick.done.wait(10)
    # It ran on the reserved worker: no slow turn ended while it waited.
    assert log[finished_before:] == ["quick"], log
    assert scheduler.slow_cap == 3
    for agent in slow:
        assert agent.done.wait(10)
    assert sorted(log) == ["quick", *sorted(f"slow{i}" for i in range(4) for _ in range(2))]


def test_at_most_the_cap_of_slow_agents_run_at_once(scheduler: Scheduler) -> None:
    log: list[str] = []
    slow = [Agent(f"slow{i}", 0.1, 6, log) for i in range(6)]
    for agent in slow:
        scheduler.ready(agent)
    time.sleep(0.3)  # all known to be slow now
    Agent.most = 0
    time.sleep(0.5)
    assert Agent.most <= scheduler.slow_cap
    for agent in slow:
        assert agent.done.wait(10)


def test_an_agent_that_is_quick_again_is_treated_as_quick(scheduler: Scheduler) -> None:
    log: list[str] = []
    agent = Agent("a", 0.1, 3, log)
    scheduler.ready(agent)
    assert agent.done.wait(5)
    assert agent in scheduler._slow
    agent.seconds, agent.turns = 0, 1
    agent.done.clear()
    scheduler.ready(agent)
    assert agent.done.wait(5)
    assert agent not in scheduler._slow


def test_one_worker_still_runs_slow_agents() -> None:
    pool = Scheduler(1, slow_s=0.01)
    pool.start()
    log: list[str] = []
    agents = [Agent("slow", 0.05, 3, log), Agent("quick", 0, 2, log)]
    for agent in agents:
        pool.ready(agent)
    for agent in agents:
        assert agent.done.wait(5)
    pool.stop()
    assert sorted(log) == ["quick", "quick", "slow", "slow", "slow"]


def test_a_failing_run_does_not_kill_the_worker() -> None:
    class Broken:
        def run(self) -> bool:
            raise RuntimeError("bookkeeping bug")

    pool = Scheduler(1)
    pool.start()
    pool.ready(Broken())
    after = Agent("after", 0, 1, [])
    pool.ready(after)
    assert after.done.wait(5)
    pool.stop()


def test_stop_runs_what_is_queued_then_ends_the_threads() -> None:
    pool = Scheduler(2)
    log: list[str] = []
    agents = [Agent(f"a{i}", 0, 1, log) for i in range(4)]
    for agent in agents:
        pool.ready(agent)
    pool.start()
    pool.stop()
    assert sorted(log) == ["a0", "a1", "a2", "a3"]
    assert not any(t.is_alive() for t in pool._threads)
