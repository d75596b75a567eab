"""The hot path into wasmtime's C API, below wasmtime-py's convenience layer.

``Func.__call__`` in wasmtime-py looks up the function type and boxes every argument on each
call (about 35 µs for a handle + reply round trip); the unchecked C entry points with
preallocated argument arrays do the same work in about 3 µs. Everything unsafe about that lives
here: raw calls into exports, raw host functions, memory reads and writes with bounds checks.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

import wasmtime
from wasmtime import _bindings
from wasmtime import _ffi as ffi

# (env, caller, args) -> None; results are written back into ``args`` (the C API shares the
# array between parameters and results).
RawHostFn = Callable[[int, Any, Any], None]

_NO_FINALIZER = ctypes.cast(0, ctypes.CFUNCTYPE(None, ctypes.c_void_p))


def _raw(name: str) -> Any:
    """The ctypes function itself: wasmtime-py wraps each in a Python function that only
    forwards its arguments, a frame per call on the message path (four or five per message)."""
    return getattr(_bindings, f"_{name}", None) or getattr(ffi, name)


def _holding_the_gil(function: Any) -> Any:
    """The same C function called without releasing the GIL. A ctypes call gives the GIL up
    and takes it back, which under contention waits for whichever thread took it meanwhile:
    for a call that takes nanoseconds (setting fuel, reading a memory's size) that wait is
    the whole cost. Calls into WebAssembly keep releasing it: agents run in parallel."""
    prototype = ctypes.PYFUNCTYPE(function.restype, *function.argtypes)
    address = ctypes.cast(function, ctypes.c_void_p).value
    assert address, function
    return prototype(address)


_call_unchecked = _raw("wasmtime_func_call_unchecked")
_set_fuel = _holding_the_gil(_raw("wasmtime_context_set_fuel"))
_get_fuel = _holding_the_gil(_raw("wasmtime_context_get_fuel"))
_set_epoch_deadline = _holding_the_gil(_raw("wasmtime_context_set_epoch_deadline"))
_memory_data = _holding_the_gil(_raw("wasmtime_memory_data"))
_memory_data_size = _holding_the_gil(_raw("wasmtime_memory_data_size"))
_memmove = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                             ctypes.c_size_t)(ctypes._memmove_addr)  # type: ignore[attr-defined]


class WasmCallError(Exception):
    """A call into WebAssembly did not return normally; ``kind`` says why."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


class HostTrap(Exception):  # noqa: N818 - it *is* a trap, raised by host code
    """Raised inside a host function to trap the calling agent with a message; ``kind`` is
    the failure kind the message's failure reports (a component's; a core module's is
    ``bad_agent``)."""

    def __init__(self, message: str, kind: str = "host_trap") -> None:
        super().__init__(message)
        self.kind = kind


_TRAP_KINDS = {
    wasmtime.TrapCode.OUT_OF_FUEL: "fuel_exhausted",
    wasmtime.TrapCode.INTERRUPT: "timeout",
    wasmtime.TrapCode.STACK_OVERFLOW: "stack_overflow",
    wasmtime.TrapCode.MEMORY_OUT_OF_BOUNDS: "memory_out_of_bounds",
    wasmtime.TrapCode.UNREACHABLE: "unreachable",
}


def _reason(message: str) -> str:
    """The useful line of a wasmtime message: the cause, not the backtrace header."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if "Caused by:" in lines:
        after = lines[lines.index("Caused by:") + 1:]
        if after:
            return after[0]
    return lines[0] if lines else "unknown"


def _trap_error(trap: Any) -> WasmCallError:
    obj = wasmtime.Trap._from_ptr(trap)
    kind = _TRAP_KINDS.get(obj.trap_code, "trap") if obj.trap_code is not None else "trap"
    return WasmCallError(kind, _reason(obj.message or kind))


def _call_error(error: Any) -> WasmCallError:
    # A host function that traps (see HostFunction) surfaces as an error, not a trap.
    return WasmCallError("host_trap", _reason(str(wasmtime.WasmtimeError._from_ptr(error))))


class RawExport:
    """An exported function called with i32 arguments through the unchecked C API."""

    __slots__ = ("_args", "_ctx", "_func", "_func_ref", "_len", "_nargs", "_trap", "_trap_ref",
                 "nresults")

    def __init__(self, store: wasmtime.Store, func: wasmtime.Func, nargs: int, nresults: int):
        self._ctx = store._context()
        self._func = func
        self._func_ref = ctypes.byref(func._func)
        self._nargs = nargs
        self.nresults = nresults
        self._args = (ffi.wasmtime_val_raw_t * max(nargs, nresults, 1))()
        self._len = len(self._args)
        self._trap = ctypes.POINTER(ffi.wasm_trap_t)()
        self._trap_ref = ctypes.byref(self._trap)

    def __call__(self, *args: int) -> int | None:
        raw = self._args
        for i, value in enumerate(args):
            raw[i].i32 = value
        error = _call_unchecked(self._ctx, self._func_ref, raw, self._len, self._trap_ref)
        if error:
            raise _call_error(error)
        if self._trap:
            trap = self._trap
            self._trap = ctypes.POINTER(ffi.wasm_trap_t)()
            self._trap_ref = ctypes.byref(self._trap)
            raise _trap_error(trap)
        return raw[0].i32 if self.nresults else None


class StoreControl:
    """Fuel and deadline setting for one store, without wasmtime-py's per-call wrappers."""

    __slots__ = ("_ctx", "_fuel")

    def __init__(self, store: wasmtime.Store) -> None:
        self._ctx = store._context()
        self._fuel = ctypes.c_uint64()

    def arm(self, fuel: int, deadline_ticks: int) -> None:
        error = _set_fuel(self._ctx, fuel)
        if error:
            raise _call_error(error)
        _set_epoch_deadline(self._ctx, deadline_ticks)

    def fuel_left(self) -> int:
        _get_fuel(self._ctx, ctypes.byref(self._fuel))
        return self._fuel.value


class MemoryView:
    """Bounds-checked reads and writes of an instance's linear memory."""

    __slots__ = ("_address", "_mem_ref", "_size")

    def __init__(self, memory: wasmtime.Memory) -> None:
        self._mem_ref = ctypes.byref(memory._memory)
        self._size = -1  # the size when ``_address`` was read
        self._address = 0

    def _base(self, ctx: Any, ptr: int, length: int) -> int:
        if ptr < 0 or length < 0:
            raise HostTrap(f"negative pointer or length ({ptr}, {length})")
        size = _memory_data_size(ctx, self._mem_ref)
        if ptr + length > size:
            raise HostTrap(f"range [{ptr}, {ptr + length}) is outside memory of {size} bytes")
        if size != self._size:
            # A linear memory only moves when it grows (it never shrinks), so the address
            # read at this size still holds until the size changes.
            self._address = int(ctypes.cast(_memory_data(ctx, self._mem_ref),
                                            ctypes.c_void_p).value or 0)
            self._size = size
        return self._address

    def read(self, ctx: Any, ptr: int, length: int) -> bytes:
        return ctypes.string_at(self._base(ctx, ptr, length) + ptr, length)

    def write(self, ctx: Any, ptr: int, data: bytes) -> None:
        _memmove(self._base(ctx, ptr, len(data)) + ptr, data, len(data))


def caller_context(caller: Any) -> Any:
    return ffi.wasmtime_caller_context(caller)


class HostFunction:
    """One C callback shared by every instance; ``env`` selects whose call it is.

    A ctypes callback is executable memory; making one per function per agent would cost
    kilobytes per agent, so each host function gets one for the whole engine.
    """

    def __init__(self, functype: wasmtime.FuncType, target: RawHostFn) -> None:
        self.functype = functype

        def trampoline(env: int | None, caller: Any, args: Any, _nargs: int) -> int:
            try:
                target(env or 0, caller, args)
                return 0
            except HostTrap as exc:
                return _new_trap(str(exc))
            except Exception as exc:  # never let Python unwind through wasm frames
                return _new_trap(f"host function failed: {exc!r}")

        self._callback = ffi.wasmtime_func_unchecked_callback_t(trampoline)

    def bind(self, store: wasmtime.Store, env: int) -> wasmtime.Func:
        func = ffi.wasmtime_func_t()
        ffi.wasmtime_func_new_unchecked(
            store._context(), self.functype.ptr(), self._callback, env, _NO_FINALIZER,
            ctypes.byref(func),
        )
        return wasmtime.Func._from_raw(func)


def _new_trap(message: str) -> int:
    data = message.encode()
    trap = ffi.wasmtime_trap_new(ctypes.create_string_buffer(data), len(data))
    return int(ctypes.cast(trap, ctypes.c_void_p).value or 0)
