"""Unit tests for caxton.codecs.fipa_string (FIPA SC00070) and its lexical and date-time layers:
a round-trip property over every message the model holds, JADE-style samples, and clear errors
for malformed input."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caxton.codecs import sexpr
from caxton.codecs.fipa_string import parse, render
from caxton.codecs.fipa_time import format_token, parse_token
from caxton.domain.acl import AclMessage, Performative, parse_message
from caxton.errors import CaxtonError, MalformedAclError

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

# -- strategies: messages as parse_message makes them (so canonical, like every stored one) -----

_HEAD, _TAIL = "ABCXYZabcxyz_", "AZaz09_.@:/+~-"
names = st.builds(str.__add__, st.sampled_from(_HEAD), st.text(alphabet=_TAIL, max_size=12))
texts = st.text(min_size=1, max_size=30) | st.sampled_from(
    ['a"b', "back\\slash", "end\\", '\\"', "(paren", ":colon", "12345", "+20261123T000000000",
     "#3\"abc", "sp ace", "é", "set", "\x00"])
json_scalars = (
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20) | texts
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=10,
)
times = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                     timezones=st.just(UTC)).map(
    lambda d: d.isoformat(timespec="microseconds").replace("+00:00", "Z"))
languages = st.sampled_from(["json", "JSON", "fipa-sl", "Json"]) | texts
param_names = st.text(alphabet="AZaz09_.-", min_size=1, max_size=64).map("X-".__add__) | \
    st.sampled_from(["X-caxton-message-id", "X-Caxton-Content", "X-caxton-timestamp-",
                     "X-caxton-reply-by--", "X-caxton-traceparent", "x-caxton-tracestate"])
urls = st.text(alphabet="abcxyz0123:/._-?=&%\"()\\é", min_size=1, max_size=30)


traces = st.builds(lambda state: {"traceparent": TRACEPARENT} | state,
                   st.just({}) | st.builds(lambda t: {"tracestate": t}, st.text(max_size=10)))
_objects = st.fixed_dictionaries(
    {"performative": st.sampled_from([p.value for p in Performative]), "sender": names,
     "receiver": st.lists(names, min_size=1, max_size=3, unique=True), "content": json_values,
     "message_id": texts, "timestamp": times},
    optional={"reply_to": st.lists(names, min_size=1, max_size=2, unique=True),
              "language": languages, "encoding": texts, "ontology": texts, "protocol": texts,
              "conversation_id": texts, "reply_with": texts, "in_reply_to": texts,
              "reply_by": times, "trace_context": traces},
)
_params = st.dictionaries(param_names, st.text(max_size=15), max_size=3)


def _with_addresses(obj: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    everyone = [obj["sender"], *obj["receiver"], *obj.get("reply_to", [])]
    return st.dictionaries(st.sampled_from(everyone), st.lists(urls, min_size=1, max_size=2,
                                                               unique=True), max_size=3).map(
        lambda addresses: obj | {"addresses": addresses})


def _message(obj: dict[str, Any]) -> AclMessage:
    return parse_message(obj)


# Built by parse_message, so canonical like every message Caxton stores.
messages = st.builds(lambda obj, params: obj | params, _objects, _params).filter(
    lambda obj: len({k.lower() for k in obj}) == len(obj)).flatmap(_with_addresses).map(_message)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(messages)
def test_parse_of_render_is_the_original_message(msg: AclMessage) -> None:
    text = render(msg)
    again = parse(text)
    assert again == msg
    assert again.to_dict() == msg.to_dict()
    assert render(again) == text
    assert parse(text.encode()) == msg


@settings(max_examples=100)
@given(st.text())
def test_any_string_survives_as_a_string_token(text: str) -> None:
    token = sexpr.string(text)
    found = sexpr.read(token.encode())
    assert found == sexpr.Atom("string", text, 0)


@settings(max_examples=100)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_parse_or_fail_cleanly(data: bytes) -> None:
    with contextlib.suppress(MalformedAclError):
        parse(data)


@settings(max_examples=75)
@given(messages, st.integers(min_value=0), st.integers(min_value=0, max_value=8),
       st.sampled_from([b"", b"(", b")", b'"', b"#", b"#9\"", b":", b" ", b"\\", b"\xff"]))
def test_damaged_messages_parse_or_fail_cleanly(msg: AclMessage, at: int, cut: int,
                                                 insert: bytes) -> None:
    data = render(msg).encode()
    at %= len(data) + 1
    with contextlib.suppress(MalformedAclError):
        parse(data[:at] + insert + data[at + cut:])


# -- rendering --------------------------------------------------------------------------------


def msg(**fields: Any) -> AclMessage:
    obj = {"performative": "inform", "sender": "alice", "receiver": ["bob"],
           "message_id": "m-1", "timestamp": "2026-11-23T12:15:37.682000Z"} | fields
    return parse_message({k: v for k, v in obj.items() if v is not None})


def test_rendering_looks_like_what_fipa_platforms_write() -> None:
    text = render(msg(content="hello \"world\"", language="fipa-sl", ontology="shop",
                      protocol="fipa-request", conversation_id="c-1", reply_with="r 1",
                      reply_by="2026-11-23T12:15:37.682000Z", **{"X-Tenant": "acme"},
                      addresses={"bob": ["http://jade:7778/acc"]}))
    assert text == (
        '(inform\n'
        ' :sender (agent-identifier :name alice)\n'
        ' :receiver (set (agent-identifier :name bob :addresses (sequence '
        'http://jade:7778/acc)))\n'
        ' :content "hello \\"world\\""\n'
        ' :language fipa-sl\n'
        ' :ontology shop\n'
        ' :protocol fipa-request\n'
        ' :conversation-id c-1\n'
        ' :reply-with "r 1"\n'
        ' :reply-by 20261123T121537682Z\n'
        ' :X-caxton-message-id m-1\n'
        ' :X-caxton-timestamp "2026-11-23T12:15:37.682000Z"\n'
        ' :X-Tenant acme)')


def test_json_content_is_a_json_string_marked_when_no_language_says_so() -> None:
    text = render(msg(content={"n": 1}))
    assert ':content "{\\"n\\":1}"' in text
    assert ":language json" in text
    assert ":X-caxton-content json" in text
    assert parse(text).language is None
    labelled = render(msg(content={"n": 1}, language="json"))
    assert "X-caxton-content" not in labelled
    assert parse(labelled).language == "json"
    other = parse(render(msg(content=[1, 2], language="fipa-sl")))
    assert (other.content, other.language) == ([1, 2], "fipa-sl")


def test_string_content_stays_a_string_and_json_language_keeps_types() -> None:
    assert ':content "42"' in render(msg(content="42"))
    assert parse(render(msg(content="42"))).content == "42"
    assert ':content "\\"42\\""' in render(msg(content="42", language="json"))
    assert parse(render(msg(content="42", language="json"))).content == "42"
    assert parse(render(msg(content=42, language="JSON"))).content == 42
    assert ":content" not in render(msg(content=None))


def test_text_with_backslashes_uses_a_byte_length_string() -> None:
    text = render(msg(content="C:\\temp é"))
    assert ':content #10"C:\\temp é' in text
    assert parse(text).content == "C:\\temp é"
    # JSON is written as ASCII, so byte and character counts agree for readers counting chars.
    json_text = render(msg(content={"q": 'say "é"'}))
    assert ':content #22"{"q":"say \\"\\u00e9\\""}' in json_text


def test_sub_millisecond_reply_by_survives_beside_the_fipa_date() -> None:
    text = render(msg(reply_by="2030-01-01T00:00:00.123456Z"))
    assert ":reply-by 20300101T000000123Z" in text
    assert ':X-caxton-reply-by "2030-01-01T00:00:00.123456Z"' in text
    assert parse(text).reply_by == "2030-01-01T00:00:00.123456Z"
    assert "X-caxton-reply-by" not in render(msg(reply_by="2030-01-01T00:00:00.123000Z"))


def test_user_parameters_spelled_like_caxtons_own_are_kept_apart() -> None:
    text = render(msg(**{"X-caxton-message-id": "mine", "X-caxton-content-": "also"}))
    assert ":X-caxton-message-id m-1" in text
    assert ":X-caxton-message-id- mine" in text
    assert ":X-caxton-content-- also" in text
    again = parse(text)
    assert again.message_id == "m-1"
    assert again.user_params == {"X-caxton-message-id": "mine", "X-caxton-content-": "also"}


# -- parsing what real platforms send ----------------------------------------------------------

JADE = b"""(REQUEST
 :sender  ( agent-identifier :name buyer@host:1099/JADE  :addresses (sequence \
http://host:7778/acc ))
 :receiver  (set ( agent-identifier :name seller@caxton ) )
 :content  "((action (agent-identifier :name seller@caxton) (sell :item \\"book\\")))"
 :reply-with  R1700000000000_0  :language  fipa-sl  :ontology  book-trading
 :reply-by  20261123T121537682Z
 :protocol  fipa-request
 :conversation-id  C123456_1700000000000
 :X-JADE-Encoding  Base64 )"""


def test_a_jade_request_parses_into_the_model() -> None:
    got = parse(JADE)
    assert got.performative is Performative.REQUEST
    assert got.sender == "buyer@host:1099/JADE"
    assert got.receiver == ("seller@caxton",)
    assert got.addresses == {"buyer@host:1099/JADE": ("http://host:7778/acc",)}
    assert got.content == '((action (agent-identifier :name seller@caxton) (sell :item "book")))'
    assert (got.language, got.ontology, got.protocol) == ("fipa-sl", "book-trading",
                                                         "fipa-request")
    assert got.reply_with == "R1700000000000_0"
    assert got.conversation_id == "C123456_1700000000000"
    assert got.reply_by == "2026-11-23T12:15:37.682000Z"
    assert got.user_params == {"X-JADE-Encoding": "Base64"}
    assert len(got.message_id) == 32  # Caxton gives foreign messages ids and timestamps
    assert got.timestamp.endswith("Z")


def test_keywords_and_performatives_are_case_insensitive() -> None:
    got = parse('(Call-For-Proposal :SENDER (AGENT-IDENTIFIER :NAME a) :Receiver (SET '
                '(agent-identifier :Name b) (agent-identifier :name c)) :CONTENT "x" '
                ':Reply-With w :x-lower v)')
    assert got.performative is Performative.CFP
    assert (got.sender, got.receiver, got.content) == ("a", ("b", "c"), "x")
    assert got.reply_with == "w"
    assert got.user_params == {"X-lower": "v"}


def test_byte_length_strings_count_utf8_bytes_and_need_no_escapes() -> None:
    got = parse('(inform :sender a :receiver (set b) :content #7"a)"\\é( :language #2"sl)')
    assert got.content == 'a)"\\é('
    assert got.language == "sl"


def test_lenient_forms_real_peers_send() -> None:
    got = parse('(inform :sender "a" :receiver (agent-identifier :name b :resolvers (sequence '
                '(agent-identifier :name ams@x :addresses (sequence http://x/acc))) '
                ':X-slot (1 2)) :conversation-id 42 :in-reply-to (a "b c" (d)) :X-n 3.5 '
                ':content hello)')
    assert (got.sender, got.receiver) == ("a", ("b",))  # resolvers and slots are dropped
    assert got.conversation_id == "42"
    assert got.in_reply_to == '(a "b c" (d))'
    assert got.user_params == {"X-n": "3.5"}
    assert got.content == "hello"
    assert parse("(inform :sender a :receiver b)").receiver == ("b",)


def test_a_foreign_json_language_that_is_not_json_keeps_its_text() -> None:
    got = parse('(inform :sender a :receiver (set b) :content "not json" :language JSON)')
    assert (got.content, got.language) == ("not json", "JSON")
    assert parse('(inform :sender a :receiver (set b) :content "[1]" :language json)'
                 ).content == [1]


def test_reply_by_forms() -> None:
    base = '(inform :sender a :receiver (set b) :reply-by {})'
    assert parse(base.format("20261123T121537682")).reply_by == "2026-11-23T12:15:37.682000Z"
    assert parse(base.format("20261123Z121537682")).reply_by == "2026-11-23T12:15:37.682000Z"
    assert parse(base.format('"2026-11-23T12:15:37+01:00"')).reply_by == (
        "2026-11-23T11:15:37.000000Z")
    now = datetime(2026, 1, 31, 10, tzinfo=UTC)
    relative = parse(base.format("+00000100T000005000"), now=now).reply_by
    assert relative == "2026-02-28T10:00:05.000000Z"  # one month from Jan 31 is Feb 28


def test_latin1_payloads_parse_with_their_charset() -> None:
    data = '(inform :sender a :receiver (set b) :content "caf\xe9")'.encode("latin-1")
    assert parse(data, charset="latin-1").content == "café"


# -- malformed input ----------------------------------------------------------------------------

OK = "(inform :sender a :receiver (set b)"


@pytest.mark.parametrize(("text", "says"), [
    ("", "unexpected end of input (at byte 0)"),
    ("   ", "unexpected end of input"),
    ("inform", "a message is '(' performative parameters... ')'"),
    ("()", "a message is '(' performative parameters"),
    ("(inform :sender a", "missing ')' for the '(' opened (at byte 0)"),
    (OK + ") trailing", "unexpected text after the closing parenthesis (at byte 37)"),
    (")", "unexpected ')'"),
    ('("inform" :sender a)', "must start with its performative"),
    ("(shout :sender a :receiver (set b))", "performative: unknown performative 'shout'"),
    (OK + ' :content "open)', "unterminated string"),
    (OK + ' :content #10"abc)', "byte-length string of 10 bytes runs past the end of input"),
    (OK + " :content #x\"a)", 'expected a byte-length string #<digits>"'),
    (OK + " :content)", "parameter ':content' has no value"),
    (OK + " content x)", "expected a :parameter, found 'content'"),
    (OK + " :priority high)", "unknown parameter :priority (user-defined ones start with :X-)"),
    (OK + " :content a :CONTENT b)", "parameter :CONTENT is given twice"),
    ("(inform :receiver (set b))", "the message has no :sender"),
    ("(inform :sender a)", "the message has no :receiver"),
    ("(inform :sender a :receiver (set))", ":receiver names no agent"),
    ("(inform :sender (set a) :receiver (set b))", "expected (agent-identifier :name ...)"),
    ("(inform :sender (agent-identifier) :receiver b)", "agent-identifier without a :name word"),
    ("(inform :sender (agent-identifier :name) :receiver b)", "a slot has no value"),
    ("(inform :sender (agent-identifier :name a :colour red) :receiver b)",
     "agent-identifier: unexpected slot ':colour'"),
    ("(inform :sender (agent-identifier :name a :addresses http://x) :receiver b)",
     "agent-identifier :addresses must be (sequence ...)"),
    ("(inform :sender 42 :receiver b)", "expected an agent-identifier, found '42'"),
    ('(inform :sender "not a name" :receiver b)', "sender: 'not a name' is not a valid agent"),
    (OK + " :reply-by tomorrow)", "reply-by: 'tomorrow' is not a FIPA date-time"),
    (OK + " :reply-by 20261323T000000000Z)", "is not a valid date-time"),
    (OK + " :reply-by 20261123T000000000B)", "only the UTC designator 'Z' is supported"),
    (OK + " :X-bad:name v)", "X-bad:name: user-defined parameter names are X- followed by"),
    (OK + ' :conversation-id "")', "conversation-id: must be 1 to 256 characters"),
    (OK + " :content x :X-caxton-content yaml)", "X-caxton-content must be 'json', not 'yaml'"),
    (OK + ' :content "{" :X-caxton-content json)', "content marked as JSON is not JSON"),
    (OK + ' :reply-by 20300101T000000000Z :X-caxton-reply-by "2031-01-01T00:00:00.000001Z")',
     "disagrees with :reply-by"),
    (OK + ' :X-caxton-timestamp "yesterday")', "timestamp"),
    ("(" * 70 + ")" * 70, "expressions nested deeper than 64"),
])
def test_malformed_input_is_refused_with_a_clear_error(text: str, says: str) -> None:
    with pytest.raises(MalformedAclError) as info:
        parse(text)
    error = info.value
    assert says in str(error)
    assert str(error).startswith("fipa.acl.rep.string.std: ")
    assert isinstance(error, CaxtonError)
    assert error.code == "malformed_acl"


def test_invalid_encoding_is_refused() -> None:
    with pytest.raises(MalformedAclError, match="text is not valid utf-8"):
        parse(b'(inform :sender a :receiver (set b) :content "\xff")')
    with pytest.raises(MalformedAclError, match="unknown charset 'klingon'"):
        parse(b"(inform :sender a :receiver (set b))", charset="klingon")


def test_text_input_is_read_as_utf8_whatever_the_charset() -> None:
    assert parse('(inform :sender a :receiver (set b) :content #2"é)', charset="ascii"
                 ).content == "é"


# -- date-time tokens ---------------------------------------------------------------------------


@settings(max_examples=100)
@given(st.datetimes(min_value=datetime(1, 1, 1), timezones=st.just(UTC)))
def test_datetime_tokens_round_trip_at_millisecond_precision(moment: datetime) -> None:
    token = format_token(moment)
    assert len(token) == 19
    assert parse_token(token) == moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def test_relative_tokens_move_from_now_either_way() -> None:
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    assert parse_token("+00000000T000005000", now=now) == now + timedelta(seconds=5)
    assert parse_token("-00000001T010000000", now=now) == now - timedelta(days=1, hours=1)
    assert parse_token("+00010000T000000000Z", now=now).year == 2027
    assert parse_token("+00000000T000000000") <= datetime.now(UTC)
    with pytest.raises(ValueError, match="out of range"):
        parse_token("+99990000T000000000", now=now)
    with pytest.raises(ValueError, match="only the UTC designator"):
        parse_token("+00000000T000000000B", now=now)


def test_short_and_variant_tokens() -> None:
    assert parse_token("20261123T121537") == datetime(2026, 11, 23, 12, 15, 37, tzinfo=UTC)
    assert parse_token("20261123T1215375").microsecond == 500000
    assert parse_token("20261123z121537682").microsecond == 682000
    assert parse_token("2026-11-23") == datetime(2026, 11, 23, tzinfo=UTC)
