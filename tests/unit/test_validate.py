"""Unit tests for caxton.sandbox.validate: turning uploads into modules and checking ABI v1."""

from __future__ import annotations

from pathlib import Path

import pytest
import wasmtime

from caxton.domain.limits import DEFAULT_LIMITS, WASM_PAGE, ResourceLimits
from caxton.errors import ModuleRejectedError
from caxton.sandbox.engine import SandboxEngine
from caxton.sandbox.hostcalls import HOST_FUNCTIONS
from caxton.sandbox.validate import check_module, compile_error, to_binary

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
ECHO = ROOT / "examples" / "agents" / "wat" / "echo.wat"

MEMORY = '(memory (export "memory") 1)'
ALLOC = '(func (export "alloc") (param i32) (result i32) (i32.const 1024))'
HANDLE = '(func (export "handle") (param i32 i32) (result i32) (i32.const 0))'
OFFERED = ("caxton.send, caxton.reply, caxton.log, caxton.now, caxton.random, "
           "caxton.state_get, caxton.state_put, caxton.state_delete, caxton.state_list, "
           "wasi_snapshot_preview1.*")


@pytest.fixture(scope="module")
def engine() -> SandboxEngine:
    return SandboxEngine()


def module(*parts: str) -> bytes:
    return f"(module {' '.join(parts)})".encode()


def check(engine: SandboxEngine, data: bytes, limits: ResourceLimits = DEFAULT_LIMITS) -> None:
    check_module(engine.compile(to_binary(data)).module, limits)


def rejected(engine: SandboxEngine, data: bytes, limits: ResourceLimits = DEFAULT_LIMITS) -> str:
    with pytest.raises(ModuleRejectedError) as info:
        check(engine, data, limits)
    assert info.value.code == "module_rejected"
    return info.value.message


# -- to_binary --------------------------------------------------------------------------------


def test_wat_text_is_assembled() -> None:
    binary = to_binary(module(MEMORY, ALLOC, HANDLE))
    assert binary[:4] == b"\0asm"
    assert binary == bytes(wasmtime.wat2wasm(module(MEMORY, ALLOC, HANDLE).decode()))


def test_binary_modules_pass_through_unchanged() -> None:
    binary = bytes(wasmtime.wat2wasm(ECHO.read_text()))
    assert to_binary(binary) is binary


def test_echo_example_source_is_accepted(engine: SandboxEngine) -> None:
    check(engine, ECHO.read_bytes())


@pytest.mark.parametrize(
    "name", ["counter.wat", "runaway.wat", "memhog.wat", "trap.wat", "sink.wat", "bad_init.wat"]
)
def test_fixtures_that_follow_the_abi_pass_static_checks(engine: SandboxEngine, name: str
                                                          ) -> None:
    # bad_init.wat is well-formed: only running its init refuses it (see test_instance.py).
    check(engine, (FIXTURES / name).read_bytes())


def test_binary_garbage_is_refused() -> None:
    with pytest.raises(ModuleRejectedError) as info:
        to_binary((FIXTURES / "not_wasm.bin").read_bytes())
    assert info.value.message == (
        "not a WebAssembly module: expected a binary module (starting with \\0asm) "
        "or WAT text containing '(module'"
    )


@pytest.mark.parametrize(
    "data", [b"\xff\xfe\x00\x01", b"\x00asn\xff", "(module é)".encode("latin-1")]
)
def test_bytes_that_are_not_utf8_are_refused(data: bytes) -> None:
    with pytest.raises(ModuleRejectedError, match="not a WebAssembly module") as info:
        to_binary(data)
    assert "(module" not in info.value.message


@pytest.mark.parametrize("data", [b"", b"hello", b"(func)", b"{\"module\": 1}"])
def test_text_without_a_module_is_refused(data: bytes) -> None:
    with pytest.raises(ModuleRejectedError, match=r"WAT text containing '\(module'"):
        to_binary(data)


@pytest.mark.parametrize(
    "text",
    ["(module (func $f (unknown)))", "(module (memory 1)", "(module (func (param i33)))",
     '(module (data (i32.const 0) "unterminated))'],
)
def test_invalid_wat_is_refused_with_one_line(text: str) -> None:
    with pytest.raises(ModuleRejectedError) as info:
        to_binary(text.encode())
    assert info.value.message.startswith("invalid WAT: ")
    assert "\n" not in info.value.message
    assert len(info.value.message) > len("invalid WAT: ")


@pytest.mark.parametrize(
    "source",
    [b"\0asm\x01\0\0\0garbage", b"\0asm\x02\0\0\0",
     b"(module (func (result i32)))"],  # assembles, but does not validate
)
def test_compile_errors_are_wrapped_in_one_line(engine: SandboxEngine, source: bytes) -> None:
    data = to_binary(source)
    with pytest.raises(wasmtime.WasmtimeError) as info:
        engine.compile(data)
    error = compile_error(info.value)
    assert isinstance(error, ModuleRejectedError)
    assert error.message.startswith("invalid WebAssembly module: ")
    assert "\n" not in error.message


# -- check_module: exports ------------------------------------------------------------------


def test_missing_handle_fixture(engine: SandboxEngine) -> None:
    message = rejected(engine, (FIXTURES / "missing_handle.wat").read_bytes())
    assert message == "missing required export 'handle'"


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ((ALLOC, HANDLE), "missing required export 'memory'"),
        ((MEMORY, HANDLE), "missing required export 'alloc'"),
        ((MEMORY, ALLOC), "missing required export 'handle'"),
        ((MEMORY,), "missing required export 'alloc'"),
    ],
)
def test_missing_required_exports(engine: SandboxEngine, parts: tuple[str, ...], message: str
                                  ) -> None:
    assert rejected(engine, module(*parts)) == message


def test_imported_memory_does_not_count_as_an_export(engine: SandboxEngine) -> None:
    data = module('(import "caxton" "memory" (memory 1))', ALLOC, HANDLE)
    assert rejected(engine, data) == "missing required export 'memory'"


@pytest.mark.parametrize(
    "memory",
    ['(func (export "memory"))', '(global (export "memory") i32 (i32.const 0))',
     '(table (export "memory") 1 funcref)'],
)
def test_memory_export_must_be_a_memory(engine: SandboxEngine, memory: str) -> None:
    assert rejected(engine, module(memory, ALLOC, HANDLE)) == "export 'memory' must be a memory"


def test_64_bit_memory_is_refused(engine: SandboxEngine) -> None:
    data = module('(memory (export "memory") i64 1)', ALLOC, HANDLE)
    assert rejected(engine, data) == (
        "export 'memory' is a 64-bit memory; ABI v1 needs a 32-bit one")


@pytest.mark.parametrize(
    ("export", "message"),
    [
        ('(func (export "handle") (param i32) (result i32) (i32.const 0))',
         "export 'handle' has type (i32) -> (i32), expected (i32, i32) -> (i32)"),
        ('(func (export "handle") (param i64 i64) (result i32) (i32.const 0))',
         "export 'handle' has type (i64, i64) -> (i32), expected (i32, i32) -> (i32)"),
        ('(func (export "handle") (param i32 i32))',
         "export 'handle' has type (i32, i32), expected (i32, i32) -> (i32)"),
        ('(func (export "handle") (param f32 i32) (result i32) (i32.const 0))',
         "export 'handle' has type (other, i32) -> (i32), expected (i32, i32) -> (i32)"),
        ('(global (export "handle") i32 (i32.const 0))', "export 'handle' must be a function"),
    ],
)
def test_wrong_handle_export(engine: SandboxEngine, export: str, message: str) -> None:
    assert rejected(engine, module(MEMORY, ALLOC, export)) == message


def test_wrong_alloc_signature(engine: SandboxEngine) -> None:
    alloc = '(func (export "alloc") (param i64) (result i64) (i64.const 0))'
    assert rejected(engine, module(MEMORY, alloc, HANDLE)) == (
        "export 'alloc' has type (i64) -> (i64), expected (i32) -> (i32)")


@pytest.mark.parametrize(
    ("export", "message"),
    [
        ('(func (export "init") (param i32) (result i32) (i32.const 0))',
         "export 'init' has type (i32) -> (i32), expected () -> (i32)"),
        ('(func (export "dealloc") (param i32 i32) (result i32) (i32.const 0))',
         "export 'dealloc' has type (i32, i32) -> (i32), expected (i32, i32)"),
        ('(func (export "caxton_abi_version") (result i64) (i64.const 1))',
         "export 'caxton_abi_version' has type () -> (i64), expected () -> (i32)"),
        ('(func (export "_initialize") (result i32) (i32.const 0))',
         "export '_initialize' has type () -> (i32), expected ()"),
        ('(func (export "handle_batch") (param i32) (result i32) (i32.const 0))',
         "export 'handle_batch' has type (i32) -> (i32), expected (i32, i32) -> (i32)"),
        ('(global (export "init") i32 (i32.const 0))', "export 'init' must be a function"),
    ],
)
def test_wrong_optional_export(engine: SandboxEngine, export: str, message: str) -> None:
    assert rejected(engine, module(MEMORY, ALLOC, HANDLE, export)) == message


def test_correct_optional_exports_are_accepted(engine: SandboxEngine) -> None:
    check(engine, module(
        MEMORY, ALLOC, HANDLE,
        '(func (export "init") (result i32) (i32.const 0))',
        '(func (export "dealloc") (param i32 i32))',
        '(func (export "caxton_abi_version") (result i32) (i32.const 1))',
        '(func (export "_initialize"))',
        '(func (export "handle_batch") (param i32 i32) (result i32) (i32.const 0))',
        '(func (export "helper") (param f64) (result f64) (local.get 0))',  # extra: ignored
    ))


# -- check_module: memory limit --------------------------------------------------------------


def test_big_memory_fixture_exceeds_the_default_limit(engine: SandboxEngine) -> None:
    message = rejected(engine, (FIXTURES / "big_memory.wat").read_bytes())
    assert message == (
        "memory minimum of 1024 pages (67108864 bytes) exceeds the agent's memory limit of "
        f"{DEFAULT_LIMITS.memory_bytes} bytes"
    )


def test_memory_minimum_equal_to_the_limit_is_accepted(engine: SandboxEngine) -> None:
    data = (FIXTURES / "big_memory.wat").read_bytes()
    check(engine, data, ResourceLimits(memory_bytes=1024 * WASM_PAGE))
    message = rejected(engine, data, ResourceLimits(memory_bytes=1024 * WASM_PAGE - 1))
    assert "exceeds the agent's memory limit of 67108863 bytes" in message


def test_declared_maximum_above_the_limit_is_fine(engine: SandboxEngine) -> None:
    # Only the minimum must fit: growth past the limit is refused at run time instead.
    check(engine, module('(memory (export "memory") 1 65536)', ALLOC, HANDLE),
          ResourceLimits(memory_bytes=WASM_PAGE))


# -- check_module: imports --------------------------------------------------------------------


def test_bad_import_fixture(engine: SandboxEngine) -> None:
    message = rejected(engine, (FIXTURES / "bad_import.wat").read_bytes())
    assert message == f"import 'env.system' is not provided by the host (it offers: {OFFERED})"


@pytest.mark.parametrize(
    "imp",
    ['(import "caxton" "tool_call" (func (param i32 i32) (result i32)))',
     '(import "Caxton" "send" (func (param i32 i32) (result i32)))'],
)
def test_imports_the_host_does_not_offer(engine: SandboxEngine, imp: str) -> None:
    message = rejected(engine, module(imp, MEMORY, ALLOC, HANDLE))
    assert "is not provided by the host" in message
    assert message.endswith(f"(it offers: {OFFERED})")


def _wat_type(code: str) -> str:
    return {"i": "i32", "I": "i64"}[code]


def test_every_host_function_with_its_signature_is_accepted(engine: SandboxEngine) -> None:
    imports = []
    for name, (params, results, _) in HOST_FUNCTIONS.items():
        ps = " ".join(_wat_type(c) for c in params)
        rs = " ".join(_wat_type(c) for c in results)
        imports.append(f'(import "caxton" "{name}" (func (param {ps}) (result {rs})))'
                       .replace("(param )", "").replace("(result )", ""))
    check(engine, module(*imports, MEMORY, ALLOC, HANDLE))


@pytest.mark.parametrize(
    ("imp", "message"),
    [
        ('(import "caxton" "log" (func (param i32)))',
         "import 'caxton.log' has type (i32), the host provides (i32, i32, i32)"),
        ('(import "caxton" "send" (func (param i32 i32)))',
         "import 'caxton.send' has type (i32, i32), the host provides (i32, i32) -> (i32)"),
        ('(import "caxton" "now" (func (result i32)))',
         "import 'caxton.now' has type () -> (i32), the host provides () -> (i64)"),
        ('(import "caxton" "log" (global i32))', "import 'caxton.log' must be a function"),
        ('(import "caxton" "send" (memory 1))', "import 'caxton.send' must be a function"),
    ],
)
def test_mistyped_host_imports(engine: SandboxEngine, imp: str, message: str) -> None:
    assert rejected(engine, module(imp, MEMORY, ALLOC, HANDLE)) == message


WASI_FD_WRITE = ('(import "wasi_snapshot_preview1" "fd_write"'
                 ' (func (param i32 i32 i32 i32) (result i32)))')


def test_wasi_preview1_imports_are_offered(engine: SandboxEngine) -> None:
    data = module(WASI_FD_WRITE, MEMORY, ALLOC, HANDLE)
    compiled = engine.compile(to_binary(data))
    check_module(compiled.module, ResourceLimits())


def test_wasi_memory_import_is_refused(engine: SandboxEngine) -> None:
    message = rejected(engine, module('(import "wasi_snapshot_preview1" "mem" (memory 1))',
                                      MEMORY, ALLOC, HANDLE))
    assert message == "import 'wasi_snapshot_preview1.mem' must be a function"
