"""One component agent's live sandbox: the ``caxton:agent`` world's twin of ``AgentInstance``.

Languages that build WebAssembly components (Python with componentize-py, JavaScript with
componentize-js, ...) run here under exactly the limits a core module gets: fuel per message,
a cap on every linear memory (the store's limiter), the epoch deadline, the maximum message size
and the host-call budget. The host functions act on the same ``CallContext`` as ABI v1's, so
sends, replies and state writes follow the same rules and are returned, not released.

``ComponentInstance`` subclasses ``AgentInstance`` only so that the runtime, which is typed
against ``AgentInstance``, takes either kind unchanged; it shares no state with the core-module
implementation and overrides every public method.
"""

from __future__ import annotations

import ctypes
import re
import time
from typing import Any

import wasmtime
import wasmtime.component as wc
from wasmtime import _ffi as ffi

from caxton.domain.acl import AclMessage
from caxton.domain.agent_permissions import AgentPermissions
from caxton.domain.limits import WASM_PAGE, ResourceLimits
from caxton.errors import CapacityError, ModuleRejectedError
from caxton.sandbox import _cvals as cv
from caxton.sandbox._capi import HostTrap, StoreControl, WasmCallError
from caxton.sandbox.call_context import CallContext, HostServices
from caxton.sandbox.component_linker import ComponentCall
from caxton.sandbox.engine import CompiledComponent, SandboxEngine
from caxton.sandbox.instance import INIT_TIMEOUT_MS, AgentInstance, LineSink, capacity_error
from caxton.sandbox.outcome import BatchOutcome, Outcome, oversize

_MAX_REASON = 1000  # characters of an agent's error string kept in the outcome
_TRAP_KINDS = (
    ("all fuel consumed", "fuel_exhausted"),
    ("interrupt", "timeout"),
    ("call stack exhausted", "stack_overflow"),
    ("out of bounds memory access", "memory_out_of_bounds"),
    ("unreachable", "unreachable"),
)
# Fewer messages than this go to ``handle``, one call each: a handle-batch call costs more to
# set up (the list, begin-message) than a handle call, and repays it only from about the
# third message on (bench/components.py: a pair costs 3-11% more than two handle calls).
MIN_BATCH = 3
_MEMORY_MINIMUM = re.compile(r"memory minimum size of (\d+) pages exceeds memory limits")


class _ComponentFunc:
    """An export called through the C API with preallocated argument and result arrays."""

    __slots__ = ("_args", "_call", "_ctx", "_func", "_func_ref", "_results")

    def __init__(self, store: wasmtime.Store, func: wc.Func, nargs: int, call: ComponentCall):
        self._ctx = store._context()
        self._func = func
        self._func_ref = ctypes.byref(func._func)
        self._args = (cv.Val * max(nargs, 1))()
        self._results = (cv.Val * 1)()
        self._call = call

    def _invoke(self, nargs: int) -> Any:
        """Call with the arguments set; its one result, which the caller drops. Raises
        WasmCallError when the call traps."""
        error = ffi.wasmtime_component_func_call(
            self._func_ref, self._ctx, self._args, nargs, self._results, 1
        )
        if error:
            raise _failure(error, self._call)
        return self._results[0]


class _Export(_ComponentFunc):
    """An export of type ``func(string?) -> result<_, string>``.

    Returns None for ``ok`` and the error string for ``err``. The argument borrows the
    caller's bytes: wasmtime only reads call arguments.
    """

    __slots__ = ("_nargs",)

    def __init__(self, store: wasmtime.Store, func: wc.Func, nargs: int, call: ComponentCall):
        super().__init__(store, func, nargs, call)
        self._nargs = nargs

    def __call__(self, data: bytes = b"") -> str | None:
        if self._nargs:
            cv.borrow_string(self._args[0], data)
        result = self._invoke(self._nargs)
        try:
            ok, payload = cv.read_result(result)
            if ok:
                return None
            return cv.read_string(payload).decode("utf-8", "replace") if payload else ""
        finally:
            cv.drop(result)


class _BatchExport(_ComponentFunc):
    """The ``handle-batch`` export, ``func(list<string>) -> result<_, batch-failure>``.

    Returns None for ``ok`` and ``(index, reason)`` for ``err``. The list and its strings
    borrow the caller's bytes, as in ``_Export``.
    """

    __slots__ = ()

    def __init__(self, store: wasmtime.Store, func: wc.Func, call: ComponentCall):
        super().__init__(store, func, 1, call)

    def __call__(self, items: list[bytes]) -> tuple[int, str] | None:
        elements = cv.borrow_strings(self._args[0], items)
        try:
            result = self._invoke(1)
        finally:
            del elements  # wasmtime has copied the arguments into the guest
        try:
            ok, payload = cv.read_result(result)
            if ok:
                return None
            fields = cv.read_record(payload)
            return (int(fields["index"].of.u32),
                    cv.read_string(fields["reason"]).decode("utf-8", "replace"))
        finally:
            cv.drop(result)


def _failure(error: Any, call: ComponentCall) -> WasmCallError:
    err = wasmtime.WasmtimeError._from_ptr(error)
    if isinstance(err, wasmtime.ExitTrap):
        return WasmCallError("trap", f"the agent exited with status {err.code}")
    if call.trap is not None:  # a host function trapped the call (budget, host bug)
        return WasmCallError(call.trap_kind, call.trap)
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    traps = [line.split("wasm trap:", 1)[1].strip() for line in lines if "wasm trap:" in line]
    reason = traps[-1] if traps else (lines[-1] if lines else "unknown")
    kind = next((k for text, k in _TRAP_KINDS if text in reason), "trap")
    return WasmCallError(kind, reason)


def _instantiation_error(exc: Exception, limits: ResourceLimits
                         ) -> ModuleRejectedError | CapacityError:
    if (full := capacity_error(exc)) is not None:
        return full
    text = str(exc).strip()
    if (m := _MEMORY_MINIMUM.search(text)) is not None:
        pages = int(m.group(1))
        return ModuleRejectedError(
            f"memory minimum of {pages} pages ({pages * WASM_PAGE} bytes) exceeds the agent's "
            f"memory limit of {limits.memory_bytes} bytes"
        )
    # wasmtime puts the useful part (which import, which export) in its "Caused by" chain.
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    causes = [re.sub(r"^\d+: ", "", line) for line in lines[1:] if line != "Caused by:"]
    detail = ": ".join([lines[0], *causes]) if lines else type(exc).__name__
    return ModuleRejectedError(f"instantiation failed: {detail}")


class ComponentInstance(AgentInstance):
    """An instantiated ``caxton:agent`` component with its exports resolved once."""

    def __init__(
        self,
        engine: SandboxEngine,
        compiled: CompiledComponent,
        *,
        name: str,
        limits: ResourceLimits,
        services: HostServices,
        permissions: AgentPermissions | None = None,
    ) -> None:
        self.name = name
        self.limits = limits
        self.module_hash = compiled.module_hash
        self._engine = engine
        self._ctx = CallContext(agent=name, limits=limits, services=services,
                                permitted=permissions.host_functions if permissions else None)
        self._deadline_ticks = engine.deadline_ticks(limits.timeout_ms)
        # Start-up (a language runtime booting inside the sandbox) gets a longer deadline.
        self._init_ticks = engine.deadline_ticks(max(limits.timeout_ms, INIT_TIMEOUT_MS))
        store = wasmtime.Store(engine.wasm)
        store.set_limits(memory_size=limits.memory_bytes)
        # Sandboxed WASI: no files, environment, arguments or network; stdout and stderr are
        # the agent's log, line by line.
        wasi = wasmtime.WasiConfig()
        wasi.stdout_custom = LineSink(services, name, 1)
        wasi.stderr_custom = LineSink(services, name, 2)
        store.set_wasi(wasi)
        self._store = store
        self._control = StoreControl(store)
        self._key = int(ctypes.cast(store._context(), ctypes.c_void_p).value or 0)
        self._call = engine.components.register(self._key, self._ctx)
        try:
            self._control.arm(limits.fuel, self._init_ticks)
            instance = engine.components.linker.instantiate(store, compiled.component)
        except (wasmtime.WasmtimeError, wasmtime.Trap) as exc:
            self.close()
            raise _instantiation_error(exc, limits) from None
        handle = instance.get_func(store, "handle")
        assert handle is not None  # validate.check_component guarantees it
        self._handle_export = _Export(store, handle, 1, self._call)
        init = instance.get_func(store, "init")
        self._init_export = _Export(store, init, 0, self._call) if init is not None else None
        batch = instance.get_func(store, "handle-batch")  # optional (caxton:agent 1.1)
        self._batch_export = (_BatchExport(store, batch, self._call) if batch is not None
                              else None)
        self.batched = self._batch_export is not None

    def initialize(self) -> None:
        """Run the component's ``init`` once; raise ModuleRejectedError when it fails."""
        self._ctx.begin(None)
        self._call.trap = None
        try:
            self._control.arm(self.limits.fuel, self._init_ticks)
            if self._init_export is not None and (reason := self._init_export()) is not None:
                raise ModuleRejectedError(f"init returned an error: {reason[:_MAX_REASON]}")
        except WasmCallError as exc:
            raise ModuleRejectedError(f"init failed ({exc.kind}): {exc.detail}") from None
        if self._ctx.outbox:
            raise ModuleRejectedError("init may not send messages (there is nobody to send to yet)")

    def handle(self, message: AclMessage) -> Outcome:
        if "_store" not in self.__dict__:  # closed: the raw export would touch a freed store
            return Outcome(ok=False, error_kind="internal", error="the sandbox was closed")
        data = message.to_wire()
        started = time.perf_counter()
        ctx = self._ctx
        if (refused := oversize(data, self.limits)) is not None:
            return refused
        ctx.begin(message)
        self._call.trap = None
        self._control.arm(self.limits.fuel, self._deadline_ticks)
        try:
            reason = self._handle_export(data)
        except WasmCallError as exc:
            return self._failed(exc.kind, exc.detail, started)
        if reason is not None:
            return self._failed("agent_error", f"handle returned an error: {reason[:_MAX_REASON]}",
                                started)
        return Outcome(
            ok=True, sends=ctx.outbox, state_writes=ctx.state_writes,
            fuel_used=self.limits.fuel - self._control.fuel_left(),
            duration_s=time.perf_counter() - started, sends_refused=ctx.sends_refused,
        )

    def handle_batch(self, messages: list[AclMessage]) -> BatchOutcome:
        """Hand several messages to the component in one ``handle-batch`` call.

        Per message everything is as with ``handle``: the agent names the message it handles
        with ``begin-message``, which moves the CallContext on (sends, replies, state writes
        and budgets are that message's), and a failure names its message. The call gets one
        message's fuel and deadline (the runtime sizes batches to fit), and the messages
        together are at most one message's size, so the guest's memory use is unchanged.
        """
        limits = self.limits
        items: list[bytes] = []
        room = limits.max_message_bytes
        for msg in messages:
            data = msg.to_wire()
            room -= len(data)
            if room < 0:
                break
            items.append(data)
        export = self._batch_export
        if len(items) < MIN_BATCH or export is None or "_store" not in self.__dict__:
            return BatchOutcome([self.handle(messages[0])], batched=False)
        messages = messages[:len(items)]
        started = time.perf_counter()
        ctx = self._ctx
        ctx.begin_batch(messages, 0)  # no index word: begin-message reports each step
        self._call.trap = None
        self._control.arm(limits.fuel, self._deadline_ticks)
        kind: str | None = None
        detail = ""
        try:
            failure = export(items)
        except WasmCallError as exc:
            kind, detail = exc.kind, exc.detail
        else:
            if failure is not None:
                index, reason = failure
                # The same failure a lone `handle` returning err(reason) gets.
                kind, detail = "agent_error", f"handle returned an error: {reason[:_MAX_REASON]}"
                try:
                    if ctx.batch is not None:
                        ctx.advance(index)  # the failing message is (now) the current one
                except HostTrap as exc:
                    kind, detail = "bad_agent", f"handle-batch failed message {index}: {exc}"
        done = ctx.end_batch(None, all_handled=kind is None)
        return self._settle_batch(messages, done, kind, detail, started, retry_first=True)

    def memory_bytes(self) -> int:
        """Always 0: wasmtime does not expose the memories inside a component instance.

        The memory cap is enforced all the same, on every memory of the instance.
        """
        return 0

    def close(self) -> None:
        self._engine.components.unregister(self._key)
        self.__dict__.pop("_store", None)
