"""The ``caxton:agent/host`` interface (wit/caxton-agent.wit) for component agents.

Each function does what its ABI v1 twin in ``hostcalls`` does, on the same ``CallContext``, so a
component agent's sends, replies and state writes follow exactly the same rules (sender forced,
reply routing filled in, writes committed only when ``handle`` succeeds, the host-call budget).
Only the value encoding differs: the arguments arrive as component values instead of pointers
into linear memory, and the ABI's negative codes become the WIT ``error`` variant.

``begin-message`` (1.1) has no ABI v1 twin: it is how a ``handle-batch`` call says which message
it is handling (ABI v1's batches write the index into the host's buffer instead).

The functions are linked into the engine's component linker by ``component_linker``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from caxton.domain.send_policy import HOST_FUNCTION
from caxton.sandbox import _cvals as cv
from caxton.sandbox._capi import HostTrap
from caxton.sandbox.call_context import (
    INVALID,
    LIMIT,
    MAX_KEY_BYTES,
    MAX_RANDOM_BYTES,
    MAX_VALUE_BYTES,
    NO_MESSAGE,
    OK,
    TOO_LARGE,
    CallContext,
)

# The interface as the host defines it. wasmtime's linker is semver-aware: components built
# against an earlier 1.x (1.0.0: no begin-message) link to it unchanged.
HOST_INTERFACE = "caxton:agent/host@1.1.0"
HOST_INTERFACE_MAJOR = "caxton:agent/host@1."
_LEVELS = {"debug": 0, "info": 1, "warning": 2, "error": 3}
_MAX_LOG_BYTES = 64 * 1024

Impl = Callable[[CallContext, Any, Any], None]


def _status(val: Any, ctx: CallContext, code: int) -> None:
    """``result<_, error>`` from an ABI v1 status code."""
    if code == OK:
        cv.set_result(val, True)
    else:
        _error(val, ctx, code)


def _error(val: Any, ctx: CallContext, code: int, reason: str = "") -> None:
    err = cv.Val()
    if code in (INVALID, LIMIT):  # the WIT world has no "limit" case: invalid, with the reason
        text = cv.Val()
        cv.set_string(text, (reason or ctx.refusal or "invalid").encode())
        cv.set_variant(err, "invalid", text)
    elif code == TOO_LARGE:
        cv.set_variant(err, "too-large")
    elif code == NO_MESSAGE:
        cv.set_variant(err, "no-message")
    else:  # pragma: no cover - every code the host produces is listed above
        raise HostTrap(f"host produced unknown status {code}")
    cv.set_result(val, False, err)


def _begin_message(ctx: CallContext, args: Any, _results: Any) -> None:
    """The agent now handles message ``index`` of its ``handle-batch`` call (``handle``'s one
    message is index 0). Bookkeeping, not a service: it is not charged to the budget."""
    index = args[0].of.u32
    if ctx.batch is not None:
        ctx.advance(index)  # a bad index traps the call (host_trap), as in a core module
    elif index != 0:
        raise HostTrap(f"begin-message({index}) during handle, whose one message has index 0")


def _send(ctx: CallContext, args: Any, results: Any, *, as_reply: bool = False) -> None:
    ctx.charge()
    data = cv.read_string(args[0])
    if len(data) > ctx.limits.max_message_bytes:
        _error(results[0], ctx, TOO_LARGE)
        return
    ctx.refusal = ""
    _status(results[0], ctx, ctx.emit(data, as_reply=as_reply))


def _reply(ctx: CallContext, args: Any, results: Any) -> None:
    _send(ctx, args, results, as_reply=True)


def _log(ctx: CallContext, args: Any, _results: Any) -> None:
    ctx.charge()
    level = _LEVELS.get(cv.read_name(args[0]), 1)
    text = cv.read_string(args[1])[:_MAX_LOG_BYTES].decode("utf-8", "replace")
    ctx.services.agent_log(ctx.agent, level, text)


def _now(ctx: CallContext, _args: Any, results: Any) -> None:
    ctx.charge()
    cv.set_s64(results[0], time.time_ns())


def _random(ctx: CallContext, args: Any, results: Any) -> None:
    ctx.charge()
    length = args[0].of.u32
    if length > MAX_RANDOM_BYTES:
        _error(results[0], ctx, TOO_LARGE)
        return
    out = cv.Val()
    cv.set_bytes(out, os.urandom(length))
    cv.set_result(results[0], True, out)


def _key(ctx: CallContext, val: Any, results: Any) -> str | None:
    """The key, or None after writing the error (same limits as ABI v1's keys)."""
    raw = cv.read_string(val)
    if not raw:
        _error(results[0], ctx, INVALID, "empty key")
        return None
    if len(raw) > MAX_KEY_BYTES:
        _error(results[0], ctx, TOO_LARGE)
        return None
    return raw.decode()


def _state_get(ctx: CallContext, args: Any, results: Any, *, text: bool = True) -> None:
    ctx.charge()
    key = _key(ctx, args[0], results)
    if key is None:
        return
    value = ctx.state_value(key)
    some = None
    if value is not None:
        some = cv.Val()
        if not text:
            cv.set_bytes(some, value)
        else:
            try:
                value.decode()
            except UnicodeDecodeError:
                _error(results[0], ctx, INVALID, "the value is not UTF-8: use state-get-bytes")
                return
            cv.set_string(some, value)
    option = cv.Val()
    cv.set_option(option, some)
    cv.set_result(results[0], True, option)


def _state_get_bytes(ctx: CallContext, args: Any, results: Any) -> None:
    _state_get(ctx, args, results, text=False)


def _state_put(ctx: CallContext, args: Any, results: Any) -> None:
    ctx.charge()
    key = _key(ctx, args[0], results)
    if key is None:
        return
    value = args[1]
    size = value.of.list.size if value.kind == cv.K_LIST else value.of.string.size
    if size > MAX_VALUE_BYTES:
        _error(results[0], ctx, TOO_LARGE)
        return
    data = cv.read_bytes(value) if value.kind == cv.K_LIST else cv.read_string(value)
    _status(results[0], ctx, ctx.put_state(key, data))


def _state_delete(ctx: CallContext, args: Any, results: Any) -> None:
    ctx.charge()
    key = _key(ctx, args[0], results)
    if key is None:
        return
    flag = cv.Val()
    cv.set_bool(flag, ctx.delete_state(key))
    cv.set_result(results[0], True, flag)


def _state_list(ctx: CallContext, args: Any, results: Any) -> None:
    ctx.charge()
    prefix = cv.read_string(args[0])
    if len(prefix) > MAX_KEY_BYTES:
        _error(results[0], ctx, TOO_LARGE)
        return
    listed = cv.Val()
    cv.set_strings(listed, [key.encode() for key in ctx.list_state(prefix.decode())])
    cv.set_result(results[0], True, listed)


# The WIT signature of each function (types only, as validate.wit_signature spells them).
_ERROR = "variant<invalid(string), too-large, no-message>"
SIGNATURES = {
    "send": f"(string) -> result<_, {_ERROR}>",
    "reply": f"(string) -> result<_, {_ERROR}>",
    "log": "(enum<debug, info, warning, error>, string)",
    "now": "() -> s64",
    "random": f"(u32) -> result<list<u8>, {_ERROR}>",
    "state-get": f"(string) -> result<option<string>, {_ERROR}>",
    "state-put": f"(string, string) -> result<_, {_ERROR}>",
    "state-get-bytes": f"(string) -> result<option<list<u8>>, {_ERROR}>",
    "state-put-bytes": f"(string, list<u8>) -> result<_, {_ERROR}>",
    "state-delete": f"(string) -> result<bool, {_ERROR}>",
    "state-list": f"(string) -> result<list<string>, {_ERROR}>",
    "begin-message": "(u32)",
}

# The ABI v1 host function each one is (the name an agent's permissions list); begin-message
# is not a service an agent could be denied.
PERMISSION: dict[str, str | None] = {
    "begin-message": None,
    "send": "send", "reply": "reply", "log": "log", "now": "now", "random": "random",
    "state-get": "state_get", "state-put": "state_put", "state-get-bytes": "state_get",
    "state-put-bytes": "state_put", "state-delete": "state_delete", "state-list": "state_list",
}
# Functions without an error result: a denied call can only trap.
_INFALLIBLE = frozenset(name for name, sig in SIGNATURES.items() if "result<" not in sig)
DENIED_KIND = "permission_denied"  # the failure kind of a message whose handler trapped so


def deny(ctx: CallContext, name: str, results: Any) -> None:
    """A call of ``name`` that the agent's permissions deny: reported, then answered with
    ``error::invalid(reason)``, or (``log``, ``now``: no error to return) a trap that fails
    the message as ``permission_denied``."""
    ctx.charge()
    reason = (f"host function '{PERMISSION[name]}' is not permitted by the agent's "
              f"permissions (permissions.host_functions)")
    ctx.services.violation(ctx.agent, HOST_FUNCTION, f"called {name}: {reason}")
    if name in _INFALLIBLE:
        raise HostTrap(reason, DENIED_KIND)
    ctx.services.agent_log(ctx.agent, 3, f"{name} refused: {reason}")
    _error(results[0], ctx, INVALID, reason)


HOST_FUNCTIONS: dict[str, Impl] = {
    "send": _send,
    "reply": _reply,
    "log": _log,
    "now": _now,
    "random": _random,
    "state-get": _state_get,
    "state-put": _state_put,
    "state-get-bytes": _state_get_bytes,
    "state-put-bytes": _state_put,
    "state-delete": _state_delete,
    "state-list": _state_list,
    "begin-message": _begin_message,
}
