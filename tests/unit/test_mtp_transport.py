"""Unit tests for the FIPA HTTP MTP's moving parts: the outbound transport (against an httpx
mock), the /acc endpoint (with a real router and an in-memory log) and absolute-form targets."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from caxton.api.mtp import AbsoluteFormTarget, AccEndpoint, HttpTransport
from caxton.codecs import mtp
from caxton.domain.acl import AclMessage, Performative, parse_message
from caxton.router.local import Router

ACC = "http://caxton.example:8080/acc"
PEER = "http://jade.example:7778/acc"
TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class Bounces:
    def __init__(self) -> None:
        self.got: list[tuple[AclMessage, str, str]] = []
        self.event = threading.Event()

    def __call__(self, msg: AclMessage, receiver: str, reason: str) -> None:
        self.got.append((msg, receiver, reason))
        self.event.set()


def _transport(handler: Callable[[httpx.Request], httpx.Response], **kw: Any
               ) -> tuple[HttpTransport, Bounces]:
    bounces = Bounces()
    kw.setdefault("allowed_hosts", ("*",))  # these tests are about sending, not where to
    transport = HttpTransport(platform="caxton", bounce=bounces, acc_url=ACC, backoff_s=0.001,
                              client=httpx.Client(transport=httpx.MockTransport(handler)), **kw)
    return transport, bounces


def _message(**extra: Any) -> AclMessage:
    return parse_message({"performative": "request", "sender": "alice",
                          "receiver": ["bob@jade", "carol"], "conversation_id": "c-1",
                          "addresses": {"bob@jade": ["ftp://nope", PEER]},
                          "content": {"n": 1}, **extra})


def test_carries_receivers_with_http_addresses_only() -> None:
    transport, _ = _transport(lambda _: httpx.Response(200))
    msg = _message(addresses={"bob@jade": ["HTTPS://x/acc"], "carol": ["iiop://x"]})
    assert transport.carries(msg, "bob@jade")
    assert not transport.carries(msg, "carol")
    assert not transport.carries(msg, "alice")


def test_deliver_posts_the_envelope_and_the_string_payload() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    transport, bounces = _transport(handler)
    msg = _message(trace_context={"traceparent": TRACE})
    assert transport.deliver(msg, "bob@jade", (PEER,))
    (request,) = seen
    assert str(request.url) == PEER
    assert request.headers["traceparent"] == TRACE
    envelope, payload = mtp.decode(request.headers["content-type"], request.content)
    assert [a.name for a in envelope.intended_receiver] == ["bob@jade"]
    assert envelope.from_ is not None and envelope.from_.name == "alice@caxton"
    assert envelope.from_.addresses == (ACC,)
    assert envelope.user_defined == (("X-traceparent", TRACE),)
    assert payload.receiver == ("bob@jade", "carol@caxton")
    assert payload.content == {"n": 1} and payload.conversation_id == "c-1"
    assert payload.trace_context == {"traceparent": TRACE}
    assert b"(request\n :sender (agent-identifier :name alice@caxton" in request.content
    assert (transport.sent, transport.failed, bounces.got) == (1, 0, [])


def test_connection_errors_are_retried_across_addresses() -> None:
    urls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        urls.append(str(request.url))
        if len(urls) < 3:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(503 if len(urls) == 3 else 200)

    transport, bounces = _transport(handler, attempts=5)
    assert transport.deliver(_message(), "bob@jade", (PEER, "http://backup/acc"))
    assert urls == [PEER, "http://backup/acc", PEER, "http://backup/acc"]
    assert (transport.sent, transport.retried, bounces.got) == (1, 3, [])


def test_the_sender_gets_a_failure_when_every_attempt_fails() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    transport, bounces = _transport(refuse, attempts=3)
    msg = _message()
    assert not transport.deliver(msg, "bob@jade", (PEER,))
    ((bounced, receiver, reason),) = bounces.got
    assert (bounced, receiver) == (msg, "bob@jade")
    assert reason == f"FIPA HTTP MTP: {PEER}: ConnectError: connection refused"
    assert (transport.failed, transport.retried) == (1, 2)


def test_a_refusal_by_the_peer_is_not_retried() -> None:
    calls: list[int] = []

    def handler(_: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(400)

    transport, bounces = _transport(handler)
    assert not transport.deliver(_message(), "bob@jade", (PEER,))
    assert len(calls) == 1
    assert bounces.got[0][2] == f"FIPA HTTP MTP: {PEER} answered HTTP 400"


def test_forward_queues_and_the_workers_send() -> None:
    done = threading.Event()
    order: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        _, msg = mtp.decode(request.headers["content-type"], request.content)
        order.append(str(msg.content))
        if len(order) == 20:
            done.set()
        return httpx.Response(200)

    transport, _ = _transport(handler, workers=3)
    transport.start()
    try:
        for n in range(20):
            transport.forward(_message(content=str(n)), "bob@jade")
        assert done.wait(10)
        assert order == [str(n) for n in range(20)]  # one destination: one worker, in order
    finally:
        transport.close(5)
    assert transport.sent == 20 and transport.queued == 0


def test_a_full_queue_fails_the_message_at_once() -> None:
    release = threading.Event()

    def slow(_: httpx.Request) -> httpx.Response:
        release.wait(10)
        return httpx.Response(200)

    transport, bounces = _transport(slow, workers=1, capacity=1)
    transport.start()
    try:
        transport.forward(_message(), "bob@jade")  # taken by the worker, which then blocks
        for _ in range(50):
            if transport.queued == 0:
                break
            threading.Event().wait(0.02)
        transport.forward(_message(), "bob@jade")  # fills the queue
        transport.forward(_message(), "bob@jade")  # refused
        assert bounces.event.wait(5)
        assert "queue is full" in bounces.got[0][2]
    finally:
        release.set()
        transport.close(5)
    assert transport.sent == 2 and transport.failed == 1


# -- the /acc endpoint -------------------------------------------------------------------------
class _Log:
    def message_statements(self, msg: AclMessage, durable: tuple[str, ...]) -> list[Any]:
        return []

    def submit(self, statements: list[Any], on_commit: Any = None) -> None:
        if on_commit is not None:
            on_commit(None)


class _Sink:
    durable = False

    def __init__(self) -> None:
        self.got: list[AclMessage] = []

    def refusal(self) -> str | None:
        return None

    def deliver(self, msg: AclMessage) -> str | None:
        self.got.append(msg)
        return None


class Client:
    """POSTs to an ASGI app in process (each call runs its own event loop)."""

    def __init__(self, app: Starlette) -> None:
        self._app = app

    def post(self, url: str, *, content: bytes, headers: dict[str, str]) -> httpx.Response:
        async def call() -> httpx.Response:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self._app),
                                         base_url="http://caxton.example") as client:
                return await client.post(url, content=content, headers=headers)

        return asyncio.run(call())


@pytest.fixture
def endpoint() -> Iterator[tuple[Client, _Sink, AccEndpoint]]:
    router = Router(_Log())
    sink = _Sink()
    router.register("echo", sink)
    acc = AccEndpoint(router, max_bytes=4096)
    app = Starlette(routes=[Route("/acc", acc.receive, methods=["POST"])])
    app.add_middleware(AbsoluteFormTarget)
    yield Client(app), sink, acc


def _post(client: Client, msg: AclMessage, url: str = "/acc") -> httpx.Response:
    content_type, body = mtp.encode(msg)
    return client.post(url, content=body, headers={"content-type": content_type})


def test_acc_delivers_and_answers_200(endpoint: tuple[Client, _Sink, AccEndpoint]) -> None:
    client, sink, acc = endpoint
    msg = AclMessage(Performative.INFORM, "buyer@jade", ("echo",), content="hi",
                     addresses={"buyer@jade": (PEER,)})
    response = _post(client, msg)
    assert response.status_code == 200
    assert response.content == b"" and response.headers["content-length"] == "0"  # as JADE reads
    content_type, body = mtp.encode(msg)
    asked = client.post("/acc", content=body, headers={"content-type": content_type,
                                                        "accept": "application/json"})
    assert asked.json() == {"message_id": msg.message_id, "receiver": ["echo"]}
    sink.got.pop()
    (got,) = sink.got
    assert (got.sender, got.content, got.addresses) == ("buyer@jade", "hi",
                                                        {"buyer@jade": (PEER,)})
    assert acc.received == 2


@pytest.mark.parametrize(("content_type", "body", "status", "code", "says"), [
    ("application/json", b"{}", 400, "malformed_envelope", "must be multipart/mixed"),
    ("multipart/mixed; boundary=x", b"--y\r\n", 400, "malformed_envelope",
     "no '--x' delimiter"),
    ("multipart/mixed", b"x" * 5000, 413, "payload_too_large", "exceeds the limit of 4096"),
])
def test_acc_refuses_what_it_cannot_read(endpoint: tuple[Client, _Sink, AccEndpoint],
                                         content_type: str, body: bytes, status: int, code: str,
                                         says: str) -> None:
    client, sink, acc = endpoint
    response = client.post("/acc", content=body, headers={"content-type": content_type})
    assert response.status_code == status
    assert response.json()["code"] == code and says in response.json()["message"]
    assert sink.got == [] and acc.rejected == 1


@pytest.mark.parametrize("target", [
    "http://caxton.example:8080/acc", "HTTPS://caxton.example/acc"])
def test_absolute_form_targets_reach_their_route(target: str) -> None:
    seen: list[tuple[str, bytes]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append((scope["path"], scope["raw_path"]))

    middleware = AbsoluteFormTarget(app)
    scope = {"type": "http", "path": target, "raw_path": target.encode()}
    asyncio.run(middleware(scope, None, None))
    assert seen == [("/acc", b"/acc")]
    asyncio.run(middleware({"type": "http", "path": "http://h", "raw_path": b"http://h"},
                           None, None))
    assert seen[-1] == ("/", b"/")


def test_forward_after_close_fails_the_message() -> None:
    transport, bounces = _transport(lambda _: httpx.Response(200))
    transport.start()
    transport.close(1)
    transport.forward(_message(), "bob@jade")
    assert bounces.got[0][2] == "FIPA HTTP MTP: the server is shutting down"


def test_allowed_hosts_match_host_or_host_and_port() -> None:
    transport, _ = _transport(lambda r: httpx.Response(200),
                              allowed_hosts=("*.example.org", "10.0.0.7:7778"))
    assert transport.allows("http://a.example.org/acc")
    assert transport.allows("https://B.Example.org:9000/acc")
    assert transport.allows("http://10.0.0.7:7778/acc")
    assert not transport.allows("http://10.0.0.7:7779/acc")
    assert not transport.allows("http://169.254.169.254/latest/meta-data")
    assert not transport.allows("http://[::1")
    anything, _ = _transport(lambda r: httpx.Response(200), allowed_hosts=("*",))
    assert anything.allows("http://169.254.169.254/")
    nothing, _ = _transport(lambda r: httpx.Response(200), allowed_hosts=())
    assert not nothing.allows("http://a.example.org/acc")  # by default: the book's URLs only


def test_a_receiver_outside_the_allowed_hosts_gets_nothing_and_the_sender_is_told() -> None:
    posted: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        posted.append(request)
        return httpx.Response(200)

    transport, bounces = _transport(record, allowed_hosts=("platform.example.org",))
    msg = _message()
    transport.forward(msg, "bob@jade")
    ((bounced, receiver, reason),) = bounces.got
    assert (bounced, receiver) == (msg, "bob@jade")
    assert "mtp_allowed_hosts" in reason
    assert posted == []


# -- peers that answer the way JADE does ----------------------------------------------------------
class _JadeLikeAcc:
    """An /acc on a real socket that answers each POST the way JADE's HTTP MTP does:
    ``HTTP/1.1 200 OK`` with ``Connection: keep-alive``, no Content-Length and no chunking, and
    the connection left open (``framed`` adds a Content-Length, as other peers send)."""

    def __init__(self, *, status: int = 200, framed: bool = False) -> None:
        self.requests: list[bytes] = []
        self._status, self._framed = status, framed
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}/acc"
        self._stop = threading.Event()
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._open.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buf = b""
        with contextlib.suppress(OSError):
            while not self._stop.is_set():
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, buf = buf.split(b"\r\n\r\n", 1)
                size = int(re.search(rb"(?i)content-length:\s*(\d+)", head)[1])  # type: ignore[index]
                while len(buf) < size:
                    buf += conn.recv(65536)
                self.requests.append(buf[:size])
                buf = buf[size:]
                answer = f"HTTP/1.1 {self._status} OK\r\nConnection: keep-alive\r\n"
                answer += "Content-Length: 2\r\n\r\nok" if self._framed else "\r\n"
                conn.sendall(answer.encode())

    def close(self) -> None:
        self._stop.set()
        self._server.close()
        for conn in self._open:
            conn.close()


@pytest.fixture
def jade_like() -> Iterator[_JadeLikeAcc]:
    acc = _JadeLikeAcc()
    yield acc
    acc.close()


def test_a_200_without_a_body_length_is_success_at_once_and_sent_once(
        jade_like: _JadeLikeAcc) -> None:
    bounces = Bounces()
    transport = HttpTransport(platform="caxton", bounce=bounces, acc_url=ACC, timeout_s=3.0,
                              backoff_s=0.01)
    msg = _message(addresses={"bob@jade": [jade_like.url]})
    try:
        started = time.monotonic()
        for _ in range(3):  # the same keep-alive pool, message after message
            assert transport.deliver(msg, "bob@jade", (jade_like.url,))
        took = time.monotonic() - started
    finally:
        transport.close(1)
    assert len(jade_like.requests) == 3  # each POST once: nothing re-sent
    assert (transport.sent, transport.retried, transport.failed, bounces.got) == (3, 0, 0, [])
    assert took < 2.5, took  # never waited for a body the peer does not end (timeout: 3 s)


def test_a_framed_answer_is_read_and_the_connection_reused() -> None:
    acc = _JadeLikeAcc(framed=True)
    transport = HttpTransport(platform="caxton", bounce=Bounces(), acc_url=ACC, timeout_s=3.0)
    try:
        for _ in range(3):
            assert transport.deliver(_message(), "bob@jade", (acc.url,))
    finally:
        transport.close(1)
        acc.close()
    assert len(acc.requests) == 3 and len(acc._open) == 1  # one connection for all three


def test_a_refusal_without_a_body_length_is_not_retried() -> None:
    acc = _JadeLikeAcc(status=403)
    bounces = Bounces()
    transport = HttpTransport(platform="caxton", bounce=bounces, acc_url=ACC, timeout_s=3.0,
                              backoff_s=0.01)
    try:
        assert not transport.deliver(_message(), "bob@jade", (acc.url,))
    finally:
        transport.close(1)
        acc.close()
    assert len(acc.requests) == 1
    assert bounces.got[0][2] == f"FIPA HTTP MTP: {acc.url} answered HTTP 403"
