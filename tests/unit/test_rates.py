"""RateRing and Ticker (caxton.telemetry.rates): per-second counts over the last minute."""

from __future__ import annotations

import threading
import time

from caxton.domain.agent import AgentStats
from caxton.telemetry.rates import RateRing, Ticker, message_rates


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rates_are_growth_over_the_time_covered() -> None:
    clock, counter = _Clock(), [50]  # counts before the ring began are not rates
    ring = RateRing({"n": lambda: counter[0]}, window=60, clock=clock)
    assert ring.rates() == {"n_per_s": 0.0, "n_total": 0, "window_s": 0.0}
    for _ in range(10):
        counter[0] += 20
        clock.now += 1
        ring.tick()
    assert ring.rates() == {"n_per_s": 20.0, "n_total": 200, "window_s": 10.0}


def test_the_second_in_progress_counts() -> None:
    clock, counter = _Clock(), [0]
    ring = RateRing({"n": lambda: counter[0]}, clock=clock)
    clock.now += 0.5
    counter[0] = 10
    assert ring.rates() == {"n_per_s": 20.0, "n_total": 10, "window_s": 0.5}


def test_only_the_last_window_counts() -> None:
    clock, counter = _Clock(), [0]
    ring = RateRing({"n": lambda: counter[0]}, window=60, clock=clock)
    for second in range(120):
        counter[0] += 100 if second < 60 else 5  # busy first minute, quiet second one
        clock.now += 1
        ring.tick()
    rates = ring.rates()
    assert rates["n_per_s"] == 5.0 and rates["window_s"] == 60.0
    assert rates["n_total"] == 60 * 100 + 60 * 5


def test_a_counter_going_backwards_adds_nothing_instead_of_a_negative() -> None:
    clock, counter = _Clock(), [100]
    ring = RateRing({"n": lambda: counter[0]}, clock=clock)
    counter[0] = 40  # an agent was removed with its counts
    clock.now += 1
    ring.tick()
    counter[0] = 50
    clock.now += 1
    ring.tick()
    assert ring.rates() == {"n_per_s": 5.0, "n_total": 10, "window_s": 2.0}


def test_message_rates_read_the_router_and_every_agents_runs() -> None:
    class Router:
        routed = 0

    class Cell:
        def __init__(self) -> None:
            self.stats = AgentStats()

    router, cells = Router(), [Cell(), Cell()]
    ring = message_rates(router, lambda: cells)
    router.routed = 7
    cells[0].stats.handled = 3
    cells[1].stats.failures_by_kind["trap"] = 2  # failed runs are processed too
    ring.tick()
    rates = ring.rates()
    assert (rates["routed_total"], rates["processed_total"]) == (7, 5)
    assert rates["routed_per_s"] > 0 and rates["processed_per_s"] > 0


def test_ticker_ticks_about_once_per_interval_and_stops() -> None:
    ticks = threading.Event()
    counter = [0]

    def read() -> int:
        counter[0] += 1
        if counter[0] >= 4:  # the ring's start, then three ticks
            ticks.set()
        return counter[0]

    ticker = Ticker(RateRing({"n": read}), interval_s=0.02)
    ticker.start()
    assert ticks.wait(5)
    ticker.stop()
    stopped_at = counter[0]
    time.sleep(0.1)
    assert counter[0] == stopped_at
