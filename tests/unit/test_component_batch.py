"""``handle-batch`` (caxton:agent 1.1) with hand-written WAT components: attribution through
``begin-message``, failures, traps and budgets per message, validation, and 1.0 components.

The Python and JavaScript SDKs' implementations run in tests/integration/test_components.py.
"""

from __future__ import annotations

from typing import Any

import pytest
import wasmtime

from caxton.domain.acl import AclMessage, Performative
from caxton.domain.agent_permissions import AgentPermissions
from caxton.domain.limits import ResourceLimits
from caxton.errors import ModuleRejectedError
from caxton.sandbox import loader
from caxton.sandbox.component import MIN_BATCH, ComponentInstance
from caxton.sandbox.engine import CompiledComponent, SandboxEngine
from caxton.sandbox.outcome import BatchOutcome

ERROR = '(variant (case "invalid" string) (case "too-large") (case "no-message"))'
FAILURE = '(record (field "index" u32) (field "reason" string))'
REPLY = '{"performative":"inform","content":"re"}'
# One message of the batch, with $i its index: say which it is, then reply.
BEGIN = "(call $begin (local.get $i))"
ANSWER = f"(call $reply (i32.const 256) (i32.const {len(REPLY)}) (i32.const 512))"
STEP = BEGIN + ANSWER
REPLY_DATA = REPLY.replace('"', '\\"')  # as a WAT data string
BATCH_EXPORT = """(func (export "handle-batch") (param "messages" (list string))
    (result (result (error $failure)))
    (canon lift (core func $i "handle-batch") (memory (core memory $libc "memory"))
                (realloc (core func $libc "realloc"))))"""


def component(step: str = STEP, *, handle_body: str = "(i32.const 0)",
              batch_export: str = BATCH_EXPORT, version: str = "1.1.0") -> bytes:
    """A component whose ``handle-batch`` runs ``step`` for each message ($i its index; a
    non-zero ``$fail`` makes it return ``err{index: $fail - 1, reason: "nope"}`` after the
    step) and whose ``handle`` runs ``handle_body``. Every core function may call $begin and
    $reply (reply's result lands at 512)."""
    return bytes(wasmtime.wat2wasm(f"""(component
  (import "caxton:agent/host@{version}" (instance $host
    (type $e {ERROR})
    (export "error" (type $error (eq $e)))
    (type $f {FAILURE})
    (export "batch-failure" (type $bf (eq $f)))
    (export "begin-message" (func (param "index" u32)))
    (export "reply" (func (param "message" string) (result (result (error $error)))))))
  (alias export $host "batch-failure" (type $failure))
  (core module $libc
    (memory (export "memory") 2)
    (global $bump (mut i32) (i32.const 4096))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (local $at i32)
      (if (i32.gt_u (i32.add (global.get $bump) (local.get 3)) (i32.const 131072))
        (then (global.set $bump (i32.const 4096))))
      (local.set $at (global.get $bump))
      (global.set $bump (i32.and (i32.add (i32.add (local.get $at) (local.get 3))
                                          (i32.const 7)) (i32.const -8)))
      (local.get $at)))
  (core instance $libc (instantiate $libc))
  (core func $begin (canon lower (func $host "begin-message")))
  (core func $reply (canon lower (func $host "reply") (memory (core memory $libc "memory"))
                                 (realloc (core func $libc "realloc"))))
  (core instance $hostfns (export "begin-message" (func $begin)) (export "reply" (func $reply)))
  (core module $m
    (import "libc" "memory" (memory 2))
    (import "host" "begin-message" (func $begin (param i32)))
    (import "host" "reply" (func $reply (param i32 i32 i32)))
    (data (i32.const 128) "nope")
    (data (i32.const 256) "{REPLY_DATA}")
    (func (export "handle") (param i32 i32) (result i32) (local $i i32) {handle_body})
    (func (export "handle-batch") (param $list i32) (param $n i32) (result i32)
      (local $i i32) (local $fail i32)
      (block $done (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        {step}
        (if (local.get $fail) (then
          (i32.store8 (i32.const 1024) (i32.const 1))
          (i32.store (i32.const 1028) (i32.sub (local.get $fail) (i32.const 1)))
          (i32.store (i32.const 1032) (i32.const 128))
          (i32.store (i32.const 1036) (i32.const 4))
          (return (i32.const 1024))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
      (i32.store8 (i32.const 1024) (i32.const 0))
      (i32.const 1024)))
  (core instance $i (instantiate $m (with "libc" (instance $libc))
                                    (with "host" (instance $hostfns))))
  (func (export "handle") (param "message" string) (result (result (error string)))
    (canon lift (core func $i "handle") (memory (core memory $libc "memory"))
                (realloc (core func $libc "realloc"))))
  {batch_export})"""))


def at(index: int, then: str) -> str:
    """A step that runs ``then`` at message ``index`` (after saying which message it is)."""
    return f"{STEP} (if (i32.eq (local.get $i) (i32.const {index})) (then {then}))"


class Services:
    def __init__(self) -> None:
        self.logs: list[tuple[str, int, str]] = []
        self.violations: list[str] = []

    def state_read(self, agent: str, key: str) -> bytes | None:
        return None

    def agent_log(self, agent: str, level: int, text: str) -> None:
        self.logs.append((agent, level, text))

    def violation(self, agent: str, kind: str, detail: str) -> None:
        self.violations.append(detail)


def run(engine: SandboxEngine, data: bytes, permissions: AgentPermissions | None = None,
        **limits: Any) -> ComponentInstance:
    compiled = engine.compile(data)
    assert isinstance(compiled, CompiledComponent)
    resource_limits = ResourceLimits(**limits)
    loader.check(engine, compiled, resource_limits, permissions)
    instance = loader.instantiate(engine, compiled, name="agent", limits=resource_limits,
                                  services=Services(), permissions=permissions)
    assert isinstance(instance, ComponentInstance)
    instance.initialize()
    return instance


def messages(n: int) -> list[AclMessage]:
    return [AclMessage(performative=Performative.REQUEST, sender="client", receiver=("agent",),
                       content=i, conversation_id=f"conv-{i}") for i in range(n)]


def answered(result: BatchOutcome) -> list[list[str | None]]:
    """The conversation of each outcome's replies: whom the host attributed them to."""
    return [[sent.conversation_id for sent in outcome.sends] for outcome in result.outcomes]


# -- success -----------------------------------------------------------------------------------
def test_each_reply_answers_the_message_begin_message_named(engine: SandboxEngine) -> None:
    instance = run(engine, component())
    assert instance.batched
    batch = messages(5)
    result = instance.handle_batch(batch)
    assert not result.budget_spent
    assert [o.ok for o in result.outcomes] == [True] * 5
    assert answered(result) == [[f"conv-{i}"] for i in range(5)]
    assert all(o.sends[0].receiver == ("client",) for o in result.outcomes)
    assert all(o.fuel_used > 0 for o in result.outcomes)
    # The same instance goes on: a lone message through handle, then another batch.
    assert instance.handle(messages(1)[0]).ok
    assert answered(instance.handle_batch(batch[2:])) == [["conv-2"], ["conv-3"], ["conv-4"]]


def test_budgets_are_per_message(engine: SandboxEngine) -> None:
    # Two host calls per message, a budget of three: passes only if each message starts afresh.
    instance = run(engine, component(STEP + ANSWER), max_host_calls=3)
    result = instance.handle_batch(messages(4))
    assert [len(o.sends) for o in result.outcomes] == [2, 2, 2, 2]


def test_fewer_than_min_batch_messages_go_to_handle(engine: SandboxEngine) -> None:
    # handle replies nothing, handle-batch replies: which export ran shows.
    instance = run(engine, component())
    result = instance.handle_batch(messages(MIN_BATCH - 1))
    assert len(result.outcomes) == 1 and result.outcomes[0].ok
    assert answered(result) == [[]]


def test_a_batch_is_at_most_one_message_in_size(engine: SandboxEngine) -> None:
    instance = run(engine, component(), max_message_bytes=1000)
    size = len(messages(1)[0].to_wire())
    result = instance.handle_batch(messages(20))
    assert len(result.outcomes) == 1000 // size  # the rest are the caller's to queue again


# -- failures ----------------------------------------------------------------------------------
def test_a_failure_stops_the_batch_and_discards_only_its_message(engine: SandboxEngine) -> None:
    instance = run(engine, component(at(2, "(local.set $fail (i32.const 3))")))
    result = instance.handle_batch(messages(5))
    assert [o.ok for o in result.outcomes] == [True, True, False]
    failed = result.outcomes[-1]
    # What a lone handle returning err("nope") gets.
    assert (failed.error_kind, failed.error) == ("agent_error", "handle returned an error: nope")
    assert answered(result) == [["conv-0"], ["conv-1"], []]  # its reply is discarded
    assert not result.budget_spent
    assert instance.handle_batch(messages(2) + messages(3)[2:]).outcomes[-1].ok is False


def test_a_failure_naming_a_later_message_moves_on_to_it(engine: SandboxEngine) -> None:
    # The agent replies for message 0 only, then reports message 2 failing.
    step = "(if (i32.eqz (local.get $i)) (then " + STEP + " (local.set $fail (i32.const 3))))"
    result = run(engine, component(step)).handle_batch(messages(4))
    assert [o.ok for o in result.outcomes] == [True, True, False]
    assert answered(result) == [["conv-0"], [], []]


@pytest.mark.parametrize(("step", "error"), [
    # begin-message going back, past the batch, and a failure naming an earlier message
    (at(2, "(call $begin (i32.const 1))"),
     "the current message index went from 2 to 1 (of 4 messages)"),
    (at(2, "(call $begin (i32.const 4))"),
     "the current message index went from 2 to 4 (of 4 messages)"),
    (at(2, "(local.set $fail (i32.const 1))"),
     "handle-batch failed message 0: handle_batch: the current message index went from 2 to 0"),
    (at(2, "(local.set $fail (i32.const -1))"),  # index 4294967294: past the end
     "handle-batch failed message 4294967294: handle_batch: the current message index went "
     "from 2 to 4294967294 (of 4 messages)"),
])
def test_a_bad_index_fails_the_current_message(engine: SandboxEngine, step: str,
                                               error: str) -> None:
    result = run(engine, component(step)).handle_batch(messages(4))
    assert [o.ok for o in result.outcomes] == [True, True, False]
    assert answered(result) == [["conv-0"], ["conv-1"], []]
    # As in a core module's batch: a trap in the call, or a bad answer after it.
    assert result.outcomes[-1].error_kind == ("bad_agent" if "failed message" in error
                                              else "host_trap")
    assert error in (result.outcomes[-1].error or "")


def test_a_trap_fails_the_current_message(engine: SandboxEngine) -> None:
    result = run(engine, component(at(1, "unreachable"))).handle_batch(messages(4))
    assert [o.ok for o in result.outcomes] == [True, False]
    assert result.outcomes[-1].error_kind == "unreachable"
    assert not result.budget_spent


def test_running_out_of_fuel_retries_the_current_message_alone(engine: SandboxEngine) -> None:
    spin = at(2, "(loop $l (br $l))")
    result = run(engine, component(spin), fuel=1_000_000).handle_batch(messages(4))
    assert result.budget_spent and answered(result) == [["conv-0"], ["conv-1"]]
    assert all(o.ok for o in result.outcomes)
    # Cut short during the first message: nothing handled, every message retried.
    first = run(engine, component(at(0, "(loop $l (br $l))")), fuel=1_000_000)
    assert first.handle_batch(messages(4)) == BatchOutcome([], budget_spent=True)


def test_running_out_of_time_retries_the_current_message_alone(engine: SandboxEngine) -> None:
    instance = run(engine, component(at(1, "(loop $l (br $l))")), fuel=10**12, timeout_ms=50)
    result = instance.handle_batch(messages(3))
    assert result.budget_spent and answered(result) == [["conv-0"]]


# -- begin-message outside a batch, permissions, versions, validation ---------------------------
def test_begin_message_in_handle_accepts_only_index_0(engine: SandboxEngine) -> None:
    ok = run(engine, component(handle_body="(call $begin (i32.const 0)) (i32.const 0)"))
    assert ok.handle(messages(1)[0]).ok
    bad = run(engine, component(handle_body="(call $begin (i32.const 1)) (i32.const 0)"))
    outcome = bad.handle(messages(1)[0])
    assert (outcome.ok, outcome.error_kind) == (False, "host_trap")
    assert outcome.error == "begin-message(1) during handle, whose one message has index 0"


def test_begin_message_needs_no_permission(engine: SandboxEngine) -> None:
    permissions = AgentPermissions(host_functions=frozenset({"reply"}))
    instance = run(engine, component(), permissions=permissions)
    assert answered(instance.handle_batch(messages(3))) == [["conv-0"], ["conv-1"], ["conv-2"]]


def test_a_component_without_handle_batch_is_called_per_message(engine: SandboxEngine) -> None:
    reply_once = f"{ANSWER} (i32.const 0)"
    instance = run(engine, component(handle_body=reply_once, batch_export=""))
    assert not instance.batched
    result = instance.handle_batch(messages(4))
    assert answered(result) == [["conv-0"]]


def test_a_component_built_against_1_0_still_runs(engine: SandboxEngine) -> None:
    # The 1.0.0 interface has neither begin-message nor batch-failure: import what it had.
    data = bytes(wasmtime.wat2wasm(f"""(component
  (import "caxton:agent/host@1.0.0" (instance $host
    (type $e {ERROR})
    (export "error" (type $error (eq $e)))
    (export "reply" (func (param "message" string) (result (result (error $error)))))))
  (core module $libc (memory (export "memory") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 2048)))
  (core instance $libc (instantiate $libc))
  (core func $reply (canon lower (func $host "reply") (memory (core memory $libc "memory"))
                                 (realloc (core func $libc "realloc"))))
  (core instance $hostfns (export "reply" (func $reply)))
  (core module $m
    (import "libc" "memory" (memory 1))
    (import "host" "reply" (func $reply (param i32 i32 i32)))
    (data (i32.const 256) "{REPLY_DATA}")
    (func (export "handle") (param i32 i32) (result i32) {ANSWER} (i32.const 0)))
  (core instance $i (instantiate $m (with "libc" (instance $libc))
                                    (with "host" (instance $hostfns))))
  (func (export "handle") (param "message" string) (result (result (error string)))
    (canon lift (core func $i "handle") (memory (core memory $libc "memory"))
                (realloc (core func $libc "realloc")))))"""))
    instance = run(engine, data)
    assert not instance.batched
    outcome = instance.handle(messages(1)[0])
    assert outcome.ok and [m.conversation_id for m in outcome.sends] == ["conv-0"]


def test_handle_batch_of_the_wrong_type_is_refused(engine: SandboxEngine) -> None:
    wrong = BATCH_EXPORT.replace("(error $failure)", "(error string)")
    with pytest.raises(ModuleRejectedError) as info:
        run(engine, component(batch_export=wrong))
    assert info.value.message == (
        "export 'handle-batch' has type func(messages: list<string>) -> result<_, string>, "
        "expected func(messages: list<string>) -> result<_, record{index: u32, reason: "
        "string}>")
