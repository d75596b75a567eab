"""The outbound FIPA HTTP MTP: a router ``Transport`` that POSTs messages to other platforms.

``carries`` says yes for a receiver the message has an ``http://`` or ``https://`` address for,
or whose platform (``NAME@PLATFORM``) is in the platform address book.
``forward`` runs on the routing thread, so it only queues: worker threads render the envelope and
the SC00070 payload (``foreign.outbound``) and POST them with one shared keep-alive connection
pool. Each destination URL always goes to the same worker, so messages to one platform keep
their order and one dead platform holds up only the destinations that share its worker.

The answer's status line decides: a ``2xx`` is success whatever follows it (JADE answers ``200``
without a Content-Length and keeps the connection open, so its body never ends), and a message
a peer has taken is never sent again. Connection errors, timeouts before the status line and
5xx/429 answers are retried with exponential back-off, trying the receiver's addresses in turn;
anything else, or the last attempt failing, counts as failed and the local sender gets a FIPA
``failure`` from ``ams`` (``bounce``). A full queue fails the message at once the same way: a
slow peer must not hold memory or the router.

Where the server will POST is limited (``destinations``): to the platform address book's URLs
and the hosts ``allowed_hosts`` (the ``mtp_allowed_hosts`` setting) allows, never to the server
itself, never to an ``/api/`` path, without following redirects. A refused address fails the
message at once, before any connection, like any other failure (``refused`` counts them).
"""

from __future__ import annotations

import contextlib
import queue
import ssl
import threading
import time
import zlib
from collections.abc import Callable

import httpx
import structlog

from caxton.api.mtp import foreign
from caxton.api.mtp.destinations import Destinations, GuardedTransport, Known, OwnAddresses
from caxton.codecs import mtp
from caxton.domain.acl import AclMessage
from caxton.errors import DestinationRefusedError

log = structlog.get_logger("caxton.mtp")
Bounce = Callable[[AclMessage, str, str], None]
Settle = Callable[[str, str], None]  # (message id, receiver): no longer owed
Book = Callable[[str], tuple[str, ...]]  # agent NAME@PLATFORM -> its platform's MTP URLs
_Job = tuple[AclMessage, str, tuple[str, ...]]
_SCHEMES = ("http://", "https://")
_MAX_ANSWER_BYTES = 64 * 1024  # of an answer's body read to keep its connection for reuse


class HttpTransport:
    def __init__(self, *, platform: str, bounce: Bounce, acc_url: str = "", workers: int = 4,
                 capacity: int = 10_000, attempts: int = 4, backoff_s: float = 0.25,
                 timeout_s: float = 10.0, client: httpx.Client | None = None,
                 allowed_hosts: tuple[str, ...] = (), settle: Settle | None = None,
                 book: Book | None = None, tls: ssl.SSLContext | None = None,
                 known: Known | None = None) -> None:
        self.platform = platform
        # The platform address book: where NAME@PLATFORM lives when the message gives no
        # http(s) address for it, and (``known``) whether a URL is one of its entries'.
        self._book: Book = book or (lambda _name: ())
        self.destinations = Destinations(allowed_hosts, known)
        # With ``settle`` the router records each message as owed until it is sent or given
        # up, so a message still queued or retrying when the process dies is sent after the
        # restart (``Mtp.recover``).
        self._settle = settle
        self.durable = settle is not None
        self.acc_url = acc_url  # our own /acc, as the senders' address; set once we listen
        self._bounce = bounce
        self._attempts = max(1, attempts)
        self._backoff_s = backoff_s
        self._client = client or httpx.Client(
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
            # https:// peers: the CAs (and our client certificate) of mtp_tls_* when given
            transport=GuardedTransport(self.destinations.own, httpx.Limits(
                max_connections=64, max_keepalive_connections=32), ssl_context=tls),
            follow_redirects=False, trust_env=False,  # it goes where it was checked to go
            headers={"Cache-Control": "no-cache", "Mime-Version": "1.0",
                     "User-Agent": "caxton-mtp"})
        per_worker = max(1, capacity // max(1, workers))
        self._queues: list[queue.Queue[_Job | None]] = [
            queue.Queue(per_worker) for _ in range(max(1, workers))]
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self.sent = 0
        self.failed = 0
        self.retried = 0
        self.refused = 0  # messages failed because no address of theirs may be posted to

    # -- the router's side (routing thread: never blocks) --------------------------------------
    def carries(self, msg: AclMessage, receiver: str) -> bool:
        return bool(self.urls(msg, receiver))

    def urls(self, msg: AclMessage, receiver: str) -> tuple[str, ...]:
        """Where ``receiver`` is sent: the message's http(s) addresses for it, else those the
        address book has for its platform."""
        given = tuple(u for u in msg.addresses.get(receiver, ()) if u.lower().startswith(_SCHEMES))
        return given or self._book(receiver)

    @property
    def own(self) -> OwnAddresses:
        """Where this server listens: the outbound MTP never POSTs there."""
        return self.destinations.own

    @property
    def acc_url(self) -> str:
        return self._acc_url

    @acc_url.setter
    def acc_url(self, url: str) -> None:
        self._acc_url = url
        self.destinations.own.acc_url(url)

    def allows(self, url: str) -> bool:
        """Whether the MTP may POST to ``url`` (see ``Destinations``; no lookup)."""
        return self.destinations.refusal(url) is None

    def forward(self, msg: AclMessage, receiver: str) -> None:
        urls = self.urls(msg, receiver)
        if not urls:
            self._give_up(msg, receiver, "no http:// or https:// address")
            return
        refusals = {url: self.destinations.refusal(url) for url in urls}
        allowed = tuple(url for url, why in refusals.items() if why is None)
        if not allowed:
            url, why = next(iter(refusals.items()))
            self._refuse(msg, receiver, url, str(why))
            return
        urls = allowed
        if self._stopping.is_set():
            if not self.durable:  # else it stays owed, for the next start
                self._give_up(msg, receiver, "the server is shutting down")
            return
        lane = self._queues[zlib.crc32(urls[0].encode()) % len(self._queues)]
        try:
            lane.put_nowait((msg, receiver, urls))
        except queue.Full:
            self._give_up(msg, receiver, "the outbound queue is full")

    @property
    def queued(self) -> int:
        return sum(q.qsize() for q in self._queues)

    # -- workers --------------------------------------------------------------------------------
    def start(self) -> None:
        for index, lane in enumerate(self._queues):
            thread = threading.Thread(target=self._work, args=(lane,), daemon=True,
                                      name=f"caxton-mtp-{index}")
            thread.start()
            self._threads.append(thread)

    def close(self, timeout_s: float = 5.0) -> None:
        """Send what is queued within ``timeout_s`` (no more retries), then stop."""
        self._stopping.set()
        for lane in self._queues:
            # A full lane's worker drains it, one attempt each, and stops when it is empty.
            with contextlib.suppress(queue.Full):
                lane.put_nowait(None)
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if any(thread.is_alive() for thread in self._threads):
            log.warning("outbound MTP messages still queued at shutdown", queued=self.queued)
        self._client.close()

    def _work(self, lane: queue.Queue[_Job | None]) -> None:
        while True:
            try:
                job = lane.get(timeout=0.5)
            except queue.Empty:
                if self._stopping.is_set():
                    return
                continue
            if job is None:
                return
            try:
                self.deliver(*job)
            except Exception:  # a worker must outlive any one message
                log.exception("outbound MTP delivery crashed", receiver=job[1])
                self.failed += 1

    def deliver(self, msg: AclMessage, receiver: str, urls: tuple[str, ...]) -> bool:
        """POST ``msg`` for ``receiver`` (on a worker thread); False when it failed for good."""
        try:
            out, to = foreign.outbound(msg, receiver, platform=self.platform,
                                       acc_url=self.acc_url, urls=urls)
            trace = foreign.traceparent(out)
            slots = (("X-traceparent", trace),) if trace else ()
            content_type, body = mtp.encode(out, to=(to,), user_defined=slots)
        except ValueError as exc:  # text XML or the payload cannot carry
            return self._give_up(msg, receiver, f"cannot encode the message: {exc}")
        headers = {"Content-Type": content_type}
        if trace:
            headers["traceparent"] = trace
        reason = "no attempt made"
        for attempt in range(self._attempts):
            if attempt:
                self.retried += 1
                if self._stopping.wait(self._backoff_s * 2 ** (attempt - 1)):
                    if self.durable:  # still owed: the next start sends it
                        log.info("outbound MTP message left for the next start",
                                 receiver=receiver, message_id=msg.message_id)
                        return False
                    break  # shutting down: no more waiting
            url = urls[attempt % len(urls)]
            try:
                status = self._post(url, body, headers)
            except DestinationRefusedError as exc:  # its name leads to this server
                return self._refuse(msg, receiver, url, exc.message)
            except httpx.HTTPError as exc:  # no status line: the peer may not have it
                reason = f"{url}: {type(exc).__name__}: {exc or 'no answer'}"
                continue
            if 200 <= status < 300:
                self.sent += 1
                if self._settle is not None:
                    self._settle(msg.message_id, receiver)
                return True
            reason = f"{url} answered HTTP {status}"
            if 300 <= status < 400:
                reason += " (redirects are not followed)"
            if status < 500 and status != 429:
                break  # the peer refused this message; sending it again will not help
        return self._give_up(msg, receiver, reason)

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """POST ``body`` and return the answer's status: the status line decides.

        The answer's body is read (and dropped) only when the peer framed it with a
        Content-Length or chunking, so the connection can carry the next message. JADE answers
        ``200`` with neither and keeps the connection open: its body ends only when the
        connection does, so waiting for it would time out and re-send a message the peer took.
        Such a connection is closed instead. Nothing after the status line is an error.
        """
        request = self._client.build_request("POST", url, content=body, headers=headers)
        response = self._client.send(request, stream=True)
        try:
            if _framed(response):
                with contextlib.suppress(httpx.HTTPError):
                    read = 0
                    for chunk in response.iter_raw():
                        read += len(chunk)
                        if read > _MAX_ANSWER_BYTES:
                            break  # not worth reading: the connection is closed instead
        finally:
            with contextlib.suppress(httpx.HTTPError):
                response.close()
        return response.status_code

    def _refuse(self, msg: AclMessage, receiver: str, url: str, why: str) -> bool:
        self.refused += 1
        log.warning("outbound MTP address refused", receiver=receiver, sender=msg.sender,
                    message_id=msg.message_id, url=url, reason=why)
        return self._give_up(msg, receiver, f"{url}: refused: {why}")

    def _give_up(self, msg: AclMessage, receiver: str, reason: str) -> bool:
        self.failed += 1
        log.warning("outbound MTP delivery failed", receiver=receiver, sender=msg.sender,
                    message_id=msg.message_id, reason=reason)
        self._bounce(msg, receiver, f"FIPA HTTP MTP: {reason}")
        if self._settle is not None:
            self._settle(msg.message_id, receiver)
        return False


def _framed(response: httpx.Response) -> bool:
    """Whether the answer says where its body ends (else it ends when the connection does)."""
    headers = response.headers
    return "content-length" in headers or "chunked" in headers.get("transfer-encoding", "").lower()
