"""The shared wasmtime engine: compilation cache, epoch clock, host-function callbacks.

One engine serves every agent. Compiled modules are cached by the SHA-256 of their bytes, so
deploying a module that is already known costs an instantiation, not a compilation.

Components (agents built by componentize-py, componentize-js, ...) are the same cache's other
kind of entry. They embed a whole language runtime, so compiling one takes seconds (9-40 s for
the Python and JavaScript examples on two cores, depending on load). With a ``cache_dir`` the
compiled code of both kinds is also kept on disk (``artifact_cache``), so a restart or a
redeploy of the same bytes loads it in milliseconds instead of compiling again.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import itertools
import platform
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
import wasmtime
import wasmtime.component

from caxton.sandbox._capi import HostFunction, caller_context
from caxton.sandbox.artifact_cache import ArtifactCache, fingerprint
from caxton.sandbox.call_context import CallContext
from caxton.sandbox.component_linker import ComponentHost
from caxton.sandbox.hostcalls import HOST_FUNCTIONS, host_functype
from caxton.sandbox.validate import is_component

__all__ = ["Compiled", "CompiledComponent", "CompiledModule", "SandboxEngine", "artifact_name"]

log = structlog.get_logger("caxton.sandbox")
# How much address space each agent's linear memory reserves (config memory_reservation_bytes).
# wasmtime's default is 4 GiB plus guards per instance, so that 32-bit memory accesses need no
# bounds checks; but then 1,000 agents reserve 4 TiB and the 128 TiB user address space ends
# near 30,000 live instances, however little RSS they use. 16 MiB (the default agent
# memory_bytes limit) makes a default agent's memory never move, at 16.5 MiB virtual each:
# about 7.8 million instances' worth of address space, so the kernel's vm.max_map_count (3
# mappings per instance) becomes the limit instead. The price is an explicit bounds check on
# each load and store: measured in the noise for handle() of a message (21.2-21.8 us either
# way), ~1.8x for a loop that does nothing but touch memory. An agent whose limit is higher
# grows past the reservation by moving its memory (memory_may_move), with room for
# _GROWTH_RESERVE more before the next move.
DEFAULT_MEMORY_RESERVATION = 16 * 1024 * 1024
_GROWTH_RESERVE = 16 * 1024 * 1024
# Below it an out-of-bounds access still traps (the checks above); the guard only lets a
# constant offset skip its part of the check. wasmtime's default is 32 MiB of address space.
_GUARD = 64 * 1024


def engine_settings(memory_reservation: int = DEFAULT_MEMORY_RESERVATION) -> dict[str, Any]:
    """The engine settings that change generated code: part of the on-disk cache's key."""
    return {
        "consume_fuel": True,
        "epoch_interruption": True,
        # Agents are untrusted: a deep recursion must trap, not take the host stack.
        "max_wasm_stack": 512 * 1024,
        "memory_reservation": memory_reservation,
        "memory_guard_size": _GUARD,
        "memory_reservation_for_growth": _GROWTH_RESERVE,
    }


def engine_fingerprint(memory_reservation: int = DEFAULT_MEMORY_RESERVATION) -> str:
    return fingerprint("wasmtime", importlib.metadata.version("wasmtime"), platform.machine(),
                       sorted(engine_settings(memory_reservation).items()))


ENGINE_FINGERPRINT = engine_fingerprint()


def artifact_name(module_hash: str, engine: str = ENGINE_FINGERPRINT) -> str:
    """The file name of a module's compiled code in the engine's ``cache_dir`` (``engine``:
    the fingerprint of the engine's settings)."""
    return f"{module_hash}-{engine}.cwasm"


@dataclass(frozen=True, slots=True)
class CompiledModule:
    module_hash: str
    module: wasmtime.Module
    size: int


@dataclass(frozen=True, slots=True)
class CompiledComponent:
    module_hash: str
    component: wasmtime.component.Component
    size: int


Compiled = CompiledModule | CompiledComponent


class SandboxEngine:
    """Owns the wasmtime Engine and everything shared across agent instances."""

    def __init__(self, *, epoch_tick_ms: int = 10, cache_dir: Path | None = None,
                 memory_reservation: int = DEFAULT_MEMORY_RESERVATION) -> None:
        config = wasmtime.Config()
        for name, value in engine_settings(memory_reservation).items():
            setattr(config, name, value)
        self.wasm = wasmtime.Engine(config)
        self.fingerprint = engine_fingerprint(memory_reservation)
        self.epoch_tick_ms = epoch_tick_ms
        self._modules: dict[str, Compiled] = {}
        self._disk = ArtifactCache(cache_dir, self.fingerprint) if cache_dir else None
        self._component_host: ComponentHost | None = None
        self._modules_lock = threading.Lock()
        self._contexts: dict[int, CallContext] = {}
        self._context_ids = itertools.count(1)
        self._host = {name: self._make_host(name) for name in HOST_FUNCTIONS}
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._longest_deadline = 1  # in ticks: how far interrupt_all must move the clock

    # -- compilation -------------------------------------------------------------------------
    def compile(self, data: bytes) -> Compiled:
        """Compile (or fetch from the caches) a binary module or component.

        Raises wasmtime errors as is.
        """
        digest = hashlib.sha256(data).hexdigest()
        cached = self._modules.get(digest)
        if cached is not None:
            return cached
        compiled = self._load(digest, data) or self._compile(digest, data)
        with self._modules_lock:
            return self._modules.setdefault(digest, compiled)

    def _load(self, digest: str, data: bytes) -> Compiled | None:
        if self._disk is None:
            return None
        # wasmtime also checks that the file suits this version and configuration.
        if is_component(data):
            component = self._disk.load(digest, lambda path: wasmtime.component.Component
                                        .deserialize_file(self.wasm, path))
            found: Compiled | None = None if component is None else CompiledComponent(
                digest, component, len(data))
        else:
            module = self._disk.load(digest, lambda path: wasmtime.Module.deserialize_file(
                self.wasm, path))
            found = None if module is None else CompiledModule(digest, module, len(data))
        if found is not None:
            log.debug("compiled code loaded from the cache", module=digest[:12])
        return found

    def _compile(self, digest: str, data: bytes) -> Compiled:
        started = time.monotonic()
        compiled: Compiled
        if is_component(data):
            component = wasmtime.component.Component(self.wasm, data)
            compiled = CompiledComponent(digest, component, len(data))
        else:
            compiled = CompiledModule(digest, wasmtime.Module(self.wasm, data), len(data))
        log.info("module compiled", module=digest[:12], bytes=len(data),
                 component=isinstance(compiled, CompiledComponent),
                 seconds=round(time.monotonic() - started, 3))
        if self._disk is not None:
            artifact = (compiled.component if isinstance(compiled, CompiledComponent)
                        else compiled.module).serialize()
            self._disk.store(digest, artifact)
        return compiled

    def cached(self, module_hash: str) -> Compiled | None:
        return self._modules.get(module_hash)

    def forget(self, module_hash: str) -> None:
        """Drop a module's compiled code, in memory and on disk: no agent runs it any more (a
        long-running server deploys many versions)."""
        with self._modules_lock:
            self._modules.pop(module_hash, None)
        if self._disk is not None:
            self._disk.discard(module_hash)

    @property
    def components(self) -> ComponentHost:
        """The component linker (WASI preview 2 and ``caxton:agent/host``), made on first use."""
        host = self._component_host
        if host is None:
            with self._modules_lock:
                if self._component_host is None:
                    self._component_host = ComponentHost(self.wasm)
                host = self._component_host
        return host

    # -- host functions ----------------------------------------------------------------------
    def _make_host(self, name: str) -> HostFunction:
        impl = HOST_FUNCTIONS[name][2]
        contexts = self._contexts

        def target(env: int, caller: Any, args: Any) -> None:
            ctx = contexts[env]
            if ctx.batch is not None:  # a handle_batch call: whose host call is this?
                ctx.sync(caller_context(caller))
            impl(ctx, caller, args)

        return HostFunction(host_functype(name), target)

    def host_function(self, name: str) -> HostFunction:
        return self._host[name]

    def register(self, ctx: CallContext) -> int:
        env = next(self._context_ids)
        self._contexts[env] = ctx
        return env

    def unregister(self, env: int) -> None:
        self._contexts.pop(env, None)

    # -- epoch clock -------------------------------------------------------------------------
    def deadline_ticks(self, timeout_ms: int) -> int:
        # +1 because the next tick may be only a moment away.
        ticks = -(-timeout_ms // self.epoch_tick_ms) + 1
        self._longest_deadline = max(self._longest_deadline, ticks)
        return ticks

    def interrupt_all(self) -> None:
        """End every running handler now (shutdown): move the epoch past any deadline armed.

        Deadlines are relative to the epoch when a call started, so advancing the shared
        clock by the longest one ever armed makes every running call trap at its next check.
        """
        increment = self.wasm.increment_epoch
        for _ in range(self._longest_deadline + 1):
            increment()

    def start(self) -> None:
        if self._ticker is None:
            self._ticker = threading.Thread(target=self._tick, name="caxton-epoch", daemon=True)
            self._ticker.start()

    def stop(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=1)
            self._ticker = None

    def _tick(self) -> None:
        interval = self.epoch_tick_ms / 1000
        while not self._stop.wait(interval):
            self.wasm.increment_epoch()
