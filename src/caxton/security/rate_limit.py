"""Token buckets per key (a token, a source address), bounded in memory.

An attacker can present any number of distinct keys (addresses, garbage tokens are never keys:
only authenticated tokens and source addresses are), so the table keeps at most ``capacity``
buckets and forgets the least recently used; a forgotten key starts again with a full bucket,
which errs on the side of letting a client through, never of refusing one wrongly.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rate:
    per_s: float  # refill; 0: no limit
    burst: float

    @property
    def limited(self) -> bool:
        return self.per_s > 0


class RateLimiter:
    def __init__(self, rate: Rate, *, capacity: int = 100_000) -> None:
        self.rate = rate
        self._capacity = capacity
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, at

    def take(self, key: str, now: float | None = None) -> float:
        """0.0 if ``key`` may go on (one token taken), else the seconds until it may retry."""
        if not self.rate.limited:
            return 0.0
        now = time.monotonic() if now is None else now
        tokens, at = self._buckets.pop(key, (self.rate.burst, now))
        tokens = min(self.rate.burst, tokens + (now - at) * self.rate.per_s)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            wait = 0.0
        else:
            self._buckets[key] = (tokens, now)
            wait = (1.0 - tokens) / self.rate.per_s
        if len(self._buckets) > self._capacity:
            self._buckets.popitem(last=False)
        return wait


@dataclass(frozen=True, slots=True)
class Limits:
    """The buckets both listeners (REST and gRPC) share."""

    per_address: RateLimiter
    per_token: RateLimiter
    failures: RateLimiter  # refused credentials per address: brute force ends here
