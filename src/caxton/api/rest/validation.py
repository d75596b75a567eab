"""Requests checked against the API's models (``caxton.api.rest.models``), with msgspec.

The same types that ``/openapi.json`` documents decode the query string and the JSON body, so
the document cannot promise what the code does not check. msgspec's messages are turned into
the API's own (``field 'limits.fuel': must be at least 1000``), naming the field by its path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

import msgspec
import orjson

from caxton.api.rest.common import RequestError

_AT = re.compile(r"(?P<what>.*?)(?: - at `\$(?P<path>[^`]*)`)?", re.S)
_MISSING = re.compile(r"Object missing required field `(?P<name>[^`]+)`")
_UNKNOWN = re.compile(r"Object contains unknown field `(?P<name>[^`]+)`")
_EXPECTED = re.compile(
    r"Expected `(?P<type>[^`]+)`(?P<rule>(?: of length)? ?(?:>=|<=|>|<) ?\S+| matching regex .*)?"
    r"(?:, got `(?P<got>[^`]+)`)?")
_TYPES = {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false",
          "array": "a list", "object": "an object", "bytes": "a base64 string",
          "null": "null"}
_COMPARE = {">=": "at least", "<=": "at most", ">": "more than", "<": "less than"}
_PARTS = re.compile(r"[^.\[\]]+")
_BOOL_WORDS = {"yes": "true", "no": "false", "on": "true", "off": "false"}


def problem(exc: msgspec.ValidationError, model: Any = None) -> tuple[str, str]:
    """(field path, reason) of a msgspec validation error; the path is '' for the root.

    With the ``model`` that failed, a number out of its range is described by the whole range
    (``must be an integer from 1000 to 1000000000000``), as the domain describes it.
    """
    found = _AT.fullmatch(str(exc))
    assert found is not None  # the pattern matches any text
    what, path = found["what"], (found["path"] or "").lstrip(".")
    if (missing := _MISSING.fullmatch(what)) is not None:
        return _join(path, missing["name"]), "is required"
    if (unknown := _UNKNOWN.fullmatch(what)) is not None:
        return _join(path, unknown["name"]), "unknown field"
    if (expected := _EXPECTED.fullmatch(what)) is not None:
        rule = expected["rule"] or ""
        if rule and not rule.startswith((" of length", " matching")) and model is not None:
            described = _range(model, path)
            if described is not None:
                return path, described
        return path, _expectation(expected["type"], rule)
    if what == "Invalid base64 encoded string":
        return path, "is not valid base64"
    if what == "Number out of range":
        return path, "is out of range"
    return path, what[:1].lower() + what[1:]


def _range(model: Any, path: str) -> str | None:
    """``must be an integer from LOW to HIGH`` for the bounded number at ``path`` in ``model``."""
    kind: Any = msgspec.inspect.type_info(model)
    for part in _PARTS.findall(path):
        kind = _concrete(kind)
        if isinstance(kind, msgspec.inspect.StructType):
            kind = next((f.type for f in kind.fields if f.encode_name == part), None)
        elif isinstance(kind, msgspec.inspect.ListType | msgspec.inspect.DictType):
            kind = kind.item_type if isinstance(kind, msgspec.inspect.ListType) else \
                kind.value_type
        else:
            return None
    kind = _concrete(kind)
    if isinstance(kind, msgspec.inspect.IntType) and None not in (kind.ge, kind.le):
        return f"must be an integer from {kind.ge} to {kind.le}"
    if isinstance(kind, msgspec.inspect.FloatType) and kind.le is not None \
            and (kind.ge is not None or kind.gt is not None):
        low = f"more than {kind.gt:g}" if kind.gt is not None else f"at least {kind.ge:g}"
        return f"must be a number {low} and at most {kind.le:g}"
    return None


def _concrete(kind: Any) -> Any:
    """The one member of ``T | None`` that is not None (inspect drops ``Unset`` itself), without
    its documentation wrapper."""
    if isinstance(kind, msgspec.inspect.Metadata):
        kind = kind.type
    if isinstance(kind, msgspec.inspect.UnionType):
        members = [t for t in kind.types if not isinstance(t, msgspec.inspect.NoneType)]
        if len(members) == 1:
            return _concrete(members[0])
    return kind


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _expectation(kind: str, rule: str) -> str:
    if not rule:
        names = [_TYPES.get(k.strip(), k.strip()) for k in kind.split("|")]
        return "must be " + " or ".join(n for n in names if n != "null" or len(names) == 1)
    if rule.startswith(" matching regex"):
        return "has the wrong form" + rule.replace(" matching regex", " (must match") + ")"
    length = rule.startswith(" of length")
    op, _, bound = rule.removeprefix(" of length").strip().partition(" ")
    bound = bound.removesuffix(".0")  # 0.0 reads better as 0
    if length:
        unit = "character" if kind == "str" else "item"
        return f"must have {_COMPARE.get(op, op)} {bound} {unit}{'' if bound == '1' else 's'}"
    return f"must be {_COMPARE.get(op, op)} {bound}"


# -- query strings -----------------------------------------------------------------------------
@cache
def _bool_fields(model: type[msgspec.Struct]) -> frozenset[str]:
    info = msgspec.inspect.type_info(model)
    assert isinstance(info, msgspec.inspect.StructType)
    return frozenset(f.encode_name for f in info.fields
                     if isinstance(_concrete(f.type), msgspec.inspect.BoolType))


def decode_query(model: type[msgspec.Struct], params: Mapping[str, str]) -> Any:
    """The query string as ``model``; parameters the model does not name are ignored."""
    raw = dict(params)
    for name in _bool_fields(model) & raw.keys():  # the words accepted before the models
        raw[name] = _BOOL_WORDS.get(raw[name].lower(), raw[name])
    try:
        return msgspec.convert(raw, model, strict=False)
    except msgspec.ValidationError as exc:
        field, reason = problem(exc, model)
        raise RequestError(400, "invalid_parameter", f"query parameter '{field}' {reason}",
                           field=field) from None


# -- JSON bodies -------------------------------------------------------------------------------
def parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestError(400, "malformed_json",
                           f"request body is not valid JSON: {exc}") from None


def check_body(model: Any, obj: Any, *, code: str, root: str,
               unnest: tuple[str, ...] = ()) -> Any:
    """``obj`` (parsed JSON) as ``model``; a mismatch is a 400 with ``code`` naming the field
    (``root`` when the body as a whole is wrong; fields under an ``unnest`` member are named
    without it)."""
    try:
        return msgspec.convert(obj, model)
    except msgspec.ValidationError as exc:
        field, reason = problem(exc, model)
        for member in unnest:
            field = field.removeprefix(member + ".")
        field = field or root
        raise RequestError(400, code, f"field '{field}': {reason}", field=field) from None
