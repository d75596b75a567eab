"""FIPA ACL messages: the 22 performatives of SC00037 and the parameters of SC00061.

The JSON form writes each FIPA parameter with ``-`` as ``_`` (``conversation-id`` becomes
``conversation_id``); user-defined parameters keep their ``X-`` names. The wire form always puts
``content`` last: the agent ABI promises that so minimal agents can find the content without a
JSON parser.

``addresses`` keeps the transport addresses (FIPA agent-identifier ``:addresses``) of agents that
live on other platforms, by agent name, so a message parsed from another platform can be answered
there. It is absent from the JSON form when empty, which it is for every local message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson

from caxton.domain.ids import new_id
from caxton.errors import InvalidMessageError


class Performative(StrEnum):
    """The communicative acts of FIPA SC00037, named as on the wire."""

    ACCEPT_PROPOSAL = "accept-proposal"
    AGREE = "agree"
    CANCEL = "cancel"
    CFP = "cfp"
    CONFIRM = "confirm"
    DISCONFIRM = "disconfirm"
    FAILURE = "failure"
    INFORM = "inform"
    INFORM_IF = "inform-if"
    INFORM_REF = "inform-ref"
    NOT_UNDERSTOOD = "not-understood"
    PROPAGATE = "propagate"
    PROPOSE = "propose"
    PROXY = "proxy"
    QUERY_IF = "query-if"
    QUERY_REF = "query-ref"
    REFUSE = "refuse"
    REJECT_PROPOSAL = "reject-proposal"
    REQUEST = "request"
    REQUEST_WHEN = "request-when"
    REQUEST_WHENEVER = "request-whenever"
    SUBSCRIBE = "subscribe"


_PERFORMATIVES: dict[str, Performative] = {p.value: p for p in Performative}
_PERFORMATIVES["call-for-proposal"] = Performative.CFP

# Acts that report trouble. Nobody answers them with another failure: that is how loops start.
ERROR_ACTS = frozenset({Performative.FAILURE, Performative.NOT_UNDERSTOOD})

# Addresses never contain quotes or backslashes, which keeps the wire form trivially scannable.
_ADDRESS = re.compile(r"[A-Za-z_][A-Za-z0-9_.@:/+~-]{0,254}")
_USER_PARAM = re.compile(r"[Xx]-[A-Za-z0-9_.-]{1,64}")
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})"
)
_TRACEPARENT = re.compile(r"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")
_MAX_ID = 256
_MAX_RECEIVERS = 1000
_MAX_URLS = 16
_STRING_FIELDS = (
    "language", "encoding", "ontology", "protocol", "conversation_id", "reply_with", "in_reply_to",
)
KNOWN_FIELDS = frozenset({
    "message_id", "performative", "sender", "receiver", "reply_to", "content", "reply_by",
    "timestamp", "trace_context", "addresses", *_STRING_FIELDS,
})


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(slots=True, eq=True)
class AclMessage:
    """One FIPA ACL message. Treat it as immutable once routed; derive others with ``reply``."""

    performative: Performative
    sender: str
    receiver: tuple[str, ...]
    content: Any = None
    message_id: str = field(default_factory=new_id)
    timestamp: str = field(default_factory=utc_now_iso)
    reply_to: tuple[str, ...] = ()
    language: str | None = None
    encoding: str | None = None
    ontology: str | None = None
    protocol: str | None = None
    conversation_id: str | None = None
    reply_with: str | None = None
    in_reply_to: str | None = None
    reply_by: str | None = None
    trace_context: dict[str, str] | None = None
    user_params: dict[str, str] = field(default_factory=dict)
    # Transport addresses of agents on other platforms, by name (names this message uses only).
    addresses: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # How many messages caused this one (each sent while handling the previous); platform
    # bookkeeping against loops, not part of the wire form.
    hops: int = field(default=0, compare=False, repr=False)
    _wire: bytes | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object form, optional members omitted, ``content`` last."""
        out: dict[str, Any] = {
            "message_id": self.message_id,
            "performative": self.performative.value,
            "sender": self.sender,
            "receiver": list(self.receiver),
        }
        if self.reply_to:
            out["reply_to"] = list(self.reply_to)
        if self.addresses:
            out["addresses"] = {name: list(urls) for name, urls in self.addresses.items()}
        for name in _STRING_FIELDS:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.reply_by is not None:
            out["reply_by"] = self.reply_by
        out["timestamp"] = self.timestamp
        if self.trace_context:
            out["trace_context"] = self.trace_context
        out.update(self.user_params)
        out["content"] = self.content
        return out

    def to_wire(self) -> bytes:
        """UTF-8 JSON bytes, computed once (a message may go to many receivers)."""
        if self._wire is None:
            self._wire = orjson.dumps(self.to_dict())
        return self._wire

    @property
    def wire_size(self) -> int:
        return len(self.to_wire())

    @property
    def reply_address(self) -> tuple[str, ...]:
        """Where replies go: ``reply_to`` when given, else the sender (SC00061)."""
        return self.reply_to or (self.sender,)

    @property
    def reply_key(self) -> str:
        """What a reply's ``in_reply_to`` carries: ``reply_with``, else the message id."""
        return self.reply_with or self.message_id


_COPIED_ON_REPLY = ("conversation_id", "protocol", "language", "ontology", "encoding")


def _fill_reply_fields(msg: AclMessage, original: AclMessage) -> None:
    """Give a reply the routing fields of ``original`` that it does not set itself."""
    for name in _COPIED_ON_REPLY:
        if getattr(msg, name) is None:
            setattr(msg, name, getattr(original, name))
    if msg.in_reply_to is None:
        msg.in_reply_to = original.reply_key
    if original.addresses:  # a reply to another platform's agent must know where it lives
        msg.addresses = {
            name: original.addresses[name] for name in msg.receiver if name in original.addresses
        }


def reply(
    original: AclMessage,
    *,
    sender: str,
    performative: Performative,
    content: Any = None,
) -> AclMessage:
    """A reply to ``original`` with the routing fields a FIPA peer expects."""
    msg = AclMessage(
        performative=performative,
        sender=sender,
        receiver=original.reply_address,
        content=content,
        trace_context=original.trace_context,
        hops=original.hops + 1,
    )
    _fill_reply_fields(msg, original)
    return msg


def parse_performative(value: Any) -> Performative:
    if not isinstance(value, str):
        raise InvalidMessageError("performative", "must be a string")
    found = _PERFORMATIVES.get(value.strip().lower().replace("_", "-"))
    if found is None:
        raise InvalidMessageError("performative", f"unknown performative {value!r}")
    return found


def parse_message(
    obj: Any, *, sender: str | None = None, base: AclMessage | None = None
) -> AclMessage:
    """Validate a JSON object into a message.

    ``sender`` overrides whatever the object says (an agent cannot speak for another).
    ``base`` is the message being answered: missing routing fields are taken from it, which is
    how the ABI's ``reply`` works.
    """
    if not isinstance(obj, dict):
        raise InvalidMessageError("message", "must be a JSON object")
    user_params: dict[str, str] = {}
    for key, value in obj.items():
        if key in KNOWN_FIELDS:
            continue
        if key[:2] in ("X-", "x-"):
            if _USER_PARAM.fullmatch(key) is None:
                raise InvalidMessageError(
                    key, "user-defined parameter names are X- followed by up to 64 letters, "
                    "digits, '_', '.' or '-'")
            if not isinstance(value, str):
                raise InvalidMessageError(key, "user-defined parameters must be strings")
            user_params["X-" + key[2:]] = value
            continue
        raise InvalidMessageError(key, "unknown field")

    if "performative" not in obj:
        raise InvalidMessageError("performative", "is required")
    performative = parse_performative(obj["performative"])
    receiver = _addresses(obj, "receiver", required=base is None)
    msg = AclMessage(
        performative=performative,
        sender=sender if sender is not None else _address(obj.get("sender", ""), "sender"),
        receiver=receiver or (base.reply_address if base is not None else ()),
        content=obj.get("content"),
        reply_to=_addresses(obj, "reply_to", required=False),
    )
    if "message_id" in obj:
        msg.message_id = _short_string(obj["message_id"], "message_id")
    if "timestamp" in obj:
        msg.timestamp = _datetime(obj["timestamp"], "timestamp")
    if obj.get("reply_by") is not None:
        msg.reply_by = _datetime(obj["reply_by"], "reply_by")
    for name in _STRING_FIELDS:
        value = obj.get(name)
        if value is not None:
            setattr(msg, name, _short_string(value, name))
    if base is not None:
        _fill_reply_fields(msg, base)
    trace = obj.get("trace_context")
    if trace is not None:
        msg.trace_context = _trace_context(trace)
    elif base is not None:
        msg.trace_context = base.trace_context
    msg.user_params = user_params
    if obj.get("addresses") is not None:
        msg.addresses = _transport_addresses(obj["addresses"], msg)
    return msg


def _address(value: Any, name: str) -> str:
    if not isinstance(value, str) or _ADDRESS.fullmatch(value) is None:
        raise InvalidMessageError(name, f"{value!r} is not a valid agent address")
    return value


def _addresses(obj: dict[str, Any], name: str, *, required: bool) -> tuple[str, ...]:
    value = obj.get(name)
    if value is None or value == []:
        if required:
            raise InvalidMessageError(name, "at least one receiver is required")
        return ()
    if isinstance(value, str):
        return (_address(value, name),)
    if not isinstance(value, list):
        raise InvalidMessageError(name, "must be an agent name or a list of agent names")
    if len(value) > _MAX_RECEIVERS:
        raise InvalidMessageError(name, f"at most {_MAX_RECEIVERS} receivers")
    # dict.fromkeys drops duplicates but keeps order: a receiver gets a message once.
    return tuple(dict.fromkeys(_address(v, name) for v in value))


def _transport_addresses(value: Any, msg: AclMessage) -> dict[str, tuple[str, ...]]:
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
        if len(urls) > _MAX_URLS:
            raise InvalidMessageError("addresses", f"at most {_MAX_URLS} addresses per agent")
        for url in urls:
            if not url or len(url) > _MAX_ID or not url.isprintable() or " " in url:
                raise InvalidMessageError("addresses", f"{url!r} is not a URL of 1 to {_MAX_ID} "
                                          "printable characters without spaces")
        if urls:
            out[name] = tuple(dict.fromkeys(urls))
    return out


def _short_string(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise InvalidMessageError(name, "must be a string")
    if not value or len(value) > _MAX_ID:
        raise InvalidMessageError(name, f"must be 1 to {_MAX_ID} characters")
    return value


def _datetime(value: Any, name: str) -> str:
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


def _trace_context(value: Any) -> dict[str, str]:
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
