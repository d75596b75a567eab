"""Protobuf <-> JSON shapes (caxton.api.grpc.convert): lossless for everything the server
produces, and the same InvalidMessageError as the server for shapes protobuf cannot carry."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from caxton.api.grpc import convert
from caxton.api.grpc._generated import acl_pb2
from caxton.api.grpc.convert_permissions import permissions_from_proto, permissions_to_proto
from caxton.domain.acl import AclMessage, Performative, parse_message
from caxton.errors import InvalidMessageError, InvalidPermissionsError

FULL = {
    "message_id": "m-1", "performative": "query-ref", "sender": "alice",
    "receiver": ["echo", "bob"], "reply_to": ["_client-1"], "language": "json",
    "encoding": "utf-8", "ontology": "orders", "protocol": "fipa-query",
    "conversation_id": "c-1", "reply_with": "q-1", "in_reply_to": "p-0",
    "reply_by": "2030-01-01T00:00:00.000000Z", "timestamp": "2026-11-23T17:55:06.873161Z",
    "trace_context": {"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01",
                      "tracestate": "k=v"},
    "X-Tenant": "acme", "content": {"order": [4, 2], "note": None},
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                  max_size=4),
    max_leaves=12)


def test_a_full_message_survives_the_round_trip_in_wire_order() -> None:
    msg = parse_message(FULL).to_dict()
    back = convert.message_from_proto(convert.message_to_proto(msg))
    assert back == msg
    assert list(back) == list(msg)  # the JSON form's member order, content last
    assert orjson.dumps(back) == parse_message(FULL).to_wire()


def test_a_minimal_message_keeps_absent_fields_absent() -> None:
    msg = AclMessage(performative=Performative.INFORM, sender="echo", receiver=("x",)).to_dict()
    pb = convert.message_to_proto(msg)
    assert not pb.HasField("protocol") and not pb.reply_to
    assert convert.message_from_proto(pb) == msg
    assert convert.message_from_proto(acl_pb2.AclMessage()) == {"content": None}


@given(json_values)
def test_any_json_content_round_trips(content: Any) -> None:
    pb = convert.message_to_proto({"performative": "inform", "receiver": "x", "content": content})
    assert convert.message_from_proto(pb)["content"] == content


@pytest.mark.parametrize(("obj", "field", "reason"), [
    ({"performative": 1}, "performative", "must be a string"),
    ({"receiver": 7}, "receiver", "must be an agent name or a list of agent names"),
    ({"reply_to": ["a", 2]}, "reply_to", "must be an agent name or a list of agent names"),
    ({"conversation_id": 5}, "conversation_id", "must be a string"),
    ({"X-Priority": 1}, "X-Priority", "user-defined parameters must be strings"),
    ({"priority": "high"}, "priority", "unknown field"),
    ({"trace_context": "x"}, "trace_context", "must be an object with a 'traceparent'"),
])
def test_shapes_protobuf_cannot_carry_raise_what_the_server_would(
        obj: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(InvalidMessageError) as caught:
        convert.message_to_proto(obj)
    assert (caught.value.field, caught.value.reason) == (field, reason)
    with pytest.raises(InvalidMessageError) as server_side:
        parse_message({"performative": "inform", "receiver": "x", "sender": "a", **obj})
    assert server_side.value.field == field


def test_transport_addresses_keep_their_place_in_the_json_form() -> None:
    msg = {"message_id": "m", "performative": "inform", "sender": "a", "receiver": ["b@remote"],
           "reply_to": ["c"], "addresses": {"b@remote": ["http://h:7778/acc", "http://h2/acc"]},
           "protocol": "p", "timestamp": "t", "content": 1}
    back = convert.message_from_proto(convert.message_to_proto(msg))
    assert back == msg and list(back) == list(msg)
    with pytest.raises(InvalidMessageError, match="addresses"):
        convert.message_to_proto({"addresses": {"b": "http://h"}})


def test_requests_the_server_cannot_read_name_their_field() -> None:
    with pytest.raises(InvalidMessageError, match="content_json"):
        convert.message_from_proto(acl_pb2.AclMessage(content_json="{nope"))
    with pytest.raises(InvalidMessageError, match="user_params"):
        convert.message_from_proto(acl_pb2.AclMessage(user_params={"performative": "x"}))
    with pytest.raises(InvalidMessageError, match="must be a JSON object"):
        convert.message_to_proto([1, 2])  # type: ignore[arg-type]


def test_agent_views_and_conversations_round_trip() -> None:
    view = {
        "name": "echo", "version": "1", "state": "running", "module_hash": "ab" * 32,
        "limits": {"fuel": 1000, "memory_bytes": 65536, "timeout_ms": 1,
                   "max_message_bytes": 256, "max_host_calls": 1, "max_sends_per_message": 7},
        "permissions": None,
        "deployed_at": "2026-11-23T17:54:16.007075Z", "mailbox_depth": 3, "memory_bytes": 65536,
        "hibernated": True,
        "stats": {"handled": 1, "failed": 2, "sent": 3, "fuel_used": 4, "last_error": None,
                  "failures_by_kind": {"trap": 2}, "sends_refused": 5,
                  "batched_messages": 40},
    }
    assert convert.agent_from_proto(convert.agent_to_proto(view)) == view
    for permissions in (
            {"host_functions": [], "messaging": [], "rate": None, "max_receivers": None,
             "tools": []},  # declared, allowing nothing: not the same as none declared
            {"host_functions": ["send", "log"], "messaging": ["echo", "*@jade"],
             "rate": {"messages_per_s": 0.5, "burst": 3}, "max_receivers": 4,
             "tools": ["search"]}):
        restricted = {**view, "permissions": permissions}
        assert convert.agent_from_proto(convert.agent_to_proto(restricted)) == restricted
    failing = {**view, "stats": {**view["stats"], "last_error": "trap: unreachable"}}
    assert convert.agent_from_proto(convert.agent_to_proto(failing)) == failing
    summary = {"conversation_id": "c", "protocol": None, "initiator": "a", "started_at": "t0",
               "last_at": "t1", "message_count": 1, "participants": ["a", "b"],
               "status": "open"}
    conv = {**summary, "messages": [parse_message(FULL).to_dict()],
            "parties": {"b": {"kind": "participant", "state": "late", "last": "propose",
                              "deadline": "t2"}},
            "events": [{"at": "t3", "kind": "late", "party": "b", "message_id": "m",
                        "detail": "too late"},
                       {"at": "t4", "kind": "expired", "party": None, "message_id": None,
                        "detail": "idle"}]}
    assert convert.conversation_from_proto(convert.conversation_to_proto(conv)) == conv
    assert convert.limits_from_proto(convert.limits_to_proto({"fuel": 5, "timeout_ms": None})) \
        == {"fuel": 5, "memory_bytes": None, "timeout_ms": None, "max_message_bytes": None,
            "max_host_calls": None, "max_sends_per_message": None}


@pytest.mark.parametrize(("permissions", "field"), [
    ([], "permissions"),
    ({"rights": []}, "permissions.rights"),
    ({"messaging": "echo"}, "permissions.messaging"),
    ({"tools": [1]}, "permissions.tools"),
    ({"rate": 5}, "permissions.rate"),
    ({"rate": {"messages_per_s": "fast"}}, "permissions.rate.messages_per_s"),
    ({"rate": {"messages_per_s": 10**400}}, "permissions.rate.messages_per_s"),
    ({"rate": {"messages_per_s": 1, "every": 2}}, "permissions.rate.every"),
    ({"rate": {"messages_per_s": 1, "burst": 2**63}}, "permissions.rate.burst"),
    ({"max_receivers": True}, "permissions.max_receivers"),
])
def test_permissions_protobuf_cannot_carry_name_their_field(permissions: Any, field: str) -> None:
    with pytest.raises(InvalidPermissionsError) as caught:
        permissions_to_proto(permissions)
    assert caught.value.field == field


def test_declared_permissions_keep_what_was_left_out() -> None:
    declared = {"messaging": ["echo"], "rate": {"messages_per_s": 2}}
    assert permissions_from_proto(permissions_to_proto(declared)) == {
        "host_functions": [], "messaging": ["echo"], "rate": {"messages_per_s": 2.0},
        "max_receivers": None, "tools": []}  # no burst: the server takes the default
