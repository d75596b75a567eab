"""Static validation of an agent module against ABI v1, before it is ever run."""

from __future__ import annotations

import wasmtime

from caxton.domain.limits import WASM_PAGE, ResourceLimits
from caxton.errors import ModuleRejectedError
from caxton.sandbox.hostcalls import HOST_FUNCTIONS, IMPORT_MODULE, WASI_MODULE, describe

_WASM_MAGIC = b"\0asm"
# export name -> (params, results) in the "i"/"I" notation of hostcalls
REQUIRED_FUNCS = {"alloc": ("i", "i"), "handle": ("ii", "i")}
OPTIONAL_FUNCS = {
    "init": ("", "i"),
    "dealloc": ("ii", ""),
    "caxton_abi_version": ("", "i"),
    "_initialize": ("", ""),  # WASI reactors run their constructors here
}


def to_binary(data: bytes) -> bytes:
    """Binary modules pass through; WAT text is assembled; anything else is refused."""
    if data[:4] == _WASM_MAGIC:
        return data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ModuleRejectedError(
            "not a WebAssembly module: expected a binary module (starting with \\0asm) "
            "or WAT text"
        ) from None
    if "(module" not in text:
        raise ModuleRejectedError(
            "not a WebAssembly module: expected a binary module (starting with \\0asm) "
            "or WAT text containing '(module'"
        )
    try:
        return bytes(wasmtime.wat2wasm(text))
    except wasmtime.WasmtimeError as exc:
        raise ModuleRejectedError(f"invalid WAT: {_first_line(exc)}") from None


def compile_error(exc: Exception) -> ModuleRejectedError:
    return ModuleRejectedError(f"invalid WebAssembly module: {_first_line(exc)}")


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _sig(ty: wasmtime.FuncType) -> tuple[str, str]:
    def code(v: wasmtime.ValType) -> str:
        if v == wasmtime.ValType.i32():
            return "i"
        if v == wasmtime.ValType.i64():
            return "I"
        return "?"

    return "".join(code(p) for p in ty.params), "".join(code(r) for r in ty.results)


def _pretty(sig: tuple[str, str]) -> str:
    names = {"i": "i32", "I": "i64", "?": "other"}
    ps = ", ".join(names[c] for c in sig[0])
    rs = ", ".join(names[c] for c in sig[1])
    return f"({ps}) -> ({rs})" if rs else f"({ps})"


def check_module(module: wasmtime.Module, limits: ResourceLimits) -> None:
    """Raise ModuleRejectedError naming the first way ``module`` breaks the ABI or its limits."""
    exports = {e.name: e.type for e in module.exports}
    memory = exports.get("memory")
    if memory is None:
        raise ModuleRejectedError("missing required export 'memory'")
    if not isinstance(memory, wasmtime.MemoryType):
        raise ModuleRejectedError("export 'memory' must be a memory")
    if memory.is_64:
        raise ModuleRejectedError("export 'memory' is a 64-bit memory; ABI v1 needs a 32-bit one")
    minimum = memory.limits.min * WASM_PAGE
    if minimum > limits.memory_bytes:
        raise ModuleRejectedError(
            f"memory minimum of {memory.limits.min} pages ({minimum} bytes) exceeds the agent's "
            f"memory limit of {limits.memory_bytes} bytes"
        )
    for name, want in {**REQUIRED_FUNCS, **OPTIONAL_FUNCS}.items():
        ty = exports.get(name)
        if ty is None:
            if name in REQUIRED_FUNCS:
                raise ModuleRejectedError(f"missing required export '{name}'")
            continue
        if not isinstance(ty, wasmtime.FuncType):
            raise ModuleRejectedError(f"export '{name}' must be a function")
        if _sig(ty) != want:
            raise ModuleRejectedError(
                f"export '{name}' has type {_pretty(_sig(ty))}, expected {_pretty(want)}"
            )
    offered = ", ".join(f"{IMPORT_MODULE}.{n}" for n in HOST_FUNCTIONS) + f", {WASI_MODULE}.*"
    for imp in module.imports:
        label = f"{imp.module}.{imp.name}"
        if imp.module == WASI_MODULE:
            # Resolved by wasmtime's WASI preview1 at instantiation; an unknown name fails there.
            if not isinstance(imp.type, wasmtime.FuncType):
                raise ModuleRejectedError(f"import '{label}' must be a function")
            continue
        if imp.module != IMPORT_MODULE or imp.name not in HOST_FUNCTIONS:
            raise ModuleRejectedError(
                f"import '{label}' is not provided by the host (it offers: {offered})"
            )
        if not isinstance(imp.type, wasmtime.FuncType):
            raise ModuleRejectedError(f"import '{label}' must be a function")
        params, results, _ = HOST_FUNCTIONS[imp.name]
        if _sig(imp.type) != (params, results):
            raise ModuleRejectedError(
                f"import '{label}' has type {_pretty(_sig(imp.type))}, "
                f"the host provides {describe(imp.name)}"
            )
