"""Unit tests for caxton.codecs.envelope_xml (FIPA SC00085): building and parsing the XML
transport envelope, the date variants real platforms send, and clear errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caxton.codecs.aid import AgentIdentifier
from caxton.codecs.envelope_xml import Envelope, Received, build, parse
from caxton.errors import CaxtonError, MalformedEnvelopeError

SELLER = AgentIdentifier("seller@caxton", ("http://caxton:8080/acc",))
BUYER = AgentIdentifier("buyer@host:1099/JADE", ("http://host:7778/acc",))
WHEN = datetime(2026, 11, 23, 12, 15, 37, 682000, tzinfo=UTC)

xml_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Cn")), min_size=1,
                   max_size=20).filter(lambda s: s.strip() == s)
aids = st.builds(AgentIdentifier, xml_text,
                 st.lists(xml_text, max_size=2).map(tuple),
                 st.lists(st.builds(AgentIdentifier, xml_text), max_size=1).map(tuple))
moments = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                       timezones=st.just(UTC))
envelopes = st.builds(
    Envelope,
    to=st.lists(aids, min_size=1, max_size=3).map(tuple),
    from_=st.none() | aids,
    acl_representation=st.none() | st.just("fipa.acl.rep.string.std"),
    payload_length=st.none() | st.integers(min_value=0, max_value=10**9),
    payload_encoding=st.none() | st.sampled_from(["UTF-8", "US-ASCII"]),
    date=st.none() | moments,
    intended_receiver=st.lists(aids, max_size=2).map(tuple),
    comments=st.none() | xml_text,
    transport_behaviour=st.none() | xml_text,
    received=st.lists(st.builds(Received, xml_text, moments, st.none() | xml_text,
                                st.none() | xml_text, st.none() | xml_text),
                      max_size=3).map(tuple),
    user_defined=st.lists(st.tuples(xml_text, xml_text), max_size=2).map(tuple),
)


@settings(max_examples=100)
@given(envelopes)
def test_parse_of_build_is_the_original_envelope(envelope: Envelope) -> None:
    assert parse(build(envelope)) == envelope


def test_build_writes_what_fipa_platforms_read() -> None:
    xml = build(Envelope(to=(SELLER,), from_=BUYER, payload_length=312, date=WHEN)).decode()
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<envelope><params index="1">')
    assert ("<to><agent-identifier><name>seller@caxton</name><addresses>"
            "<url>http://caxton:8080/acc</url></addresses></agent-identifier></to>") in xml
    assert "<acl-representation>fipa.acl.rep.string.std</acl-representation>" in xml
    assert "<payload-length>312</payload-length>" in xml
    assert "<date>20261123T121537682Z</date>" in xml
    # Always written, defaulting to the receivers in <to>.
    assert "<intended-receiver><agent-identifier><name>seller@caxton</name>" in xml
    assert xml.index("<date>") < xml.index("<intended-receiver>")


def test_special_characters_are_escaped() -> None:
    envelope = Envelope(to=(AgentIdentifier("a<b>&\"c'"),), comments="]]> & <x/>")
    xml = build(envelope)
    assert b"a&lt;b&gt;&amp;" in xml
    assert parse(xml) == envelope


JADE = b"""<?xml version="1.0"?>
<envelope><params index="1">
<to><agent-identifier><name>echo@caxton</name><addresses><url>http://localhost:8080/acc</url>
</addresses></agent-identifier></to>
<from><agent-identifier><name>da0@host:1099/JADE</name><addresses>
<url>http://host:7778/acc</url></addresses></agent-identifier></from>
<acl-representation>fipa.acl.rep.string.std</acl-representation>
<payload-length>300</payload-length>
<date>20261123Z121537682</date>
<intended-receiver><agent-identifier><name>echo@caxton</name><addresses>
<url>http://localhost:8080/acc</url></addresses></agent-identifier></intended-receiver>
</params></envelope>"""


def test_a_jade_envelope_with_the_variant_date() -> None:
    envelope = parse(JADE)
    assert envelope.to == (AgentIdentifier("echo@caxton", ("http://localhost:8080/acc",)),)
    assert envelope.from_ == AgentIdentifier("da0@host:1099/JADE", ("http://host:7778/acc",))
    assert envelope.intended_receiver == envelope.to
    assert envelope.payload_length == 300
    assert envelope.date == WHEN
    assert envelope.acl_representation == "fipa.acl.rep.string.std"


@pytest.mark.parametrize("date", ["20261123T121537682Z", "20261123T121537682",
                                  "20261123Z121537682", "2026-11-23T12:15:37.682Z",
                                  " 20261123t121537682z "])
def test_envelope_dates_in_every_common_form(date: str) -> None:
    xml = (f'<envelope><params index="1"><to><agent-identifier><name>a</name>'
           f"</agent-identifier></to><date>{date}</date></params></envelope>").encode()
    assert parse(xml).date == WHEN


def test_later_params_override_and_received_stamps_accumulate() -> None:
    xml = b"""<envelope>
      <params index="2"><to><agent-identifier><name>b</name></agent-identifier></to>
        <received><received-by value="http://b/acc"/><received-date value="20261123T121538000Z"/>
        </received></params>
      <params index="1"><to><agent-identifier><name>a</name></agent-identifier></to>
        <comments>first</comments><payload-length>10</payload-length>
        <received><received-by value="http://a/acc"/><received-date value="20261123T121537682Z"/>
        <received-id value="x1"/></received><encrypted>no</encrypted></params>
    </envelope>"""
    envelope = parse(xml)
    assert envelope.to == (AgentIdentifier("b"),)
    assert envelope.intended_receiver == (AgentIdentifier("b"),)
    assert (envelope.comments, envelope.payload_length) == ("first", 10)
    assert [r.by for r in envelope.received] == ["http://a/acc", "http://b/acc"]
    assert envelope.received[0].id == "x1"


def test_namespaced_and_upper_case_tags_are_read() -> None:
    xml = (b'<ENVELOPE xmlns="urn:x"><Params index="1"><TO><Agent-Identifier><Name>a</Name>'
           b"</Agent-Identifier></TO></Params></ENVELOPE>")
    assert parse(xml).to == (AgentIdentifier("a"),)


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>
<envelope><params index="1"><comments>&lol2;</comments></params></envelope>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<envelope><params index="1"><comments>&x;</comments></params></envelope>"""


@pytest.mark.parametrize(("xml", "says"), [
    (b"", "not well-formed XML"),
    (b"<envelope><params index='1'>", "not well-formed XML"),
    (BOMB, "refused unsafe XML (EntitiesForbidden)"),
    (EXTERNAL, "refused unsafe XML"),
    (b"<letter/>", "the root element is <letter>, not <envelope>"),
    (b"<envelope/>", "<envelope> has no <params>"),
    (b"<envelope><header/></envelope>", "unexpected <header> in <envelope>"),
    (b"<envelope><params/></envelope>", "<params> needs a numeric index attribute, not ''"),
    (b"<envelope><params index='x'/></envelope>", "numeric index attribute, not 'x'"),
    (b"<envelope><params index='1'/></envelope>", "no <to> receivers in any <params>"),
    (b"<envelope><params index='1'><to/></params></envelope>", "<to> names no agent"),
    (b"<envelope><params index='1'><to><agent/></to></params></envelope>",
     "<to> holds <agent>, not <agent-identifier>"),
    (b"<envelope><params index='1'><to><agent-identifier/></to></params></envelope>",
     "an agent-identifier in <to> has no <name>"),
    (b"<envelope><params index='1'><to><agent-identifier><name>a</name><x/></agent-identifier>"
     b"</to></params></envelope>", "unknown element <x> in an agent-identifier of <to>"),
    (b"<envelope><params index='1'><from><agent-identifier><name>a</name></agent-identifier>"
     b"<agent-identifier><name>b</name></agent-identifier></from></params></envelope>",
     "<from> must hold exactly one <agent-identifier>"),
    (b"<envelope><params index='1'><colour>red</colour></params></envelope>",
     "unknown envelope element <colour>"),
    (b"<envelope><params index='1'><payload-length>ten</payload-length></params></envelope>",
     "<payload-length> must be a byte count, not 'ten'"),
    (b"<envelope><params index='1'><date>yesterday</date></params></envelope>",
     "<date>: 'yesterday' is not a FIPA date-time"),
    (b"<envelope><params index='1'><received><received-by value='x'/></received></params>"
     b"</envelope>", "<received> needs <received-by> and <received-date>"),
])
def test_malformed_envelopes_are_refused_with_a_clear_error(xml: bytes, says: str) -> None:
    with pytest.raises(MalformedEnvelopeError) as info:
        parse(xml)
    assert says in str(info.value)
    assert str(info.value).startswith("fipa.mts.env.rep.xml.std: ")
    assert isinstance(info.value, CaxtonError)
    assert info.value.code == "malformed_envelope"


@pytest.mark.parametrize("text", ["bell\x07", "nul\x00", "\ufffe"])
def test_characters_xml_cannot_carry_are_refused_when_building(text: str) -> None:
    with pytest.raises(ValueError, match="XML cannot carry the character"):
        build(Envelope(to=(AgentIdentifier(text),)))
    with pytest.raises(ValueError, match="XML cannot carry"):
        build(Envelope(to=(SELLER,), received=(Received(text, WHEN),)))


def test_naive_dates_are_refused_when_building() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Envelope(to=(SELLER,), date=datetime(2026, 1, 1))  # naive on purpose
