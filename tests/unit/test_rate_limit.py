"""Token buckets: a burst, then the refill rate; bounded memory."""

from __future__ import annotations

from caxton.security.rate_limit import Rate, RateLimiter


def test_a_burst_then_the_rate() -> None:
    limiter = RateLimiter(Rate(per_s=2.0, burst=3))
    assert [limiter.take("k", now=100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.take("k", now=100.0)
    assert 0.49 < wait <= 0.5  # one token comes back in half a second
    assert limiter.take("k", now=100.5) == 0.0
    assert limiter.take("other", now=100.5) == 0.0  # keys are separate


def test_refused_requests_do_not_dig_the_hole_deeper() -> None:
    limiter = RateLimiter(Rate(per_s=1.0, burst=1))
    limiter.take("k", now=0.0)
    for _ in range(100):
        assert limiter.take("k", now=0.0) > 0
    assert limiter.take("k", now=1.0) == 0.0


def test_rate_zero_is_no_limit() -> None:
    limiter = RateLimiter(Rate(per_s=0, burst=1))
    assert all(limiter.take("k", now=0.0) == 0.0 for _ in range(1000))


def test_memory_is_bounded() -> None:
    limiter = RateLimiter(Rate(per_s=1.0, burst=1), capacity=100)
    for i in range(10_000):
        limiter.take(f"addr-{i}", now=0.0)
    assert len(limiter._buckets) == 100
