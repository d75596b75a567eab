"""Exactly-once acceptance of a client's message id under concurrent retries, against a real
server: eight identical sends at once (REST, gRPC, the FIPA HTTP MTP) are delivered once, and
every one of them answers with the first acceptance."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import ServerProcess
from tests.integration.mtp_peer import PLATFORM, Peer, jade_body

from caxton.api.grpc import convert
from caxton.api.grpc._generated import acl_pb2, messages_pb2, messages_pb2_grpc

ROUNDS = 30
AT_ONCE = 8


@pytest.fixture(scope="module")
def peer() -> Iterator[Peer]:
    endpoint = Peer()
    yield endpoint
    endpoint.server.shutdown()
    endpoint.server.server_close()


@pytest.fixture(scope="module")
def once_server(tmp_path_factory: pytest.TempPathFactory, examples: Path
                ) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("once") / "data",  # echo answers the peer
                         env={"CAXTON_PLATFORM_NAME": PLATFORM,
                              "CAXTON_MTP_ALLOWED_HOSTS": "127.0.0.1"}).start()
    proc.deploy(examples / "wat" / "echo.wat", "echo")
    yield proc
    proc.stop()


def _at_once(send: Callable[[], Any]) -> list[Any]:
    """``send`` from AT_ONCE threads released together; their results (or exceptions)."""
    gate = threading.Barrier(AT_ONCE)

    def one() -> Any:
        gate.wait(10)
        try:
            return send()
        except Exception as exc:  # the test reports it
            return exc

    with ThreadPoolExecutor(AT_ONCE) as pool:
        return list(pool.map(lambda _: one(), range(AT_ONCE)))


def _informs(server: ServerProcess, conversation: str) -> int:
    """How many times echo answered in ``conversation``: once per delivery. A request with
    wait=true to echo, queued behind everything sent before, settles the count first."""
    settle = server.http.post("/api/v1/messages", params={"wait": "true", "timeout": "30"},
                              json={"performative": "request", "receiver": ["echo"],
                                    "content": "settle"})
    assert settle.status_code == 200, settle.text
    shown = server.http.get(f"/api/v1/conversations/{conversation}")
    assert shown.status_code == 200, shown.text
    return sum(1 for m in shown.json()["messages"]
               if m["performative"] == "inform" and m["sender"] == "echo")


def _rounds(server: ServerProcess, send_round: Callable[[str, str], list[Any]],
            check: Callable[[list[Any], str], None]) -> list[int]:
    deliveries = []
    deadline = time.monotonic() + 240
    for n in range(ROUNDS):
        assert time.monotonic() < deadline, f"too slow: {n} rounds in 240 s"
        message_id, conversation = uuid.uuid4().hex, f"once-{uuid.uuid4().hex[:12]}"
        results = send_round(message_id, conversation)
        check(results, message_id)
        deliveries.append(_informs(server, conversation))
    return deliveries


@pytest.mark.parametrize("wait", [False, True])
def test_rest_concurrent_retries_are_delivered_once(once_server: ServerProcess,
                                                    wait: bool) -> None:
    http = once_server.client(timeout=60,
                        limits=httpx.Limits(max_connections=AT_ONCE))

    def send_round(message_id: str, conversation: str) -> list[Any]:
        body = {"message_id": message_id, "performative": "request", "receiver": ["echo"],
                "conversation_id": conversation, "content": {"n": 1}}
        params = {"wait": "true", "timeout": "30"} if wait else {}
        return _at_once(lambda: http.post("/api/v1/messages", json=body, params=params))

    def check(results: list[Any], message_id: str) -> None:
        assert all(isinstance(r, httpx.Response) for r in results), results
        assert {r.status_code for r in results} == {200 if wait else 202}, \
            [r.text for r in results]
        bodies = [r.json() for r in results]
        # Every answer is the first acceptance: the same message, and for wait=true the
        # same reply; all but one say they were duplicates.
        assert {b["message"]["message_id"] for b in bodies} == {message_id}
        assert len({b["message"]["conversation_id"] for b in bodies}) == 1
        assert len({b["message"]["sender"] for b in bodies}) == 1
        assert sum(1 for b in bodies if not b.get("duplicate")) == 1
        if wait:
            assert len({b["reply"]["message_id"] for b in bodies}) == 1

    try:
        deliveries = _rounds(once_server, send_round, check)
    finally:
        http.close()
    assert deliveries == [1] * ROUNDS


def test_rest_retry_with_other_content_is_a_conflict(once_server: ServerProcess) -> None:
    message_id = uuid.uuid4().hex
    body = {"message_id": message_id, "performative": "inform", "receiver": ["echo"],
            "content": 1}
    assert once_server.http.post("/api/v1/messages", json=body).status_code == 202
    again = once_server.http.post("/api/v1/messages", json=body)
    assert (again.status_code, again.json().get("duplicate")) == (202, True)
    other = once_server.http.post("/api/v1/messages", json={**body, "content": 2})
    assert other.status_code == 409, other.text
    assert other.json()["code"] == "message_id_conflict"


def test_grpc_concurrent_retries_are_delivered_once(once_server: ServerProcess) -> None:
    with once_server.channel() as channel:
        stub = messages_pb2_grpc.MessageServiceStub(channel)

        def send_round(message_id: str, conversation: str) -> list[Any]:
            msg = acl_pb2.AclMessage(message_id=message_id, performative="request",
                                     receiver=["echo"], conversation_id=conversation,
                                     content_json='{"n": 1}')
            return _at_once(lambda: stub.SendMessage(
                messages_pb2.SendMessageRequest(message=msg), timeout=60))

        def check(results: list[Any], message_id: str) -> None:
            assert all(isinstance(r, messages_pb2.SendMessageResponse) for r in results), \
                results
            assert {r.message.message_id for r in results} == {message_id}
            assert len({r.message.conversation_id for r in results}) == 1
            assert len({convert.message_from_proto(r.message)["sender"]
                        for r in results}) == 1
            assert sum(1 for r in results if not r.duplicate) == 1

        deliveries = _rounds(once_server, send_round, check)
    assert deliveries == [1] * ROUNDS


def _mtp_body(server: ServerProcess, peer: Peer, conversation: str, extra: str = ""
              ) -> tuple[str, bytes]:
    """A JADE-style request to echo that follows no protocol: conversation tracking would
    otherwise refuse a repeated fipa-request step, hiding what this module tests."""
    payload = (f"(REQUEST :sender (agent-identifier :name buyer@jade :addresses (sequence "
               f"{peer.url})) :receiver (set (agent-identifier :name echo@{PLATFORM.lower()}))"
               f' :content "hello" :conversation-id {conversation} {extra})').encode()
    return jade_body(server, peer, conversation=conversation, payload=payload)


def test_mtp_concurrent_retries_of_a_caxton_message_id_are_delivered_once(
        once_server: ServerProcess, peer: Peer) -> None:
    """Another Caxton writes its message id into the ACL (X-caxton-message-id) and retries a
    POST whose answer it did not get: the id is what /acc de-duplicates on."""
    http = httpx.Client(timeout=60, limits=httpx.Limits(max_connections=AT_ONCE))

    def send_round(message_id: str, conversation: str) -> list[Any]:
        content_type, body = _mtp_body(once_server, peer, conversation,
                                       f':X-caxton-message-id "{message_id}"')
        return _at_once(lambda: http.post(once_server.url + "/acc", content=body,
                                          headers={"content-type": content_type,
                                                   "accept": "application/json"}))

    def check(results: list[Any], message_id: str) -> None:
        assert all(isinstance(r, httpx.Response) for r in results), results
        assert {r.status_code for r in results} == {200}, [r.text for r in results]
        assert {r.json()["message_id"] for r in results} == {message_id}
        assert {tuple(r.json()["receiver"]) for r in results} == {("echo",)}

    try:
        deliveries = _rounds(once_server, send_round, check)
    finally:
        http.close()
    assert deliveries == [1] * ROUNDS
    while not peer.quiet(0.5):  # echo's replies went back to the peer: drain them
        pass


def test_mtp_without_a_message_id_is_not_deduplicated(once_server: ServerProcess,
                                                      peer: Peer) -> None:
    """A JADE message carries no id of its own (FIPA ACL has none; reply-with is the sender's
    and may repeat): two identical POSTs are two messages."""
    conversation = f"jade-{uuid.uuid4().hex[:12]}"
    content_type, body = _mtp_body(once_server, peer, conversation)
    answers = [httpx.post(once_server.url + "/acc", content=body,
                          headers={"content-type": content_type, "accept": "application/json"},
                          timeout=60)
               for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json()["message_id"] != answers[1].json()["message_id"]
    assert _informs(once_server, conversation) == 2
    for _ in range(2):
        peer.next()


def test_a_retry_after_a_restart_answers_with_the_first_acceptance(
        tmp_path: Path, examples: Path) -> None:
    """The ids outlive the process (the ``accepted`` table), also when memory holds fewer ids
    than the window (CAXTON_DEDUP_MEMORY=2: the rest are looked up)."""
    server = ServerProcess(tmp_path / "data", env={"CAXTON_DEDUP_MEMORY": "2"}).start()
    try:
        server.deploy(examples / "wat" / "echo.wat", "echo")
        ids = [uuid.uuid4().hex for _ in range(4)]
        firsts = []
        for n, message_id in enumerate(ids):
            sent = server.http.post("/api/v1/messages", params={"wait": "true"}, json={
                "message_id": message_id, "performative": "request", "receiver": ["echo"],
                "content": {"n": n}})
            assert sent.status_code == 200, sent.text
            firsts.append(sent.json())
        handed_back = server.http.post("/api/v1/messages", json={
            "performative": "inform", "receiver": ["echo"], "content": "no id"}).json()
        assert handed_back["message"]["message_id"] not in ids
    finally:
        assert server.stop() == 0
    server.start()
    try:
        for n, (message_id, first) in enumerate(zip(ids, firsts, strict=True)):
            again = server.http.post("/api/v1/messages", params={"wait": "true"}, json={
                "message_id": message_id, "performative": "request", "receiver": ["echo"],
                "content": {"n": n}})
            assert again.status_code == 200, again.text
            body = again.json()
            assert body["duplicate"] is True
            assert body["message"]["conversation_id"] == first["message"]["conversation_id"]
            assert body["reply"]["message_id"] == first["reply"]["message_id"]  # from the log
            assert _informs(server, first["message"]["conversation_id"]) == 1
        # A message sent without an id, sent again as the server handed it back.
        resent = server.http.post("/api/v1/messages", json=handed_back["message"])
        assert (resent.status_code, resent.json().get("duplicate")) == (202, True)
        conflict = server.http.post("/api/v1/messages", json={
            "message_id": ids[0], "performative": "request", "receiver": ["echo"],
            "content": "something else"})
        assert conflict.status_code == 409
    finally:
        server.stop()
