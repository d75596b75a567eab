"""The HTTP MTP body (FIPA SC00084): ``multipart/mixed``, the XML envelope first, the ACL second.

What JADE and its kin send, and so what we write::

    POST /acc HTTP/1.1
    Content-Type: multipart/mixed ; boundary="a36869921a26b9d812878b42b8fc2cd"

    This is not part of the MIME multipart encoded message.
    --a36869921a26b9d812878b42b8fc2cd
    Content-Type: application/xml

    <?xml version="1.0"?><envelope>...</envelope>
    --a36869921a26b9d812878b42b8fc2cd
    Content-Type: application/text

    (inform :sender ... )
    --a36869921a26b9d812878b42b8fc2cd--

Only the framing lives here (bytes in, bytes out): the envelope and payload codecs are separate,
and ``mtp`` joins them. Reading is tolerant of what real peers do (bare LF line ends, a quoted or
unquoted boundary, a preamble, parameters in any case) and strict about structure: fewer than two
parts, a missing closing delimiter or an envelope part that is not XML are errors that say so.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import quopri
import re
from dataclasses import dataclass

from caxton.errors import MalformedEnvelopeError

ENVELOPE_TYPE = "application/xml"
PAYLOAD_TYPE = "application/text"
PREAMBLE = b"This is not part of the MIME multipart encoded message."
_BOUNDARY_OK = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
_PARAM = re.compile(r';\s*([A-Za-z0-9_.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)')
_XML_TYPES = frozenset({"application/xml", "text/xml"})


@dataclass(frozen=True, slots=True)
class Part:
    """One body part: its content type (lower case, no parameters), charset, and bytes."""

    content_type: str | None
    charset: str | None
    data: bytes


@dataclass(frozen=True, slots=True)
class MtpBody:
    envelope: bytes
    payload: Part


def build(envelope: bytes, payload: bytes, *, boundary: str | None = None,
          payload_type: str = PAYLOAD_TYPE) -> tuple[str, bytes]:
    """(Content-Type header value, body) for an MTP POST carrying ``envelope`` and ``payload``.

    The default boundary is derived from the content, so the same message always gives the same
    bytes, and never occurs inside either part.
    """
    if boundary is None:
        boundary = _boundary(envelope, payload)
    elif _BOUNDARY_OK.fullmatch(boundary) is None:
        raise ValueError(f"{boundary!r} is not a valid MIME boundary")
    delimiter = b"--" + boundary.encode()
    if delimiter in envelope or delimiter in payload:
        raise ValueError("the boundary occurs inside a part")
    body = b"\r\n".join([
        PREAMBLE,
        delimiter, f"Content-Type: {ENVELOPE_TYPE}".encode(), b"", envelope,
        delimiter, f"Content-Type: {payload_type}".encode(), b"", payload,
        delimiter + b"--", b"",
    ])
    return f'multipart/mixed ; boundary="{boundary}"', body


def _boundary(envelope: bytes, payload: bytes) -> str:
    salt = 0
    while True:
        digest = hashlib.sha256(b"%d\0%b\0%b" % (salt, envelope, payload)).hexdigest()[:32]
        delimiter = b"--" + digest.encode()
        if delimiter not in envelope and delimiter not in payload:
            return digest
        salt += 1


def parse(content_type: str, body: bytes) -> MtpBody:
    """The envelope and payload parts of an MTP body sent with ``content_type``."""
    media, params = _media(content_type)
    if media != "multipart/mixed":
        raise _fail(f"Content-Type must be multipart/mixed, not {media or 'empty'!r}")
    boundary = params.get("boundary")
    if not boundary:
        raise _fail("Content-Type multipart/mixed has no boundary parameter")
    parts = split(body, boundary)
    if len(parts) < 2:
        raise _fail(f"expected 2 parts (envelope, then ACL payload), found {len(parts)}")
    envelope, payload = parts[0], parts[1]
    if envelope.content_type is not None and envelope.content_type not in _XML_TYPES:
        raise _fail(f"the first part must be the XML envelope (application/xml), "
                    f"not {envelope.content_type}")
    return MtpBody(envelope.data, payload)


def split(body: bytes, boundary: str) -> list[Part]:
    """The parts between ``--boundary`` delimiters (RFC 2046), requiring the closing one."""
    delimiter = re.escape(b"--" + boundary.encode())
    # A delimiter starts a line (or the body) and the line ends after optional padding.
    pattern = re.compile(rb"(?:^|\r?\n)" + delimiter + rb"(--)?[ \t]*(?:\r?\n|$)")
    matches = list(pattern.finditer(body))
    if not matches:
        raise _fail(f"no '--{boundary}' delimiter in the body")
    closing = next((i for i, m in enumerate(matches) if m.group(1)), None)
    if closing is None:
        raise _fail(f"the body has no closing '--{boundary}--' delimiter")
    parts = []
    for start, end in itertools.pairwise(matches[:closing + 1]):
        parts.append(_part(body[start.end():end.start()]))
    return parts


def _part(raw: bytes) -> Part:
    if raw.startswith((b"\r\n", b"\n")):  # no headers at all: the blank line comes first
        head, data = b"", raw.split(b"\n", 1)[1]
    else:
        head, sep, data = raw.partition(b"\r\n\r\n")
        if not sep:
            head, sep, data = raw.partition(b"\n\n")
        if not sep:
            raise _fail("a body part has no blank line between its headers and its content")
    headers: dict[str, str] = {}
    for line in re.split(rb"\r?\n(?![ \t])", head):  # folded lines continue with whitespace
        if not line.strip():
            continue
        name, colon, value = line.decode("latin-1").partition(":")
        if not colon:
            raise _fail(f"malformed part header {line[:60]!r}")
        headers[name.strip().lower()] = " ".join(value.split())
    media, params = _media(headers.get("content-type", ""))
    return Part(media or None, params.get("charset"),
                _decode(data, headers.get("content-transfer-encoding", "")))


def _decode(data: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("", "7bit", "8bit", "binary"):
        return data
    if encoding == "base64":
        try:
            return base64.b64decode(b"".join(data.split()), validate=True)
        except binascii.Error as exc:
            raise _fail(f"a base64 part does not decode: {exc}") from None
    if encoding == "quoted-printable":
        return quopri.decodestring(data)
    raise _fail(f"unsupported Content-Transfer-Encoding {encoding!r}")


def _media(value: str) -> tuple[str, dict[str, str]]:
    """``type/subtype`` in lower case and its parameters (names lower case, values unquoted)."""
    media, _, rest = value.partition(";")
    params = {}
    for name, raw in _PARAM.findall(";" + rest):
        text = raw[1:-1].replace('\\"', '"') if raw.startswith('"') else raw
        params[name.lower()] = text
    return media.strip().lower(), params


def _fail(message: str) -> MalformedEnvelopeError:
    return MalformedEnvelopeError(f"MTP body: {message}")
