"""Unit tests for caxton.sandbox.engine: the compilation cache, host functions, epoch clock."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import pytest
import structlog
import structlog.testing
import wasmtime
from tests.unit.no_services import NoServices

from caxton.domain.limits import DEFAULT_LIMITS
from caxton.sandbox.call_context import CallContext
from caxton.sandbox.engine import CompiledModule, SandboxEngine, artifact_name
from caxton.sandbox.hostcalls import HOST_FUNCTIONS, host_functype

SOURCE = """(module (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "handle") (param i32 i32) (result i32) (i32.const 0)))"""


@pytest.fixture
def engine() -> SandboxEngine:
    return SandboxEngine()


def codes(types: list[wasmtime.ValType]) -> str:
    return "".join("i" if t == wasmtime.ValType.i32() else "I" if t == wasmtime.ValType.i64()
                   else "?" for t in types)


def binary(source: str = SOURCE) -> bytes:
    return bytes(wasmtime.wat2wasm(source))


def test_compile_returns_the_module_with_its_hash_and_size(engine: SandboxEngine) -> None:
    data = binary()
    compiled = engine.compile(data)
    assert isinstance(compiled, CompiledModule)
    assert compiled.module_hash == hashlib.sha256(data).hexdigest()
    assert compiled.size == len(data)
    assert {e.name for e in compiled.module.exports} == {"memory", "alloc", "handle"}


def test_compile_caches_by_content(engine: SandboxEngine) -> None:
    data = binary()
    first = engine.compile(data)
    assert engine.compile(bytes(data)) is first  # equal bytes, different object
    other = engine.compile(binary(SOURCE.replace("1024", "2048")))
    assert other is not first
    assert other.module_hash != first.module_hash


def test_cached_looks_up_by_hash(engine: SandboxEngine) -> None:
    compiled = engine.compile(binary())
    assert engine.cached(compiled.module_hash) is compiled
    assert engine.cached("0" * 64) is None


def test_caches_are_per_engine() -> None:
    data = binary()
    one, two = SandboxEngine(), SandboxEngine()
    assert two.cached(one.compile(data).module_hash) is None


def test_compile_raises_wasmtime_errors_and_caches_nothing(engine: SandboxEngine) -> None:
    data = b"\0asm\x01\0\0\0junk"
    with pytest.raises(wasmtime.WasmtimeError):
        engine.compile(data)
    assert engine.cached(hashlib.sha256(data).hexdigest()) is None


def test_concurrent_compiles_of_one_module_agree(engine: SandboxEngine) -> None:
    data = binary()
    results: list[CompiledModule] = []
    threads = [threading.Thread(target=lambda: results.append(engine.compile(data)))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8
    # Whoever compiled, everyone gets the one module that went into the cache.
    assert all(r is results[0] for r in results)
    assert engine.cached(results[0].module_hash) is results[0]


@pytest.mark.parametrize(("timeout_ms", "ticks"), [(1, 2), (10, 2), (11, 3), (50, 6),
                                                   (1000, 101)])
def test_deadline_ticks_round_up_plus_one(timeout_ms: int, ticks: int) -> None:
    assert SandboxEngine(epoch_tick_ms=10).deadline_ticks(timeout_ms) == ticks


def test_deadline_never_undershoots_the_timeout() -> None:
    engine = SandboxEngine(epoch_tick_ms=7)
    for timeout_ms in range(1, 200):
        # The deadline fires after at least (ticks - 1) full ticks.
        assert (engine.deadline_ticks(timeout_ms) - 1) * 7 >= timeout_ms


EXPECTED_SIGNATURES = {
    "send": ("ii", "i"), "reply": ("ii", "i"), "log": ("iii", ""), "now": ("", "I"),
    "random": ("ii", "i"), "state_get": ("iiii", "i"), "state_put": ("iiii", "i"),
    "state_delete": ("ii", "i"),
    "state_list": ("iiii", "i"),
}


def test_host_function_table_matches_the_abi_document() -> None:
    assert {n: (p, r) for n, (p, r, _) in HOST_FUNCTIONS.items()} == EXPECTED_SIGNATURES


@pytest.mark.parametrize("name", list(HOST_FUNCTIONS))
def test_host_functions_have_the_abi_signatures(engine: SandboxEngine, name: str) -> None:
    params, results, _ = HOST_FUNCTIONS[name]
    functype = engine.host_function(name).functype
    assert (codes(functype.params), codes(functype.results)) == (params, results)
    assert codes(host_functype(name).params) == params


def test_register_gives_distinct_environments(engine: SandboxEngine) -> None:
    contexts = [CallContext(agent=f"a{i}", limits=DEFAULT_LIMITS, services=NoServices())
                for i in range(3)]
    envs = [engine.register(ctx) for ctx in contexts]
    assert len(set(envs)) == 3
    assert all(env > 0 for env in envs)  # 0 is what a missing env pointer reads as
    for env in envs:
        engine.unregister(env)
    engine.unregister(envs[0])  # unregistering twice is harmless


def test_ticker_starts_once_and_stops() -> None:
    engine = SandboxEngine(epoch_tick_ms=5)
    before = {t for t in threading.enumerate() if t.name == "caxton-epoch"}
    engine.start()
    engine.start()  # idempotent: still one ticker
    mine = {t for t in threading.enumerate() if t.name == "caxton-epoch"} - before
    assert len(mine) == 1
    time.sleep(0.02)
    engine.stop()
    assert not any(t.is_alive() for t in mine)
    engine.stop()  # stopping twice is harmless


def test_stop_without_start_is_harmless() -> None:
    SandboxEngine().stop()


def test_forget_drops_a_module_in_memory_and_on_disk(tmp_path: Path) -> None:
    engine = SandboxEngine(cache_dir=tmp_path)
    kept = engine.compile(binary())
    dropped = engine.compile(binary(SOURCE.replace("(module", "(module $other", 1)))
    (tmp_path / f"{dropped.module_hash}.cwasm").write_bytes(b"d")  # an older release's name
    engine.forget(dropped.module_hash)
    engine.forget("0" * 64)  # never compiled: nothing to do
    assert engine.cached(kept.module_hash) is kept
    assert engine.cached(dropped.module_hash) is None
    name = artifact_name(kept.module_hash)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name, f"{name}.sha256"]


def test_compiled_modules_are_kept_on_disk_and_loaded_from_there(tmp_path: Path) -> None:
    data = binary()
    first = SandboxEngine(cache_dir=tmp_path).compile(data)
    artifact = tmp_path / artifact_name(first.module_hash)
    assert artifact.is_file()
    assert (tmp_path / f"{artifact.name}.sha256").read_text().strip() == \
        hashlib.sha256(artifact.read_bytes()).hexdigest()
    with structlog.testing.capture_logs() as logs:
        again = SandboxEngine(cache_dir=tmp_path).compile(data)
    assert [e["event"] for e in logs] == ["compiled code loaded from the cache"]  # no compile
    assert again.module_hash == first.module_hash
    assert {e.name for e in again.module.exports} == {"memory", "alloc", "handle"}


@pytest.mark.parametrize("damage", ["flip", "truncate", "checksum", "garbage"])
def test_a_damaged_cache_file_is_compiled_again_not_loaded(tmp_path: Path, damage: str) -> None:
    data = binary()
    digest = SandboxEngine(cache_dir=tmp_path).compile(data).module_hash
    artifact = tmp_path / artifact_name(digest)
    checksum = tmp_path / f"{artifact.name}.sha256"
    content = bytearray(artifact.read_bytes())
    if damage == "flip":  # one bit of machine code: only the checksum can tell
        content[len(content) // 2] ^= 0x01
        artifact.write_bytes(content)
    elif damage == "truncate":
        artifact.write_bytes(content[: len(content) // 3])
    elif damage == "checksum":
        checksum.unlink()
    else:
        artifact.write_bytes(b"\0asm not machine code at all")
        checksum.write_text(hashlib.sha256(b"\0asm not machine code at all").hexdigest())
    with structlog.testing.capture_logs() as logs:
        compiled = SandboxEngine(cache_dir=tmp_path).compile(data)  # no crash: compiled again
    assert isinstance(compiled, CompiledModule)
    assert [e["event"] for e in logs] == [
        "compiled code in the cache is unusable; compiling again", "module compiled"]
    assert hashlib.sha256(artifact.read_bytes()).hexdigest() == checksum.read_text().strip()
    assert SandboxEngine(cache_dir=tmp_path).compile(data).module_hash == digest
