"""Unit tests for caxton.domain.acl: performatives, validation, wire form, replies."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caxton.domain.acl import (
    ERROR_ACTS,
    KNOWN_FIELDS,
    AclMessage,
    Performative,
    parse_message,
    parse_performative,
    reply,
)
from caxton.errors import CaxtonError, InvalidMessageError

WIRE_NAMES = [
    "accept-proposal", "agree", "cancel", "cfp", "confirm", "disconfirm", "failure", "inform",
    "inform-if", "inform-ref", "not-understood", "propagate", "propose", "proxy", "query-if",
    "query-ref", "refuse", "reject-proposal", "request", "request-when", "request-whenever",
    "subscribe",
]
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def minimal(**extra: Any) -> dict[str, Any]:
    """The smallest valid message object, with ``extra`` members added (None removes one)."""
    obj: dict[str, Any] = {"performative": "inform", "sender": "alice", "receiver": "bob"}
    for key, value in extra.items():
        if value is None:
            obj.pop(key, None)
        else:
            obj[key] = value
    return obj


def invalid(obj: Any, **kwargs: Any) -> InvalidMessageError:
    with pytest.raises(InvalidMessageError) as info:
        parse_message(obj, **kwargs)
    return info.value


# -- performatives ---------------------------------------------------------------------------


def test_exactly_the_22_fipa_performatives_exist() -> None:
    assert len(Performative) == 22
    assert sorted(p.value for p in Performative) == sorted(WIRE_NAMES)


@pytest.mark.parametrize("wire", WIRE_NAMES)
def test_performative_round_trips_through_its_wire_name(wire: str) -> None:
    performative = Performative(wire)
    assert performative.value == wire
    assert str(performative) == wire
    assert parse_performative(wire) is performative


@pytest.mark.parametrize("wire", WIRE_NAMES)
def test_performative_parsing_ignores_case_underscores_and_padding(wire: str) -> None:
    expected = Performative(wire)
    assert parse_performative(wire.upper()) is expected
    assert parse_performative(wire.replace("-", "_")) is expected
    assert parse_performative(wire.upper().replace("-", "_")) is expected
    assert parse_performative(f"  {wire.title()} ") is expected


@pytest.mark.parametrize(
    "alias", ["call-for-proposal", "CALL-FOR-PROPOSAL", "call_for_proposal", "Call_For_Proposal"]
)
def test_call_for_proposal_is_an_alias_of_cfp(alias: str) -> None:
    assert parse_performative(alias) is Performative.CFP
    assert parse_message(minimal(performative=alias)).performative is Performative.CFP


@pytest.mark.parametrize("value", ["shout", "", "inform-whenever", "informs", "in form"])
def test_unknown_performative_is_refused_by_name(value: str) -> None:
    with pytest.raises(InvalidMessageError) as info:
        parse_performative(value)
    assert info.value.field == "performative"
    assert repr(value) in info.value.reason


@pytest.mark.parametrize("value", [None, 7, ["inform"], {"act": "inform"}, True])
def test_non_string_performative_is_refused(value: Any) -> None:
    with pytest.raises(InvalidMessageError) as info:
        parse_performative(value)
    assert info.value.field == "performative"
    assert info.value.reason == "must be a string"


def test_error_acts_are_failure_and_not_understood() -> None:
    assert frozenset({Performative.FAILURE, Performative.NOT_UNDERSTOOD}) == ERROR_ACTS


# -- parse_message: accepted input -----------------------------------------------------------


def test_minimal_message_parses_with_defaults() -> None:
    msg = parse_message(minimal())
    assert msg.performative is Performative.INFORM
    assert msg.sender == "alice"
    assert msg.receiver == ("bob",)
    assert msg.content is None
    assert msg.reply_to == ()
    assert msg.user_params == {}
    assert msg.conversation_id is None
    assert msg.reply_by is None
    assert len(msg.message_id) == 32
    assert msg.timestamp.endswith("Z")


def test_every_optional_field_is_kept() -> None:
    obj = minimal(
        message_id="m-1", timestamp="2024-05-06T07:08:09.123456Z", reply_to=["carol", "dave"],
        language="json", encoding="utf-8", ontology="weather", protocol="fipa-request",
        conversation_id="c-1", reply_with="rw-1", in_reply_to="m-0",
        reply_by="2024-05-06T08:00:00Z", trace_context={"traceparent": TRACEPARENT,
                                                        "tracestate": "k=v"},
        content={"nested": [1, 2.5, None, "x"]}, **{"X-priority": "high"},
    )
    msg = parse_message(obj)
    assert msg.message_id == "m-1"
    assert msg.timestamp == "2024-05-06T07:08:09.123456Z"
    assert msg.reply_to == ("carol", "dave")
    assert (msg.language, msg.encoding, msg.ontology, msg.protocol) == (
        "json", "utf-8", "weather", "fipa-request")
    assert (msg.conversation_id, msg.reply_with, msg.in_reply_to) == ("c-1", "rw-1", "m-0")
    assert msg.reply_by == "2024-05-06T08:00:00.000000Z"
    assert msg.trace_context == {"traceparent": TRACEPARENT, "tracestate": "k=v"}
    assert msg.content == {"nested": [1, 2.5, None, "x"]}
    assert msg.user_params == {"X-priority": "high"}


def test_receiver_may_be_a_single_string() -> None:
    assert parse_message(minimal(receiver="bob")).receiver == ("bob",)


def test_receiver_list_is_deduplicated_keeping_first_order() -> None:
    msg = parse_message(minimal(receiver=["b", "a", "b", "c", "a"]))
    assert msg.receiver == ("b", "a", "c")


def test_reply_to_is_deduplicated_too() -> None:
    assert parse_message(minimal(reply_to=["x", "x", "y"])).reply_to == ("x", "y")


def test_reply_to_may_be_a_single_string() -> None:
    assert parse_message(minimal(reply_to="carol")).reply_to == ("carol",)


@pytest.mark.parametrize(
    "address", ["a", "_client-0a1b2c", "agent.one", "user@host:8080/path+x~y-z", "A" * 255]
)
def test_legal_addresses_are_accepted(address: str) -> None:
    assert parse_message(minimal(receiver=address, sender=address)).receiver == (address,)


def test_up_to_1000_receivers_are_accepted() -> None:
    names = [f"r{i}" for i in range(1000)]
    assert parse_message(minimal(receiver=names)).receiver == tuple(names)


def test_lowercase_user_parameter_prefix_is_normalised() -> None:
    assert parse_message(minimal(**{"x-trace": "1"})).user_params == {"X-trace": "1"}


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00.000000Z"),
        ("2024-01-01T01:30:00+01:30", "2024-01-01T00:00:00.000000Z"),
        ("2023-12-31T23:00:00.5-01:00", "2024-01-01T00:00:00.500000Z"),
        ("2024-02-29T12:00:00.123456+00:00", "2024-02-29T12:00:00.123456Z"),
    ],
)
def test_reply_by_and_timestamp_are_normalised_to_utc(given: str, stored: str) -> None:
    msg = parse_message(minimal(reply_by=given, timestamp=given))
    assert msg.reply_by == stored
    assert msg.timestamp == stored


def test_null_optional_fields_are_treated_as_absent() -> None:
    nulls = dict.fromkeys(["content", "reply_by", "trace_context", "reply_to", "language",
                           "conversation_id", "reply_with", "in_reply_to", "protocol"])
    msg = parse_message(minimal() | nulls)
    assert msg.content is None
    assert msg.language is None
    assert msg.conversation_id is None
    assert msg.reply_by is None
    assert msg.trace_context is None
    assert msg.reply_to == ()


@pytest.mark.parametrize("name", ["message_id", "conversation_id", "reply_with", "protocol"])
def test_ids_of_256_characters_are_accepted(name: str) -> None:
    assert getattr(parse_message(minimal(**{name: "i" * 256})), name) == "i" * 256


# -- parse_message: refused input names the field ------------------------------------------


@pytest.mark.parametrize("obj", [None, [], ["inform"], "inform", 42, b"{}"])
def test_non_object_is_refused(obj: Any) -> None:
    error = invalid(obj)
    assert error.field == "message"
    assert "JSON object" in error.reason
    assert isinstance(error, CaxtonError)
    assert error.code == "invalid_message"


@pytest.mark.parametrize("key", ["foo", "Content", "receivers", "reply-to", "conversation-id", "X"])
def test_unknown_field_is_refused_by_name(key: str) -> None:
    error = invalid(minimal(**{key: "v"}))
    assert error.field == key
    assert error.reason == "unknown field"
    assert str(error) == f"field '{key}': unknown field"


def test_known_fields_cover_the_json_form() -> None:
    every = parse_message(minimal(reply_to="c", conversation_id="c1", trace_context={
        "traceparent": TRACEPARENT}, reply_by="2024-01-01T00:00:00Z", language="l",
        encoding="e", ontology="o", protocol="p", reply_with="w", in_reply_to="i",
        addresses={"bob": ["http://jade:7778/acc"]}))
    assert set(every.to_dict()) == KNOWN_FIELDS


# -- transport addresses of agents on other platforms -----------------------------------------


NOON = "2024-01-01T12:00:00.000000Z"


def test_addresses_are_absent_from_the_json_form_of_local_messages() -> None:
    msg = parse_message(minimal(content=1))
    assert msg.addresses == {}
    assert "addresses" not in msg.to_dict()
    empty = parse_message(minimal(addresses={"bob": []}, message_id="m", timestamp=NOON))
    assert empty.to_dict() == parse_message(minimal(message_id="m", timestamp=NOON)).to_dict()
    assert empty.to_wire() == (b'{"message_id":"m","performative":"inform","sender":"alice",'
                               b'"receiver":["bob"],"timestamp":"2024-01-01T12:00:00.000000Z",'
                               b'"content":null}')


def test_addresses_keep_urls_per_named_agent_and_round_trip_through_json() -> None:
    msg = parse_message(minimal(receiver=["bob", "carol"], addresses={
        "bob": ["http://jade:7778/acc", "http://jade:7778/acc", "iiop://jade:1099/acc"],
        "carol": []}))
    assert msg.addresses == {"bob": ("http://jade:7778/acc", "iiop://jade:1099/acc")}
    out = msg.to_dict()
    assert out["addresses"] == {"bob": ["http://jade:7778/acc", "iiop://jade:1099/acc"]}
    assert list(out).index("addresses") == list(out).index("receiver") + 1
    assert parse_message(orjson.loads(msg.to_wire())) == msg


@pytest.mark.parametrize(("addresses", "reason"), [
    (["http://x"], "must be an object of agent name to URL list"),
    ({"mallory": ["http://x"]}, "'mallory' is not the sender, a receiver or a reply_to agent"),
    ({"bob": "http://x"}, "addresses of 'bob' must be a list of URLs"),
    ({"bob": [1]}, "addresses of 'bob' must be a list of URLs"),
    ({"bob": ["http://x y"]}, "is not a URL of 1 to 256 printable characters without spaces"),
    ({"bob": [""]}, "is not a URL"),
    ({"bob": ["http://x\x00"]}, "is not a URL"),
    ({"bob": ["u" * 257]}, "is not a URL"),
    ({"bob": [f"http://x/{i}" for i in range(17)]}, "at most 16 addresses per agent"),
])
def test_bad_addresses_are_refused(addresses: Any, reason: str) -> None:
    error = invalid(minimal(addresses=addresses))
    assert error.field == "addresses"
    assert reason in error.reason


def test_replies_carry_the_addresses_of_their_receivers() -> None:
    original = parse_message(minimal(sender="buyer@jade", receiver=["bob"], reply_to=["x@jade"],
                                     addresses={"x@jade": ["http://jade/acc"],
                                                "buyer@jade": ["http://jade/acc2"]}))
    answer = reply(original, sender="bob", performative=Performative.INFORM)
    assert answer.receiver == ("x@jade",)
    assert answer.addresses == {"x@jade": ("http://jade/acc",)}
    via_abi = parse_message({"performative": "agree"}, sender="bob", base=original)
    assert via_abi.addresses == {"x@jade": ("http://jade/acc",)}
    local = reply(parse_message(minimal()), sender="bob", performative=Performative.INFORM)
    assert local.addresses == {}


def test_missing_performative_is_refused() -> None:
    error = invalid(minimal(performative=None))
    assert error.field == "performative"
    assert error.reason == "is required"


def test_unknown_performative_in_a_message_is_refused() -> None:
    error = invalid(minimal(performative="gossip"))
    assert error.field == "performative"
    assert "'gossip'" in error.reason


@pytest.mark.parametrize("receiver", [None, []])
def test_missing_receiver_is_refused(receiver: Any) -> None:
    obj = minimal(receiver=None)
    if receiver is not None:
        obj["receiver"] = receiver
    error = invalid(obj)
    assert error.field == "receiver"
    assert "at least one receiver" in error.reason


@pytest.mark.parametrize("receiver", [5, {"name": "bob"}, True, 1.5])
def test_receiver_of_wrong_type_is_refused(receiver: Any) -> None:
    error = invalid(minimal(receiver=receiver))
    assert error.field == "receiver"
    assert "list of agent names" in error.reason


@pytest.mark.parametrize(
    "receiver",
    [["bob", 5], ["bob", None], [["bob"]], "", "has space", 'quo"te', "back\\slash", "9lives",
     "-dash", ".dot", "a" * 256, ["ok", "not ok"], "tab\there", "new\nline", "ünïcode"],
)
def test_bad_receiver_address_is_refused(receiver: Any) -> None:
    error = invalid(minimal(receiver=receiver))
    assert error.field == "receiver"
    assert "not a valid agent address" in error.reason


def test_more_than_1000_receivers_are_refused() -> None:
    error = invalid(minimal(receiver=[f"r{i}" for i in range(1001)]))
    assert error.field == "receiver"
    assert "at most 1000" in error.reason


@pytest.mark.parametrize("value", [5, ["ok", "bad one"], "", {"a": 1}])
def test_bad_reply_to_is_refused(value: Any) -> None:
    assert invalid(minimal(reply_to=value)).field == "reply_to"


@pytest.mark.parametrize("sender", ["", "bad sender", 7, None, ["alice"]])
def test_bad_sender_is_refused(sender: Any) -> None:
    obj = minimal(sender=None)
    if sender is not None:
        obj["sender"] = sender
    assert invalid(obj).field == "sender"


@pytest.mark.parametrize(
    "value",
    ["tomorrow", "2024-13-01T00:00:00Z", "2024-01-32T00:00:00Z", "2024-01-01T25:00:00Z",
     "01/02/2024 10:00", "", "2024-01-01T00:00:00 UTC"],
)
def test_reply_by_that_is_not_a_date_time_is_refused(value: str) -> None:
    error = invalid(minimal(reply_by=value))
    assert error.field == "reply_by"
    assert "not an RFC 3339 date-time" in error.reason


@pytest.mark.parametrize("value", ["2024-01-01T00:00:00", "2024-01-01T00:00:00.123", "2024-01-01"])
def test_reply_by_without_time_zone_is_refused(value: str) -> None:
    error = invalid(minimal(reply_by=value))
    assert error.field == "reply_by"
    assert "time zone" in error.reason


@pytest.mark.parametrize("value", [1704067200, ["2024-01-01T00:00:00Z"], {"at": "now"}, True])
def test_reply_by_that_is_not_a_string_is_refused(value: Any) -> None:
    error = invalid(minimal(reply_by=value))
    assert error.field == "reply_by"
    assert "RFC 3339" in error.reason


@pytest.mark.parametrize("value", ["yesterday", "2024-01-01T00:00:00", 0, None])
def test_bad_timestamp_is_refused(value: Any) -> None:
    error = invalid(minimal() | {"timestamp": value})
    assert error.field == "timestamp"


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00+01:00",   # one hour before the smallest datetime in UTC
        "9999-12-31T23:59:59-01:00",   # one hour after the largest
    ],
)
def test_out_of_range_reply_by_is_refused(value: str) -> None:
    # Regression: astimezone(UTC) used to raise OverflowError out of parse_message.
    error = invalid(minimal(reply_by=value))
    assert error.field == "reply_by"
    assert "out of range" in error.reason


@pytest.mark.parametrize(
    "value",
    ["20240101T000000Z", "2024-W01-1T00:00:00Z", "2024-01-01T00:00Z", "2024-001T00:00:00Z",
     "2024-01-01T00:00:00+0100", "2024-01-01T00:00:00+01", "2024-1-01T00:00:00Z"],
)
def test_iso_forms_that_are_not_rfc_3339_are_refused(value: str) -> None:
    # Regression: datetime.fromisoformat alone accepts basic format, week dates, no seconds.
    error = invalid(minimal(reply_by=value))
    assert error.field == "reply_by"
    assert "not an RFC 3339 date-time" in error.reason


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2024-01-01t00:00:00z", "2024-01-01T00:00:00.000000Z"),  # RFC 3339 allows lowercase
        ("2024-01-01 00:00:00+05:30", "2023-12-31T18:30:00.000000Z"),  # and a space
        ("2024-01-01T00:00:00.123456789Z", "2024-01-01T00:00:00.123456Z"),  # and nanoseconds
    ],
)
def test_rfc_3339_variants_are_accepted(given: str, stored: str) -> None:
    assert parse_message(minimal(reply_by=given)).reply_by == stored


@pytest.mark.parametrize(
    ("trace", "needle"),
    [
        ("00-abc", "must be an object"),
        ({}, "must be an object"),
        ({"traceparent": 5}, "must be an object"),
        ({"traceparent": "not-a-traceparent"}, "not W3C trace-context"),
        ({"traceparent": TRACEPARENT.upper()}, "not W3C trace-context"),
        ({"traceparent": TRACEPARENT + "-00"}, "not W3C trace-context"),
        ({"traceparent": TRACEPARENT, "baggage": "x"}, "unknown member 'baggage'"),
        ({"traceparent": TRACEPARENT, "tracestate": 3}, "tracestate must be a string"),
    ],
)
def test_bad_trace_context_is_refused(trace: Any, needle: str) -> None:
    error = invalid(minimal(trace_context=trace))
    assert error.field == "trace_context"
    assert needle in error.reason


@pytest.mark.parametrize("name", ["X-a", "x-Trace.Id_2", "X-" + "n" * 64, "X-a-b-c"])
def test_well_formed_user_parameter_names_are_accepted(name: str) -> None:
    assert parse_message(minimal() | {name: "v"}).user_params == {"X-" + name[2:]: "v"}


@pytest.mark.parametrize(
    "name", ["X-", "x-", "X-" + "n" * 65, "X-sp ace", 'X-q"uote', "X-back\\slash", "X-é", "X-a:b"]
)
def test_malformed_user_parameter_names_are_refused(name: str) -> None:
    error = invalid(minimal() | {name: "v"})
    assert error.field == name
    assert "user-defined parameter names are X- followed by" in error.reason


@pytest.mark.parametrize("value", [1, None, True, ["a"], {"a": "b"}])
def test_non_string_user_parameter_is_refused_by_its_name(value: Any) -> None:
    error = invalid(minimal() | {"X-priority": value})
    assert error.field == "X-priority"
    assert "must be strings" in error.reason


@pytest.mark.parametrize(
    "name",
    ["message_id", "conversation_id", "reply_with", "in_reply_to", "language", "encoding",
     "ontology", "protocol"],
)
@pytest.mark.parametrize("value", ["", "i" * 257, 12, ["x"]])
def test_bad_id_and_string_fields_are_refused_by_name(name: str, value: Any) -> None:
    assert invalid(minimal(**{name: value})).field == name


def test_oversized_id_reason_states_the_limit() -> None:
    assert "1 to 256 characters" in invalid(minimal(message_id="m" * 257)).reason


# -- sender override and replies --------------------------------------------------------------


def test_sender_argument_overrides_the_claimed_sender() -> None:
    msg = parse_message(minimal(sender="mallory"), sender="alice")
    assert msg.sender == "alice"


def test_sender_argument_makes_sender_field_optional() -> None:
    assert parse_message(minimal(sender=None), sender="alice").sender == "alice"


def test_sender_argument_wins_even_over_an_invalid_claim() -> None:
    assert parse_message(minimal(sender="not valid!"), sender="alice").sender == "alice"


def original_message(**overrides: Any) -> AclMessage:
    fields: dict[str, Any] = {
        "performative": Performative.REQUEST, "sender": "alice", "receiver": ("bob",),
        "content": {"ask": 1}, "conversation_id": "conv-1", "protocol": "fipa-request",
        "language": "json", "ontology": "maths", "encoding": "utf-8",
        "trace_context": {"traceparent": TRACEPARENT}, "reply_by": "2030-01-01T00:00:00.000000Z",
        "user_params": {"X-k": "v"},
    }
    fields.update(overrides)
    return AclMessage(**fields)


def test_reply_goes_to_the_sender_and_answers_the_message_id() -> None:
    original = original_message()
    answer = reply(original, sender="bob", performative=Performative.AGREE, content=[1])
    assert answer.receiver == ("alice",)
    assert answer.in_reply_to == original.message_id
    assert answer.sender == "bob"
    assert answer.performative is Performative.AGREE
    assert answer.content == [1]


def test_reply_prefers_reply_to_and_reply_with() -> None:
    original = original_message(reply_to=("carol", "dave"), reply_with="rw-9")
    answer = reply(original, sender="bob", performative=Performative.INFORM)
    assert answer.receiver == ("carol", "dave")
    assert answer.in_reply_to == "rw-9"


def test_reply_copies_conversation_fields_but_not_per_message_ones() -> None:
    original = original_message(reply_with="rw-1", in_reply_to="earlier")
    answer = reply(original, sender="bob", performative=Performative.INFORM)
    assert answer.conversation_id == "conv-1"
    assert answer.protocol == "fipa-request"
    assert answer.language == "json"
    assert answer.ontology == "maths"
    assert answer.encoding == "utf-8"
    assert answer.trace_context == {"traceparent": TRACEPARENT}
    assert answer.reply_with is None
    assert answer.reply_by is None
    assert answer.reply_to == ()
    assert answer.user_params == {}
    assert answer.content is None
    assert answer.message_id != original.message_id


def test_reply_address_and_reply_key_properties() -> None:
    plain = original_message()
    assert plain.reply_address == ("alice",)
    assert plain.reply_key == plain.message_id
    routed = original_message(reply_to=("carol",), reply_with="k")
    assert routed.reply_address == ("carol",)
    assert routed.reply_key == "k"


def _routing(msg: AclMessage) -> dict[str, Any]:
    out = msg.to_dict()
    del out["message_id"], out["timestamp"]
    return out


@pytest.mark.parametrize(
    "original",
    [original_message(), original_message(reply_to=("carol",), reply_with="rw-2"),
     original_message(conversation_id=None, protocol=None, trace_context=None)],
)
def test_parse_with_base_behaves_like_reply(original: AclMessage) -> None:
    parsed = parse_message({"performative": "agree", "content": {"ok": True}},
                           sender="bob", base=original)
    expected = reply(original, sender="bob", performative=Performative.AGREE,
                     content={"ok": True})
    assert _routing(parsed) == _routing(expected)


def test_parse_with_base_lets_the_object_override_routing_fields() -> None:
    original = original_message()
    parsed = parse_message(
        {"performative": "inform", "receiver": ["zed"], "conversation_id": "other",
         "in_reply_to": "custom", "protocol": "p2", "reply_with": "mine",
         "trace_context": {"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-00"}},
        sender="bob", base=original,
    )
    assert parsed.receiver == ("zed",)
    assert parsed.conversation_id == "other"
    assert parsed.in_reply_to == "custom"
    assert parsed.protocol == "p2"
    assert parsed.reply_with == "mine"
    assert parsed.trace_context is not None
    assert parsed.trace_context["traceparent"].startswith("00-1111")
    assert parsed.language == "json"  # not given: still copied from the base


def test_parse_with_base_still_validates_the_object() -> None:
    error = invalid({"performative": "inform", "receiver": "bad name"}, sender="bob",
                    base=original_message())
    assert error.field == "receiver"
    assert invalid({"content": 1}, sender="bob", base=original_message()).field == "performative"


# -- wire form --------------------------------------------------------------------------------


def test_to_dict_omits_absent_optional_fields_and_ends_with_content() -> None:
    msg = AclMessage(performative=Performative.CFP, sender="a", receiver=("b",), content=3,
                     message_id="m", timestamp="t")
    assert msg.to_dict() == {"message_id": "m", "performative": "cfp", "sender": "a",
                             "receiver": ["b"], "timestamp": "t", "content": 3}
    assert list(msg.to_dict())[-1] == "content"


def test_content_is_written_even_when_null() -> None:
    msg = AclMessage(performative=Performative.INFORM, sender="a", receiver=("b",))
    assert msg.to_wire().endswith(b',"content":null}')


def test_to_wire_is_cached_and_sized() -> None:
    msg = original_message()
    first = msg.to_wire()
    assert msg.to_wire() is first
    assert msg.wire_size == len(first)
    assert orjson.loads(first) == msg.to_dict()


def test_cached_wire_form_does_not_affect_equality() -> None:
    one = original_message(message_id="same", timestamp="2024-01-01T00:00:00.000000Z")
    two = original_message(message_id="same", timestamp="2024-01-01T00:00:00.000000Z")
    one.to_wire()
    assert one == two


def test_content_that_mentions_content_is_still_found_at_the_top_level() -> None:
    tricky = {"content": '"content":', "x": ['\\"content\\":']}
    msg = AclMessage(performative=Performative.INFORM, sender="a", receiver=("b",),
                     content=tricky, user_params={"X-content": '"content":1'})
    wire = msg.to_wire()
    start = wire.find(b'"content":') + len(b'"content":')
    assert orjson.loads(wire[start:-1]) == tricky


def test_user_parameter_name_that_could_fake_the_content_key_is_refused() -> None:
    # Regression: {"X-\\"content": "v"} serialised as "X-\\"content":"v", so the first
    # `"content":` of the wire form was inside that key and echo.wat echoed the wrong bytes.
    error = invalid(minimal(content={"k": 1}, **{'X-"content': "v"}))
    assert error.field == 'X-"content'
    assert "user-defined parameter names" in error.reason


# -- property tests -----------------------------------------------------------------------------

_ADDRESS_HEAD = "ABCXYZabcxyz_"
_ADDRESS_TAIL = "AZaz09_.@:/+~-"
_PARAM_CHARS = "AZaz09_.-"
addresses = st.builds(
    str.__add__, st.sampled_from(_ADDRESS_HEAD), st.text(alphabet=_ADDRESS_TAIL, max_size=12)
)
ids = st.text(min_size=1, max_size=40)
json_scalars = (
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
    | st.sampled_from(['"content":', "}", '\\"content\\":', '{"content":1}'])
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=10) | st.just("content"), inner, max_size=4),
    max_leaves=12,
)
canonical_times = st.datetimes(timezones=st.just(UTC)).map(
    lambda d: d.isoformat(timespec="microseconds").replace("+00:00", "Z")
)
traceparents = st.builds(
    lambda v, t, p, f: f"{v.hex()}-{t.hex()}-{p.hex()}-{f.hex()}",
    st.binary(min_size=1, max_size=1), st.binary(min_size=16, max_size=16),
    st.binary(min_size=8, max_size=8), st.binary(min_size=1, max_size=1),
)
trace_contexts = st.builds(
    lambda parent, state: {"traceparent": parent} | ({"tracestate": state} if state else {}),
    traceparents, st.none() | st.text(max_size=20),
)


@st.composite
def messages(draw: st.DrawFn) -> AclMessage:
    def maybe(strategy: st.SearchStrategy[Any]) -> Any:
        return draw(st.none() | strategy)

    return AclMessage(
        performative=draw(st.sampled_from(Performative)),
        sender=draw(addresses),
        receiver=tuple(draw(st.lists(addresses, min_size=1, max_size=4, unique=True))),
        content=draw(json_values),
        message_id=draw(ids),
        timestamp=draw(canonical_times),
        reply_to=tuple(draw(st.lists(addresses, max_size=3, unique=True))),
        language=maybe(ids), encoding=maybe(ids), ontology=maybe(ids), protocol=maybe(ids),
        conversation_id=maybe(ids), reply_with=maybe(ids), in_reply_to=maybe(ids),
        reply_by=maybe(canonical_times),
        trace_context=maybe(trace_contexts),
        user_params=draw(st.dictionaries(
            st.text(alphabet=_PARAM_CHARS, min_size=1, max_size=64).map(lambda s: "X-" + s),
            st.text(max_size=20), max_size=3)),
    )


@settings(max_examples=150)
@given(messages())
def test_content_is_last_and_first_content_key_is_the_top_level_one(msg: AclMessage) -> None:
    assert list(msg.to_dict())[-1] == "content"
    wire = msg.to_wire()
    assert list(orjson.loads(wire))[-1] == "content"
    # This is exactly how echo.wat finds the content: the first `"content":` up to the last `}`.
    marker = b'"content":'
    start = wire.find(marker)
    assert start >= 0
    assert wire.endswith(b"}")
    assert wire[start + len(marker):-1] == orjson.dumps(msg.content)


@settings(max_examples=150)
@given(messages())
def test_wire_form_round_trips_through_parse_message(msg: AclMessage) -> None:
    assert parse_message(orjson.loads(msg.to_wire())) == msg


@given(messages(), addresses)
def test_parsed_reply_to_generated_message_matches_reply(msg: AclMessage, me: str) -> None:
    parsed = parse_message({"performative": "inform", "content": [1]}, sender=me, base=msg)
    expected = reply(msg, sender=me, performative=Performative.INFORM, content=[1])
    assert _routing(parsed) == _routing(expected)
    assert parsed.receiver == (msg.reply_to or (msg.sender,))
    assert parsed.in_reply_to == (msg.reply_with or msg.message_id)


@given(st.lists(addresses, min_size=1, max_size=8))
def test_receiver_deduplication_keeps_first_occurrences(names: list[str]) -> None:
    assert parse_message(minimal(receiver=names)).receiver == tuple(dict.fromkeys(names))
