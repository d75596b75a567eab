"""The FIPA HTTP MTP as an attacker sees it, against real servers: where the outbound MTP may
POST (the platform address book and ``mtp_allowed_hosts``, never the server itself, never an
``/api/`` path, no redirects), and who may claim to send on ``/acc`` (no agent of ours).

Other platforms are HTTP endpoints the test runs on 127.0.0.1 (``mtp_peer.Peer``)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import ServerProcess
from tests.integration.mtp_peer import PLATFORM, Peer, acc, jade_body, post

STOP = "/api/v1/agents/victim/stop"


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/", 1)[0])


def _close(*peers: Peer) -> None:
    for endpoint in peers:
        endpoint.server.shutdown()
        endpoint.server.server_close()


@pytest.fixture(scope="module")
def peers() -> Iterator[tuple[Peer, Peer]]:
    """Two other platforms: ``listed`` is in the guarded server's address book, ``other`` is
    not (it is reached only where a server allows its host)."""
    listed, other = Peer(), Peer()
    yield listed, other
    _close(listed, other)


def _server(path: Path, examples: Path, env: dict[str, str]) -> ServerProcess:
    proc = ServerProcess(path, env={"CAXTON_PLATFORM_NAME": PLATFORM, **env}).start()
    proc.deploy(examples / "c" / "echo.wasm", "echo")
    proc.deploy(examples / "c" / "echo.wasm", "victim")
    return proc


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory, examples: Path,
            peers: tuple[Peer, Peer]) -> Iterator[ServerProcess]:
    """The default: no allowed hosts but the pattern ``localhost``; ``Listed`` in the book."""
    listed, _ = peers
    proc = _server(tmp_path_factory.mktemp("guarded") / "data", examples, {
        "CAXTON_PLATFORMS": f"Listed={listed.url}", "CAXTON_MTP_ALLOWED_HOSTS": "localhost"})
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory, examples: Path
                ) -> Iterator[ServerProcess]:
    """``mtp_allowed_hosts = "*"``: any host, with metrics on a port of their own."""
    proc = _server(tmp_path_factory.mktemp("open") / "data", examples, {
        "CAXTON_MTP_ALLOWED_HOSTS": "*", "CAXTON_METRICS_PORT": "0"})
    yield proc
    proc.stop()


def logged(server: ServerProcess) -> list[dict]:
    """The server's log events (JSON lines)."""
    return [json.loads(line) for line in server.stderr().splitlines()
            if line.startswith("{")]


def metric(server: ServerProcess, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", server.http.get("/metrics").text, re.M)
    return float(found[1]) if found else 0.0


def handled(server: ServerProcess, agent: str = "echo") -> int:
    return int(server.http.get(f"/api/v1/agents/{agent}").json()["stats"]["handled"])


def stops(server: ServerProcess) -> float:
    """API requests the server has answered on the victim's stop route."""
    text = server.http.get("/metrics").text
    return sum(float(m[1]) for m in re.finditer(
        r'^caxton_api_requests_total\{[^}]*route="/api/v1/agents/\{name\}/stop"[^}]*\} (\S+)$',
        text, re.M))


def wait_for(check: object, timeout: float = 30.0) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def send(server: ServerProcess, receiver: str, url: str | None = None) -> dict:
    """A client's request to ``receiver`` (at ``url``), waiting for the first answer."""
    message: dict = {"performative": "request", "receiver": [receiver], "content": 1}
    if url is not None:
        message["addresses"] = {receiver: [url]}
    response = server.http.post("/api/v1/messages", params={"wait": "true", "timeout": "30"},
                                json=message)
    assert response.status_code == 200, response.text
    reply: dict = response.json()["reply"]
    return reply


def refused(reply: dict, says: str) -> None:
    assert (reply["performative"], reply["sender"]) == ("failure", "ams"), reply
    assert reply["content"]["error"] == "undeliverable"
    assert says in reply["content"]["reason"], reply["content"]["reason"]


# -- outbound: only where configured ------------------------------------------------------------
@pytest.mark.parametrize("which", ["guarded", "open_server"])
def test_a_reply_address_on_the_servers_own_api_is_refused(
        which: str, request: pytest.FixtureRequest, peers: tuple[Peer, Peer]) -> None:
    # The attack: a foreign message whose sender "lives" at the server's own stop endpoint;
    # echo's reply would be a POST there, stopping victim.
    server: ServerProcess = request.getfixturevalue(which)
    before = (handled(server), metric(server, "caxton_mtp_destinations_refused_total"))
    answer = post(server, *jade_body(server, peers[0], conversation=f"attack-{which}",
                                     sender_url=f"{server.url}{STOP}"))
    assert answer["status"] == 200, answer  # the body is fine; the reply is what is refused
    wait_for(lambda: metric(server, "caxton_mtp_destinations_refused_total") > before[1])
    assert handled(server) >= before[0] + 1
    assert server.http.get("/api/v1/agents/victim").json()["state"] == "running"
    assert stops(server) == 0
    assert "outbound MTP address refused" in server.stderr()


@pytest.mark.parametrize("address", [
    "http://127.0.0.1:{port}/acc", "http://localhost:{port}/acc", "http://LOCALHOST:{port}/acc",
    "http://127.0.0.2:{port}/acc", "http://0.0.0.0:{port}/acc", "http://[::1]:{port}/acc",
    "http://[::ffff:127.0.0.1]:{port}/acc", "http://{grpc}/acc", "http://127.0.0.1:{metrics}/x",
])
def test_the_servers_own_addresses_are_refused_even_when_any_host_is_allowed(
        open_server: ServerProcess, address: str) -> None:
    (metrics_port,) = [e["port"] for e in logged(open_server)
                       if e.get("event") == "caxton metrics listening"]
    url = address.format(port=_port(open_server.url), grpc=open_server.grpc_target,
                         metrics=metrics_port)
    sent = metric(open_server, "caxton_mtp_messages_sent_total")
    refused(send(open_server, "x@self", url), "is this server")
    assert metric(open_server, "caxton_mtp_messages_sent_total") == sent


def test_an_api_path_is_refused_on_any_host(open_server: ServerProcess,
                                            peers: tuple[Peer, Peer]) -> None:
    _, other = peers
    base = other.url.removesuffix("/acc")
    for path in ("/api/v1/agents/victim/stop", "/API/v1/x", "/a/../api/v1/x", "/%61pi/v1/x"):
        refused(send(open_server, "x@far", base + path), "/api/")
    assert other.quiet(0.5)


def test_only_listed_platforms_and_allowed_hosts_are_reached(
        guarded: ServerProcess, peers: tuple[Peer, Peer]) -> None:
    listed, other = peers
    failed = metric(guarded, "caxton_mtp_messages_failed_total")
    refusals = metric(guarded, "caxton_mtp_destinations_refused_total")
    # Not in the book, its host not allowed: refused before any connection.
    refused(send(guarded, "x@far", other.url), "mtp_allowed_hosts")
    assert other.quiet(1.0)
    assert metric(guarded, "caxton_mtp_messages_failed_total") == failed + 1
    assert metric(guarded, "caxton_mtp_destinations_refused_total") == refusals + 1
    assert "outbound MTP address refused" in guarded.stderr()
    # The book's URLs are reached, by name or as an explicit address...
    guarded.http.post("/api/v1/messages", json={"performative": "inform",
                                                "receiver": ["a@listed"], "content": "book"})
    assert listed.next().param("content") == "book"
    guarded.http.post("/api/v1/messages", json={
        "performative": "inform", "receiver": ["b@anywhere"], "content": "explicit",
        "addresses": {"b@anywhere": [listed.url.upper().replace("/ACC", "/acc")]}})
    assert listed.next().param("content") == "explicit"
    # ...so are those added to it at run time, and hosts matching mtp_allowed_hosts.
    guarded.cli("platforms", "add", "Later", other.url)
    try:
        guarded.http.post("/api/v1/messages", json={"performative": "inform",
                                                    "receiver": ["c@later"], "content": "added"})
        assert other.next().param("content") == "added"
    finally:
        guarded.cli("platforms", "remove", "Later")
    refused(send(guarded, "x@far", other.url), "mtp_allowed_hosts")  # removed: refused again
    by_name = other.url.replace("127.0.0.1", "localhost")
    guarded.http.post("/api/v1/messages", json={"performative": "inform", "receiver": ["d@far"],
                                                "content": "allowed", "addresses": {
                                                    "d@far": [by_name]}})
    assert other.next().param("content") == "allowed"


def test_any_host_is_reached_with_a_star(open_server: ServerProcess,
                                         peers: tuple[Peer, Peer]) -> None:
    _, other = peers
    open_server.http.post("/api/v1/messages", json={
        "performative": "inform", "receiver": ["e@far"], "content": "star",
        "addresses": {"e@far": [other.url]}})
    assert other.next().param("content") == "star"


def test_a_foreign_sender_is_answered_only_where_its_host_is_allowed(
        guarded: ServerProcess, peers: tuple[Peer, Peer]) -> None:
    _, other = peers
    at_allowed = other.url.replace("127.0.0.1", "localhost")
    answer = post(guarded, *jade_body(guarded, other, conversation="foreign-ok",
                                      sender_url=at_allowed))
    assert answer["status"] == 200, answer
    reply = other.next()
    assert reply.param("conversation-id") == "foreign-ok" and reply.urls("to") == [at_allowed]
    refusals = metric(guarded, "caxton_mtp_destinations_refused_total")
    answer = post(guarded, *jade_body(guarded, other, conversation="foreign-unlisted"))
    assert answer["status"] == 200, answer
    wait_for(lambda: metric(guarded, "caxton_mtp_destinations_refused_total") > refusals)
    assert other.quiet(1.0)


def test_redirects_are_not_followed(open_server: ServerProcess, peers: tuple[Peer, Peer]
                                    ) -> None:
    _, target = peers
    for location in (target.url, f"{open_server.url}{STOP}"):
        redirecting = Peer(redirect=location)
        try:
            refused(send(open_server, "x@moved", redirecting.url), "answered HTTP 307")
            assert redirecting.next(5).param("content") == "1"  # it was asked once...
            assert redirecting.quiet(0.5)
        finally:
            _close(redirecting)
    assert target.quiet(1.0)  # ...and nothing followed the redirect
    assert stops(open_server) == 0
    assert open_server.http.get("/api/v1/agents/victim").json()["state"] == "running"


# -- inbound: /acc senders are agents of other platforms --------------------------------------
@pytest.mark.parametrize(("sender", "field"), [
    ("echo", "sender"), (f"echo@{PLATFORM}", "sender"), ("ECHO@caxtontest", "sender"),
    ("df@caxtontest", "sender"), ("AMS@CaxtonTest", "sender"), ("df", "sender"),
    ("nobody@caxtontest", "sender"), ("x@other at our acc", "sender"),
    ("reply-to echo", "reply-to"),
])
def test_acc_refuses_a_sender_that_claims_to_be_one_of_ours(
        guarded: ServerProcess, peers: tuple[Peer, Peer], sender: str, field: str) -> None:
    listed, other = peers
    extra, url = "", None
    if sender == "x@other at our acc":
        sender, url = "x@other", acc(guarded)
    elif sender.startswith("reply-to "):
        extra = f":reply-to (set (agent-identifier :name {sender.split()[1]}))"
        sender = "buyer@jade"
    cid = "spoof-" + re.sub(r"\W", "-", f"{sender}-{extra}-{url}")
    before = (handled(guarded), metric(guarded, "caxton_mtp_senders_refused_total"))
    # The attack that made 1,001 echo-to-echo messages: echo "asks" echo.
    answer = post(guarded, *jade_body(guarded, listed, sender=sender, sender_url=url,
                                      conversation=cid, extra=extra))
    assert answer["status"] == 403, answer
    body = json.loads(answer["body"])
    assert body["code"] == "sender_refused" and field in body["message"], body
    assert metric(guarded, "caxton_mtp_senders_refused_total") == before[1] + 1
    time.sleep(1.0)  # what a delivery would cause comes now
    assert handled(guarded) == before[0]
    assert guarded.http.get(f"/api/v1/conversations/{cid}").status_code == 404
    assert listed.quiet(0.2) and other.quiet(0.2)
    assert "MTP sender refused" in guarded.stderr()
