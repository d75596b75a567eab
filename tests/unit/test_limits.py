"""Unit tests for caxton.domain.limits: bounds, types and overrides of ResourceLimits."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from caxton.domain.limits import (
    CEILING_SETTINGS,
    DEFAULT_LIMITS,
    WASM_PAGE,
    LimitCeilings,
    ResourceLimits,
)
from caxton.errors import InvalidMessageError, LimitAboveCeilingError

BOUNDS = {
    "fuel": (1_000, 10**12),
    "memory_bytes": (65536, 4 * 1024**3),
    "timeout_ms": (1, 3_600_000),
    "max_message_bytes": (256, 64 * 1024 * 1024),
    "max_host_calls": (1, 10**7),
    "max_sends_per_message": (1, 10**6),
}


def test_defaults() -> None:
    assert ResourceLimits() == DEFAULT_LIMITS
    assert DEFAULT_LIMITS.to_dict() == {
        "fuel": 50_000_000,
        "memory_bytes": 16 * 1024 * 1024,
        "timeout_ms": 1000,
        "max_message_bytes": 256 * 1024,
        "max_host_calls": 10_000,
        "max_sends_per_message": 100,
    }
    assert WASM_PAGE == 65536


@pytest.mark.parametrize(("name", "bounds"), BOUNDS.items())
def test_both_bounds_are_inclusive(name: str, bounds: tuple[int, int]) -> None:
    for value in bounds:
        assert getattr(ResourceLimits(**{name: value}), name) == value


@pytest.mark.parametrize(("name", "bounds"), BOUNDS.items())
@pytest.mark.parametrize("side", ["below", "above"])
def test_values_outside_the_bounds_are_refused(name: str, bounds: tuple[int, int], side: str
                                               ) -> None:
    low, high = bounds
    value = low - 1 if side == "below" else high + 1
    with pytest.raises(InvalidMessageError) as info:
        ResourceLimits(**{name: value})
    assert info.value.field == name
    assert info.value.reason == f"must be an integer from {low} to {high}"


@pytest.mark.parametrize("name", list(BOUNDS))
@pytest.mark.parametrize("value", [True, False])
def test_booleans_are_refused(name: str, value: bool) -> None:
    # True == 1 is inside the bounds of timeout_ms and max_host_calls, so this checks the type.
    with pytest.raises(InvalidMessageError) as info:
        ResourceLimits(**{name: value})
    assert info.value.field == name


@pytest.mark.parametrize("name", list(BOUNDS))
@pytest.mark.parametrize("value", [2000.0, "2000", None, [2000]])
def test_non_integers_are_refused(name: str, value: Any) -> None:
    with pytest.raises(InvalidMessageError) as info:
        ResourceLimits(**{name: value})
    assert info.value.field == name


def test_limits_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_LIMITS.fuel = 1  # type: ignore[misc]


def test_with_overrides_changes_only_the_named_fields() -> None:
    changed = DEFAULT_LIMITS.with_overrides({"fuel": 5_000, "timeout_ms": 20})
    assert changed.to_dict() == DEFAULT_LIMITS.to_dict() | {"fuel": 5_000, "timeout_ms": 20}
    assert DEFAULT_LIMITS.fuel == 50_000_000  # the original is untouched


def test_with_overrides_ignores_none_values() -> None:
    changed = DEFAULT_LIMITS.with_overrides(
        {"fuel": None, "memory_bytes": None, "max_host_calls": 7})
    assert changed == ResourceLimits(max_host_calls=7)


def test_with_no_overrides_is_equal() -> None:
    assert DEFAULT_LIMITS.with_overrides({}) == DEFAULT_LIMITS


@pytest.mark.parametrize("key", ["gas", "Fuel", "memory", "timeout"])
def test_with_overrides_refuses_unknown_keys(key: str) -> None:
    with pytest.raises(InvalidMessageError) as info:
        DEFAULT_LIMITS.with_overrides({key: 1})
    assert info.value.field == key
    assert info.value.reason == "unknown limit"


def test_unknown_key_is_refused_even_when_its_value_is_none() -> None:
    with pytest.raises(InvalidMessageError) as info:
        DEFAULT_LIMITS.with_overrides({"fuel": 2000, "bogus": None})
    assert info.value.field == "bogus"


@pytest.mark.parametrize(("key", "value"), [("fuel", 10), ("timeout_ms", 0),
                                            ("memory_bytes", True), ("max_message_bytes", 1.5)])
def test_with_overrides_validates_the_new_values(key: str, value: Any) -> None:
    with pytest.raises(InvalidMessageError) as info:
        DEFAULT_LIMITS.with_overrides({key: value})
    assert info.value.field == key


def test_to_dict_round_trips() -> None:
    limits = ResourceLimits(fuel=1234, memory_bytes=2 * WASM_PAGE, timeout_ms=5,
                            max_message_bytes=999, max_host_calls=3)
    assert ResourceLimits(**limits.to_dict()) == limits
    assert list(limits.to_dict()) == list(BOUNDS)


def test_ceilings_refuse_the_first_limit_above_them_naming_the_setting() -> None:
    ceilings = LimitCeilings(memory_bytes=1024 * 1024)
    ceilings.check(ResourceLimits(memory_bytes=1024 * 1024))  # at the ceiling is fine
    with pytest.raises(LimitAboveCeilingError) as caught:
        ceilings.check(ResourceLimits(memory_bytes=2 * 1024 * 1024))
    assert caught.value.message == ("memory_bytes 2097152 exceeds the server's ceiling of "
                                    "1048576 (config max_agent_memory_bytes)")
    assert caught.value.field == "memory_bytes"
    assert set(CEILING_SETTINGS) == set(BOUNDS)


def test_default_ceilings_admit_the_default_limits() -> None:
    LimitCeilings().check(DEFAULT_LIMITS)


@pytest.mark.parametrize(("name", "bounds"), BOUNDS.items())
def test_ceilings_stay_within_the_bounds(name: str, bounds: tuple[int, int]) -> None:
    low, high = bounds
    for bad in (low - 1, high + 1):
        with pytest.raises(InvalidMessageError, match=f"field '{name}': ceiling must be"):
            LimitCeilings(**{name: bad})
