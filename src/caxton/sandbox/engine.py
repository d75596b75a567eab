"""The shared wasmtime engine: compilation cache, epoch clock, host-function callbacks.

One engine serves every agent. Compiled modules are cached by the SHA-256 of their bytes, so
deploying a module that is already known costs an instantiation, not a compilation.

Components (agents built by componentize-py, componentize-js, ...) are the same cache's other
kind of entry. They embed a whole language runtime, so compiling one takes seconds (9-40 s for
the Python and JavaScript examples on two cores, depending on load); with a ``cache_dir`` the
compiled code is also kept on disk, so a restart or a redeploy of the same bytes loads it in
milliseconds.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import wasmtime
import wasmtime.component

from caxton.sandbox._capi import HostFunction
from caxton.sandbox.component_linker import ComponentHost
from caxton.sandbox.hostcalls import HOST_FUNCTIONS, CallContext, host_functype
from caxton.sandbox.validate import is_component

__all__ = ["Compiled", "CompiledComponent", "CompiledModule", "SandboxEngine"]


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

    def __init__(self, *, epoch_tick_ms: int = 10, cache_dir: Path | None = None) -> None:
        config = wasmtime.Config()
        config.consume_fuel = True
        config.epoch_interruption = True
        # Agents are untrusted: a deep recursion must trap, not take the host stack.
        config.max_wasm_stack = 512 * 1024
        self.wasm = wasmtime.Engine(config)
        self.epoch_tick_ms = epoch_tick_ms
        self._modules: dict[str, Compiled] = {}
        self._cache_dir = cache_dir
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
        """Compile (or fetch from the cache) a binary module or component.

        Raises wasmtime errors as is.
        """
        digest = hashlib.sha256(data).hexdigest()
        cached = self._modules.get(digest)
        if cached is not None:
            return cached
        compiled: Compiled
        if is_component(data):
            compiled = CompiledComponent(digest, self._component(digest, data), len(data))
        else:
            compiled = CompiledModule(digest, wasmtime.Module(self.wasm, data), len(data))
        with self._modules_lock:
            return self._modules.setdefault(digest, compiled)

    def cached(self, module_hash: str) -> Compiled | None:
        return self._modules.get(module_hash)

    def forget(self, module_hash: str) -> None:
        """Drop a module's compiled code, in memory and on disk: no agent runs it any more (a
        long-running server deploys many versions)."""
        with self._modules_lock:
            self._modules.pop(module_hash, None)
        if self._cache_dir is not None:
            with contextlib.suppress(OSError):
                (self._cache_dir / f"{module_hash}.cwasm").unlink(missing_ok=True)

    def _component(self, digest: str, data: bytes) -> wasmtime.component.Component:
        path = self._cache_dir / f"{digest}.cwasm" if self._cache_dir is not None else None
        if path is not None and path.is_file():
            try:
                # wasmtime checks that the artifact matches this version and configuration.
                return wasmtime.component.Component.deserialize_file(self.wasm, str(path))
            except wasmtime.WasmtimeError:
                pass  # from another wasmtime or configuration: compile again and replace it
        component = wasmtime.component.Component(self.wasm, data)
        if path is not None:
            try:
                path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
                tmp.write_bytes(component.serialize())
                tmp.replace(path)  # readers never see a half-written artifact
            except OSError:
                pass  # the cache is an optimisation; a read-only disk must not fail a deploy
        return component

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
            impl(contexts[env], caller, args)

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
