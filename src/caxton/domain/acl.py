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
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson

from caxton.domain import acl_fields as fields
from caxton.domain.ids import new_id
from caxton.domain.nesting import CONTENT_DEPTH_CEILING, depth_exceeds
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

USER_PARAM_PATTERN = r"[Xx]-[A-Za-z0-9_.-]{1,64}"
_USER_PARAM = re.compile(USER_PARAM_PATTERN)
_STRING_FIELDS = (
    "language", "encoding", "ontology", "protocol", "conversation_id", "reply_with", "in_reply_to",
)
KNOWN_FIELDS = frozenset({
    "message_id", "performative", "sender", "receiver", "reply_to", "content", "reply_by",
    "timestamp", "trace_context", "addresses", *_STRING_FIELDS,
})


# The last whole second formatted: (second, its text up to the fraction), swapped as one.
_second: list[tuple[int, str]] = [(-1, "")]


def utc_now_iso() -> str:
    """Now as ISO 8601 UTC with microseconds (``2026-12-07T18:00:00.123456Z``). Every message
    takes one: the date part is formatted once per second, not per call."""
    now = time.time_ns()
    second, fraction = divmod(now, 1_000_000_000)
    cached = _second[0]
    if cached[0] != second:
        cached = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S."))
        _second[0] = cached
    return f"{cached[1]}{fraction // 1000:06d}Z"


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
    # Platform bookkeeping against loops and fork bombs (``domain.cascade``), not part of the
    # wire form: how many answers in a row led to this message, and the id of the message that
    # started its cascade (None: this message started one).
    hops: int = field(default=0, compare=False, repr=False)
    cascade: str | None = field(default=None, compare=False, repr=False)
    _wire: bytes | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object form, optional members omitted, ``content`` last."""
        out: dict[str, Any] = {
            "message_id": self.message_id,
            "performative": self.performative._value_,  # not .value: a descriptor call
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
    def cascade_root(self) -> str:
        """The id of the message that started this one's cascade (see ``domain.cascade``)."""
        return self.cascade or self.message_id

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


def carry_addresses(msg: AclMessage, cause: AclMessage) -> None:
    """Give ``msg`` the transport addresses ``cause`` (the message being handled when ``msg`` was
    written) has for agents ``msg`` sends to or names in ``reply_to`` without addresses of its
    own: an agent that passes a message from another platform on, or answers a ``reply_to``
    there, reaches that platform's agents without knowing where they live."""
    if not cause.addresses:
        return
    carried = {name: cause.addresses[name] for name in (*msg.receiver, *msg.reply_to)
               if name in cause.addresses and name not in msg.addresses}
    if carried:
        msg.addresses = {**msg.addresses, **carried}
        msg._wire = None


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
        cascade=original.cascade_root,
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
    obj: Any, *, sender: str | None = None, base: AclMessage | None = None,
    max_depth: int = CONTENT_DEPTH_CEILING,
) -> AclMessage:
    """Validate a JSON object into a message.

    ``sender`` overrides whatever the object says (an agent cannot speak for another).
    ``base`` is the message being answered: missing routing fields are taken from it, which is
    how the ABI's ``reply`` works. ``content`` may nest arrays and objects ``max_depth`` levels
    deep (the APIs pass the server's ``max_content_depth``; see ``domain.nesting``).
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
    if depth_exceeds(obj.get("content"), max_depth):
        raise InvalidMessageError(
            "content", f"nests arrays and objects more than {max_depth} levels deep")
    performative = parse_performative(obj["performative"])
    receiver = fields.addresses(obj, "receiver", required=base is None)
    msg = AclMessage(
        performative=performative,
        sender=sender if sender is not None else fields.address(obj.get("sender", ""), "sender"),
        receiver=receiver or (base.reply_address if base is not None else ()),
        content=obj.get("content"),
        reply_to=fields.addresses(obj, "reply_to", required=False),
    )
    if "message_id" in obj:
        msg.message_id = fields.short_string(obj["message_id"], "message_id")
    if "timestamp" in obj:
        msg.timestamp = fields.date_time(obj["timestamp"], "timestamp")
    if obj.get("reply_by") is not None:
        msg.reply_by = fields.date_time(obj["reply_by"], "reply_by")
    for name in _STRING_FIELDS:
        value = obj.get(name)
        if value is not None:
            setattr(msg, name, fields.short_string(value, name))
    if base is not None:
        _fill_reply_fields(msg, base)
    trace = obj.get("trace_context")
    if trace is not None:
        msg.trace_context = fields.trace_context(trace)
    elif base is not None:
        msg.trace_context = base.trace_context
    msg.user_params = user_params
    if obj.get("addresses") is not None:
        msg.addresses = fields.transport_addresses(obj["addresses"], msg)
    return msg
