"""Unit tests for hibernation's pure rules, the engine's memory reservation and their settings."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
import wasmtime
from tests.unit.no_services import NoServices

from caxton.config import ServerConfig
from caxton.domain.limits import DEFAULT_LIMITS
from caxton.errors import CapacityError, ConfigError, ModuleRejectedError
from caxton.runtime.hibernation import idle, sweep_interval
from caxton.sandbox.engine import (
    DEFAULT_MEMORY_RESERVATION,
    CompiledModule,
    SandboxEngine,
    artifact_name,
    engine_fingerprint,
)
from caxton.sandbox.instance import AgentInstance, capacity_error

SOURCE = """(module (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "handle") (param i32 i32) (result i32) (i32.const 0)))"""
GIB = 1024**3


@pytest.mark.parametrize(("last", "now", "idle_s", "expected"), [
    (100.0, 100.0, 5.0, False),
    (100.0, 104.9, 5.0, False),
    (100.0, 105.0, 5.0, True),
    (100.0, 1e9, 5.0, True),
    (100.0, 1e9, 0.0, False),  # 0: off, never idle
])
def test_idle_after_the_configured_time_only(last: float, now: float, idle_s: float,
                                             expected: bool) -> None:
    assert idle(last, now, idle_s) is expected


def test_the_sweep_interval_is_a_quarter_of_the_idle_time_within_bounds() -> None:
    assert sweep_interval(1.0) == 0.25
    assert sweep_interval(0.01) == 0.05  # not a busy loop
    assert sweep_interval(3600) == 5.0  # an agent sleeps at most 5 s late


def test_settings_are_checked() -> None:
    assert ServerConfig().hibernate_idle_s == 0  # off unless asked for: memory would be lost
    assert ServerConfig().memory_reservation_bytes == DEFAULT_MEMORY_RESERVATION
    for bad in ({"hibernate_idle_s": -1}, {"hibernate_idle_s": 1e9},
                {"memory_reservation_bytes": -1}, {"memory_reservation_bytes": 8 * GIB}):
        with pytest.raises(ConfigError):
            ServerConfig(**bad)


def test_the_reservation_is_part_of_the_compiled_cache_key() -> None:
    # Code compiled for elided bounds checks must never be loaded by an engine that needs them.
    assert engine_fingerprint(4 * GIB) != engine_fingerprint(DEFAULT_MEMORY_RESERVATION)
    assert SandboxEngine(memory_reservation=4 * GIB).fingerprint == engine_fingerprint(4 * GIB)
    assert artifact_name("ab") == f"ab-{engine_fingerprint()}.cwasm"


def _virtual_size() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmSize")


def test_an_agent_reserves_megabytes_of_address_space_not_gigabytes() -> None:
    engine = SandboxEngine()
    compiled = engine.compile(bytes(wasmtime.wat2wasm(SOURCE)))
    assert isinstance(compiled, CompiledModule)
    gc.collect()
    before = _virtual_size()
    agents = [AgentInstance(engine, compiled, name=f"a{i}", limits=DEFAULT_LIMITS,
                            services=NoServices()) for i in range(50)]
    per_agent = (_virtual_size() - before) / len(agents)
    for agent in agents:
        agent.close()
    # wasmtime's default reserves 4 GiB and more per instance (the 128 TiB address space
    # then holds ~30,000 agents); 16 MiB + a 64 KiB guard here.
    assert per_agent < 32 * 1024 * 1024, per_agent


def test_the_os_refusing_memory_is_a_capacity_error_not_a_rejected_module() -> None:
    text = ("mmap failed to reserve 0x104000000 bytes\n\nCaused by:\n"
            "    Cannot allocate memory (os error 12)\n")
    error = capacity_error(Exception(text))
    assert isinstance(error, CapacityError)
    assert not isinstance(error, ModuleRejectedError)
    assert error.code == "capacity_exhausted"
    assert "Cannot allocate memory (os error 12)" in error.message
    assert capacity_error(Exception("unknown import: `caxton::nope`")) is None
