"""The caxton:agent/host functions called directly, with component values built in Python.

They must behave as their ABI v1 twins do (tests/unit/test_instance.py covers those): same
validation, same limits, same bookkeeping on the CallContext; only the encoding differs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest

from caxton.domain.acl import AclMessage, Performative
from caxton.domain.limits import ResourceLimits
from caxton.sandbox import _cvals as cv
from caxton.sandbox._capi import HostTrap
from caxton.sandbox.call_context import CallContext
from caxton.sandbox.component_host import HOST_FUNCTIONS, SIGNATURES


class Services:
    def __init__(self) -> None:
        self.state: dict[str, bytes] = {}
        self.room = 64 * 1024 * 1024  # bytes of state the agent may still add
        self.logs: list[tuple[str, int, str]] = []

    def state_read(self, agent: str, key: str) -> bytes | None:
        return self.state.get(key)

    def state_keys(self, agent: str, prefix: str, limit: int) -> list[str]:
        return sorted(k for k in self.state if k.startswith(prefix))[:limit]

    def state_room(self, agent: str) -> int:
        return self.room

    def agent_log(self, agent: str, level: int, text: str) -> None:
        self.logs.append((agent, level, text))


Call = Callable[..., Any]


@pytest.fixture
def ctx() -> CallContext:
    context = CallContext(agent="me", limits=ResourceLimits(max_message_bytes=1024),
                          services=Services())
    context.begin(AclMessage(performative=Performative.REQUEST, sender="client",
                             receiver=("me",), conversation_id="c-1", reply_with="r-1"))
    return context


@pytest.fixture
def call(ctx: CallContext) -> Iterator[Call]:
    """Call a host function with Python arguments; return the decoded result."""
    owned: list[Any] = []

    def run(name: str, *params: Any) -> Any:
        args = (cv.Val * max(len(params), 1))()
        for val, param in zip(args, params, strict=False):
            if isinstance(param, str) and param in ("debug", "info", "warning", "error"):
                cv.set_enum(val, param)
            elif isinstance(param, str) or param is None:
                cv.set_string(val, (param or "").encode())
            elif isinstance(param, bytes):
                cv.set_bytes(val, param)
            else:
                cv.set_u32(val, param)
        owned.append(args)
        results = (cv.Val * 1)()
        HOST_FUNCTIONS[name](ctx, args, results)
        out = decode(results[0]) if "->" in SIGNATURES[name] else None
        cv.drop(results[0])
        return out

    yield run
    for args in owned:
        for val in args:
            cv.drop(val)


def decode(val: Any) -> Any:
    """A result as ("ok", payload) or ("err", case, payload); other values as Python."""
    kind = val.kind
    if kind == cv.K_RESULT:
        ok, payload = cv.read_result(val)
        if ok:
            return ("ok", None if payload is None else decode(payload))
        case, detail = cv.read_variant(payload)
        return ("err", case, None if detail is None else decode(detail))
    if kind == cv.K_OPTION:
        inner = cv.read_option(val)
        return None if inner is None else decode(inner)
    if kind == cv.K_STRING:
        return cv.read_string(val).decode()
    if kind == cv.K_LIST and val.of.list.size and val.of.list.data[0].kind == cv.K_STRING:
        return [cv.read_string(val.of.list.data[i]).decode() for i in range(val.of.list.size)]
    if kind == cv.K_LIST:
        return cv.read_bytes(val)
    if kind == cv.K_S64:
        return val.of.s64
    assert kind == cv.K_BOOL
    return bool(val.of.boolean)


def test_send_forces_the_sender_and_starts_a_conversation(call: Call, ctx: CallContext) -> None:
    body = {"performative": "inform", "receiver": "bob", "sender": "mallory", "content": [1]}
    assert call("send", orjson.dumps(body).decode()) == ("ok", None)
    (sent,) = ctx.outbox
    assert (sent.sender, sent.receiver, sent.content) == ("me", ("bob",), [1])
    assert sent.conversation_id == sent.message_id
    assert sent.hops == 1


def test_reply_fills_in_the_routing_fields(call: Call, ctx: CallContext) -> None:
    assert call("reply", '{"performative":"agree"}') == ("ok", None)
    (answer,) = ctx.outbox
    assert (answer.receiver, answer.conversation_id, answer.in_reply_to) == (
        ("client",), "c-1", "r-1")


@pytest.mark.parametrize(("message", "expected"), [
    ("{oops", ("err", "invalid", "not valid JSON (unexpected character, expected a string "
                                 "key: line 1 column 2 (char 1))")),
    ('{"performative":"inform"}', ("err", "invalid", "field 'receiver': at least one receiver "
                                                      "is required")),
    ('{"performative":"inform","receiver":"b","content":"' + "x" * 1100 + '"}',
     ("err", "too-large", None)),
])
def test_send_refusals_are_wit_errors(call: Call, ctx: CallContext, message: str,
                                      expected: tuple[Any, ...]) -> None:
    assert call("send", message) == expected
    assert ctx.outbox == []


def test_refusal_reasons_also_go_to_the_log(call: Call, ctx: CallContext) -> None:
    call("send", "[]")
    assert isinstance(ctx.services, Services)
    assert ctx.services.logs == [("me", 3, "send refused: field 'message': must be a JSON object")]


def test_sends_past_the_budget_are_invalid_with_the_reason(call: Call, ctx: CallContext
                                                           ) -> None:
    """The WIT world has no "limit" error: a component gets invalid(reason) instead of -4."""
    ctx.limits = ResourceLimits(max_sends_per_message=2)
    body = '{"performative":"inform","receiver":"b"}'
    assert call("send", body) == ("ok", None)
    assert call("reply", '{"performative":"inform"}') == ("ok", None)
    reason = ("the budget of 2 sends per handled message is spent (max_sends_per_message)")
    assert call("send", body) == ("err", "invalid", reason)
    assert call("reply", '{"performative":"inform"}') == ("err", "invalid", reason)
    assert len(ctx.outbox) == 2 and ctx.sends_refused == 2


def test_reply_outside_a_message_is_no_message(call: Call, ctx: CallContext) -> None:
    ctx.begin(None)
    assert call("reply", '{"performative":"inform"}') == ("err", "no-message", None)


def test_log_now_and_random(call: Call, ctx: CallContext) -> None:
    call("log", "warning", "careful")
    assert isinstance(ctx.services, Services)
    assert ctx.services.logs == [("me", 2, "careful")]
    before = time.time_ns()
    assert before <= call("now") <= time.time_ns()
    status, data = call("random", 32)
    assert status == "ok" and len(data) == 32 and data != call("random", 32)[1]
    assert call("random", 65537) == ("err", "too-large", None)


def test_state_text_and_bytes(call: Call, ctx: CallContext) -> None:
    assert call("state-get", "k") == ("ok", None)
    assert call("state-put", "k", "välue") == ("ok", None)
    assert ctx.state_writes == {"k": "välue".encode()}
    assert call("state-get", "k") == ("ok", "välue")
    assert call("state-put-bytes", "b", b"\xff\x00") == ("ok", None)
    assert call("state-get-bytes", "b") == ("ok", b"\xff\x00")
    assert call("state-get", "b") == (
        "err", "invalid", "the value is not UTF-8: use state-get-bytes")
    assert call("state-get-bytes", "k") == ("ok", "välue".encode())


def test_state_sees_committed_values_and_deletes(call: Call, ctx: CallContext) -> None:
    assert isinstance(ctx.services, Services)
    ctx.services.state["old"] = b"1"
    assert call("state-get", "old") == ("ok", "1")
    assert call("state-delete", "old") == ("ok", True)
    assert call("state-delete", "never") == ("ok", False)
    assert call("state-get", "old") == ("ok", None)
    assert ctx.state_writes == {"old": None, "never": None}


def test_state_limits(call: Call) -> None:
    assert call("state-get", "") == ("err", "invalid", "empty key")
    assert call("state-put", "k" * 1025, "v") == ("err", "too-large", None)
    assert call("state-put", "k" * 1024, "v") == ("ok", None)
    assert call("state-put", "big", "x" * (1024 * 1024 + 1)) == ("err", "too-large", None)
    assert call("state-put-bytes", "big", b"x" * (1024 * 1024 + 1)) == ("err", "too-large", None)


def test_every_call_is_charged_to_the_budget(call: Call, ctx: CallContext) -> None:
    ctx.limits = ResourceLimits(max_host_calls=2)
    call("now")
    call("state-get", "k")
    with pytest.raises(HostTrap, match="host call budget of 2 per message exhausted"):
        call("log", "info", "one too many")


def test_state_list_merges_this_calls_writes(call: Call, ctx: CallContext) -> None:
    assert isinstance(ctx.services, Services)
    ctx.services.state.update({"bid:1": b"1", "bid:2": b"2", "rate": b"7"})
    assert call("state-list", "bid:") == ("ok", ["bid:1", "bid:2"])
    call("state-put", "bid:3", "3")
    call("state-delete", "bid:1")
    assert call("state-list", "bid:") == ("ok", ["bid:2", "bid:3"])
    assert call("state-list", None) == ("ok", ["bid:2", "bid:3", "rate"])
    assert call("state-list", "nothing") in (("ok", []), ("ok", b""))  # empty: untyped list
    assert call("state-list", "p" * 1025) == ("err", "too-large", None)


def test_the_agents_state_limit_applies(call: Call, ctx: CallContext) -> None:
    assert isinstance(ctx.services, Services)
    ctx.services.room = 10
    assert call("state-put", "k", "12345678") == ("ok", None)  # 1 + 8 bytes
    assert call("state-put", "k2", "x") == ("err", "too-large", None)  # 2 + 1 more
    assert call("state-delete", "k") == ("ok", True)  # frees 9
    assert call("state-put", "k2", "x") == ("ok", None)
