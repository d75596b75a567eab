"""Fixtures shared by the unit tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from caxton.sandbox.engine import SandboxEngine


@pytest.fixture(scope="module")
def engine() -> Iterator[SandboxEngine]:
    """A sandbox engine with its epoch clock running (5 ms ticks), for the module's tests.
    Modules that need another kind define their own ``engine``."""
    eng = SandboxEngine(epoch_tick_ms=5)
    eng.start()
    yield eng
    eng.stop()
