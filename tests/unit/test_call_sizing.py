"""Unit tests for caxton.runtime.call_sizing: how many queued messages a sandbox call takes."""

from __future__ import annotations

from caxton.domain.limits import ResourceLimits
from caxton.runtime.call_sizing import MAX_CALL_BATCH, CallSizer

LIMITS = ResourceLimits(fuel=1_000_000, timeout_ms=1000)


def test_the_first_message_goes_alone_and_measures_the_cost() -> None:
    sizer = CallSizer()
    assert sizer.size(50, LIMITS) == 1
    sizer.observed(fuel=100, seconds=1e-5)
    assert sizer.size(50, LIMITS) == 50
    assert sizer.size(500, LIMITS) == MAX_CALL_BATCH
    assert sizer.size(1, LIMITS) == 1


def test_a_batch_fits_in_half_of_one_messages_fuel_and_deadline() -> None:
    sizer = CallSizer()
    sizer.observed(fuel=49_999, seconds=1e-6)  # 10 of these are half the fuel
    assert sizer.size(64, LIMITS) == 10
    slow = CallSizer()
    slow.observed(fuel=10, seconds=0.099)  # 5 of these are about half the deadline
    assert slow.size(64, LIMITS) == 5


def test_an_expensive_message_shrinks_batches_and_the_estimate_decays_back() -> None:
    sizer = CallSizer()
    sizer.observed(fuel=100, seconds=1e-5)
    sizer.observed(fuel=400_000, seconds=1e-5)
    assert sizer.size(64, LIMITS) == 1
    for _ in range(60):
        sizer.observed(fuel=100, seconds=1e-5)
    assert sizer.size(64, LIMITS) == MAX_CALL_BATCH


def test_a_spent_budget_means_one_at_a_time_for_a_while() -> None:
    sizer = CallSizer()
    sizer.observed(fuel=100, seconds=1e-5)
    sizer.spent(LIMITS)
    assert sizer.size(64, LIMITS) == 1
    sizer.observed(fuel=100, seconds=1e-5)
    assert sizer.size(64, LIMITS) == 1  # the estimate decays, not jumps, back
