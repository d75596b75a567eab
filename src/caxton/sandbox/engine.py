"""The shared wasmtime engine: compilation cache, epoch clock, host-function callbacks.

One engine serves every agent. Compiled modules are cached by the SHA-256 of their bytes, so
deploying a module that is already known costs an instantiation, not a compilation.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from dataclasses import dataclass
from typing import Any

import wasmtime

from caxton.sandbox._capi import HostFunction
from caxton.sandbox.hostcalls import HOST_FUNCTIONS, CallContext, host_functype

__all__ = ["CompiledModule", "SandboxEngine"]


@dataclass(frozen=True, slots=True)
class CompiledModule:
    module_hash: str
    module: wasmtime.Module
    size: int


class SandboxEngine:
    """Owns the wasmtime Engine and everything shared across agent instances."""

    def __init__(self, *, epoch_tick_ms: int = 10) -> None:
        config = wasmtime.Config()
        config.consume_fuel = True
        config.epoch_interruption = True
        # Agents are untrusted: a deep recursion must trap, not take the host stack.
        config.max_wasm_stack = 512 * 1024
        self.wasm = wasmtime.Engine(config)
        self.epoch_tick_ms = epoch_tick_ms
        self._modules: dict[str, CompiledModule] = {}
        self._modules_lock = threading.Lock()
        self._contexts: dict[int, CallContext] = {}
        self._context_ids = itertools.count(1)
        self._host = {name: self._make_host(name) for name in HOST_FUNCTIONS}
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    # -- compilation -------------------------------------------------------------------------
    def compile(self, data: bytes) -> CompiledModule:
        """Compile (or fetch from the cache) a binary module. Raises wasmtime errors as is."""
        digest = hashlib.sha256(data).hexdigest()
        cached = self._modules.get(digest)
        if cached is not None:
            return cached
        compiled = CompiledModule(digest, wasmtime.Module(self.wasm, data), len(data))
        with self._modules_lock:
            return self._modules.setdefault(digest, compiled)

    def cached(self, module_hash: str) -> CompiledModule | None:
        return self._modules.get(module_hash)

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
        return -(-timeout_ms // self.epoch_tick_ms) + 1

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
