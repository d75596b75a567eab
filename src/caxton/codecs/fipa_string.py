"""The ``fipa.acl.rep.string.std`` codec (FIPA SC00070): ``AclMessage`` to and from text.

This is the form JADE-style platforms put in an MTP payload::

    (request
     :sender (agent-identifier :name buyer@jade :addresses (sequence http://jade:7778/acc))
     :receiver (set (agent-identifier :name seller))
     :content "{\\"item\\":42}" :language json :protocol fipa-request ...)

What the FIPA form cannot hold directly travels as ``X-caxton-*`` user-defined parameters, so
``parse(render(m)) == m`` for every message the model holds: ``message-id``, ``timestamp``,
``traceparent``/``tracestate``, a ``reply-by`` finer than FIPA's milliseconds, and
``X-caxton-content json`` when JSON content needs marking (see ``_content``). ``X-caxton-hops``
carries the loop counter (``AclMessage.hops``) when it is not zero. A user parameter
that happens to be spelled like one of those gets one trailing ``-`` on the wire (and loses it on
the way back), so nothing a user sends can be mistaken for them.

Content: SC00070 content is a string. String content is written as it is. Other JSON content is
written as its JSON text; with ``:language json`` that is self-describing, and a message that has
no language gets ``:language json`` plus the marker (which also tells ``parse`` the language was
absent). Under language ``json`` string content is JSON too (``"\\"hi\\""``) so it stays a string.

Parsing is lenient where real platforms differ (keyword case, a single agent-identifier where
a set is due, numbers and nested expressions as parameter values) and strict about structure:
every error names the problem and its byte offset. Resolvers and user-defined slots inside
agent-identifiers are read and dropped: Caxton routes by name.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson

from caxton.codecs import sexpr
from caxton.codecs.aid import AgentIdentifier
from caxton.codecs.fipa_time import format_token, parse_token
from caxton.codecs.sexpr import Atom, Expr, Group, fail
from caxton.domain.acl import AclMessage, parse_message
from caxton.domain.nesting import CONTENT_DEPTH_CEILING
from caxton.errors import InvalidMessageError

NAME = "fipa.acl.rep.string.std"
_STRINGS = ("encoding", "language", "ontology", "protocol", "conversation_id", "reply_with",
            "in_reply_to")
_KEYWORDS = {f":{name.replace('_', '-')}": name for name in _STRINGS} | {
    ":sender": "sender", ":receiver": "receiver", ":reply-to": "reply_to",
    ":content": "content", ":reply-by": "reply_by",
}
_ID, _TIME, _PARENT, _STATE = ("X-caxton-message-id", "X-caxton-timestamp",
                               "X-caxton-traceparent", "X-caxton-tracestate")
_REPLY_BY, _MARK, _HOPS = "X-caxton-reply-by", "X-caxton-content", "X-caxton-hops"
_RESERVED = {name.lower(): name
             for name in (_ID, _TIME, _PARENT, _STATE, _REPLY_BY, _MARK, _HOPS)}


# -- render -----------------------------------------------------------------------------------
def render(msg: AclMessage) -> str:
    """``msg`` in the FIPA string representation (send it as UTF-8)."""
    w = sexpr.word_or_string
    out = [f"({msg.performative.value}", f" :sender {_aid(msg, msg.sender)}",
           " :receiver (set " + " ".join(_aid(msg, r) for r in msg.receiver) + ")"]
    if msg.reply_to:
        out.append(" :reply-to (set " + " ".join(_aid(msg, r) for r in msg.reply_to) + ")")
    content, language, marked = _content(msg)
    if content is not None:
        out.append(f" :content {sexpr.string(content)}")
    for name in _STRINGS:
        value = language if name == "language" else getattr(msg, name)
        if value is not None:
            out.append(f" :{name.replace('_', '-')} {w(value)}")
    params: list[tuple[str, str]] = [(_ID, msg.message_id), (_TIME, msg.timestamp)]
    if msg.reply_by is not None:
        moment = datetime.fromisoformat(msg.reply_by)
        out.append(f" :reply-by {format_token(moment)}")
        if moment.microsecond % 1000:
            params.append((_REPLY_BY, msg.reply_by))
    if msg.trace_context:
        params.append((_PARENT, msg.trace_context["traceparent"]))
        if "tracestate" in msg.trace_context:
            params.append((_STATE, msg.trace_context["tracestate"]))
    if marked:
        params.append((_MARK, "json"))
    if msg.hops:  # so a loop between two Caxton platforms still meets the hop limit
        params.append((_HOPS, str(msg.hops)))
    params += [(_escape_param(k), v) for k, v in msg.user_params.items()]
    out += [f" :{key} {w(value)}" for key, value in params]
    return "\n".join(out) + ")"


def _aid(msg: AclMessage, name: str) -> str:
    urls = msg.addresses.get(name)
    if not urls:
        return f"(agent-identifier :name {sexpr.word_or_string(name)})"
    seq = " ".join(sexpr.word_or_string(u) for u in urls)
    return f"(agent-identifier :name {sexpr.word_or_string(name)} :addresses (sequence {seq}))"


def _content(msg: AclMessage) -> tuple[str | None, str | None, bool]:
    """(content text, language to write, whether the JSON marker is needed)."""
    value, language = msg.content, msg.language
    if value is None:
        return None, language, False
    if language is not None and language.lower() == "json":
        return _json(value), language, False
    if isinstance(value, str):
        return value, language, False
    return _json(value), language if language is not None else "json", True


def _json(value: Any) -> str:
    text = orjson.dumps(value).decode()
    # ASCII JSON has as many bytes as characters: byte-length strings then mean the same to
    # readers that count characters (JADE does).
    return text if text.isascii() else json.dumps(json.loads(text), separators=(",", ":"))


def _escape_param(name: str) -> str:
    return name + "-" if name.rstrip("-").lower() in _RESERVED else name


# -- parse ------------------------------------------------------------------------------------
def parse(data: str | bytes, *, charset: str = "utf-8", now: datetime | None = None,
          max_depth: int = CONTENT_DEPTH_CEILING) -> AclMessage:
    """The message ``data`` holds. ``charset`` decodes bytes (it must be ASCII-compatible);
    ``now`` anchors relative reply-by times (default: the clock); ``max_depth`` bounds how
    deeply JSON content nests (``domain.nesting``).

    Raises ``MalformedAclError`` naming what is wrong, including fields Caxton's model refuses
    (an agent name it cannot route, an over-long conversation id...).
    """
    return parse_carrying_id(data, charset=charset, now=now, max_depth=max_depth)[0]


def parse_carrying_id(data: str | bytes, *, charset: str = "utf-8",
                      now: datetime | None = None, max_depth: int = CONTENT_DEPTH_CEILING
                      ) -> tuple[AclMessage, bool]:
    """``parse``, and whether the text gave the message its id (``X-caxton-message-id``,
    which another Caxton writes) rather than the parser making one up."""
    if isinstance(data, str):  # text is read as the UTF-8 that render's output is sent as
        data, charset = data.encode(), "utf-8"
    expr = sexpr.read(data, charset)
    if not isinstance(expr, Group) or not expr.items:
        raise fail("a message is '(' performative parameters... ')'", expr.pos)
    head, *rest = expr.items
    if not isinstance(head, Atom) or head.kind != "word":
        raise fail("the message must start with its performative", head.pos)
    if len(rest) % 2:
        raise fail(f"parameter {_show(rest[-1])} has no value", rest[-1].pos)
    obj: dict[str, Any] = {"performative": head.text}
    extra: dict[str, str] = {}
    seen: set[str] = set()
    for key_expr, value in zip(rest[::2], rest[1::2], strict=True):
        if not isinstance(key_expr, Atom) or key_expr.kind != "word" or key_expr.text[:1] != ":":
            raise fail(f"expected a :parameter, found {_show(key_expr)}", key_expr.pos)
        spelled = key_expr.text
        key = "X-" + spelled[3:] if spelled[1:3].lower() == "x-" else spelled.lower()
        if key in seen:
            raise fail(f"parameter {spelled} is given twice", key_expr.pos)
        seen.add(key)
        _parameter(key, value, obj, extra)
    return _build(obj, extra, now, expr.pos, max_depth), _ID in extra


def _parameter(key: str, value: Expr, obj: dict[str, Any], extra: dict[str, str]) -> None:
    """Store one parameter: ``key`` is lower case, or ``X-name`` for a user-defined one."""
    field = _KEYWORDS.get(key)
    if field == "sender":
        aids = [_agent(value)]
        obj[field] = aids[0].name
    elif field in ("receiver", "reply_to"):
        aids = _aids(value, key)
        obj[field] = [a.name for a in aids]
    elif field is not None:
        obj[field] = _text(value)
        return
    elif key.startswith("X-") and len(key) > 2:
        if key.lower() in _RESERVED:
            extra[_RESERVED[key.lower()]] = _text(value)
        else:
            obj[key[:-1] if key.rstrip("-").lower() in _RESERVED else key] = _text(value)
        return
    else:
        raise fail(f"unknown parameter {key} (user-defined ones start with :X-)", value.pos)
    addresses = obj.setdefault("addresses", {})
    for a in aids:
        if a.addresses:
            known = addresses.setdefault(a.name, [])
            known += [u for u in a.addresses if u not in known]


def _build(obj: dict[str, Any], extra: dict[str, str], now: datetime | None,
           pos: int, max_depth: int) -> AclMessage:
    for required in ("sender", "receiver"):
        if required not in obj:
            raise fail(f"the message has no :{required}", pos)
    if not obj.get("addresses"):
        obj.pop("addresses", None)
    if "reply_by" in obj:
        obj["reply_by"] = _reply_by(obj["reply_by"], extra.get(_REPLY_BY), now)
    _decode_content(obj, extra)
    if _ID in extra:
        obj["message_id"] = extra[_ID]
    if _TIME in extra:
        obj["timestamp"] = extra[_TIME]
    if _PARENT in extra:
        obj["trace_context"] = {"traceparent": extra[_PARENT]}
        if _STATE in extra:
            obj["trace_context"]["tracestate"] = extra[_STATE]
    try:
        msg = parse_message(obj, max_depth=max_depth)
    except InvalidMessageError as exc:
        field = exc.field.replace("_", "-") if exc.field in _FIELDS else exc.field
        raise fail(f"{field}: {exc.reason}") from None
    hops = extra.get(_HOPS, "0")
    if not hops.isdigit() or len(hops) > 9:
        raise fail(f"{_HOPS} must be a count of messages, not {hops!r}")
    msg.hops = int(hops)
    return msg


_FIELDS = frozenset({*_STRINGS, "reply_to", "reply_by", "message_id", "trace_context"})


def _decode_content(obj: dict[str, Any], extra: dict[str, str]) -> None:
    marked = _MARK in extra
    if marked and extra[_MARK].lower() != "json":
        raise fail(f"{_MARK} must be 'json', not {extra[_MARK]!r}")
    language = obj.get("language")
    if "content" not in obj:
        if marked and language == "json":
            obj.pop("language")
        return
    if marked or (isinstance(language, str) and language.lower() == "json"):
        try:
            obj["content"] = orjson.loads(obj["content"])
        except orjson.JSONDecodeError as exc:
            if marked:
                raise fail(f"content marked as JSON is not JSON: {exc}") from None
            return  # a peer's "json" that is not: keep its text
        if marked and language == "json":
            obj.pop("language")


def _reply_by(text: str, precise: str | None, now: datetime | None) -> str:
    try:
        moment = parse_token(text, now=now)
    except ValueError as exc:
        raise fail(f"reply-by: {exc}") from None
    value = moment.isoformat(timespec="microseconds").replace("+00:00", "Z")
    if precise is None:
        return value
    try:
        finer = datetime.fromisoformat(precise).astimezone(UTC)
    except ValueError:
        raise fail(f"{_REPLY_BY}: {precise!r} is not an RFC 3339 date-time") from None
    if finer.replace(microsecond=finer.microsecond // 1000 * 1000) != moment:
        raise fail(f"{_REPLY_BY} {precise!r} disagrees with :reply-by {text}")
    return precise


def _text(value: Expr) -> str:
    return value.text if isinstance(value, Atom) else sexpr.source(value)


def _aids(value: Expr, spelled: str) -> list[AgentIdentifier]:
    """``(set aid...)``; also a lone agent-identifier or name, as FIPA97-era peers send."""
    if isinstance(value, Group) and value.items and _is_word(value.items[0], "set", "sequence"):
        aids = [_agent(item) for item in value.items[1:]]
        if not aids:
            raise fail(f"{spelled} names no agent", value.pos)
        return aids
    return [_agent(value)]


def _agent(value: Expr) -> AgentIdentifier:
    if isinstance(value, Atom):
        if value.kind in ("word", "string"):
            return AgentIdentifier(value.text)
        raise fail(f"expected an agent-identifier, found {_show(value)}", value.pos)
    items = value.items
    if not items or not _is_word(items[0], "agent-identifier"):
        raise fail("expected (agent-identifier :name ...)", value.pos)
    if len(items) % 2 == 0:
        raise fail("agent-identifier: a slot has no value", value.pos)
    name: str | None = None
    addresses: list[str] = []
    resolvers: list[AgentIdentifier] = []
    for key_expr, slot in zip(items[1::2], items[2::2], strict=True):
        key = key_expr.text.lower() if isinstance(key_expr, Atom) else ""
        if key == ":name" and isinstance(slot, Atom):
            name = slot.text
        elif key == ":addresses":
            addresses = [_text(u) for u in _sequence(slot, "addresses")]
        elif key == ":resolvers":
            resolvers = [_agent(r) for r in _sequence(slot, "resolvers")]
        elif not key.startswith(":x-"):
            raise fail(f"agent-identifier: unexpected slot {_show(key_expr)}", key_expr.pos)
    if name is None:
        raise fail("agent-identifier without a :name word", value.pos)
    return AgentIdentifier(name, tuple(addresses), tuple(resolvers))


def _sequence(value: Expr, what: str) -> tuple[Expr, ...]:
    if isinstance(value, Group) and value.items and _is_word(value.items[0], "sequence", "set"):
        return value.items[1:]
    raise fail(f"agent-identifier :{what} must be (sequence ...)", value.pos)


def _is_word(expr: Expr, *words: str) -> bool:
    return isinstance(expr, Atom) and expr.kind == "word" and expr.text.lower() in words


def _show(expr: Expr) -> str:
    text = sexpr.source(expr)
    return repr(text if len(text) <= 40 else text[:37] + "...")
