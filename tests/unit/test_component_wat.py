"""Component agents written in WAT: the sandbox mechanics and validation, with no build step.

Hand-written components are tiny, so these tests compile in milliseconds; the Python and
JavaScript components of examples/agents are exercised in test_component.py.
"""

from __future__ import annotations

from typing import Any

import pytest
import wasmtime

from caxton.domain.acl import AclMessage, Performative
from caxton.domain.limits import ResourceLimits
from caxton.errors import ModuleRejectedError
from caxton.sandbox import _cvals as cv
from caxton.sandbox import loader
from caxton.sandbox.component import ComponentInstance
from caxton.sandbox.engine import CompiledComponent, CompiledModule, SandboxEngine
from caxton.sandbox.instance import AgentInstance
from caxton.sandbox.validate import is_component, to_binary

LIFT = '(memory (core memory $i "memory")) (realloc (core func $i "realloc"))'
HANDLE_EXPORT = f"""(func (export "handle") (param "message" string)
    (result (result (error string))) (canon lift (core func $i "handle") {LIFT}))"""
INIT_EXPORT = f"""(func (export "init") (result (result (error string)))
    (canon lift (core func $i "init") {LIFT}))"""
OK = "(i32.const 0)"  # address 0 holds a zero byte: the `ok` case of result<_, string>
ERR = "(i32.const 64)"  # a result `err("nope")` laid out at 64 (see the data segments)


def component(handle_body: str = OK, *, pages: int = 1, exports: str = HANDLE_EXPORT,
              imports: str = "", init_body: str | None = None) -> bytes:
    """A component whose core ``handle(ptr, len) -> i32`` runs ``handle_body``."""
    init_func = init_export = ""
    if init_body is not None:
        init_func = f'(func (export "init") (result i32) {init_body})'
        init_export = INIT_EXPORT
    return bytes(wasmtime.wat2wasm(f"""(component {imports}
  (core module $m
    (memory (export "memory") {pages})
    (data (i32.const 64) "\\01\\00\\00\\00\\80\\00\\00\\00\\04\\00\\00\\00")
    (data (i32.const 128) "nope")
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
    (func (export "handle") (param i32 i32) (result i32) {handle_body})
    {init_func})
  (core instance $i (instantiate $m))
  {exports} {init_export})"""))


class Services:
    def __init__(self) -> None:
        self.logs: list[tuple[str, int, str]] = []

    def state_read(self, agent: str, key: str) -> bytes | None:
        return None

    def agent_log(self, agent: str, level: int, text: str) -> None:
        self.logs.append((agent, level, text))


def run(engine: SandboxEngine, data: bytes, **limits: Any) -> ComponentInstance:
    compiled = engine.compile(data)
    assert isinstance(compiled, CompiledComponent)
    resource_limits = ResourceLimits(**limits)
    loader.check(engine, compiled, resource_limits)
    instance = loader.instantiate(engine, compiled, name="agent", limits=resource_limits,
                                  services=Services())
    assert isinstance(instance, ComponentInstance)
    instance.initialize()
    return instance


def message(content: Any = "hi") -> AclMessage:
    return AclMessage(performative=Performative.REQUEST, sender="client", receiver=("agent",),
                      content=content)


# -- detection -------------------------------------------------------------------------------
def test_the_preamble_tells_components_from_modules(engine: SandboxEngine) -> None:
    comp = component()
    module = bytes(wasmtime.wat2wasm("(module)"))
    assert comp[:4] == module[:4] == b"\0asm"
    assert is_component(comp) and not is_component(module)
    assert not is_component(b"\0asm") and not is_component(b"")
    assert isinstance(engine.compile(comp), CompiledComponent)
    assert isinstance(engine.compile(module), CompiledModule)


def test_component_text_is_assembled() -> None:
    text = '(component (core module $m) (core instance $i (instantiate $m)))'
    assert is_component(to_binary(text.encode()))


def test_instantiate_picks_the_sandbox_by_kind(engine: SandboxEngine) -> None:
    instance = run(engine, component())
    assert type(instance) is ComponentInstance and isinstance(instance, AgentInstance)
    assert instance.module_hash == engine.compile(component()).module_hash
    assert instance.memory_bytes() == 0
    instance.close()


# -- handle ------------------------------------------------------------------------------------
def test_ok_and_err_results(engine: SandboxEngine) -> None:
    instance = run(engine, component(OK))
    outcome = instance.handle(message())
    assert outcome.ok and outcome.sends == [] and outcome.fuel_used > 0
    failing = run(engine, component(ERR))
    outcome = failing.handle(message())
    assert (outcome.ok, outcome.error_kind) == (False, "agent_error")
    assert outcome.error == "handle returned an error: nope"
    assert failing.handle(message()).error_kind == "agent_error"  # an err does not poison it


@pytest.mark.parametrize(("body", "kind", "detail"), [
    ("unreachable", "unreachable", "wasm `unreachable` instruction executed"),
    ("(i32.load (i32.const 70000))", "memory_out_of_bounds", "out of bounds memory access"),
    ("(loop $l (br $l)) (i32.const 0)", "fuel_exhausted", "all fuel consumed by WebAssembly"),
])
def test_traps_are_classified(engine: SandboxEngine, body: str, kind: str, detail: str) -> None:
    instance = run(engine, component(body), fuel=100_000)
    outcome = instance.handle(message())
    assert (outcome.ok, outcome.error_kind, outcome.error) == (False, kind, detail)
    # wasmtime refuses to enter a trapped component again: the runtime replaces the instance
    again = instance.handle(message())
    assert (again.error_kind, again.error) == ("trap", "cannot enter component instance")


def test_the_deadline_interrupts_a_loop(engine: SandboxEngine) -> None:
    instance = run(engine, component("(loop $l (br $l)) (i32.const 0)"), fuel=10**12,
                   timeout_ms=50)
    outcome = instance.handle(message())
    assert (outcome.error_kind, outcome.error) == ("timeout", "interrupt")
    assert 0.04 < outcome.duration_s < 5


def test_memory_cannot_grow_past_the_limit(engine: SandboxEngine) -> None:
    grow = """(block $full (loop $l
        (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1))) (br $l)))
      (if (i32.gt_u (memory.size) (i32.const 16)) (then unreachable))
      (i32.const 0)"""
    assert run(engine, component(grow), memory_bytes=16 * 65536).handle(message()).ok


def test_memory_minimum_over_the_limit_is_refused(engine: SandboxEngine) -> None:
    with pytest.raises(ModuleRejectedError) as info:
        run(engine, component(pages=20), memory_bytes=16 * 65536)
    assert info.value.message == (
        "memory minimum of 20 pages (1310720 bytes) exceeds the agent's memory limit of "
        "1048576 bytes")


def test_message_over_the_size_limit_is_refused_before_the_call(engine: SandboxEngine) -> None:
    instance = run(engine, component("unreachable"), max_message_bytes=256)
    outcome = instance.handle(message("x" * 300))
    assert (outcome.error_kind, outcome.fuel_used) == ("too_large", 0)


def test_init_runs_and_its_error_refuses_the_agent(engine: SandboxEngine) -> None:
    assert run(engine, component(init_body=OK)).handle(message()).ok
    with pytest.raises(ModuleRejectedError, match=r"^init returned an error: nope$"):
        run(engine, component(init_body=ERR))
    with pytest.raises(ModuleRejectedError, match=r"^init failed \(unreachable\)"):
        run(engine, component(init_body="unreachable"))


# -- validation --------------------------------------------------------------------------------
def rejected(engine: SandboxEngine, data: bytes) -> str:
    with pytest.raises(ModuleRejectedError) as info:
        run(engine, data)
    return info.value.message


def test_missing_handle_is_refused(engine: SandboxEngine) -> None:
    assert rejected(engine, component(exports="")).startswith(
        "missing required export 'handle': a component agent exports the world function "
        "handle: func(message: string) -> result<_, string>")


def test_handle_of_the_wrong_type_is_refused(engine: SandboxEngine) -> None:
    bytes_handle = HANDLE_EXPORT.replace('(param "message" string)',
                                         '(param "message" (list u8))')
    assert rejected(engine, component(exports=bytes_handle)) == (
        "export 'handle' has type func(message: list<u8>) -> result<_, string>, expected "
        "func(message: string) -> result<_, string>")


@pytest.mark.parametrize(("imports", "expected"), [
    ('(import "acme:db/query@1.0.0" (instance (export "run" (func))))',
     "import 'acme:db/query@1.0.0' is not provided by the host (it offers: "
     "caxton:agent/host@1.1.0, wasi:cli/*@0.2.x, wasi:clocks/*@0.2.x, wasi:filesystem/*@0.2.x, "
     "wasi:io/*@0.2.x, wasi:random/*@0.2.x, wasi:sockets/*@0.2.x)"),
    ('(import "wasi:http/outgoing-handler@0.2.3" (instance))',
     "import 'wasi:http/outgoing-handler@0.2.3' is not provided by the host: agents have no "
     "network access (for componentize-js, build with --disable http fetch-event)"),
    ('(import "caxton:agent/host@1.0.0" (instance (export "teleport" (func))))',
     "import 'caxton:agent/host@1.0.0' function 'teleport' is not provided by the host "
     "(it offers: send, reply, log, now, random, state-get, state-put, state-get-bytes, "
     "state-put-bytes, state-delete, state-list, begin-message)"),
])
def test_imports_the_host_lacks_are_refused(engine: SandboxEngine, imports: str,
                                            expected: str) -> None:
    assert rejected(engine, component(imports=imports)) == expected


def test_a_host_function_of_the_wrong_type_is_refused(engine: SandboxEngine) -> None:
    imports = '(import "caxton:agent/host@1.0.0" (instance (export "now" (func (result u8)))))'
    assert rejected(engine, component(imports=imports)) == (
        "import 'caxton:agent/host@1.0.0' function 'now' has type () -> u8, the host provides "
        "() -> s64 (see wit/caxton-agent.wit)")


# -- values --------------------------------------------------------------------------------------
@pytest.mark.parametrize("data", [b"", b"\x00", bytes(range(256)), b"x" * 100_000])
def test_byte_lists_round_trip(data: bytes) -> None:
    val = cv.Val()
    cv.set_bytes(val, data)
    assert cv.read_bytes(val) == data
    cv.drop(val)
    assert val.kind == cv.K_BOOL


def test_strings_and_results_round_trip() -> None:
    text = "ünïcødé ✓".encode()
    payload = cv.Val()
    cv.set_string(payload, text)
    result = cv.Val()
    cv.set_result(result, False, payload)
    ok, inner = cv.read_result(result)
    assert not ok and cv.read_string(inner) == text
    cv.drop(result)
    with pytest.raises(cv.UnexpectedValue):
        cv.read_string(result)
