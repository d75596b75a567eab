"""Component-model values in wasmtime's C representation, read and built without wasmtime-py.

wasmtime-py converts every component value through type objects it looks up on each call, and
it turns a ``list<u8>`` into one boxed C value per byte, element by element, in Python (about
250 µs for a 1 KiB list). The host knows the exact types of ``caxton:agent`` statically, so it
reads and writes ``wasmtime_component_val_t`` directly: strings are one copy, byte lists are two
strided slices over the C array.

Ownership follows the C API: values the host *receives* (callback arguments, call results) are
read here and dropped by their owner; values the host *returns* to wasmtime are allocated with
the C API's own allocators, because wasmtime frees them.
"""

from __future__ import annotations

import ctypes
from typing import Any

from wasmtime import _ffi as ffi

Val = ffi.wasmtime_component_val_t
VAL_SIZE = ctypes.sizeof(Val)
_PAYLOAD = Val.of.offset  # where the union starts inside one value

K_BOOL = ffi.WASMTIME_COMPONENT_BOOL.value
K_U8 = ffi.WASMTIME_COMPONENT_U8.value
K_S64 = ffi.WASMTIME_COMPONENT_S64.value
K_STRING = ffi.WASMTIME_COMPONENT_STRING.value
K_LIST = ffi.WASMTIME_COMPONENT_LIST.value
K_VARIANT = ffi.WASMTIME_COMPONENT_VARIANT.value
K_ENUM = ffi.WASMTIME_COMPONENT_ENUM.value
K_OPTION = ffi.WASMTIME_COMPONENT_OPTION.value
K_RESULT = ffi.WASMTIME_COMPONENT_RESULT.value
K_RECORD = ffi.WASMTIME_COMPONENT_RECORD.value

_NULL = ctypes.POINTER(Val)()


class UnexpectedValue(Exception):  # noqa: N818 - a condition, not an error the agent made
    """A value from wasmtime is not of the kind the WIT declares (the linker should prevent it)."""


# -- reading ---------------------------------------------------------------------------------
def _vec_bytes(vec: Any) -> bytes:
    size = vec.size
    return ctypes.string_at(vec.data, size) if size else b""


def read_string(val: Any) -> bytes:
    """The UTF-8 bytes of a ``string`` value (the component model guarantees valid UTF-8)."""
    if val.kind != K_STRING:
        raise UnexpectedValue(f"expected a string, got kind {val.kind}")
    return _vec_bytes(val.of.string)


def read_name(val: Any) -> str:
    """The case name of an ``enum`` value."""
    if val.kind != K_ENUM:
        raise UnexpectedValue(f"expected an enum, got kind {val.kind}")
    return _vec_bytes(val.of.enumeration).decode()


def read_bytes(val: Any) -> bytes:
    """A ``list<u8>``: each element is a whole C value, so take every VAL_SIZE-th byte."""
    if val.kind != K_LIST:
        raise UnexpectedValue(f"expected a list, got kind {val.kind}")
    lst = val.of.list
    n = lst.size
    if not n:
        return b""
    return ctypes.string_at(lst.data, n * VAL_SIZE)[_PAYLOAD::VAL_SIZE]


def read_result(val: Any) -> tuple[bool, Any]:
    """``(is_ok, payload value or None)`` of a ``result``."""
    if val.kind != K_RESULT:
        raise UnexpectedValue(f"expected a result, got kind {val.kind}")
    res = val.of.result
    return bool(res.is_ok), (res.val.contents if res.val else None)


def read_variant(val: Any) -> tuple[str, Any]:
    """``(case name, payload value or None)`` of a ``variant``."""
    if val.kind != K_VARIANT:
        raise UnexpectedValue(f"expected a variant, got kind {val.kind}")
    variant = val.of.variant
    return _vec_bytes(variant.discriminant).decode(), (
        variant.val.contents if variant.val else None)


def read_record(val: Any) -> dict[str, Any]:
    """The field values of a ``record``, by name."""
    if val.kind != K_RECORD:
        raise UnexpectedValue(f"expected a record, got kind {val.kind}")
    record = val.of.record
    fields = record.data
    return {_vec_bytes(fields[i].name).decode(): fields[i].val for i in range(record.size)}


def read_option(val: Any) -> Any:
    """The payload value of an ``option``, or None."""
    if val.kind != K_OPTION:
        raise UnexpectedValue(f"expected an option, got kind {val.kind}")
    return val.of.option.contents if val.of.option else None


def drop(val: Any) -> None:
    """Free what wasmtime allocated inside ``val`` and leave it an empty ``bool``."""
    ffi.wasmtime_component_val_delete(ctypes.byref(val))
    val.kind = K_BOOL


# -- building (memory owned by wasmtime once returned) --------------------------------------
def _set_vec(vec: Any, data: bytes) -> None:
    ffi.wasm_byte_vec_new_uninitialized(ctypes.byref(vec), len(data))
    if data:
        ctypes.memmove(vec.data, data, len(data))


def set_string(val: Any, data: bytes) -> None:
    val.kind = K_STRING
    _set_vec(val.of.string, data)


def set_enum(val: Any, case: str) -> None:
    val.kind = K_ENUM
    _set_vec(val.of.enumeration, case.encode())


def set_u32(val: Any, value: int) -> None:
    val.kind = ffi.WASMTIME_COMPONENT_U32.value
    val.of.u32 = value


def set_s64(val: Any, value: int) -> None:
    val.kind = K_S64
    val.of.s64 = value


def set_bool(val: Any, value: bool) -> None:
    val.kind = K_BOOL
    val.of.boolean = value


def set_bytes(val: Any, data: bytes) -> None:
    """A ``list<u8>`` built as one strided buffer copied into the C array in one move."""
    n = len(data)
    val.kind = K_LIST
    ffi.wasmtime_component_vallist_new_uninit(ctypes.byref(val.of.list), n)
    if not n:
        return
    buf = bytearray(n * VAL_SIZE)
    buf[0::VAL_SIZE] = bytes([K_U8]) * n
    buf[_PAYLOAD::VAL_SIZE] = data
    ctypes.memmove(val.of.list.data, (ctypes.c_char * len(buf)).from_buffer(buf), len(buf))


def set_strings(val: Any, items: list[bytes]) -> None:
    """A ``list<string>``: each element a string value of its own."""
    val.kind = K_LIST
    ffi.wasmtime_component_vallist_new_uninit(ctypes.byref(val.of.list), len(items))
    data = val.of.list.data
    for i, item in enumerate(items):
        set_string(data[i], item)


def boxed(val: Any) -> Any:
    """Move ``val`` into a heap value wasmtime owns (payloads of option/result/variant)."""
    return ffi.wasmtime_component_val_new(ctypes.byref(val))


def set_option(val: Any, payload: Any | None) -> None:
    val.kind = K_OPTION
    val.of.option = boxed(payload) if payload is not None else _NULL


def set_result(val: Any, ok: bool, payload: Any | None = None) -> None:
    val.kind = K_RESULT
    val.of.result.is_ok = ok
    val.of.result.val = boxed(payload) if payload is not None else _NULL


def set_variant(val: Any, case: str, payload: Any | None = None) -> None:
    val.kind = K_VARIANT
    _set_vec(val.of.variant.discriminant, case.encode())
    val.of.variant.val = boxed(payload) if payload is not None else _NULL


# -- borrowed arguments for calls into the guest ---------------------------------------------
def borrow_string(val: Any, data: bytes) -> None:
    """Point a string argument at ``data`` without copying: wasmtime only reads call arguments.

    The caller must keep ``data`` alive until the call returns.
    """
    val.kind = K_STRING
    val.of.string.size = len(data)
    val.of.string.data = ctypes.cast(ctypes.c_char_p(data), ctypes.POINTER(ctypes.c_ubyte))


def borrow_strings(val: Any, items: list[bytes]) -> Any:
    """Point a ``list<string>`` argument at ``items`` without copying them (as
    ``borrow_string``). Returns the array of element values, which the caller keeps alive,
    with ``items``, until the call returns."""
    elements = (Val * len(items))()
    for element, data in zip(elements, items, strict=True):
        borrow_string(element, data)
    val.kind = K_LIST
    val.of.list.size = len(items)
    val.of.list.data = ctypes.cast(elements, ctypes.POINTER(Val))
    return elements
