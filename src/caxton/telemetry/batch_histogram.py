"""A Prometheus histogram filled many observations at a time.

``prometheus_client.Histogram.observe`` takes one value per call, with a lock and a bucket
search in Python each: about a microsecond per handled message. An agent's turn hands over all
its messages' handler times at once; this histogram files them under one lock and is read at
scrape time like any other collector.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Iterator, Sequence

from prometheus_client.core import HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString


class BatchHistogram(Collector):
    """One histogram family with a single label; ``always`` label values are exposed (empty)
    before their first observation, as a bound ``Histogram.labels(...)`` child would be."""

    def __init__(self, name: str, doc: str, label: str, bounds: Sequence[float],
                 always: Sequence[str] = ()) -> None:
        self._name, self._doc, self._label = name, doc, label
        self._bounds = sorted(bounds)
        self._le = [str(floatToGoString(b)) for b in self._bounds] + ["+Inf"]  # type: ignore[no-untyped-call]
        self._lock = threading.Lock()
        self._counts: dict[str, list[int]] = {}
        self._sums: dict[str, float] = {}
        for value in always:
            self._series(value)

    def _series(self, value: str) -> list[int]:
        counts = self._counts.get(value)
        if counts is None:
            counts = self._counts[value] = [0] * (len(self._bounds) + 1)
            self._sums[value] = 0.0
        return counts

    def observe_many(self, value: str, amounts: Iterable[float]) -> None:
        bounds = self._bounds
        # bisect_left: an amount equal to a bound belongs to that bucket (le, "less or equal")
        slots = [(bisect.bisect_left(bounds, amount), amount) for amount in amounts]
        with self._lock:
            counts = self._series(value)
            total = 0.0
            for slot, amount in slots:
                counts[slot] += 1
                total += amount
            self._sums[value] += total

    def observe(self, value: str, amount: float) -> None:
        self.observe_many(value, (amount,))

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            snapshot = [(value, list(counts), self._sums[value])
                        for value, counts in self._counts.items()]
        family = HistogramMetricFamily(self._name, self._doc, labels=[self._label])
        for value, counts, total in snapshot:
            cumulative, buckets = 0, []
            for le, count in zip(self._le, counts, strict=True):
                cumulative += count
                buckets.append((le, float(cumulative)))
            family.add_metric([value], buckets, sum_value=total)
        yield family

    def describe(self) -> Iterator[Metric]:
        return iter(())
