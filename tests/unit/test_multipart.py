"""Unit tests for caxton.codecs.multipart (the SC00084 HTTP MTP body) and caxton.codecs.mtp
(envelope, payload and framing together), with bodies shaped like JADE's."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caxton.codecs import mtp
from caxton.codecs.aid import AgentIdentifier
from caxton.codecs.envelope_xml import Envelope
from caxton.codecs.envelope_xml import build as build_envelope
from caxton.codecs.fipa_string import render
from caxton.codecs.multipart import build, parse, split
from caxton.domain.acl import AclMessage, parse_message
from caxton.errors import CaxtonError, MalformedAclError, MalformedEnvelopeError

ENVELOPE = b'<?xml version="1.0"?><envelope><params index="1"/></envelope>'
PAYLOAD = b"(inform :sender a :receiver (set b) :content \"hi\")"


@settings(max_examples=100)
@given(st.binary(max_size=300), st.binary(max_size=300))
def test_parse_of_build_gives_the_parts_back(envelope: bytes, payload: bytes) -> None:
    content_type, body = build(envelope, payload)
    parsed = parse(content_type, body)
    assert parsed.envelope == envelope
    assert parsed.payload.data == payload
    assert parsed.payload.content_type == "application/text"


def test_build_writes_what_jade_writes() -> None:
    content_type, body = build(ENVELOPE, PAYLOAD, boundary="251D738450A171593A1583EB")
    assert content_type == 'multipart/mixed ; boundary="251D738450A171593A1583EB"'
    assert body == (
        b"This is not part of the MIME multipart encoded message.\r\n"
        b"--251D738450A171593A1583EB\r\n"
        b"Content-Type: application/xml\r\n\r\n" + ENVELOPE + b"\r\n"
        b"--251D738450A171593A1583EB\r\n"
        b"Content-Type: application/text\r\n\r\n" + PAYLOAD + b"\r\n"
        b"--251D738450A171593A1583EB--\r\n")


def test_the_default_boundary_is_deterministic_and_never_inside_a_part() -> None:
    assert build(ENVELOPE, PAYLOAD) == build(ENVELOPE, PAYLOAD)
    content_type, _ = build(ENVELOPE, PAYLOAD)
    boundary = content_type.split('"')[1]
    # A payload that quotes that very boundary gets another one.
    tricky = b"--" + boundary.encode()
    other_type, body = build(ENVELOPE, tricky)
    assert other_type != content_type
    assert parse(other_type, body).payload.data == tricky


def test_explicit_boundaries_are_checked() -> None:
    with pytest.raises(ValueError, match="not a valid MIME boundary"):
        build(ENVELOPE, PAYLOAD, boundary="bad\nboundary")
    with pytest.raises(ValueError, match="occurs inside a part"):
        build(ENVELOPE, b"--b--", boundary="b")


def test_real_world_variants_parse() -> None:
    body = (b"preamble\n--XyZ\ncontent-type: TEXT/XML; charset=UTF-8\n\n" + ENVELOPE +
            b"\n--XyZ  \nContent-Type: application/text;\n charset=\"ISO-8859-1\"\n"
            b"Content-Transfer-Encoding: base64\n\n" + base64.b64encode(PAYLOAD) +
            b"\n--XyZ--\nepilogue")
    parsed = parse("Multipart/Mixed;Boundary=XyZ", body)
    assert parsed.envelope == ENVELOPE
    assert parsed.payload.data == PAYLOAD
    assert parsed.payload.charset == "ISO-8859-1"
    assert len(split(body, "XyZ")) == 2


def test_parts_without_headers_and_extra_parts_are_accepted() -> None:
    body = b"--b\r\n\r\n" + ENVELOPE + b"\r\n--b\r\n\r\n" + PAYLOAD + b"\r\n--b\r\n\r\nx\r\n--b--"
    parsed = parse('multipart/mixed; boundary="b"', body)
    assert (parsed.envelope, parsed.payload.data) == (ENVELOPE, PAYLOAD)
    assert parsed.payload.content_type is None


@pytest.mark.parametrize(("content_type", "body", "says"), [
    ("application/json", b"{}", "Content-Type must be multipart/mixed, not 'application/json'"),
    ("", b"", "not 'empty'"),
    ("multipart/mixed", b"", "has no boundary parameter"),
    ("multipart/mixed; boundary=b", b"just text", "no '--b' delimiter in the body"),
    ("multipart/mixed; boundary=b", b"--b\r\n\r\nenv\r\n--b\r\n\r\nacl\r\n",
     "no closing '--b--' delimiter"),
    ("multipart/mixed; boundary=b", b"--b\r\n\r\nenv\r\n--b--\r\n",
     "expected 2 parts (envelope, then ACL payload), found 1"),
    ("multipart/mixed; boundary=b",
     b"--b\r\nContent-Type: application/text\r\n\r\n(x)\r\n--b\r\n\r\n(y)\r\n--b--",
     "the first part must be the XML envelope (application/xml), not application/text"),
    ("multipart/mixed; boundary=b", b"--b\r\nno blank line\r\n--b\r\n\r\nx\r\n--b--",
     "no blank line between its headers and its content"),
    ("multipart/mixed; boundary=b", b"--b\r\nbroken\r\n\r\nx\r\n--b\r\n\r\nx\r\n--b--",
     "malformed part header b'broken'"),
    ("multipart/mixed; boundary=b", b"--b\r\n\r\nx\r\n--b\r\nContent-Transfer-Encoding: "
     b"base64\r\n\r\n!!!\r\n--b--", "a base64 part does not decode"),
    ("multipart/mixed; boundary=b", b"--b\r\n\r\nx\r\n--b\r\nContent-Transfer-Encoding: "
     b"x-uuencode\r\n\r\nx\r\n--b--", "unsupported Content-Transfer-Encoding 'x-uuencode'"),
])
def test_malformed_bodies_are_refused_with_a_clear_error(content_type: str, body: bytes,
                                                         says: str) -> None:
    with pytest.raises(MalformedEnvelopeError) as info:
        parse(content_type, body)
    assert says in str(info.value)
    assert str(info.value).startswith("MTP body: ")
    assert isinstance(info.value, CaxtonError)
    assert info.value.code == "malformed_envelope"


def test_quoted_printable_parts_decode() -> None:
    body = (b"--b\r\n\r\n" + ENVELOPE + b"\r\n--b\r\nContent-Transfer-Encoding: "
            b"quoted-printable\r\n\r\ncaf=C3=A9\r\n--b--")
    assert parse("multipart/mixed; boundary=b", body).payload.data == "café".encode()


# -- mtp: one message to and from an MTP body ---------------------------------------------------

WHEN = datetime(2026, 11, 23, 12, 15, 37, 682000, tzinfo=UTC)


def message(**extra: object) -> AclMessage:
    return parse_message({
        "performative": "inform", "sender": "echo", "receiver": ["da0@host:1099/JADE"],
        "content": {"n": 1}, "addresses": {"da0@host:1099/JADE": ["http://host:7778/acc"]},
    } | extra)


def test_a_message_survives_encode_and_decode() -> None:
    msg = message()
    content_type, body = mtp.encode(msg, date=WHEN)
    envelope, again = mtp.decode(content_type, body)
    assert again == msg
    assert envelope.to == (AgentIdentifier("da0@host:1099/JADE", ("http://host:7778/acc",)),)
    assert envelope.from_ == AgentIdentifier("echo")
    assert envelope.date == WHEN
    assert envelope.payload_length == len(render(msg).encode())
    assert envelope.payload_encoding == "UTF-8"
    assert b"<intended-receiver>" in body


def test_encode_may_address_a_subset_of_receivers() -> None:
    only = (AgentIdentifier("x@elsewhere", ("http://elsewhere/acc",)),)
    envelope, _ = mtp.decode(*mtp.encode(message(), to=only))
    assert envelope.to == only


def body_with(payload: bytes, **envelope: object) -> tuple[str, bytes]:
    env = Envelope(to=(AgentIdentifier("echo@caxton"),), **envelope)  # type: ignore[arg-type]
    return build(build_envelope(env), payload)


def test_decode_trims_padding_after_payload_length() -> None:
    original = message()
    payload = render(original).encode()
    _, msg = mtp.decode(*body_with(payload + b"\r\n \r\n", payload_length=len(payload)))
    assert msg == original


def test_decode_falls_back_to_latin1_when_no_charset_is_declared() -> None:
    payload = '(inform :sender a :receiver (set b) :content "caf\xe9")'.encode("latin-1")
    _, msg = mtp.decode(*body_with(payload))
    assert msg.content == "café"
    _, declared = mtp.decode(*body_with("(inform :sender a :receiver (set b) :content \"é\")"
                                        .encode(), payload_encoding="utf-8"))
    assert declared.content == "é"


@pytest.mark.parametrize(("payload", "envelope", "error", "says"), [
    (PAYLOAD, {"payload_length": 3}, MalformedEnvelopeError,
     f"payload-length says 3 bytes but the ACL part has {len(PAYLOAD)}"),
    (PAYLOAD, {"acl_representation": "fipa.acl.rep.xml.std"}, MalformedEnvelopeError,
     "acl-representation 'fipa.acl.rep.xml.std' is not supported"),
    (PAYLOAD, {"payload_encoding": "klingon"}, MalformedEnvelopeError,
     "unknown payload encoding 'klingon'"),
    (PAYLOAD, {"payload_encoding": "utf-16"}, MalformedEnvelopeError, "not ASCII-compatible"),
    # Python codecs that are no charset: each used to escape as an internal error (a 500).
    *[(PAYLOAD, {"payload_encoding": name}, MalformedEnvelopeError,
       f"unknown payload encoding '{name}'")
      for name in ("base64", "zlib", "hex", "rot13", "uu", "bz2", "quopri", "undefined", "idna",
                   "punycode", "unicode_escape")],
    (b"(inform :sender a)", {}, MalformedAclError, "the message has no :receiver"),
    (b'(inform :sender a :receiver b :content "\xff")', {"payload_encoding": "UTF-8"},
     MalformedAclError, "not valid utf-8"),
])
def test_decode_refuses_what_it_cannot_read(payload: bytes, envelope: dict[str, object],
                                            error: type[Exception], says: str) -> None:
    with pytest.raises(error, match=says):
        mtp.decode(*body_with(payload, **envelope))


def test_local_name_maps_global_names_of_this_platform() -> None:
    assert mtp.local_name("echo@Caxton", ["caxton", "caxton.example"]) == "echo"
    assert mtp.local_name("echo@caxton.example", ["caxton", "caxton.example"]) == "echo"
    assert mtp.local_name("echo", ["caxton"]) == "echo"
    assert mtp.local_name("da0@host:1099/JADE", ["caxton"]) is None
    assert mtp.local_name("@caxton", ["caxton"]) is None
