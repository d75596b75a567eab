"""The FIPA transport envelope in XML (SC00085, ``fipa.mts.env.rep.xml.std``).

The envelope travels as the first part of an HTTP MTP body and tells the receiving platform whom
to deliver to, independently of the ACL payload::

    <?xml version="1.0"?>
    <envelope><params index="1">
      <to><agent-identifier><name>seller@caxton</name>
        <addresses><url>http://caxton:8080/acc</url></addresses></agent-identifier></to>
      <from><agent-identifier><name>buyer@jade</name>...</agent-identifier></from>
      <acl-representation>fipa.acl.rep.string.std</acl-representation>
      <payload-length>312</payload-length>
      <date>20261123T121537682Z</date>
      <intended-receiver>...same agent-identifiers as to...</intended-receiver>
    </params></envelope>

Interop rules real platforms rely on: ``<intended-receiver>`` is always written (some read only
that); dates are read in the standard form, the common ``20261123Z121537682`` variant and ISO
8601; several ``<params>`` sets are merged in index order (a later one overrides single-valued
fields and adds a ``<received>`` stamp), as SC00067 describes for envelopes updated in transit.
Untrusted XML is parsed with defusedxml: no entity expansion, no external resources.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # building only; parsing goes through defusedxml
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from caxton.codecs.aid import AgentIdentifier
from caxton.codecs.fipa_time import format_token, parse_token
from caxton.errors import MalformedEnvelopeError

NAME = "fipa.mts.env.rep.xml.std"
# Characters outside XML 1.0's Char production: no envelope may hold them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SINGLE = ("comments", "acl-representation", "payload-length", "payload-encoding", "date",
           "transport-behaviour")


@dataclass(frozen=True, slots=True)
class Received:
    """A ``<received>`` stamp: which MTS took the message, when, and from where."""

    by: str
    date: datetime
    from_: str | None = None
    id: str | None = None
    via: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "date", _millis(self.date))


@dataclass(frozen=True, slots=True)
class Envelope:
    """The merged envelope. ``intended_receiver`` defaults to ``to`` (it is always written)."""

    to: tuple[AgentIdentifier, ...]
    from_: AgentIdentifier | None = None
    acl_representation: str | None = "fipa.acl.rep.string.std"
    payload_length: int | None = None
    payload_encoding: str | None = None
    date: datetime | None = None
    intended_receiver: tuple[AgentIdentifier, ...] = ()
    comments: str | None = None
    transport_behaviour: str | None = None
    received: tuple[Received, ...] = ()
    user_defined: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not self.intended_receiver:
            object.__setattr__(self, "intended_receiver", self.to)
        if self.date is not None:
            object.__setattr__(self, "date", _millis(self.date))


def _millis(moment: datetime) -> datetime:
    """FIPA dates carry milliseconds: keep what survives a round trip, in UTC."""
    if moment.tzinfo is None:
        raise ValueError("envelope dates must be timezone-aware")
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


# -- build --------------------------------------------------------------------------------------
def build(envelope: Envelope) -> bytes:
    """``envelope`` as an XML document (UTF-8), in one ``<params index="1">`` set plus one more
    set per further ``<received>`` stamp. ValueError if a value has a character XML cannot
    carry (a control character, say)."""
    root = ET.Element("envelope")
    params = ET.SubElement(root, "params", index="1")
    if envelope.to:
        _aids(ET.SubElement(params, "to"), envelope.to)
    if envelope.from_ is not None:
        _aids(ET.SubElement(params, "from"), (envelope.from_,))
    values = {
        "comments": envelope.comments,
        "acl-representation": envelope.acl_representation,
        "payload-length": None if envelope.payload_length is None else str(envelope.payload_length),
        "payload-encoding": envelope.payload_encoding,
        "date": None if envelope.date is None else format_token(envelope.date),
    }
    for tag, value in values.items():
        if value is not None:
            ET.SubElement(params, tag).text = value
    _aids(ET.SubElement(params, "intended-receiver"), envelope.intended_receiver)
    for index, stamp in enumerate(envelope.received):
        target = params if index == 0 else ET.SubElement(root, "params", index=str(index + 1))
        _received(ET.SubElement(target, "received"), stamp)
    if envelope.transport_behaviour is not None:
        ET.SubElement(params, "transport-behaviour").text = envelope.transport_behaviour
    for href, text in envelope.user_defined:
        ET.SubElement(params, "user-defined", href=href).text = text
    for node in root.iter():
        for text in (node.text or "", *node.attrib.values()):
            bad = _NOT_XML.search(text)
            if bad is not None:
                raise ValueError(f"{text!r}: XML cannot carry the character {bad[0]!r}")
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def _aids(parent: ET.Element, aids: tuple[AgentIdentifier, ...]) -> None:
    for aid in aids:
        node = ET.SubElement(parent, "agent-identifier")
        ET.SubElement(node, "name").text = aid.name
        if aid.addresses:
            addresses = ET.SubElement(node, "addresses")
            for url in aid.addresses:
                ET.SubElement(addresses, "url").text = url
        if aid.resolvers:
            _aids(ET.SubElement(node, "resolvers"), aid.resolvers)


def _received(node: ET.Element, stamp: Received) -> None:
    ET.SubElement(node, "received-by", value=stamp.by)
    if stamp.from_ is not None:
        ET.SubElement(node, "received-from", value=stamp.from_)
    ET.SubElement(node, "received-date", value=format_token(stamp.date))
    if stamp.id is not None:
        ET.SubElement(node, "received-id", value=stamp.id)
    if stamp.via is not None:
        ET.SubElement(node, "received-via", value=stamp.via)


# -- parse --------------------------------------------------------------------------------------
def parse(data: bytes) -> Envelope:
    """The envelope ``data`` holds, its ``<params>`` sets merged; MalformedEnvelopeError names
    what is wrong."""
    try:
        root = fromstring(data)
    except DefusedXmlException as exc:
        raise _fail(f"refused unsafe XML ({type(exc).__name__})") from None
    except ET.ParseError as exc:
        raise _fail(f"not well-formed XML: {exc}") from None
    if _tag(root) != "envelope":
        raise _fail(f"the root element is <{root.tag}>, not <envelope>")
    sets: list[tuple[int, ET.Element]] = []
    for params in root:
        if _tag(params) != "params":
            raise _fail(f"unexpected <{params.tag}> in <envelope>")
        index = params.get("index", "")
        if not index.strip().isdigit():
            raise _fail(f"<params> needs a numeric index attribute, not {index!r}")
        sets.append((int(index), params))
    if not sets:
        raise _fail("<envelope> has no <params>")
    fields: dict[str, Any] = {"received": [], "user_defined": []}
    for _, params in sorted(sets, key=lambda pair: pair[0]):
        _merge(fields, params)
    if not fields.get("to"):
        raise _fail("no <to> receivers in any <params>")
    fields["received"] = tuple(fields["received"])
    fields["user_defined"] = tuple(fields["user_defined"])
    fields.setdefault("acl_representation", None)
    return Envelope(**fields)


def _merge(fields: dict[str, Any], params: ET.Element) -> None:
    """Fold one ``<params>`` set into ``fields``: later sets win, stamps accumulate."""
    for node in params:
        tag = _tag(node)
        if tag in ("to", "intended-receiver"):
            fields[tag.replace("-", "_")] = _read_aids(node, tag)
        elif tag == "from":
            found = _read_aids(node, "from")
            if len(found) != 1:
                raise _fail("<from> must hold exactly one <agent-identifier>")
            fields["from_"] = found[0]
        elif tag == "received":
            fields["received"].append(_read_received(node))
        elif tag == "user-defined":
            fields["user_defined"].append((node.get("href", ""), _text(node)))
        elif tag in _SINGLE:
            fields[tag.replace("-", "_")] = _single(tag, _text(node))
        elif tag != "encrypted":
            raise _fail(f"unknown envelope element <{node.tag}>")


def _single(tag: str, text: str) -> object:
    if tag == "payload-length":
        if not text.isdigit():
            raise _fail(f"<payload-length> must be a byte count, not {text!r}")
        return int(text)
    if tag == "date":
        return _date(text, "date")
    return text


def _read_aids(node: ET.Element, where: str) -> tuple[AgentIdentifier, ...]:
    out = []
    for child in node:
        if _tag(child) != "agent-identifier":
            raise _fail(f"<{where}> holds <{child.tag}>, not <agent-identifier>")
        out.append(_read_aid(child, where))
    if not out:
        raise _fail(f"<{where}> names no agent")
    return tuple(out)


def _read_aid(node: ET.Element, where: str) -> AgentIdentifier:
    name: str | None = None
    addresses: list[str] = []
    resolvers: tuple[AgentIdentifier, ...] = ()
    for child in node:
        tag = _tag(child)
        if tag == "name":
            name = _text(child) or child.get("id") or child.get("refid")
        elif tag == "addresses":
            addresses += [_text(url) for url in child if _tag(url) == "url" and _text(url)]
        elif tag == "resolvers":
            resolvers = _read_aids(child, "resolvers")
        elif tag != "user-defined":
            raise _fail(f"unknown element <{child.tag}> in an agent-identifier of <{where}>")
    if not name:
        raise _fail(f"an agent-identifier in <{where}> has no <name>")
    return AgentIdentifier(name, tuple(addresses), resolvers)


def _read_received(node: ET.Element) -> Received:
    values: dict[str, str] = {}
    for child in node:
        value = child.get("value")
        values[_tag(child)] = value if value is not None else _text(child)
    by, date = values.get("received-by"), values.get("received-date")
    if not by or not date:
        raise _fail("<received> needs <received-by> and <received-date>")
    return Received(by=by, date=_date(date, "received-date"), from_=values.get("received-from"),
                    id=values.get("received-id"), via=values.get("received-via"))


def _date(text: str, where: str) -> datetime:
    try:
        return parse_token(text)
    except ValueError as exc:
        raise _fail(f"<{where}>: {exc}") from None


def _tag(node: ET.Element) -> str:
    tag = node.tag if isinstance(node.tag, str) else ""
    return tag.rsplit("}", 1)[-1].lower()


def _text(node: ET.Element) -> str:
    return (node.text or "").strip()


def _fail(message: str) -> MalformedEnvelopeError:
    return MalformedEnvelopeError(f"{NAME}: {message}")
