"""Types shared by the models: the error body, names, short strings, date-times.

Constraints come from the domain's own constants, so the models check what the domain checks.
``schema_extra`` adds JSON Schema that msgspec cannot derive from a Struct (the ``X-...``
user-defined parameters of a message are ``patternProperties``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import msgspec

from caxton.domain.acl import USER_PARAM_PATTERN
from caxton.domain.acl_fields import ADDRESS_PATTERN, MAX_ID

_T = TypeVar("_T")

# JSON Schema merged into a component's schema, by component (class) name.
SCHEMA_EXTRAS: dict[str, dict[str, Any]] = {}


def schema_extra(extra: dict[str, Any]) -> Callable[[_T], _T]:
    def register(cls: _T) -> _T:
        SCHEMA_EXTRAS[getattr(cls, "__name__", str(cls))] = extra
        return cls

    return register


# The schema of the X-... members a message may carry.
USER_PARAMS: dict[str, Any] = {
    "patternProperties": {f"^{USER_PARAM_PATTERN}$": {
        "type": "string", "description": "A user-defined parameter (x- becomes X-)."}},
}
# A protocol driver's request: X-... members copied into every message it sends (null: none).
DRIVER_USER_PARAMS: dict[str, Any] = {
    "patternProperties": {f"^{USER_PARAM_PATTERN}$": {
        "type": ["string", "null"],
        "description": "A user-defined parameter for every message sent (null: left out)."}},
}


class ErrorBody(msgspec.Struct, omit_defaults=True):
    """Every error: a stable machine-readable code, a readable message and, when one part of
    the request is at fault, that part (a body field's path or a query parameter)."""

    code: Annotated[str, msgspec.Meta(examples=["invalid_message"])]
    message: str
    field: str | None = None


Address = Annotated[str, msgspec.Meta(
    pattern=f"^{ADDRESS_PATTERN}$", examples=["echo"],
    description="An agent name: a local agent, name@platform, a client inbox or service:TYPE.")]
ShortString = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ID)]
DateTime = Annotated[str, msgspec.Meta(
    extra_json_schema={"format": "date-time"},
    description="RFC 3339 with a time zone; answers give it in UTC (Z).")]
Seconds = Annotated[float, msgspec.Meta(ge=0)]
