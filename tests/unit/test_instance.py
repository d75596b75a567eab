"""Unit tests for caxton.sandbox.instance: running real agent modules under their limits.

The host services are a small in-memory fake (state and a log); the module, the engine and the
instance are all real.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from caxton.domain.acl import AclMessage, Performative
from caxton.domain.limits import WASM_PAGE, ResourceLimits
from caxton.errors import ModuleRejectedError
from caxton.sandbox.engine import SandboxEngine
from caxton.sandbox.instance import AgentInstance
from caxton.sandbox.outcome import Outcome
from caxton.sandbox.validate import check_module, to_binary

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
ECHO = ROOT / "examples" / "agents" / "wat" / "echo.wat"

MEMORY = '(memory (export "memory") 1)'
ALLOC = '(func (export "alloc") (param i32) (result i32) (i32.const 1024))'
HANDLE_OK = '(func (export "handle") (param i32 i32) (result i32) (i32.const 0))'
LOG = '(import "caxton" "log" (func $log (param i32 i32 i32)))'
SEND = '(import "caxton" "send" (func $send (param i32 i32) (result i32)))'
PUT = '(import "caxton" "state_put" (func $put (param i32 i32 i32 i32) (result i32)))'


class FakeServices:
    """In-memory HostServices: state per (agent, key) and a list of log lines."""

    def __init__(self) -> None:
        self.state: dict[tuple[str, str], bytes] = {}
        self.reads: list[tuple[str, str]] = []
        self.logs: list[tuple[str, int, str]] = []

    def state_read(self, agent: str, key: str) -> bytes | None:
        self.reads.append((agent, key))
        return self.state.get((agent, key))

    def agent_log(self, agent: str, level: int, text: str) -> None:
        self.logs.append((agent, level, text))

    def state_keys(self, agent: str, prefix: str, limit: int) -> list[str]:
        return sorted(k for a, k in self.state if a == agent and k.startswith(prefix))[:limit]

    def state_room(self, agent: str) -> int:
        return 1 << 30

    def commit(self, agent: str, writes: dict[str, bytes | None]) -> None:
        """What the runtime does with a successful outcome's state writes."""
        for key, value in writes.items():
            if value is None:
                self.state.pop((agent, key), None)
            else:
                self.state[(agent, key)] = value


Make = Callable[..., tuple[AgentInstance, FakeServices]]


@pytest.fixture(scope="module")
def engine() -> SandboxEngine:
    return SandboxEngine()


@pytest.fixture
def make(engine: SandboxEngine) -> Iterator[Make]:
    """Build an initialized instance from a path or WAT text, with limits as keywords."""
    made: list[AgentInstance] = []

    def build(source: Path | str, *, name: str = "agent", init: bool = True,
              on: SandboxEngine | None = None, **limits: Any) -> tuple[AgentInstance, FakeServices]:
        data = source.read_bytes() if isinstance(source, Path) else source.encode()
        eng = on or engine
        compiled = eng.compile(to_binary(data))
        resource_limits = ResourceLimits(**limits)
        check_module(compiled.module, resource_limits)
        services = FakeServices()
        instance = AgentInstance(eng, compiled, name=name, limits=resource_limits,
                                 services=services)
        made.append(instance)
        if init:
            instance.initialize()
        return instance, services

    yield build
    for instance in made:
        instance.close()


def message(content: Any = None, **fields: Any) -> AclMessage:
    return AclMessage(performative=Performative.REQUEST, sender="client", receiver=("agent",),
                      content=content, **fields)


def wat_bytes(data: bytes) -> str:
    """``data`` as a WAT string literal body (every byte hex-escaped)."""
    return "".join(f"\\{b:02x}" for b in data)


def sender_module(*, then: str, extra: str = "") -> str:
    """A module whose handle sends one valid message, then does ``then``."""
    payload = orjson.dumps({"performative": "inform", "receiver": "bob", "content": "hi"})
    return f"""(module {SEND} {MEMORY} {ALLOC} {extra}
      (data (i32.const 0) "{wat_bytes(payload)}")
      (func (export "handle") (param i32 i32) (result i32)
        (if (i32.ne (call $send (i32.const 0) (i32.const {len(payload)})) (i32.const 0))
          (then (return (i32.const 99))))
        {then}))"""


def assert_failed(outcome: Outcome, kind: str) -> None:
    assert not outcome.ok, outcome
    assert outcome.error_kind == kind, outcome
    assert outcome.error
    assert outcome.sends == []
    assert outcome.state_writes == {}


# -- echo -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        {"x": [1, 2]}, None, 0, -1.5e300, "plain", "", [], {},
        '"content":"not me"', {"content": {"content": "nested"}}, "}}}", "ünïcødé ✓ \u2028",
        [True, False, None, {"a": [{"b": "c"}]}],
    ],
)
def test_echo_replies_with_the_same_content(make: Make, content: Any) -> None:
    instance, _ = make(ECHO, name="echo")
    original = message(content, conversation_id="conv-7", protocol="fipa-request")
    outcome = instance.handle(original)
    assert outcome.ok, outcome
    assert outcome.error_kind is None
    assert len(outcome.sends) == 1
    answer = outcome.sends[0]
    assert answer.content == content
    assert answer.performative is Performative.INFORM
    assert answer.sender == "echo"
    assert answer.receiver == ("client",)
    assert answer.in_reply_to == original.message_id
    assert answer.conversation_id == "conv-7"
    assert answer.protocol == "fipa-request"
    assert outcome.state_writes == {}
    assert 0 < outcome.fuel_used < instance.limits.fuel
    assert outcome.duration_s > 0


def test_echo_reply_follows_reply_to_and_reply_with(make: Make) -> None:
    instance, _ = make(ECHO, name="echo")
    outcome = instance.handle(message(1, reply_to=("carol",), reply_with="rw-1"))
    assert outcome.ok
    assert outcome.sends[0].receiver == ("carol",)
    assert outcome.sends[0].in_reply_to == "rw-1"


def test_echo_handles_many_messages_with_one_instance(make: Make) -> None:
    instance, _ = make(ECHO, name="echo")
    for i in range(200):
        outcome = instance.handle(message({"n": i}))
        assert outcome.ok
        assert outcome.sends[0].content == {"n": i}


def test_large_message_grows_the_inbox(make: Make) -> None:
    instance, _ = make(ECHO, name="echo")
    assert instance.handle(message("small")).sends[0].content == "small"  # 4 KiB inbox
    big = "x" * 100_000 + "end"
    outcome = instance.handle(message(big))
    assert outcome.ok, outcome
    assert outcome.sends[0].content == big
    assert instance.memory_bytes() >= 100_000
    # The bigger inbox is reused for what follows, small or big.
    assert instance.handle(message("after")).sends[0].content == "after"
    assert instance.handle(message(big[::-1])).sends[0].content == big[::-1]


def test_inbox_that_cannot_be_allocated_fails_the_message(make: Make) -> None:
    # echo's allocator returns 0 when memory cannot grow: a 2-page cap cannot hold 256 KiB.
    instance, _ = make(ECHO, name="echo", memory_bytes=2 * WASM_PAGE,
                       max_message_bytes=1024 * 1024)
    outcome = instance.handle(message("y" * 200_000))
    assert_failed(outcome, "bad_agent")
    assert outcome.error == "alloc(262144) returned 0"
    assert instance.memory_bytes() <= 2 * WASM_PAGE


def test_growing_the_inbox_gives_the_old_buffer_back(make: Make) -> None:
    source = f"""(module {LOG} {MEMORY}
      (global $heap (mut i32) (i32.const 1024))
      (data (i32.const 0) "dealloc")
      (func (export "alloc") (param $n i32) (result i32) (local $p i32)
        (local.set $p (global.get $heap))
        (global.set $heap (i32.add (global.get $heap) (local.get $n)))
        (drop (memory.grow (i32.const 1)))
        (local.get $p))
      (func (export "dealloc") (param i32 i32)
        (call $log (i32.const 0) (i32.const 0) (i32.const 7)))
      {HANDLE_OK})"""
    instance, services = make(source)
    assert instance.handle(message("a")).ok
    assert instance.handle(message("b" * 100)).ok
    assert services.logs == []  # still fits the first 4 KiB buffer
    assert instance.handle(message("c" * 5000)).ok
    assert services.logs == [("agent", 0, "dealloc")]


# -- counter: host state -----------------------------------------------------------------------


def test_counter_counts_through_host_state(make: Make) -> None:
    instance, services = make(FIXTURES / "counter.wat", name="counter")
    for expected in range(1, 13):
        outcome = instance.handle(message("tick"))
        assert outcome.ok, outcome
        assert outcome.state_writes == {"count": expected.to_bytes(8, "little")}
        assert [m.content for m in outcome.sends] == [expected]
        services.commit("counter", outcome.state_writes)
    # state_get reads it, and state_put reads the old size for the state quota
    assert services.reads == [("counter", "count")] * 24


def test_counter_only_sees_committed_state(make: Make) -> None:
    instance, services = make(FIXTURES / "counter.wat", name="counter")
    services.state[("counter", "count")] = (41).to_bytes(8, "little")
    first = instance.handle(message())
    second = instance.handle(message())  # the first outcome was never committed
    assert first.sends[0].content == 42
    assert second.sends[0].content == 42
    assert second.state_writes == {"count": (42).to_bytes(8, "little")}


def test_state_writes_are_per_call(make: Make) -> None:
    instance, _ = make(FIXTURES / "counter.wat", name="counter")
    first = instance.handle(message())
    instance.handle(message())
    assert first.state_writes == {"count": (1).to_bytes(8, "little")}  # not mutated later


# -- limits ------------------------------------------------------------------------------------


def test_runaway_is_stopped_by_fuel(make: Make) -> None:
    instance, _ = make(FIXTURES / "runaway.wat", fuel=100_000)
    started = time.perf_counter()
    outcome = instance.handle(message())
    assert_failed(outcome, "fuel_exhausted")
    assert outcome.fuel_used == 100_000
    assert time.perf_counter() - started < 1.0


def test_fuel_is_refilled_for_every_message(make: Make) -> None:
    instance, _ = make(FIXTURES / "runaway.wat", fuel=100_000)
    for _ in range(3):
        outcome = instance.handle(message())
        assert outcome.error_kind == "fuel_exhausted"
        assert outcome.fuel_used == 100_000


def test_runaway_is_stopped_by_the_deadline(make: Make) -> None:
    ticking = SandboxEngine(epoch_tick_ms=10)
    ticking.start()
    try:
        instance, _ = make(FIXTURES / "runaway.wat", on=ticking, fuel=10**12, timeout_ms=50)
        started = time.perf_counter()
        outcome = instance.handle(message())
        elapsed = time.perf_counter() - started
    finally:
        ticking.stop()
    assert_failed(outcome, "timeout")
    assert 0.04 <= elapsed < 2.0
    assert 0.04 <= outcome.duration_s < 2.0


def test_deadline_is_reset_for_every_message(make: Make) -> None:
    ticking = SandboxEngine(epoch_tick_ms=10)
    ticking.start()
    try:
        # A deadline generous enough for a loaded machine, and more than twice its length of
        # ticks between the messages: only a per-message deadline lets the second one run.
        instance, _ = make(ECHO, on=ticking, timeout_ms=200)
        assert instance.handle(message("first")).ok
        time.sleep(0.5)
        outcome = instance.handle(message("still on time"))
    finally:
        ticking.stop()
    assert outcome.ok, outcome


def test_memhog_cannot_grow_past_the_memory_limit(make: Make) -> None:
    cap = 4 * 1024 * 1024
    instance, _ = make(FIXTURES / "memhog.wat", memory_bytes=cap)
    outcome = instance.handle(message())
    assert_failed(outcome, "unreachable")  # memory.grow said no, then it trapped
    assert instance.memory_bytes() <= cap
    assert instance.memory_bytes() > cap - 16 * WASM_PAGE  # it did grow, up to the cap


def test_trap_fixture_fails_as_unreachable(make: Make) -> None:
    instance, _ = make(FIXTURES / "trap.wat")
    assert_failed(instance.handle(message()), "unreachable")


def test_regression_trap_detail_names_the_trap(make: Make) -> None:
    """Regression (src/caxton/sandbox/_capi.py, _trap_error): the detail is the first line of
    wasmtime's message, which is always 'error while executing at wasm backtrace:'. The cause
    ('wasm trap: wasm `unreachable` instruction executed', 'all fuel consumed') is on a later
    line, so every failure reply, agent log and last_error says nothing useful."""
    instance, _ = make(FIXTURES / "trap.wat")
    outcome = instance.handle(message())
    assert outcome.error is not None
    assert "unreachable" in outcome.error


def test_handle_returning_non_zero_is_an_agent_error(make: Make) -> None:
    source = f'(module {MEMORY} {ALLOC} (func (export "handle") (param i32 i32) (result i32) ' \
             '(i32.const 5)))'
    instance, _ = make(source)
    outcome = instance.handle(message())
    assert_failed(outcome, "agent_error")
    assert outcome.error == "handle returned 5"


def test_alloc_returning_zero_is_a_bad_agent(make: Make) -> None:
    source = f'(module {MEMORY} (func (export "alloc") (param i32) (result i32) (i32.const 0)) ' \
             f'{HANDLE_OK})'
    instance, _ = make(source)
    outcome = instance.handle(message())
    assert_failed(outcome, "bad_agent")
    assert outcome.error == "alloc(4096) returned 0"


def test_instance_keeps_working_after_a_failure(make: Make) -> None:
    source = f"""(module {MEMORY} {ALLOC}
      (global $calls (mut i32) (i32.const 0))
      (func (export "handle") (param i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (if (i32.eq (global.get $calls) (i32.const 1)) (then unreachable))
        (i32.const 0)))"""
    instance, _ = make(source)
    assert instance.handle(message()).error_kind == "unreachable"
    assert instance.handle(message()).ok


def test_message_over_the_size_limit_is_refused_before_the_call(make: Make) -> None:
    source = f"""(module {LOG} {MEMORY} (data (i32.const 0) "called")
      (func (export "alloc") (param i32) (result i32)
        (call $log (i32.const 1) (i32.const 0) (i32.const 6)) (i32.const 1024))
      (func (export "handle") (param i32 i32) (result i32)
        (call $log (i32.const 1) (i32.const 0) (i32.const 6)) (i32.const 0)))"""
    instance, services = make(source, max_message_bytes=1024)
    big = message("z" * 2000)
    outcome = instance.handle(big)
    assert not outcome.ok
    assert outcome.error_kind == "too_large"
    assert outcome.error == (
        f"message of {big.wire_size} bytes exceeds the agent's limit of 1024")
    assert outcome.fuel_used == 0
    assert services.logs == []  # neither alloc nor handle ran


def test_message_of_exactly_the_size_limit_is_accepted(make: Make) -> None:
    # sink.wat, not echo: echo's reply is bigger than the request and would hit the limit.
    msg = message("q" * 400)
    instance, _ = make(FIXTURES / "sink.wat", max_message_bytes=msg.wire_size)
    assert instance.handle(msg).ok
    tight, _ = make(FIXTURES / "sink.wat", max_message_bytes=msg.wire_size - 1)
    assert tight.handle(msg).error_kind == "too_large"


# -- sends and failures ------------------------------------------------------------------------


def test_sends_are_returned_when_the_handler_succeeds(make: Make) -> None:
    instance, _ = make(sender_module(then="(i32.const 0)"), name="talker")
    outcome = instance.handle(message())
    assert outcome.ok, outcome
    assert len(outcome.sends) == 1
    sent = outcome.sends[0]
    assert (sent.sender, sent.receiver, sent.content) == ("talker", ("bob",), "hi")
    assert sent.conversation_id == sent.message_id  # a send starts a conversation


@pytest.mark.parametrize(("then", "kind", "error"), [
    ("(i32.const 3)", "agent_error", "handle returned 3"),
    ("unreachable", "unreachable", None),
])
def test_sends_are_discarded_when_the_handler_fails(make: Make, then: str, kind: str,
                                                    error: str | None) -> None:
    # sender_module returns 99 if its send was refused: 3 or a trap means the send was queued.
    instance, _ = make(sender_module(then=then))
    outcome = instance.handle(message())
    assert_failed(outcome, kind)
    if error is not None:
        assert outcome.error == error


def test_discarded_sends_do_not_leak_into_the_next_call(make: Make) -> None:
    # Fails its first message, succeeds afterwards; every call sends once.
    source = sender_module(
        extra="(global $n (mut i32) (i32.const 0))",
        then="""(global.set $n (i32.add (global.get $n) (i32.const 1)))
                (if (result i32) (i32.eq (global.get $n) (i32.const 1))
                  (then (i32.const 3)) (else (i32.const 0)))""",
    )
    instance, _ = make(source)
    assert instance.handle(message()).error == "handle returned 3"
    second = instance.handle(message())
    assert second.ok
    assert len(second.sends) == 1


def put_module(*, result: int) -> str:
    """state_put("key", "val"), then return ``result`` (99 if the put was refused)."""
    return f"""(module {PUT} {MEMORY} {ALLOC} (data (i32.const 0) "keyval")
      (func (export "handle") (param i32 i32) (result i32)
        (if (i32.ne (call $put (i32.const 0) (i32.const 3) (i32.const 3) (i32.const 3))
                    (i32.const 0))
          (then (return (i32.const 99))))
        (i32.const {result})))"""


def test_state_writes_are_returned_when_the_handler_succeeds(make: Make) -> None:
    instance, services = make(put_module(result=0))
    outcome = instance.handle(message())
    assert outcome.ok, outcome
    assert outcome.state_writes == {"key": b"val"}
    assert services.state == {}  # returned, not written: committing is the runtime's job


def test_state_writes_are_discarded_when_the_handler_fails(make: Make) -> None:
    instance, _ = make(put_module(result=1))
    outcome = instance.handle(message())
    assert_failed(outcome, "agent_error")
    assert outcome.error == "handle returned 1"


def test_regression_host_call_budget_traps_a_logging_loop(make: Make) -> None:
    """Regression: fails today with IndexError, see the next test for the cause."""
    source = f"""(module {LOG} {MEMORY} {ALLOC} (data (i32.const 0) "spam")
      (func (export "handle") (param i32 i32) (result i32)
        (loop $forever
          (call $log (i32.const 1) (i32.const 0) (i32.const 4))
          (br $forever))
        (i32.const 0)))"""
    instance, services = make(source, max_host_calls=100)
    outcome = instance.handle(message())
    assert not outcome.ok
    assert outcome.sends == []
    assert outcome.error is not None
    assert "host call budget of 100 per message exhausted" in outcome.error
    assert services.logs == [("agent", 1, "spam")] * 100
    # The budget is per message.
    services.logs.clear()
    assert not instance.handle(message()).ok
    assert len(services.logs) == 100


def test_regression_out_of_bounds_host_call_fails_the_message(make: Make) -> None:
    """Regression (src/caxton/sandbox/_capi.py, RawExport.__call__): a trap raised by a host
    function (HostTrap: budget exhausted, out-of-bounds pointer) comes back from
    wasmtime_func_call_unchecked as a wasmtime *error*, and the code reads
    ``WasmtimeError._from_ptr(error).args[0]``; errors built by ``_from_ptr`` have empty
    ``args``, so handle() raises IndexError instead of returning a failed Outcome (the runtime
    then never answers the sender or replaces the instance). ``str(error)`` has the message."""
    source = f"""(module {SEND} {MEMORY} {ALLOC}
      (func (export "handle") (param i32 i32) (result i32)
        (call $send (i32.const 0x7fff0000) (i32.const 16))))"""  # far outside one page
    instance, _ = make(source)
    outcome = instance.handle(message())
    assert not outcome.ok
    assert outcome.error is not None
    assert "outside memory" in outcome.error


# -- initialize --------------------------------------------------------------------------------


def test_bad_init_is_refused_by_initialize(make: Make) -> None:
    instance, _ = make(FIXTURES / "bad_init.wat", init=False)
    with pytest.raises(ModuleRejectedError) as info:
        instance.initialize()
    assert info.value.message == "init returned 7; expected 0"


def test_init_that_traps_is_refused(make: Make) -> None:
    source = f'(module {MEMORY} {ALLOC} {HANDLE_OK} (func (export "init") (result i32) ' \
             'unreachable))'
    instance, _ = make(source, init=False)
    with pytest.raises(ModuleRejectedError, match=r"^init failed \(unreachable\): "):
        instance.initialize()


def test_init_that_loops_runs_out_of_fuel(make: Make) -> None:
    source = f'(module {MEMORY} {ALLOC} {HANDLE_OK} (func (export "init") (result i32) ' \
             '(loop $l (br $l)) (i32.const 0)))'
    instance, _ = make(source, init=False, fuel=10_000)
    with pytest.raises(ModuleRejectedError, match=r"^init failed \(fuel_exhausted\): "):
        instance.initialize()


def test_init_may_not_send(make: Make) -> None:
    payload = orjson.dumps({"performative": "inform", "receiver": "bob"})
    source = f"""(module {SEND} {MEMORY} {ALLOC} {HANDLE_OK}
      (data (i32.const 0) "{wat_bytes(payload)}")
      (func (export "init") (result i32)
        (call $send (i32.const 0) (i32.const {len(payload)}))))"""  # returns send's 0
    instance, _ = make(source, init=False)
    with pytest.raises(ModuleRejectedError) as info:
        instance.initialize()
    assert info.value.message == "init may not send messages (there is nobody to send to yet)"


@pytest.mark.parametrize(("version", "ok"), [(1, True), (0, False), (2, False)])
def test_abi_version_must_be_1(make: Make, version: int, ok: bool) -> None:
    source = f'(module {MEMORY} {ALLOC} {HANDLE_OK} (func (export "caxton_abi_version") ' \
             f'(result i32) (i32.const {version})))'
    instance, _ = make(source, init=False)
    if ok:
        instance.initialize()
    else:
        with pytest.raises(ModuleRejectedError) as info:
            instance.initialize()
        assert info.value.message == f"caxton_abi_version returned {version}; expected 1"


def test_initialize_export_runs_before_init(make: Make) -> None:
    # init succeeds only when _initialize already ran (WASI reactor constructors).
    source = f"""(module {MEMORY} {ALLOC} {HANDLE_OK}
      (global $ready (mut i32) (i32.const 0))
      (func (export "_initialize") (global.set $ready (i32.const 1)))
      (func (export "init") (result i32) (i32.sub (i32.const 1) (global.get $ready))))"""
    instance, _ = make(source, init=False)
    instance.initialize()


def test_trapping_start_function_fails_instantiation(make: Make) -> None:
    source = f'(module {MEMORY} {ALLOC} {HANDLE_OK} (func $boom unreachable) (start $boom))'
    with pytest.raises(ModuleRejectedError, match=r"^instantiation failed: "):
        make(source, init=False)


def test_instance_reports_its_identity(make: Make, engine: SandboxEngine) -> None:
    instance, _ = make(ECHO, name="echo", fuel=12_345)
    assert instance.name == "echo"
    assert instance.limits.fuel == 12_345
    assert instance.module_hash == engine.compile(to_binary(ECHO.read_bytes())).module_hash
    assert instance.memory_bytes() == WASM_PAGE
