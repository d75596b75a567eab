"""Hostile input at every entry point gets a clear 4xx or gRPC status, never a 5xx, UNKNOWN or a
traceback: the real server, driven over REST, gRPC and the FIPA HTTP MTP (``/acc``).

The server runs with ``max_content_depth`` 20 (the default is 64) so that the tests also show
the setting reaches every entry point.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from tests.conftest import ServerProcess
from tests.integration.mtp_peer import Peer, jade_body, post

from caxton.api.grpc._generated import acl_pb2, messages_pb2, messages_pb2_grpc

DEPTH = 20
PLATFORM = "hardened"


def nested(levels: int) -> object:
    """A JSON value with ``levels`` levels of arrays and objects."""
    value: object = "leaf"
    for i in range(levels):
        value = [value] if i % 2 else {"k": value}
    return value


def nested_text(levels: int) -> str:
    """``nested(levels)`` as JSON text, written without a (recursive) JSON encoder."""
    opens = "".join('[' if i % 2 else '{"k":' for i in reversed(range(levels)))
    closes = "".join(']' if i % 2 else '}' for i in range(levels))
    return opens + '"leaf"' + closes


def message_text(levels: int) -> bytes:
    return ('{"performative":"inform","receiver":"echo","content":' + nested_text(levels)
            + "}").encode()


@pytest.fixture(scope="module")
def hard(tmp_path_factory: pytest.TempPathFactory, examples: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("hardening") / "data", env={
        "CAXTON_MAX_CONTENT_DEPTH": str(DEPTH), "CAXTON_PLATFORM_NAME": PLATFORM,
        "CAXTON_MAX_REQUEST_BYTES": "65536",
        "CAXTON_MTP_ALLOWED_HOSTS": "127.0.0.1"}).start()  # echo answers the test's peer
    proc.deploy(examples / "wat" / "echo.wat", "echo")
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def peer() -> Iterator[Peer]:
    endpoint = Peer()
    yield endpoint
    endpoint.server.shutdown()
    endpoint.server.server_close()


def handled(server: ServerProcess) -> int:
    return int(server.http.get("/api/v1/agents/echo").json()["stats"]["handled"])


def fresh(server: ServerProcess) -> httpx.Client:
    """A client of its own: a 500 makes uvicorn close the connection, which would hide it."""
    return server.client(timeout=60)


# -- deploy ------------------------------------------------------------------------------------
@pytest.mark.parametrize("module", ["éé", "AAAA\u00a0", "\u0000", "QUJD\u2028"])
def test_non_ascii_module_base64_is_400(hard: ServerProcess, module: str) -> None:
    """Before: 500 internal (base64 raised ValueError for non-ASCII text)."""
    with fresh(hard) as http:
        response = http.post("/api/v1/agents", json={"name": "x", "module_base64": module})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["field"] == "module_base64" and "base64" in body["message"]
    assert http is not None and hard.http.get("/api/v1/agents/x").status_code == 404


# -- content depth -----------------------------------------------------------------------------
def test_content_depth_is_bounded_over_rest(hard: ServerProcess) -> None:
    """Before: content nested 253+ levels was a 500 (orjson refused to serialize it)."""
    with fresh(hard) as http:
        headers = {"content-type": "application/json"}
        assert json.loads(nested_text(5)) == nested(5)
        ok = http.post("/api/v1/messages", content=message_text(DEPTH), headers=headers)
        assert ok.status_code == 202, ok.text
        for levels in (DEPTH + 1, 253, 260, 1000):
            refused = http.post("/api/v1/messages", content=message_text(levels),
                                headers=headers)
            assert refused.status_code == 400, (levels, refused.text)
            assert refused.json()["code"] == "invalid_message"
            assert refused.json()["field"] == "content"
            assert f"more than {DEPTH} levels" in refused.json()["message"]
        # Deeper than JSON parsers usually take: still a 400, not a crash.
        response = http.post("/api/v1/messages", content=message_text(12_000), headers=headers)
        assert response.status_code == 400, response.text[:300]


def test_content_depth_is_bounded_in_protocol_drivers(hard: ServerProcess) -> None:
    with fresh(hard) as http:
        response = http.post("/api/v1/protocols/contract-net", json={
            "receiver": ["echo"], "deadline_s": 0.5, "content": nested(300)})
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "content"


def test_content_depth_is_bounded_over_grpc(hard: ServerProcess) -> None:
    """Before: INTERNAL (the same serializer failure)."""
    with hard.channel() as channel:
        stub = messages_pb2_grpc.MessageServiceStub(channel)
        ok = stub.SendMessage(messages_pb2.SendMessageRequest(message=acl_pb2.AclMessage(
            performative="inform", receiver=["echo"], content_json=json.dumps(nested(DEPTH)))),
            timeout=30)
        assert ok.message.performative == "inform"
        for levels in (DEPTH + 1, 260):
            with pytest.raises(grpc.RpcError) as refused:
                stub.SendMessage(messages_pb2.SendMessageRequest(message=acl_pb2.AclMessage(
                    performative="inform", receiver=["echo"],
                    content_json=json.dumps(nested(levels)))), timeout=30)
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "content" in (refused.value.details() or "")


def _deep_acl(server: ServerProcess, peer: Peer, levels: int, conversation: str
              ) -> tuple[str, bytes]:
    content = json.dumps(json.dumps(nested(levels)))  # a quoted FIPA string holding JSON
    payload = (f"(inform :sender (agent-identifier :name buyer@jade :addresses (sequence "
               f"{peer.url})) :receiver (set (agent-identifier :name echo@{PLATFORM})) "
               f":content {content} :language json :conversation-id {conversation})").encode()
    return jade_body(server, peer, receiver=f"echo@{PLATFORM}", conversation=conversation,
                     payload=payload)


def test_content_depth_is_bounded_over_the_mtp(hard: ServerProcess, peer: Peer) -> None:
    before = handled(hard)
    for levels in (DEPTH + 1, 300):
        answer = post(hard, *_deep_acl(hard, peer, levels, f"deep-{levels}"))
        assert answer["status"] == 400, answer
        assert f"more than {DEPTH} levels" in json.loads(answer["body"])["message"]
        assert hard.http.get(f"/api/v1/conversations/deep-{levels}").status_code == 404
    obj = {"performative": "inform", "sender": "buyer@jade", "receiver": [f"echo@{PLATFORM}"],
           "conversation_id": "deep-json", "content": nested(300)}
    answer = post(hard, *jade_body(hard, peer, receiver=f"echo@{PLATFORM}",
                                   representation="caxton.acl.rep.json",
                                   payload=json.dumps(obj).encode()))
    assert answer["status"] == 400, answer
    assert handled(hard) == before
    ok = post(hard, *_deep_acl(hard, peer, DEPTH, "deep-ok"))
    assert ok["status"] == 200, ok
    assert peer.next().param("conversation-id") == "deep-ok"  # echo's answer came back


# -- MTP envelopes -----------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["base64", "zlib", "idna", "undefined", "klingon"])
def test_unknown_payload_encoding_is_400_and_nothing_is_delivered(
        hard: ServerProcess, peer: Peer, encoding: str) -> None:
    """Before: 500 for the codecs Python knows that are no charset (base64, zlib, idna...)."""
    before = handled(hard)
    content_type, body = jade_body(hard, peer, receiver=f"echo@{PLATFORM}",
                                   conversation=f"enc-{encoding}")
    body = body.replace(b"<payload-length>", f"<payload-encoding>{encoding}"
                        f"</payload-encoding><payload-length>".encode())
    answer = post(hard, content_type, body)
    assert answer["status"] == 400, answer
    assert json.loads(answer["body"]) == {
        "code": "malformed_envelope", "message": f"unknown payload encoding '{encoding}'"}
    assert peer.quiet(0.5)
    assert handled(hard) == before
    assert hard.http.get(f"/api/v1/conversations/enc-{encoding}").status_code == 404


def test_an_acc_body_over_the_limit_is_413(hard: ServerProcess, peer: Peer) -> None:
    """Before: 400."""
    content_type, body = jade_body(hard, peer, content="x" * 70_000, conversation="too-big")
    answer = post(hard, content_type, body)
    assert answer["status"] == 413, answer
    assert json.loads(answer["body"])["code"] == "payload_too_large"
    assert hard.http.get("/api/v1/conversations/too-big").status_code == 404


# -- gRPC bytes that are not protobuf ------------------------------------------------------------
@pytest.mark.parametrize("method", [
    "/caxton.v1.MessageService/SendMessage",
    "/caxton.v1.AgentService/DeployAgent",
    "/caxton.v1.MessageService/StreamMessages",
    "/grpc.health.v1.Health/Check",
])
def test_non_protobuf_bytes_are_invalid_argument_without_a_traceback(
        hard: ServerProcess, method: str) -> None:
    """Before: UNKNOWN, and the DecodeError's traceback in the server's log."""
    log_before = len(hard.stderr())
    with hard.channel() as channel:
        if method.endswith("StreamMessages"):
            call = channel.unary_stream(method, request_serializer=None,
                                        response_deserializer=None)
            with pytest.raises(grpc.RpcError) as failed:
                list(call(b"\xff\x00garbage", timeout=30))
        else:
            unary = channel.unary_unary(method, request_serializer=None,
                                        response_deserializer=None)
            with pytest.raises(grpc.RpcError) as failed:
                unary(b"\xff\x00garbage", timeout=30)
    assert failed.value.code() == grpc.StatusCode.INVALID_ARGUMENT, failed.value
    assert "not a valid protobuf message" in (failed.value.details() or "")
    logged = hard.stderr()[log_before:]
    assert "Traceback" not in logged and "Unexpected [DecodeError]" not in logged
    # The server still answers well-formed calls.
    with hard.channel() as channel:
        stub = messages_pb2_grpc.MessageServiceStub(channel)
        ok = stub.SendMessage(messages_pb2.SendMessageRequest(message=acl_pb2.AclMessage(
            performative="inform", receiver=["echo"], content_json="1")), timeout=30)
        assert ok.message.receiver == ["echo"]


# -- 405 -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("PUT", "/api/v1/agents", {"GET", "HEAD", "POST"}),
    ("PATCH", "/api/v1/agents/echo", {"GET", "HEAD", "DELETE"}),
    ("GET", "/api/v1/messages", {"POST"}),
    ("PATCH", "/api/v1/directory/da0@host:1099/JADE", {"GET", "HEAD", "PUT", "DELETE"}),
    ("GET", "/api/v1/protocols/subscribe", {"POST"}),
    ("POST", "/api/v1/dead-letters/abc", {"GET", "HEAD", "DELETE"}),
    ("GET", "/acc", {"POST"}),
    ("POST", "/metrics", {"GET", "HEAD"}),
    ("DELETE", "/openapi.json", {"GET", "HEAD"}),
])
def test_every_405_lists_the_allowed_methods(hard: ServerProcess, method: str, path: str,
                                              allowed: set[str]) -> None:
    """Before: 405 without an Allow header."""
    response = hard.http.request(method, path)
    assert response.status_code == 405, response.text
    assert {m.strip() for m in response.headers["allow"].split(",")} == allowed
    assert response.json()["code"] == "method_not_allowed"


def test_deploy_json_errors_name_the_field(hard: ServerProcess) -> None:
    module = base64.b64encode(b"(module)").decode()
    with fresh(hard) as http:
        for body, field in [({"module_base64": module}, "name"),
                            ({"name": "x"}, "module_base64"),
                            ({"name": "x", "module_base64": module, "limits": {"fuel": -1}},
                             "fuel"),  # as in the raw form and over gRPC
                            ({"name": "x", "module_base64": module, "limits": {"fuel": 2**70}},
                             "fuel"),  # as in the raw form and over gRPC
                            ({"name": "x", "module_base64": module, "version": 3}, "version"),
                            ({"name": "x", "module_base64": module, "colour": "red"}, "colour")]:
            response = http.post("/api/v1/agents", json=body)
            assert response.status_code == 400, (body, response.text)
            assert response.json()["field"] == field, (body, response.text)


# -- found by sweeping the REST routes ---------------------------------------------------------
def test_directory_input_that_overflowed_is_refused_or_kept_listable(hard: ServerProcess) -> None:
    """Before: a lease past year 9999 in UTC was a 500 (OverflowError); a property of 2**64 was
    stored as an int no JSON writer takes, and every directory listing after it was a 500."""
    with fresh(hard) as http:
        for lease in ("9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"):
            response = http.post("/api/v1/directory", json={"agent": "leased", "lease": lease})
            assert response.status_code == 400, response.text
            assert response.json()["field"] == "description.lease"
        body = b'{"agent":"big","services":[{"type":"t","properties":{"k":18446744073709551616}}]}'
        created = http.post("/api/v1/directory", content=body,
                            headers={"content-type": "application/json"})
        assert created.status_code == 201, created.text
        assert http.get("/api/v1/directory").status_code == 200
        found = http.post("/api/v1/directory/search", json={"template": {"agent": "big"}})
        assert found.status_code == 200, found.text
        assert found.json()["agents"][0]["services"][0]["properties"]["k"] == 2.0**64


@pytest.mark.parametrize(("params", "field"), [
    ({"timeout": "nan"}, "timeout"), ({"timeout": "-1"}, "timeout"),
    ({"wait": "maybe"}, "wait"), ({"timeout": "1e999"}, "timeout"),
])
def test_bad_query_parameters_are_400_naming_them(hard: ServerProcess, params: dict[str, str],
                                                  field: str) -> None:
    with fresh(hard) as http:
        response = http.post("/api/v1/messages", params=params,
                             json={"performative": "inform", "receiver": "echo"})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_parameter"
    assert response.json()["field"] == field


@pytest.mark.parametrize(("content_type", "status"), [
    ("text/plain", 415), ("application/x-www-form-urlencoded", 415),
    ("application/merge-patch+json", 202), (None, 202),
])
def test_json_operations_take_json_only(hard: ServerProcess, content_type: str | None,
                                        status: int) -> None:
    body = b'{"performative":"inform","receiver":"echo"}'
    headers = {"content-type": content_type} if content_type else {}
    with fresh(hard) as http:
        response = http.post("/api/v1/messages", content=body, headers=headers)
    assert response.status_code == status, response.text
    if status == 415:
        assert response.json()["code"] == "unsupported_media_type"


@pytest.mark.parametrize("body", [b"", b"null", b"[]", b"7", b'"x"', b"\xff\xfe"])
def test_empty_or_wrongly_typed_bodies_are_400(hard: ServerProcess, body: bytes) -> None:
    with fresh(hard) as http:
        for path in ("/api/v1/messages", "/api/v1/agents", "/api/v1/directory",
                     "/api/v1/directory/search", "/api/v1/protocols/contract-net"):
            response = http.post(path, content=body,
                                 headers={"content-type": "application/json"})
            assert response.status_code == 400, (path, body, response.text)
            assert response.json()["code"] in ("malformed_json", "invalid_message",
                                               "invalid_request"), response.text


@pytest.mark.parametrize("word", ["yes", "1", "TRUE"])
def test_wait_takes_the_words_it_always_took(hard: ServerProcess, word: str) -> None:
    response = hard.http.post("/api/v1/messages", params={"wait": word, "timeout": "30"},
                              json={"performative": "request", "receiver": "echo",
                                    "content": word})
    assert response.status_code == 200, response.text
    assert response.json()["reply"]["content"] == word
