"""One agent's live sandbox: a wasmtime store and instance, kept for the agent's lifetime.

Handles messages one at a time (the scheduler guarantees that), applying fuel, a memory cap and a
wall-clock deadline to every call. A handler's sends and state writes are returned, not
released: the runtime releases them only when the handler succeeded.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import wasmtime

from caxton.domain.acl import AclMessage
from caxton.domain.agent_permissions import AgentPermissions
from caxton.domain.limits import ResourceLimits
from caxton.errors import CapacityError, ModuleRejectedError
from caxton.sandbox._capi import HostTrap, MemoryView, RawExport, StoreControl, WasmCallError
from caxton.sandbox.call_context import CallContext, HostServices
from caxton.sandbox.engine import CompiledModule, SandboxEngine
from caxton.sandbox.hostcalls import IMPORT_MODULE, WASI_MODULE
from caxton.sandbox.outcome import (
    BATCH_HEADER,
    BUDGET_KINDS,
    FRAME_LENGTH,
    BatchOutcome,
    BatchPart,
    Outcome,
    oversize,
)

_MIN_INBOX = 4096
INIT_TIMEOUT_MS = 10_000  # at least this long for instantiation and init


class AgentInstance:
    """An instantiated agent module with its exports resolved once."""

    def __init__(
        self,
        engine: SandboxEngine,
        compiled: CompiledModule,
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
        self._env = engine.register(self._ctx)
        self._deadline_ticks = engine.deadline_ticks(limits.timeout_ms)
        # Start-up (a language runtime booting inside the sandbox) gets a longer deadline.
        self._init_ticks = engine.deadline_ticks(max(limits.timeout_ms, INIT_TIMEOUT_MS))
        store = wasmtime.Store(engine.wasm)
        store.set_limits(memory_size=limits.memory_bytes)
        self._store = store
        self._cctx = store._context()  # the same for the store's lifetime
        self._control = StoreControl(store)
        try:
            self._control.arm(limits.fuel, self._init_ticks)
            instance = self._instantiate(compiled.module, services)
        except (wasmtime.WasmtimeError, wasmtime.Trap) as exc:
            self.close()
            raise capacity_error(exc) or ModuleRejectedError(
                f"instantiation failed: {_first_line(exc)}") from None
        exports = instance.exports(store)
        memory = exports["memory"]
        assert isinstance(memory, wasmtime.Memory)
        self._memory = MemoryView(memory)
        self._ctx.memory = self._memory
        alloc, handle = exports["alloc"], exports["handle"]
        assert isinstance(alloc, wasmtime.Func) and isinstance(handle, wasmtime.Func)
        self._alloc = RawExport(store, alloc, 1, 1)
        self._handle = RawExport(store, handle, 2, 1)
        self._dealloc = _optional(store, exports, "dealloc", 2, 0)
        self._init = _optional(store, exports, "init", 0, 1)
        self._initialize = _optional(store, exports, "_initialize", 0, 0)
        self._version = _optional(store, exports, "caxton_abi_version", 0, 1)
        self._handle_batch = _optional(store, exports, "handle_batch", 2, 1)
        self.batched = self._handle_batch is not None
        self._inbox_ptr = 0
        self._inbox_cap = 0

    def _instantiate(self, module: wasmtime.Module, services: HostServices) -> wasmtime.Instance:
        store, env = self._store, self._env
        if not any(imp.module == WASI_MODULE for imp in module.imports):
            # The common case: only caxton imports, bound positionally with no linker.
            imports = [self._engine.host_function(imp.name or "").bind(store, env)
                       for imp in module.imports]
            return wasmtime.Instance(store, module, imports)
        # WASI modules (Go, wasi-libc C, ...) get a sandboxed WASI: no files, no environment,
        # no arguments; what they print goes to the agent's log.
        name = self.name
        wasi = wasmtime.WasiConfig()
        wasi.stdout_custom = LineSink(services, name, 1)
        wasi.stderr_custom = LineSink(services, name, 2)
        store.set_wasi(wasi)
        linker = wasmtime.Linker(self._engine.wasm)
        linker.define_wasi()
        for imp in module.imports:
            if imp.module == IMPORT_MODULE:
                linker.define(store, IMPORT_MODULE, imp.name or "",
                              self._engine.host_function(imp.name or "").bind(store, env))
        return linker.instantiate(store, module)

    def initialize(self) -> None:
        """Run the module's start-up exports once; raise ModuleRejectedError when they fail."""
        self._ctx.begin(None)
        try:
            self._control.arm(self.limits.fuel, self._init_ticks)
            if self._initialize is not None:
                self._initialize()
            if self._version is not None and (version := self._version()) != 1:
                raise ModuleRejectedError(f"caxton_abi_version returned {version}; expected 1")
            if self._init is not None and (code := self._init()) != 0:
                raise ModuleRejectedError(f"init returned {code}; expected 0")
        except WasmCallError as exc:
            raise ModuleRejectedError(f"init failed ({exc.kind}): {exc.detail}") from None
        if self._ctx.outbox:
            raise ModuleRejectedError("init may not send messages (there is nobody to send to yet)")

    def handle(self, message: AclMessage) -> Outcome:
        if "_store" not in self.__dict__:  # closed: the raw exports would touch freed memory
            return Outcome(ok=False, error_kind="internal", error="the sandbox was closed")
        data = message.to_wire()
        size = len(data)
        limits = self.limits
        if size > limits.max_message_bytes:
            return oversize(data, limits) or Outcome(ok=False)
        started = time.perf_counter()
        ctx = self._ctx
        ctx.begin(message)
        control = self._control
        control.arm(limits.fuel, self._deadline_ticks)
        try:
            ptr = self._inbox_ptr if size <= self._inbox_cap else self._inbox(size)
            self._memory.write(self._cctx, ptr, data)
            code = self._handle(ptr, size)
        except WasmCallError as exc:
            return self._failed(exc.kind, exc.detail, started)
        except HostTrap as exc:
            return self._failed("bad_agent", str(exc), started)
        if code != 0:
            return self._failed("agent_error", f"handle returned {code}", started)
        return Outcome(True, ctx.outbox, ctx.state_writes, limits.fuel - control.fuel_left(),
                       None, None, time.perf_counter() - started, ctx.sends_refused)

    def handle_batch(self, messages: list[AclMessage]) -> BatchOutcome:
        """Hand several messages to the agent in one call (``handle_batch``); one message's
        fuel and deadline for the call, so the caller sizes batches to fit."""
        limits = self.limits
        parts: list[bytes] = []
        room = limits.max_message_bytes - BATCH_HEADER.size  # the buffer is never larger
        for msg in messages:  # than one message may be: the agent's memory use is unchanged
            data = msg.to_wire()
            room -= FRAME_LENGTH.size + len(data)
            if room < 0:
                break
            parts.append(data)
        export = self._handle_batch
        if len(parts) < 2 or export is None or "_store" not in self.__dict__:
            return BatchOutcome([self.handle(messages[0])], batched=False)
        messages = messages[:len(parts)]
        frames = [BATCH_HEADER.pack(0, len(parts))]
        for data in parts:
            frames += (FRAME_LENGTH.pack(len(data)), data)
        buffer = b"".join(frames)
        started = time.perf_counter()
        ctx, control, cctx = self._ctx, self._control, self._cctx
        control.arm(limits.fuel, self._deadline_ticks)
        try:
            ptr = self._inbox_ptr if len(buffer) <= self._inbox_cap else self._inbox(len(buffer))
            self._memory.write(cctx, ptr, buffer)
        except (WasmCallError, HostTrap):  # no room for the batch: one message at a time
            return BatchOutcome([self.handle(messages[0])], batched=False)
        kind, detail, code = None, "", 0
        try:
            ctx.begin_batch(messages, ptr)
            code = export(ptr, len(buffer)) or 0
        except WasmCallError as exc:
            kind, detail = exc.kind, exc.detail
        except HostTrap as exc:
            kind, detail = "bad_agent", str(exc)
        if kind is None and code:
            kind, detail = "agent_error", f"handle_batch returned {code}"
        done = ctx.end_batch(cctx, all_handled=kind is None)
        return self._settle_batch(messages, done, kind, detail, started)

    def _settle_batch(self, messages: list[AclMessage], done: list[BatchPart],
                      kind: str | None, detail: str, started: float, *,
                      retry_first: bool = False) -> BatchOutcome:
        """The outcome of a batch call that handled ``done`` and then stopped for ``kind``
        (None: it returned success) with ``detail``; shared with the component sandbox.
        ``retry_first``: a call cut short by its budget during its first message retries that
        one alone too (a component spends fuel taking in all the messages before it)."""
        elapsed = time.perf_counter() - started
        fuel = self.limits.fuel - self._control.fuel_left()
        share = max(len(done), 1)
        outcomes = [Outcome(True, sends, writes, fuel // share, None, None, elapsed / share,
                            refused) for sends, writes, refused in done]
        if kind is None and len(done) == len(messages):
            return BatchOutcome(outcomes)
        if kind in BUDGET_KINDS and (done or retry_first):
            return BatchOutcome(outcomes, budget_spent=True)
        if kind is None:
            kind, detail = "bad_agent", "handle_batch returned 0 with a bad message index"
        self._ctx.current = messages[len(done)]
        outcomes.append(self._failed(kind, detail, started))
        return BatchOutcome(outcomes)

    def _inbox(self, needed: int) -> int:
        if needed <= self._inbox_cap:
            return self._inbox_ptr
        capacity = max(_MIN_INBOX, 1 << (needed - 1).bit_length())
        if self._inbox_cap and self._dealloc is not None:
            self._dealloc(self._inbox_ptr, self._inbox_cap)
        self._inbox_cap = 0
        ptr = self._alloc(capacity)
        if not ptr:
            raise HostTrap(f"alloc({capacity}) returned 0")
        self._inbox_ptr, self._inbox_cap = ptr & 0xFFFFFFFF, capacity
        return self._inbox_ptr

    def _failed(self, kind: str, detail: str, started: float) -> Outcome:
        refused = self._ctx.sends_refused
        self._ctx.begin(self._ctx.current)
        return Outcome(
            ok=False, error_kind=kind, error=detail,
            fuel_used=self.limits.fuel - self._control.fuel_left(),
            duration_s=time.perf_counter() - started, sends_refused=refused,
        )

    def memory_bytes(self) -> int:
        store = self.__dict__.get("_store")
        if store is None:
            return 0
        return int(wasmtime._ffi.wasmtime_memory_data_size(store._context(),
                                                           self._memory._mem_ref))

    def close(self) -> None:
        """Release the store now rather than at interpreter exit (WASI's threads mind that)."""
        self._engine.unregister(self._env)
        self.__dict__.pop("_store", None)


def _optional(
    store: wasmtime.Store, exports: Mapping[str, object], name: str, nargs: int, nres: int
) -> RawExport | None:
    func = exports.get(name)
    return RawExport(store, func, nargs, nres) if isinstance(func, wasmtime.Func) else None


class LineSink:
    """Turns a WASI output stream into agent log lines (writes may split lines anywhere)."""

    def __init__(self, services: HostServices, agent: str, level: int) -> None:
        self._services, self._agent, self._level = services, agent, level
        self._partial = b""

    def __call__(self, data: bytes) -> int:
        *lines, self._partial = (self._partial + data).split(b"\n")
        if len(self._partial) > 64 * 1024:  # a line that never ends is still logged
            lines.append(self._partial)
            self._partial = b""
        for line in lines:
            if line.strip():
                self._services.agent_log(self._agent, self._level,
                                         line.decode("utf-8", "replace"))
        return len(data)


# How wasmtime reports that mmap failed: the OS is out of what a sandbox needs (address
# space, mappings, the process's memory limit), not that the module is wrong.
_OUT_OF_MEMORY = ("Cannot allocate memory", "os error 12", "mmap failed")


def capacity_error(exc: Exception) -> CapacityError | None:
    """A CapacityError when ``exc`` is the OS refusing memory, else None."""
    text = str(exc)
    if not any(marker in text for marker in _OUT_OF_MEMORY):
        return None
    lines = [line.strip() for line in text.splitlines()
             if line.strip() and line.strip() != "Caused by:"]  # wasmtime's cause chain
    return CapacityError(
        f"the server cannot make another sandbox now: {': '.join(lines)} (out of address space,"
        f" memory mappings (vm.max_map_count) or the process's memory limit; remove or stop "
        f"agents, or enable hibernation)")


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
