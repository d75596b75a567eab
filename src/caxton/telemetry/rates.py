"""Rolling message rates for ``caxton server status``: per second, over the last minute.

Nothing is added to the message path. Once a second a thread reads counters the server keeps
anyway (the router's ``routed``, each agent's handled and failed runs) and puts what they grew
by into a ring of per-second counts; a rate is the ring's sum, plus what the counters grew by
since the last tick, over the time it covers. A counter that goes backwards (an agent was
removed, taking its own counts with it) adds nothing for that second instead of a negative.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

WINDOW_S = 60


class RateRing:
    """Per-second counts of some counters, the last ``window`` seconds of them."""

    def __init__(self, sources: Mapping[str, Callable[[], int]], *, window: int = WINDOW_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._sources = dict(sources)
        self._clock = clock
        self._lock = threading.Lock()  # the ticking thread against readers, never the hot path
        self._last = {name: read() for name, read in self._sources.items()}
        self._totals = dict.fromkeys(self._sources, 0)
        self._counts = {name: collections.deque[int](maxlen=window) for name in self._sources}
        # When each count in the ring began, and when the newest ended: one more than counts.
        self._times = collections.deque([clock()], maxlen=window + 1)

    def _grown(self, name: str) -> tuple[int, int]:
        value = self._sources[name]()
        return value, max(0, value - self._last[name])

    def tick(self) -> None:
        """Close the current second: what each counter grew by goes into the ring."""
        with self._lock:
            for name in self._sources:
                value, delta = self._grown(name)
                self._last[name] = value
                self._counts[name].append(delta)
                self._totals[name] += delta
            self._times.append(self._clock())

    def rates(self) -> dict[str, Any]:
        """``{"<name>_per_s": rate, "<name>_total": count, "window_s": seconds}``.

        Totals count from when the ring began; rates cover up to the last ``window`` seconds
        and include the second in progress.
        """
        with self._lock:
            now = self._clock()
            span = now - self._times[0]
            fresh = {name: self._grown(name)[1] for name in self._sources}
            out: dict[str, Any] = {}
            for name in self._sources:
                count = sum(self._counts[name]) + fresh[name]
                out[f"{name}_per_s"] = round(count / span, 3) if span > 0 else 0.0
            for name in self._sources:
                out[f"{name}_total"] = self._totals[name] + fresh[name]
            out["window_s"] = round(span, 3)
            return out


class Ticker:
    """Ticks a ``RateRing`` once a second on a daemon thread of its own."""

    def __init__(self, ring: RateRing, interval_s: float = 1.0) -> None:
        self._ring = ring
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="caxton-rates", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        deadline = time.monotonic()
        while True:
            deadline += self._interval_s
            if self._stop.wait(max(0.0, deadline - time.monotonic())):
                return
            self._ring.tick()


class _Stats(Protocol):
    @property
    def handled(self) -> int: ...

    @property
    def failures_by_kind(self) -> dict[str, int]: ...


class _Cell(Protocol):
    @property
    def stats(self) -> _Stats: ...


class _Routed(Protocol):
    @property
    def routed(self) -> int: ...


def message_rates(router: _Routed, cells: Callable[[], Iterable[_Cell]],
                  *, window: int = WINDOW_S) -> RateRing:
    """Messages routed, and handler runs (ok or failed, retries included), per second."""

    def processed() -> int:
        return sum(c.stats.handled + sum(c.stats.failures_by_kind.values()) for c in cells())

    return RateRing({"routed": lambda: router.routed, "processed": processed}, window=window)
