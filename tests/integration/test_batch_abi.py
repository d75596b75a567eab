"""``handle_batch``: several messages in one sandbox call, with per-message outcomes.

In process, with the real runtime (router, cell, sandbox, delivery, SQLite): the scheduler's
workers are stopped so that one ``AgentCell.run`` call is one whole turn over what is queued.
The first message of an agent goes alone (its cost sizes the batches); the rest go in batches.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from tests.conftest import FIXTURES, ServerProcess, eventually
from tests.integration.conftest import deploy_wat

from caxton.domain.acl import AclMessage, Performative
from caxton.router.local import ClientInbox
from caxton.sandbox.outcome import BatchOutcome
from caxton.server import Runtime

CLIENT = "_client-batch"


def _turns(rt: Runtime, name: str, contents: list[object]) -> list[AclMessage]:
    """Queue one request per content, run the agent's turns here, return what came back."""
    replies: list[AclMessage] = []
    rt.router.register(CLIENT, ClientInbox(replies.append))
    rt.scheduler.stop()
    cell = rt.host.get(name)
    rt.router.route_batch([AclMessage(performative=Performative.REQUEST, sender=CLIENT,
                                      receiver=(name,), content=c) for c in contents])
    while cell.mailbox_depth:
        cell.run()
    rt.store.writer.barrier().result(30)
    return replies


def _stored_count(rt: Runtime, name: str) -> int:
    db = sqlite3.connect(rt.store.path)
    try:
        row = db.execute("SELECT value FROM agent_state WHERE agent = ? AND key = 'count'",
                         (name,)).fetchone()
        owed = db.execute("SELECT count(*) FROM deliveries WHERE receiver = ?"
                          " AND status = 'pending'",
                          (name,)).fetchone()
    finally:
        db.close()
    assert owed == (0,)  # every message settled (handled, or failed and dead-lettered)
    return int.from_bytes(row[0], "little")


def test_a_batch_answers_every_message_in_order_and_reads_its_own_writes(runtime: Runtime
                                                                        ) -> None:
    rt = runtime
    deploy_wat(rt, "counter", (FIXTURES / "batch_counter.wat").read_text())
    replies = _turns(rt, "counter", list(range(150)))
    assert [m.content for m in replies] == list(range(1, 151))
    asked = {m.in_reply_to for m in replies}
    assert len(asked) == 150  # each reply answers its own request: the host knew which
    stats = rt.host.get("counter").stats
    assert stats.handled == 150
    assert stats.batched_messages >= 140  # all but the first, which measured the cost
    assert _stored_count(rt, "counter") == 150


@pytest.mark.parametrize(("command", "kind"), [("fail", "agent_error"),
                                               ("trap", "unreachable")])
def test_a_failure_mid_batch_costs_that_message_only(runtime: Runtime, command: str,
                                                     kind: str) -> None:
    """The failing message's count write and reply are discarded; those before it keep
    theirs, those after it are handled afterwards (each exactly once)."""
    rt = runtime
    deploy_wat(rt, "counter", (FIXTURES / "batch_counter.wat").read_text())
    contents: list[object] = [*range(20), command, *range(20)]
    replies = _turns(rt, "counter", contents)
    informs = [m.content for m in replies if m.performative is Performative.INFORM]
    assert informs == list(range(1, 41))
    cell = rt.host.get("counter")
    assert cell.stats.failures_by_kind == {kind: 1}
    assert cell.stats.batched_messages >= 30
    if command == "fail":  # final: the sender is told
        failures = [m for m in replies if m.performative is Performative.FAILURE]
        assert len(failures) == 1
    else:  # a trap is retried later (a timer): it is owed meanwhile
        assert cell.instance is not None  # renewed, and it went on with the rest
    if command == "fail":
        assert _stored_count(rt, "counter") == 40


def test_a_batch_that_runs_out_of_fuel_retries_the_message_alone(runtime: Runtime) -> None:
    """The call's fuel is one message's: the spinning message exhausts it after 20 others
    used some. Those 20 count; the spinner is run again alone, where it fails as itself."""
    rt = runtime
    deploy_wat(rt, "counter", (FIXTURES / "batch_counter.wat").read_text(), fuel=2_000_000)
    replies = _turns(rt, "counter", [*range(20), "spin", *range(20)])
    informs = [m.content for m in replies if m.performative is Performative.INFORM]
    assert informs == list(range(1, 41))
    cell = rt.host.get("counter")
    # One fuel failure: the spinner's own run; the batch that it cut short cost nobody.
    assert cell.stats.failures_by_kind == {"fuel_exhausted": 1}
    assert cell.stats.handled == 40


def test_a_batch_never_outgrows_one_message_and_an_oversized_one_fails_alone(
        runtime: Runtime) -> None:
    """A batch's buffer is at most max_message_bytes (the agent's memory use does not grow
    with batching): with room for two of these messages, batches are pairs. A message over
    the limit in the middle of the queue fails on its own (too_large); the rest are answered
    once and in order."""
    rt = runtime
    deploy_wat(rt, "counter", (FIXTURES / "batch_counter.wat").read_text(),
               max_message_bytes=1024)
    contents: list[object] = [f"{i:03d}" + "x" * 300 for i in range(30)]
    contents[15] = "y" * 2000
    instance = rt.host.get("counter").instance
    assert instance is not None
    calls: list[int] = []  # messages each handle_batch call took in
    real = instance.handle_batch

    def counted(messages: list[AclMessage]) -> BatchOutcome:
        result = real(messages)
        if result.batched:
            calls.append(len(result.outcomes))
        return result

    instance.handle_batch = counted  # type: ignore[method-assign]
    replies = _turns(rt, "counter", contents)
    assert calls and max(calls) == 2, calls
    informs = [m.content for m in replies if m.performative is Performative.INFORM]
    assert informs == list(range(1, 30))
    failures = [m for m in replies if m.performative is Performative.FAILURE]
    assert [f.content["error"] for f in failures] == ["too_large"]
    cell = rt.host.get("counter")
    assert cell.stats.failures_by_kind == {"too_large": 1}
    assert 0 < cell.stats.batched_messages < 29  # batched, but never the whole queue at once


BAD_INDEX = """(module
  (import "caxton" "reply" (func $reply (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "{\\"performative\\":\\"inform\\",\\"content\\":1}")
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "handle") (param i32 i32) (result i32)
    (drop (call $reply (i32.const 16) (i32.const 37))) (i32.const 0))
  (func (export "handle_batch") (param $p i32) (param i32) (result i32)
    (i32.store (local.get $p) (i32.const 2))
    (drop (call $reply (i32.const 16) (i32.const 37)))
    (i32.store (local.get $p) (i32.const INDEX))
    (drop (call $reply (i32.const 16) (i32.const 37)))
    (i32.const 0)))"""


@pytest.mark.parametrize("index", [1, 1000, -1])
def test_an_agent_that_lies_about_the_current_message_is_trapped(runtime: Runtime,
                                                                 index: int) -> None:
    """Backwards, past the end or negative: the call traps; the messages before the last
    honest index keep their outcomes, the one at it fails, nothing is answered twice."""
    rt = runtime
    deploy_wat(rt, "liar", BAD_INDEX.replace("INDEX", str(index)))
    replies = _turns(rt, "liar", list(range(6)))
    cell = rt.host.get("liar")
    assert cell.stats.failures_by_kind.get("host_trap", 0) >= 1
    answered = [m.in_reply_to for m in replies if m.performative is Performative.INFORM]
    assert len(answered) == len(set(answered))  # no message answered twice


SILENT_LIAR = """(module (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "handle") (param i32 i32) (result i32) (i32.const 0))
  (func (export "handle_batch") (param $p i32) (param i32) (result i32)
    (i32.store (local.get $p) (i32.const 9999)) (i32.const 0)))"""


def test_a_batch_that_claims_success_with_a_bad_index_fails_instead(runtime: Runtime) -> None:
    """No host call sees the lie, so the host reads the index when the call returns: the
    message at the last honest index fails (bad_agent); none is counted as handled twice."""
    rt = runtime
    deploy_wat(rt, "quiet-liar", SILENT_LIAR)
    _turns(rt, "quiet-liar", list(range(6)))
    cell = rt.host.get("quiet-liar")
    assert cell.stats.failures_by_kind.get("bad_agent", 0) >= 1, cell.stats
    assert cell.stats.batched_messages == 0  # nothing a lying batch did counts as handled
    assert cell.stats.handled + sum(cell.stats.failures_by_kind.values()) >= 6


def test_the_server_reports_batched_messages(server: ServerProcess, tmp_path: Path) -> None:
    from wasmtime import wat2wasm  # noqa: PLC0415

    module = tmp_path / "counter.wasm"
    module.write_bytes(bytes(wat2wasm((FIXTURES / "batch_counter.wat").read_text())))
    server.deploy(module, "counter")
    http = server.http
    assert http.post("/api/v1/agents/counter/stop").status_code == 200
    for i in range(100):
        response = http.post("/api/v1/messages", json={
            "performative": "request", "receiver": "counter", "content": i})
        assert response.status_code in (200, 202), response.text
    assert http.post("/api/v1/agents/counter/start").status_code == 200

    def stats() -> dict[str, int]:
        stats: dict[str, int] = http.get("/api/v1/agents/counter").json()["stats"]
        return stats

    assert eventually(lambda: stats()["handled"] == 100)
    assert stats()["batched_messages"] >= 90
