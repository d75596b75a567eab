"""BatchHistogram must expose exactly what prometheus_client's Histogram would."""

from __future__ import annotations

import threading

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from caxton.telemetry.batch_histogram import BatchHistogram

BOUNDS = (0.00005, 0.001, 0.01, 0.1, 1.0)


def _exposed(registry: CollectorRegistry) -> list[str]:
    return [line for line in generate_latest(registry).decode().splitlines()
            if "_created" not in line]


@given(ok=st.lists(st.floats(0, 5, allow_nan=False)),
       failed=st.lists(st.floats(0, 5, allow_nan=False)))
def test_the_same_text_as_a_histogram_fed_one_value_at_a_time(ok: list[float],
                                                               failed: list[float]) -> None:
    reference, batched = CollectorRegistry(), CollectorRegistry()
    histogram = Histogram("d_seconds", "doc", ["outcome"], buckets=BOUNDS, registry=reference)
    histogram.labels("ok")  # bound at start, as Metrics does
    ours = BatchHistogram("d_seconds", "doc", "outcome", BOUNDS, always=("ok",))
    batched.register(ours)
    for value in ok:
        histogram.labels("ok").observe(value)
    for value in failed:
        histogram.labels("failed").observe(value)
        ours.observe("failed", value)
    ours.observe_many("ok", ok)
    assert _exposed(batched) == _exposed(reference)


def test_concurrent_batches_are_all_counted() -> None:
    ours = BatchHistogram("d_seconds", "doc", "outcome", BOUNDS)
    registry = CollectorRegistry()
    registry.register(ours)

    def feed() -> None:
        for _ in range(200):
            ours.observe_many("ok", [0.0001] * 10)

    threads = [threading.Thread(target=feed) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 'd_seconds_count{outcome="ok"} 8000.0' in _exposed(registry)
