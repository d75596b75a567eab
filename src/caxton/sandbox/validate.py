"""Static validation of an agent, before it is ever run.

A core module is checked against ABI v1; a component against the ``caxton:agent`` world
(wit/caxton-agent.wit). Both binaries start with ``\\0asm``; the two bytes after the version tell
them apart (the *layer*: 0 for core modules, 1 for components).
"""

from __future__ import annotations

import wasmtime
import wasmtime.component as wc

from caxton.domain.agent_permissions import HOST_FUNCTIONS as PERMISSIBLE
from caxton.domain.agent_permissions import AgentPermissions
from caxton.domain.limits import WASM_PAGE, ResourceLimits
from caxton.errors import HostFunctionNotPermittedError, ModuleRejectedError
from caxton.sandbox.component_host import HOST_INTERFACE
from caxton.sandbox.component_host import SIGNATURES as COMPONENT_SIGNATURES
from caxton.sandbox.hostcalls import HOST_FUNCTIONS, IMPORT_MODULE, WASI_MODULE, describe

_WASM_MAGIC = b"\0asm"
_COMPONENT_LAYER = b"\x01\x00"
# WASI preview 2 packages the host links (sandboxed: no preopened files, no network access).
WASI_PACKAGES = ("wasi:cli", "wasi:clocks", "wasi:filesystem", "wasi:io", "wasi:random",
                 "wasi:sockets")
_WORLD = "see wit/caxton-agent.wit"
# export name -> (params, results) in the "i"/"I" notation of hostcalls
REQUIRED_FUNCS = {"alloc": ("i", "i"), "handle": ("ii", "i")}
OPTIONAL_FUNCS = {
    "init": ("", "i"),
    "dealloc": ("ii", ""),
    "caxton_abi_version": ("", "i"),
    "handle_batch": ("ii", "i"),  # several messages in one call (docs/agent-abi.md)
    "_initialize": ("", ""),  # WASI reactors run their constructors here
}


def is_component(data: bytes) -> bool:
    """True for a component binary, False for a core module (or anything else)."""
    return data[:4] == _WASM_MAGIC and data[6:8] == _COMPONENT_LAYER


def to_binary(data: bytes) -> bytes:
    """Binaries pass through; WAT text (a module or a component) is assembled; else refused."""
    if data[:4] == _WASM_MAGIC:
        return data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ModuleRejectedError(
            "not a WebAssembly module: expected a binary module (starting with \\0asm) "
            "or WAT text"
        ) from None
    if "(module" not in text and "(component" not in text:
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


def check_module(module: wasmtime.Module, limits: ResourceLimits,
                 permissions: AgentPermissions | None = None) -> None:
    """Raise ModuleRejectedError naming the first way ``module`` breaks the ABI, its limits or
    (HostFunctionNotPermittedError) its permissions."""
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
        if permissions is not None and not permissions.allows_call(imp.name):
            raise not_permitted(imp.name, permissions)


def not_permitted(function: str, permissions: AgentPermissions) -> HostFunctionNotPermittedError:
    """The refusal of a module that imports ``function`` against its permissions."""
    allowed = [f for f in PERMISSIBLE if permissions.allows_call(f)]
    return HostFunctionNotPermittedError(
        f"import '{IMPORT_MODULE}.{function}' is not permitted: the agent's permissions allow "
        f"the host functions {', '.join(allowed) if allowed else '(none)'} "
        f"(permissions.host_functions)", function)


# -- components ---------------------------------------------------------------------------------
def wit_type(ty: object) -> str:
    """A WIT-like spelling of a component value type (for comparisons and messages)."""
    if isinstance(ty, wc.ResultType):
        ok = wit_type(ty.ok) if ty.ok is not None else "_"
        return f"result<{ok}, {wit_type(ty.err)}>" if ty.err is not None else f"result<{ok}>"
    if isinstance(ty, wc.ListType):
        return f"list<{wit_type(ty.element)}>"
    if isinstance(ty, wc.OptionType):
        return f"option<{wit_type(ty.payload)}>"
    if isinstance(ty, wc.EnumType):
        return f"enum<{', '.join(ty.names)}>"
    if isinstance(ty, wc.VariantType):
        cases = (f"{name}({wit_type(p)})" if p is not None else name for name, p in ty.cases)
        return f"variant<{', '.join(cases)}>"
    return type(ty).__name__.lower().removesuffix("type")


def wit_signature(ty: wc.FuncType, *, names: bool = False) -> str:
    params = ", ".join(f"{n}: {wit_type(p)}" if names else wit_type(p) for n, p in ty.params)
    result = f" -> {wit_type(ty.result)}" if ty.result is not None else ""
    return f"({params}){result}"


_HANDLE = "func(message: string) -> result<_, string>"
_INIT = "func() -> result<_, string>"


def _check_export(exports: dict[str, wc._types.ComponentExtern], name: str, want: str,
                  required: bool) -> None:
    extern = exports.get(name)
    if extern is None:
        if required:
            raise ModuleRejectedError(
                f"missing required export '{name}': a component agent exports the world function "
                f"{name}: {want} ({_WORLD})"
            )
        return
    ty = extern.ty
    if not isinstance(ty, wc.FuncType):
        raise ModuleRejectedError(f"export '{name}' must be a function: {want}")
    got = wit_signature(ty, names=True)
    if wit_signature(ty) != want.removeprefix("func").replace("message: ", ""):
        raise ModuleRejectedError(f"export '{name}' has type func{got}, expected {want}")


def _check_host_import(name: str, extern: wc._types.ComponentExtern,
                       engine: wasmtime.Engine) -> None:
    ty = extern.ty
    assert isinstance(ty, wc.ComponentInstanceType)
    for func, item in ty.exports(engine).items():
        fty = item.ty
        if not isinstance(fty, wc.FuncType):
            continue  # the interface's types (error, level)
        if func not in COMPONENT_SIGNATURES:
            raise ModuleRejectedError(
                f"import '{name}' function '{func}' is not provided by the host "
                f"(it offers: {', '.join(COMPONENT_SIGNATURES)})"
            )
        if (got := wit_signature(fty)) != COMPONENT_SIGNATURES[func]:
            raise ModuleRejectedError(
                f"import '{name}' function '{func}' has type {got}, the host provides "
                f"{COMPONENT_SIGNATURES[func]} ({_WORLD})"
            )


def check_component(component: wc.Component, engine: wasmtime.Engine) -> None:
    """Raise ModuleRejectedError naming the first way ``component`` breaks the world.

    The memory limit is checked at instantiation: the component model does not expose the
    memories of the core modules inside a component.
    """
    ctype = component.type
    exports = ctype.exports(engine)
    _check_export(exports, "handle", _HANDLE, required=True)
    _check_export(exports, "init", _INIT, required=False)
    offered = f"{HOST_INTERFACE}, " + ", ".join(f"{p}/*@0.2.x" for p in WASI_PACKAGES)
    for name, extern in ctype.imports(engine).items():
        interface, _, version = name.partition("@")
        package = interface.partition("/")[0]
        if name == HOST_INTERFACE:
            _check_host_import(name, extern, engine)
        elif package in WASI_PACKAGES and version.startswith("0.2."):
            continue
        elif package == "wasi:http":
            raise ModuleRejectedError(
                f"import '{name}' is not provided by the host: agents have no network access "
                "(for componentize-js, build with --disable http fetch-event)"
            )
        else:
            raise ModuleRejectedError(
                f"import '{name}' is not provided by the host (it offers: {offered})"
            )
