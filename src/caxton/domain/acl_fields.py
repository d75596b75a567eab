"""Validation of single ACL message fields (addresses, ids, date-times, trace context), each
raising ``InvalidMessageError`` that names the field; ``acl.parse_message`` composes them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from caxton.errors import InvalidMessageError

if TYPE_CHECKING:
    from caxton.domain.acl import AclMessage

# Addresses never contain quotes or backslashes, which keeps the wire form trivially scannable.
ADDRESS_PATTERN = r"[A-Za-z_][A-Za-z0-9_.@:/+~-]{0,254}"
_ADDRESS = re.compile(ADDRESS_PATTERN)
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})"
)
_TRACEPARENT = re.compile(r"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")
MAX_ID = 256  # characters of ids and other short strings
MAX_RECEIVERS = 1000
MAX_URLS = 16  # transport addresses per agent


def address(value: Any, name: str) -> str:
    if not isinstance(value, str) or _ADDRESS.fullmatch(value) is None:
        raise InvalidMessageError(name, f"{value!r} is not a valid agent address")
    return value


def addresses(obj: dict[str, Any], name: str, *, required: bool) -> tuple[str, ...]:
    value = obj.get(name)
    if value is None or value == []:
        if required:
            raise InvalidMessageError(name, "at least one receiver is required")
        return ()
    if isinstance(value, str):
        return (address(value, name),)
    if not isinstance(value, list):
        raise InvalidMessageError(name, "must be an agent name or a list of agent names")
    if len(value) > MAX_RECEIVERS:
        raise InvalidMessageError(name, f"at most {MAX_RECEIVERS} receivers")
    # dict.fromkeys drops duplicates but keeps order: a receiver gets a message once.
    return tuple(dict.fromkeys(address(v, name) for v in value))


def transport_addresses(value: Any, msg: AclMessage) -> dict[str, tuple[str, ...]]:
    """``{"agent": ["http://host:7778/acc", ...]}`` for agents this message names."""
    if not isinstance(value, dict):
        raise InvalidMessageError("addresses", "must be an object of agent name to URL list")
    named = {msg.sender, *msg.receiver, *msg.reply_to}
    out: dict[str, tuple[str, ...]] = {}
    for name, urls in value.items():
        if name not in named:
            raise InvalidMessageError(
                "addresses", f"{name!r} is not the sender, a receiver or a reply_to agent")
        if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
            raise InvalidMessageError("addresses", f"addresses of {name!r} must be a list of URLs")
        if len(urls) > MAX_URLS:
            raise InvalidMessageError("addresses", f"at most {MAX_URLS} addresses per agent")
        for url in urls:
            if not url or len(url) > MAX_ID or not url.isprintable() or " " in url:
                raise InvalidMessageError("addresses", f"{url!r} is not a URL of 1 to {MAX_ID} "
                                          "printable characters without spaces")
        if urls:
            out[name] = tuple(dict.fromkeys(urls))
    return out


def short_string(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise InvalidMessageError(name, "must be a string")
    if not value or len(value) > MAX_ID:
        raise InvalidMessageError(name, f"must be 1 to {MAX_ID} characters")
    return value


def date_time(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise InvalidMessageError(name, "must be an RFC 3339 date-time string")
    try:
        parsed = datetime.fromisoformat(value.upper().replace(" ", "T"))
    except ValueError:
        raise InvalidMessageError(name, f"{value!r} is not an RFC 3339 date-time") from None
    if parsed.tzinfo is None:
        raise InvalidMessageError(name, "must include a time zone (e.g. 'Z')")
    if _RFC3339.fullmatch(value) is None:
        raise InvalidMessageError(name, f"{value!r} is not an RFC 3339 date-time")
    try:
        utc = parsed.astimezone(UTC)
    except OverflowError:
        raise InvalidMessageError(name, f"{value!r} is out of range") from None
    return utc.isoformat(timespec="microseconds").replace("+00:00", "Z")


def trace_context(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not isinstance(value.get("traceparent"), str):
        raise InvalidMessageError("trace_context", "must be an object with a 'traceparent'")
    if _TRACEPARENT.fullmatch(value["traceparent"]) is None:
        raise InvalidMessageError("trace_context", "traceparent is not W3C trace-context")
    extra = set(value) - {"traceparent", "tracestate"}
    if extra:
        raise InvalidMessageError("trace_context", f"unknown member {sorted(extra)[0]!r}")
    tracestate = value.get("tracestate")
    if tracestate is not None and not isinstance(tracestate, str):
        raise InvalidMessageError("trace_context", "tracestate must be a string")
    return dict(value)
