"""One ACL message to and from an HTTP MTP body (SC00084): envelope, payload and framing together.

The ``/acc`` endpoint and the outbound MTP client need the same three steps in the same order
with the same checks (the representation is one we read, the payload length agrees, the charset
is known); doing them here keeps both sides pure and tested apart from any HTTP server.
"""

from __future__ import annotations

import codecs
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from caxton.codecs import envelope_xml, fipa_string, multipart
from caxton.codecs.aid import AgentIdentifier
from caxton.codecs.envelope_xml import Envelope
from caxton.domain.acl import AclMessage, parse_message
from caxton.domain.nesting import CONTENT_DEPTH_CEILING
from caxton.errors import InvalidMessageError, MalformedAclError, MalformedEnvelopeError

# Caxton's native JSON form as an MTP payload: not a FIPA standard, so any representation name
# that says "json" is taken to mean it (what a peer that speaks our JSON would write).
JSON_NAME = "caxton.acl.rep.json"
# Python text codecs that are no charset a peer could mean (host names, escape sequences).
_NOT_CHARSETS = frozenset({"idna", "punycode", "unicode-escape", "raw-unicode-escape"})


def encode(
    msg: AclMessage,
    *,
    to: tuple[AgentIdentifier, ...] | None = None,
    date: datetime | None = None,
    boundary: str | None = None,
    user_defined: tuple[tuple[str, str], ...] = (),
) -> tuple[str, bytes]:
    """(Content-Type, body) of an MTP POST carrying ``msg``.

    ``to`` defaults to the message's receivers with the addresses it knows for them; pass the
    receivers on one remote platform when a message is split across several. ``user_defined``
    adds ``<user-defined href=...>`` slots to the envelope.
    """
    payload = fipa_string.render(msg).encode()

    def aid(name: str) -> AgentIdentifier:
        return AgentIdentifier(name, msg.addresses.get(name, ()))

    envelope = Envelope(
        to=to if to is not None else tuple(aid(r) for r in msg.receiver),
        from_=aid(msg.sender),
        acl_representation=fipa_string.NAME,
        payload_length=len(payload),
        payload_encoding="UTF-8",
        date=date if date is not None else datetime.now(UTC),
        user_defined=user_defined,
    )
    return multipart.build(envelope_xml.build(envelope), payload, boundary=boundary)


@dataclass(frozen=True, slots=True)
class Decoded:
    envelope: Envelope
    message: AclMessage
    # Whether the payload gave the message its id (Caxton's X-caxton-message-id, or message_id
    # in the JSON form): only then can a repeated POST be recognised as the same message.
    carries_id: bool


def decode(
    content_type: str, body: bytes, *, now: datetime | None = None,
    max_depth: int = CONTENT_DEPTH_CEILING,
) -> tuple[Envelope, AclMessage]:
    """The envelope and message of an MTP POST (``read`` without ``carries_id``)."""
    decoded = read(content_type, body, now=now, max_depth=max_depth)
    return decoded.envelope, decoded.message


def read(content_type: str, body: bytes, *, now: datetime | None = None,
         max_depth: int = CONTENT_DEPTH_CEILING) -> Decoded:
    """The envelope and message of an MTP POST; ``now`` anchors relative reply-by times;
    ``max_depth`` bounds how deeply the content nests (``domain.nesting``).

    The payload is read as ``fipa.acl.rep.string.std`` unless the envelope's
    ``acl-representation`` names JSON: then it is Caxton's JSON form (``JSON_NAME``).

    Raises MalformedEnvelopeError for the framing and the envelope, MalformedAclError for the
    payload; both name what is wrong.
    """
    parts = multipart.parse(content_type, body)
    envelope = envelope_xml.parse(parts.envelope)
    representation = envelope.acl_representation or fipa_string.NAME
    payload = _trimmed(parts.payload.data, envelope.payload_length)
    if "json" in representation.lower():
        msg, carries_id = _json(payload, max_depth)
        return Decoded(envelope, msg, carries_id)
    if representation.lower() != fipa_string.NAME:
        raise MalformedEnvelopeError(
            f"acl-representation {representation!r} is not supported; Caxton reads "
            f"{fipa_string.NAME} (and its own JSON, {JSON_NAME})")
    charset = envelope.payload_encoding or parts.payload.charset
    if charset is None:
        try:
            return Decoded(envelope, *fipa_string.parse_carrying_id(payload, now=now,
                                                                     max_depth=max_depth))
        except MalformedAclError as exc:
            if "is not valid utf-8" not in exc.message:
                raise
            # No charset declared and not UTF-8: Java platforms send their default charset.
            return Decoded(envelope, *fipa_string.parse_carrying_id(
                payload, charset="latin-1", now=now, max_depth=max_depth))
    return Decoded(envelope, *fipa_string.parse_carrying_id(
        payload, charset=_charset(charset), now=now, max_depth=max_depth))


def _json(payload: bytes, max_depth: int) -> tuple[AclMessage, bool]:
    """A payload in Caxton's JSON form (UTF-8, as JSON is)."""
    try:
        obj = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise MalformedAclError(f"{JSON_NAME}: the payload is not valid JSON: {exc}") from None
    try:
        return (parse_message(obj, max_depth=max_depth),
                isinstance(obj, dict) and "message_id" in obj)
    except InvalidMessageError as exc:
        raise MalformedAclError(f"{JSON_NAME}: {exc.message}") from None


def _trimmed(payload: bytes, length: int | None) -> bytes:
    """The payload cut to ``payload-length`` when only line ends or spaces follow that."""
    if length is None or length == len(payload):
        return payload
    if length < len(payload) and not payload[length:].strip():
        return payload[:length]
    raise MalformedEnvelopeError(
        f"payload-length says {length} bytes but the ACL part has {len(payload)}")


def _charset(name: str) -> str:
    """The codec a payload ``charset`` names: a text encoding that writes ASCII as ASCII.

    Python's codec registry also holds bytes-to-bytes transforms (``base64``, ``zlib``), codecs
    that refuse to encode at all (``undefined``) and ones that reject error handlers (``idna``):
    each fails differently when tried, and none is a charset a peer can mean.
    """
    shown = repr(name[:64]) + ("..." if len(name) > 64 else "")
    try:
        info = codecs.lookup(name)
        ascii_compatible = "(:)".encode(info.name) == b"(:)"
    except (LookupError, ValueError):  # ValueError: a NUL in the name; UnicodeError too
        raise MalformedEnvelopeError(f"unknown payload encoding {shown}") from None
    if info.name in _NOT_CHARSETS:
        raise MalformedEnvelopeError(f"unknown payload encoding {shown}")
    if not ascii_compatible:
        raise MalformedEnvelopeError(
            f"payload encoding {shown} is not ASCII-compatible; use UTF-8")
    return info.name


def local_name(name: str, platforms: Collection[str]) -> str | None:
    """The local agent a FIPA name means, or None when it names an agent elsewhere.

    Other platforms address our agents by globally unique name, ``agent@platform``; the part
    after the last ``@`` must be one of ``platforms`` (compared case-insensitively). A name
    without ``@`` is already local.
    """
    local, at, platform = name.rpartition("@")
    if not at:
        return name
    wanted = {p.lower() for p in platforms}
    return local if platform.lower() in wanted and local else None
