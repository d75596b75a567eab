"""The FIPA HTTP MTP against a real server: a separate client process POSTs hand-written
multipart bodies to /acc, and replies come back over the outbound MTP to an HTTP endpoint the
test runs itself (``mtp_peer.Peer``), which reads them with the standard library, not with
Caxton's codecs."""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import ServerProcess
from tests.integration.mtp_peer import (
    PLATFORM,
    TRACE,
    Peer,
    acc,
    client,
    jade_body,
    jade_client,
    post,
    request,
)
from tests.integration.test_tracing import OtlpReceiver

from caxton.client import CaxtonClient


@pytest.fixture(scope="module")
def peer() -> Iterator[Peer]:
    endpoint = Peer()
    yield endpoint
    endpoint.server.shutdown()
    endpoint.server.server_close()


@pytest.fixture(scope="module")
def mtp_server(tmp_path_factory: pytest.TempPathFactory, examples: Path
               ) -> Iterator[ServerProcess]:
    # The other platforms of these tests listen on 127.0.0.1 (the server's own ports there
    # stay refused).
    proc = ServerProcess(tmp_path_factory.mktemp("mtp") / "data", env={
        "CAXTON_PLATFORM_NAME": PLATFORM, "CAXTON_MAX_REQUEST_BYTES": "65536",
        "CAXTON_MTP_ALLOWED_HOSTS": "127.0.0.1"}).start()
    proc.deploy(examples / "c" / "echo.wasm", "echo")
    yield proc
    proc.stop()


def handled(server: ServerProcess) -> int:
    return int(server.http.get("/api/v1/agents/echo").json()["stats"]["handled"])


# -- inbound, and the reply back over the outbound MTP -------------------------------------------
def test_a_jade_request_is_answered_over_the_mtp(mtp_server: ServerProcess, peer: Peer) -> None:
    answer = post(mtp_server, *jade_body(mtp_server, peer, extra=f":X-caxton-traceparent {TRACE}"))
    assert answer["status"] == 200, answer
    reply = peer.next()
    assert reply.path == "/acc"
    assert reply.names("to") == ["buyer@jade"] and reply.urls("to") == [peer.url]
    assert reply.names("intended-receiver") == ["buyer@jade"]
    assert reply.names("from") == [f"echo@{PLATFORM}"]
    assert reply.urls("from") == [acc(mtp_server)]
    assert reply.text("acl-representation") == "fipa.acl.rep.string.std"
    assert reply.text("payload-length") == str(len(reply.acl.encode()))
    assert re.fullmatch(r"\d{8}T\d{9}Z", reply.text("date") or "")
    assert reply.acl.startswith("(inform")
    assert re.search(rf":sender \(agent-identifier :name echo@{PLATFORM} :addresses "
                     rf"\(sequence {re.escape(acc(mtp_server))}\)\)", reply.acl)
    assert re.search(r":receiver \(set \(agent-identifier :name buyer@jade", reply.acl)
    assert reply.param("in-reply-to") == "r-1"
    assert reply.param("conversation-id") == "conv-1"
    assert (reply.param("protocol"), reply.param("ontology")) == ("fipa-request", "shop")
    assert reply.param("content") == "hello"
    # The trace crosses the MTP both ways: in the ACL, the envelope and the HTTP header.
    assert reply.param("X-caxton-traceparent") == TRACE
    assert reply.headers["traceparent"] == TRACE
    slots = {n.get("href"): n.text for n in reply.envelope.iter("user-defined")}
    assert slots == {"X-traceparent": TRACE}
    conversation = mtp_server.http.get("/api/v1/conversations/conv-1").json()
    first = conversation["messages"][0]
    assert first["sender"] == "buyer@jade" and first["receiver"] == ["echo"]
    assert first["addresses"] == {"buyer@jade": [peer.url]}
    assert first["trace_context"] == {"traceparent": TRACE}


def test_json_payloads_and_plain_trace_parameters_are_read(mtp_server: ServerProcess,
                                                           peer: Peer) -> None:
    message = {"performative": "query-ref", "sender": "buyer@jade", "receiver": ["echo@caxtontest"],
               "addresses": {"buyer@jade": [peer.url]}, "conversation_id": "conv-json",
               "X-traceparent": TRACE, "content": {"item": 42}}
    answer = post(mtp_server, *jade_body(mtp_server, peer, representation="caxton.acl.rep.json",
                                         payload=json.dumps(message).encode()))
    assert answer["status"] == 200, answer
    reply = peer.next()
    assert reply.param("conversation-id") == "conv-json"
    assert json.loads(reply.param("content") or "") == {"item": 42}
    assert reply.param("X-caxton-traceparent") == TRACE


def test_an_unknown_receiver_gets_the_sender_an_mts_failure(mtp_server: ServerProcess,
                                                            peer: Peer) -> None:
    answer = post(mtp_server, *jade_body(mtp_server, peer, receiver="nobody@caxtontest",
                                         conversation="conv-lost"))
    assert answer["status"] == 200, answer
    failure = peer.next()
    assert failure.acl.startswith("(failure")
    assert failure.names("from") == [f"ams@{PLATFORM}"]
    assert failure.names("intended-receiver") == ["buyer@jade"]
    assert failure.param("in-reply-to") == "r-1"
    assert failure.param("conversation-id") == "conv-lost"
    assert failure.param("ontology") == "FIPA-Agent-Management"
    content = failure.param("content") or ""
    assert "MTS-error (agent-identifier :name nobody@caxtontest)" in content
    assert "internal-error" in content and "agent-not-found" in content


@pytest.mark.parametrize(("content_type", "body", "says"), [
    ("text/plain", b"(inform :sender a :receiver b)", "must be multipart/mixed"),
    ('multipart/mixed; boundary="nope"', None, "no '--nope' delimiter"),
    (None, b"<envelope><params index='1'><to>", "not well-formed XML"),
    (None, b"(inform :sender", "fipa.acl.rep.string.std"),
    (None, b"(" + b"x" * 70_000 + b")", "exceeds the limit"),
], ids=["not-multipart", "bad-boundary", "bad-xml", "bad-acl", "oversized"])
def test_malformed_bodies_are_refused_and_nothing_is_delivered(
        mtp_server: ServerProcess, peer: Peer, content_type: str | None, body: bytes | None,
        says: str) -> None:
    before = handled(mtp_server)
    good_type, good = jade_body(mtp_server, peer, conversation="conv-bad")
    if body is None:
        body = good
    elif body.startswith(b"<"):
        body = good.replace(good[good.index(b"<?xml"):good.index(b"</envelope>") + 11], body)
    elif not content_type:
        _, body = jade_body(mtp_server, peer, conversation="conv-bad", payload=body)
    answer = post(mtp_server, content_type or good_type, body)
    assert answer["status"] == (413 if says == "exceeds the limit" else 400), answer
    assert says in json.loads(answer["body"])["message"]
    assert peer.quiet(1.0)
    assert handled(mtp_server) == before
    assert mtp_server.http.get("/api/v1/conversations/conv-bad").status_code == 404


def test_keep_alive_and_absolute_uri_request_lines(mtp_server: ServerProcess,
                                                   peer: Peer) -> None:
    absolute = f"{mtp_server.url}/acc"
    answers = client(
        mtp_server,
        request(mtp_server, *jade_body(mtp_server, peer, conversation="ka-1")),
        request(mtp_server, *jade_body(mtp_server, peer, conversation="ka-2"), target=absolute),
        request(mtp_server, "text/plain", b"junk"),
        request(mtp_server, *jade_body(mtp_server, peer, conversation="ka-3"), target=absolute),
    )
    assert [a["status"] for a in answers] == [200, 200, 400, 200]
    assert all(a["headers"].get("connection", "keep-alive") != "close" for a in answers)
    got = sorted(peer.next().param("conversation-id") or "" for _ in range(3))
    assert got == ["ka-1", "ka-2", "ka-3"]


def test_the_empty_line_jade_writes_after_each_body_is_ignored(mtp_server: ServerProcess,
                                                              peer: Peer) -> None:
    # JADE's MTP writes CRLF after each request body, beyond its Content-Length, and sends the
    # next request on the same connection: RFC 9112 section 2.2 says to ignore that line.
    before = handled(mtp_server)
    answers = client(
        mtp_server,
        request(mtp_server, *jade_body(mtp_server, peer, conversation="crlf-1")) + b"\r\n",
        b"\r\n" + request(mtp_server, *jade_body(mtp_server, peer, conversation="crlf-2")),
        request(mtp_server, *jade_body(mtp_server, peer, conversation="crlf-3")) + b"\r\n",
        request(mtp_server, *jade_body(mtp_server, peer, conversation="crlf-4")),
    )
    assert [a["status"] for a in answers] == [200, 200, 200, 200], answers
    got = sorted(peer.next().param("conversation-id") or "" for _ in range(4))
    assert got == ["crlf-1", "crlf-2", "crlf-3", "crlf-4"]
    assert peer.quiet(0.5)  # and each was delivered once
    assert handled(mtp_server) == before + 4


def test_a_client_that_reads_answers_as_jade_does_keeps_its_connection(
        mtp_server: ServerProcess, peer: Peer) -> None:
    # JADE's MTP reads the status line and headers of an answer and never its body, then
    # sends the next message on the same connection: a body would be read in place of the
    # next answer (a stall until the server closes the connection, then JADE sends the
    # message again).
    before = handled(mtp_server)
    statuses = jade_client(mtp_server, *(
        request(mtp_server, *jade_body(mtp_server, peer, conversation=f"jade-{n}"))
        for n in range(3)))
    assert statuses == [200, 200, 200]
    got = sorted(peer.next().param("conversation-id") or "" for _ in range(3))
    assert got == ["jade-0", "jade-1", "jade-2"]
    assert peer.quiet(0.5) and handled(mtp_server) == before + 3


# -- outbound from local senders ----------------------------------------------------------------
def test_a_client_message_to_another_platform_reaches_it(mtp_server: ServerProcess,
                                                         peer: Peer) -> None:
    response = mtp_server.http.post("/api/v1/messages", json={
        "performative": "inform", "receiver": ["x@other"], "addresses": {"x@other": [peer.url]},
        "conversation_id": "out-1", "content": {"n": 1}})
    assert response.status_code == 202, response.text
    sender = response.json()["message"]["sender"]
    got = peer.next()
    assert got.names("intended-receiver") == ["x@other"]
    assert got.names("from") == [f"{sender}@{PLATFORM}"]
    assert got.param("conversation-id") == "out-1"
    assert json.loads(got.param("content") or "") == {"n": 1}
    metrics = mtp_server.http.get("/metrics").text
    assert re.search(r"^caxton_mtp_messages_sent_total [1-9]", metrics, re.M)


def test_the_platform_address_book_names_agents_of_other_platforms(mtp_server: ServerProcess,
                                                                   peer: Peer) -> None:
    unknown = mtp_server.cli("messages", "send", "--to", "x@Other", check=False)
    assert unknown.returncode == 1 and "no agent named 'x@Other'" in unknown.stderr
    assert mtp_server.cli("platforms", "add", "Other", peer.url).stdout.strip() == (
        f"added Other: {peer.url}")
    sent = mtp_server.cli("messages", "send", "--to", "x@other", "--content", '"via book"',
                          "--conversation-id", "book-1")
    assert "sent" in sent.stdout
    got = peer.next()
    assert got.names("intended-receiver") == ["x@other"] and got.urls("to") == [peer.url]
    assert got.param("content") == "via book"
    # REST and gRPC see the same book; a second add replaces the URLs.
    again = mtp_server.http.put("/api/v1/platforms/OTHER", json={"urls": [peer.url, peer.url]})
    assert again.status_code == 200, again.text
    assert again.json() == {"name": "OTHER", "urls": [peer.url], "source": "api"}
    listed = mtp_server.cli("platforms", "list", "--transport", "grpc", "-o", "json").stdout
    assert json.loads(listed) == [{"name": "OTHER", "urls": [peer.url], "source": "api"}]
    for bad, says in ((f"{PLATFORM.lower()}", "own platform"), ("Other", "is not an http")):
        url = "ftp://x" if says.startswith("is not") else peer.url
        refused = mtp_server.http.put(f"/api/v1/platforms/{bad}", json={"urls": [url]})
        assert refused.status_code == 400 and says in refused.json()["message"], refused.text
    # The protocol drivers check addresses as messages have them checked.
    for addresses, says in (({"z@else": [peer.url]}, "not the sender, a receiver"),
                            ({"y@nowhere": "http://x"}, "must be a list of URLs")):
        refused = mtp_server.http.post("/api/v1/protocols/contract-net", json={
            "receiver": ["y@nowhere"], "addresses": addresses, "deadline_s": 1})
        assert refused.status_code == 400 and says in refused.json()["message"], refused.text
    # Explicit addresses win, and reach agents of platforms the book does not know.
    mtp_server.cli("messages", "send", "--to", "y@nowhere", "--address", f"y@nowhere={peer.url}",
                   "--content", '"explicit"')
    assert peer.next().param("content") == "explicit"
    assert mtp_server.cli("platforms", "remove", "other", "--transport", "grpc").stdout.strip() \
        == "removed other"
    assert mtp_server.http.get("/api/v1/platforms").json() == {"platforms": []}
    gone = mtp_server.cli("platforms", "remove", "other", check=False)
    assert gone.returncode == 1 and "not in the address book (HTTP 404)" in gone.stderr
    assert mtp_server.cli("messages", "send", "--to", "x@Other", check=False).returncode == 1


def test_grpc_carries_transport_addresses(mtp_server: ServerProcess, peer: Peer) -> None:
    with CaxtonClient(mtp_server.grpc_target, token=mtp_server.token) as c:
        c.send({"performative": "inform", "receiver": ["y@other"],
                "addresses": {"y@other": [peer.url]}, "conversation_id": "out-grpc",
                "content": "via grpc"})
    got = peer.next()
    assert got.names("to") == ["y@other"] and got.param("content") == "via grpc"


def test_an_unreachable_platform_gets_the_sender_a_failure(mtp_server: ServerProcess) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/acc"
    response = mtp_server.http.post("/api/v1/messages", params={"wait": "true", "timeout": "30"},
                                    json={"performative": "request", "receiver": ["z@gone"],
                                          "addresses": {"z@gone": [dead]}, "content": 1})
    assert response.status_code == 200, response.text
    reply = response.json()["reply"]
    assert (reply["performative"], reply["sender"]) == ("failure", "ams")
    assert reply["content"]["receiver"] == "z@gone"
    assert "FIPA HTTP MTP" in reply["content"]["reason"] and dead in reply["content"]["reason"]
    metrics = mtp_server.http.get("/metrics").text
    assert re.search(r"^caxton_mtp_messages_failed_total [1-9]", metrics, re.M)


def test_two_caxton_platforms_talk_over_the_mtp(mtp_server: ServerProcess,
                                                tmp_path: Path) -> None:
    beta = ServerProcess(tmp_path / "beta", env={  # alpha is in beta's address book
        "CAXTON_PLATFORM_NAME": "beta", "CAXTON_PLATFORMS": f"{PLATFORM}={acc(mtp_server)}"}
                         ).start()
    try:
        response = beta.http.post(
            "/api/v1/messages", params={"wait": "true", "timeout": "20"},
            json={"performative": "request", "receiver": [f"echo@{PLATFORM}"],
                  "addresses": {f"echo@{PLATFORM}": [acc(mtp_server)]},
                  "conversation_id": "alpha-beta", "content": {"ping": [1, "two"]}})
        assert response.status_code == 200, response.text
        sent, reply = response.json()["message"], response.json()["reply"]
        assert (reply["performative"], reply["sender"]) == ("inform", f"echo@{PLATFORM}")
        assert reply["content"] == {"ping": [1, "two"]}
        assert reply["in_reply_to"] == sent["message_id"]
        assert reply["addresses"] == {f"echo@{PLATFORM}": [acc(mtp_server)]}
        seen = mtp_server.http.get("/api/v1/conversations/alpha-beta").json()["messages"]
        assert seen[0]["sender"] == f"{sent['sender']}@beta"
        assert seen[0]["message_id"] == sent["message_id"]
    finally:
        beta.stop()


def test_traces_continue_across_the_mtp(tmp_path: Path, examples: Path, peer: Peer) -> None:
    otlp = OtlpReceiver()
    traced = ServerProcess(tmp_path / "traced", env={
        "CAXTON_PLATFORM_NAME": PLATFORM, "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.url,
        "CAXTON_MTP_ALLOWED_HOSTS": "127.0.0.1"}).start()
    trace_id, parent = TRACE.split("-")[1:3]
    try:
        traced.deploy(examples / "c" / "echo.wasm", "echo")
        answer = post(traced, *jade_body(traced, peer, conversation="conv-traced",
                                         extra=f":X-caxton-traceparent {TRACE}"))
        assert answer["status"] == 200, answer
        reply = peer.next()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "handle echo" not in {
                s.name for s in otlp.spans}:
            time.sleep(0.1)
    finally:
        traced.stop()
        otlp.server.shutdown()
        otlp.server.server_close()
    spans = {s.name: s for s in otlp.spans if s.trace_id.hex() == trace_id}
    received, handled = spans["send request"], spans["handle echo"]
    assert received.parent_span_id.hex() == parent  # the other platform's span
    assert handled.parent_span_id == received.span_id
    # The reply goes back in the same trace, as a child of the handler's span.
    _, back_trace, back_parent, _ = (reply.param("X-caxton-traceparent") or "").split("-")
    assert (back_trace, back_parent) == (trace_id, handled.span_id.hex())
    assert reply.headers["traceparent"] == reply.param("X-caxton-traceparent")


def test_the_address_book_survives_a_restart_and_keeps_config_entries(tmp_path: Path) -> None:
    env = {"CAXTON_PLATFORMS": "Fixed=http://127.0.0.1:9/acc"}
    first = ServerProcess(tmp_path / "book", env=env).start()
    try:
        first.cli("platforms", "add", "JadePlat", "http://127.0.0.1:7778/acc",
                  "http://127.0.0.1:7779/acc")
    finally:
        first.stop()
    second = ServerProcess(tmp_path / "book", env=env).start()
    try:
        table = second.cli("platforms", "list").stdout
        assert "JadePlat" in table and "http://127.0.0.1:7779/acc" in table and "config" in table
        assert second.http.get("/api/v1/platforms").json()["platforms"] == [
            {"name": "Fixed", "urls": ["http://127.0.0.1:9/acc"], "source": "config"},
            {"name": "JadePlat", "urls": ["http://127.0.0.1:7778/acc",
                                          "http://127.0.0.1:7779/acc"], "source": "api"}]
        fixed = second.cli("platforms", "remove", "fixed", check=False)
        assert fixed.returncode == 1 and "server config" in fixed.stderr and "409" in fixed.stderr
    finally:
        second.stop()
