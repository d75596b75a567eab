"""The host functions of ABI v1 (import module ``caxton``); what they act on is the
``CallContext`` (call_context.py).

Each function reads its arguments from the raw C array and writes its result into slot 0.
Pointers and lengths arrive as signed i32 and are read as unsigned.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import orjson
import wasmtime

from caxton.sandbox._capi import caller_context
from caxton.sandbox.call_context import (
    INVALID,
    MAX_KEY_BYTES,
    MAX_RANDOM_BYTES,
    MAX_VALUE_BYTES,
    NOT_FOUND,
    OK,
    TOO_LARGE,
    CallContext,
)

IMPORT_MODULE = "caxton"
WASI_MODULE = "wasi_snapshot_preview1"
_U32 = 0xFFFFFFFF


HostImpl = Callable[[CallContext, Any, Any], None]


def _send(ctx: CallContext, caller: Any, args: Any, *, as_reply: bool = False) -> None:
    ctx.charge()
    length = args[1].i32 & _U32
    if length > ctx.limits.max_message_bytes:
        args[0].i32 = TOO_LARGE
        return
    data = ctx.read(caller_context(caller), args[0].i32, length)
    args[0].i32 = ctx.emit(data, as_reply=as_reply)


def _reply(ctx: CallContext, caller: Any, args: Any) -> None:
    _send(ctx, caller, args, as_reply=True)


def _log(ctx: CallContext, caller: Any, args: Any) -> None:
    ctx.charge()
    length = min(args[2].i32 & _U32, 64 * 1024)
    text = ctx.read(caller_context(caller), args[1].i32, length).decode("utf-8", "replace")
    ctx.services.agent_log(ctx.agent, args[0].i32, text)


def _now(ctx: CallContext, _caller: Any, args: Any) -> None:
    ctx.charge()
    args[0].i64 = time.time_ns()


def _random(ctx: CallContext, caller: Any, args: Any) -> None:
    ctx.charge()
    length = args[1].i32 & _U32
    if length > MAX_RANDOM_BYTES:
        args[0].i32 = TOO_LARGE
        return
    assert ctx.memory is not None
    ctx.memory.write(caller_context(caller), args[0].i32 & _U32, os.urandom(length))
    args[0].i32 = OK


def _key(ctx: CallContext, cctx: Any, ptr: int, length: int) -> str | int:
    length &= _U32
    if length == 0 or length > MAX_KEY_BYTES:
        return TOO_LARGE if length else INVALID
    try:
        return ctx.read(cctx, ptr, length).decode("utf-8")
    except UnicodeDecodeError:
        return INVALID


def _state_get(ctx: CallContext, caller: Any, args: Any) -> None:
    ctx.charge()
    cctx = caller_context(caller)
    key = _key(ctx, cctx, args[0].i32, args[1].i32)
    if isinstance(key, int):
        args[0].i32 = key
        return
    value = ctx.state_value(key)
    if value is None:
        args[0].i32 = NOT_FOUND
        return
    if len(value) <= (args[3].i32 & _U32):
        assert ctx.memory is not None
        ctx.memory.write(cctx, args[2].i32 & _U32, value)
    args[0].i32 = len(value)


def _state_put(ctx: CallContext, caller: Any, args: Any) -> None:
    ctx.charge()
    cctx = caller_context(caller)
    key = _key(ctx, cctx, args[0].i32, args[1].i32)
    if isinstance(key, int):
        args[0].i32 = key
        return
    length = args[3].i32 & _U32
    if length > MAX_VALUE_BYTES:
        args[0].i32 = TOO_LARGE
        return
    args[0].i32 = ctx.put_state(key, ctx.read(cctx, args[2].i32, length))


def _state_delete(ctx: CallContext, caller: Any, args: Any) -> None:
    ctx.charge()
    key = _key(ctx, caller_context(caller), args[0].i32, args[1].i32)
    if isinstance(key, int):
        args[0].i32 = key
        return
    args[0].i32 = OK if ctx.delete_state(key) else NOT_FOUND


def _state_list(ctx: CallContext, caller: Any, args: Any) -> None:
    ctx.charge()
    cctx = caller_context(caller)
    length = args[1].i32 & _U32
    if length > MAX_KEY_BYTES:
        args[0].i32 = TOO_LARGE
        return
    try:
        prefix = ctx.read(cctx, args[0].i32, length).decode("utf-8") if length else ""
    except UnicodeDecodeError:
        args[0].i32 = INVALID
        return
    data = orjson.dumps(ctx.list_state(prefix))
    if len(data) <= (args[3].i32 & _U32):
        assert ctx.memory is not None
        ctx.memory.write(cctx, args[2].i32 & _U32, data)
    args[0].i32 = len(data)


def _functype(params: str, results: str) -> wasmtime.FuncType:
    kinds = {"i": wasmtime.ValType.i32, "I": wasmtime.ValType.i64}
    return wasmtime.FuncType([kinds[c]() for c in params], [kinds[c]() for c in results])


# name -> (signature as params/results of i32 "i" and i64 "I", implementation)
HOST_FUNCTIONS: dict[str, tuple[str, str, HostImpl]] = {
    "send": ("ii", "i", _send),
    "reply": ("ii", "i", _reply),
    "log": ("iii", "", _log),
    "now": ("", "I", _now),
    "random": ("ii", "i", _random),
    "state_get": ("iiii", "i", _state_get),
    "state_put": ("iiii", "i", _state_put),
    "state_delete": ("ii", "i", _state_delete),
    "state_list": ("iiii", "i", _state_list),
}


def host_functype(name: str) -> wasmtime.FuncType:
    params, results, _ = HOST_FUNCTIONS[name]
    return _functype(params, results)


def describe(name: str) -> str:
    params, results, _ = HOST_FUNCTIONS[name]
    return _signature(params, results)


def _signature(params: str, results: str) -> str:
    names = {"i": "i32", "I": "i64"}
    ps = ", ".join(names[c] for c in params)
    rs = ", ".join(names[c] for c in results)
    return f"({ps}) -> ({rs})" if rs else f"({ps})"
