"""The engine's component linker: WASI preview 2 plus ``caxton:agent/host``, as raw callbacks.

wasmtime-py's ``LinkerInstance.add_func`` looks up the function's type and converts every
argument through it on each call; the host knows its types statically (component_host), so it
registers C callbacks of its own that read the arguments in place (``_cvals``).

One C callback per function serves the whole engine, as for core modules. A component callback
carries no caller-specific data, but it does receive the store's context pointer, which is
stable for a store's lifetime: that is the key to the calling agent's ``CallContext``.
"""

from __future__ import annotations

import ctypes
from typing import Any

import wasmtime
import wasmtime.component
from wasmtime import _ffi as ffi

from caxton.sandbox import _cvals as cv
from caxton.sandbox._capi import HostTrap
from caxton.sandbox.call_context import CallContext
from caxton.sandbox.component_host import HOST_FUNCTIONS, HOST_INTERFACE, PERMISSION, Impl, deny

__all__ = ["ComponentCall", "ComponentHost", "RawCallback", "add_raw_func"]

# (env, context, func type, args, nargs, results, nresults) -> wasmtime_error_t* or 0. The
# context is declared as a plain address (wasmtime-py's prototype would box it in a pointer).
RawCallback = ctypes.CFUNCTYPE(
    ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
    ctypes.POINTER(cv.Val), ctypes.c_size_t, ctypes.POINTER(cv.Val), ctypes.c_size_t,
)
_add_func = ctypes.CFUNCTYPE(
    ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, RawCallback,
    ctypes.c_void_p, ctypes.c_void_p,
)(("wasmtime_component_linker_instance_add_func", ffi.dll))


def add_raw_func(instance: wasmtime.component.LinkerInstance, name: str, callback: Any) -> None:
    """Define ``name`` in a linker instance as a RawCallback (kept alive by the caller)."""
    encoded = name.encode()
    error = _add_func(ctypes.cast(instance.ptr(), ctypes.c_void_p), encoded, len(encoded),
                      callback, None, None)
    if error:
        raise wasmtime.WasmtimeError._from_ptr(
            ctypes.cast(error, ctypes.POINTER(ffi.wasmtime_error_t)))


class ComponentCall:
    """What the callbacks need about one store: its agent's context and the last host trap."""

    __slots__ = ("ctx", "trap", "trap_kind")

    def __init__(self, ctx: CallContext) -> None:
        self.ctx = ctx
        self.trap: str | None = None
        self.trap_kind = "host_trap"


class ComponentHost:
    """The engine's component linker: WASI preview 2 plus ``caxton:agent/host``."""

    def __init__(self, engine: wasmtime.Engine) -> None:
        self.calls: dict[int, ComponentCall] = {}
        self._callbacks = [self._callback(name, impl) for name, impl in HOST_FUNCTIONS.items()]
        self.linker = wasmtime.component.Linker(engine)
        # WASI is sandboxed per store (see ComponentInstance): no files, environment, arguments
        # or network; clocks and random are real; stdout and stderr go to the agent's log.
        self.linker.add_wasip2()
        with self.linker.root() as root, root.add_instance(HOST_INTERFACE) as host:
            for name, callback in zip(HOST_FUNCTIONS, self._callbacks, strict=True):
                add_raw_func(host, name, callback)

    def _callback(self, name: str, impl: Impl) -> Any:
        calls = self.calls
        function = PERMISSION[name]

        def callback(_env: int | None, context: int | None, _ty: int | None, args: Any,
                     _nargs: int, results: Any, _nresults: int) -> int:
            call = calls.get(context or 0)
            kind = "host_trap"
            try:
                if call is None:
                    raise HostTrap("host function called from an unknown store")
                ctx = call.ctx
                permitted = ctx.permitted
                if permitted is not None and function is not None and function not in permitted:
                    deny(ctx, name, results)
                else:
                    impl(ctx, args, results)
                return 0
            except HostTrap as exc:
                message, kind = str(exc), exc.kind
            except Exception as exc:  # never let Python unwind through wasm frames
                message = f"host function failed: {exc!r}"
            if call is not None:
                call.trap, call.trap_kind = message, kind
            error = ffi.wasmtime_error_new(message.encode())
            return int(ctypes.cast(error, ctypes.c_void_p).value or 0)

        return RawCallback(callback)

    def register(self, context: int, ctx: CallContext) -> ComponentCall:
        call = ComponentCall(ctx)
        self.calls[context] = call
        return call

    def unregister(self, context: int) -> None:
        self.calls.pop(context, None)
