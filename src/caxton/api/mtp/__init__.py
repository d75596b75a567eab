"""The FIPA HTTP MTP (SC00084 with the XML envelope of SC00085): how JADE-style platforms and
Caxton send each other messages.

- ``inbound``: ``POST /acc`` on the REST port, and the absolute-URI request lines MTP clients use;
- ``outbound``: the router ``Transport`` that POSTs to agents with ``http(s)://`` addresses;
- ``destinations``: where it may POST (the address book, ``mtp_allowed_hosts``, never here);
- ``senders``: ``/acc`` takes no message that claims to come from one of our agents;
- ``resolver``: ``name@<platform_name>`` means local agent ``name``;
- ``foreign``: what a message looks like to another platform, and one from there to us.

``Mtp.attach`` wires all of it into a router; the composition root calls it once.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import orjson
import structlog

from caxton.api.acceptance import AcceptanceLedger
from caxton.api.mtp.destinations import Known
from caxton.api.mtp.inbound import AbsoluteFormTarget, AccEndpoint
from caxton.api.mtp.outbound import Book, HttpTransport
from caxton.api.mtp.resolver import PlatformResolver, guid
from caxton.domain.nesting import DEFAULT_MAX_CONTENT_DEPTH
from caxton.router.local import Router
from caxton.store.quarantine import UnreadableError, stored_message, warn
from caxton.store.repositories import DeliveryRepository, PendingDelivery
from caxton.store.writer import OnCommit, Statement
from caxton.telemetry.tracing import Tracing

log = structlog.get_logger("caxton.mtp")
__all__ = ["AbsoluteFormTarget", "AccEndpoint", "HttpTransport", "Mtp", "PlatformResolver",
           "guid"]


class DeliveryLog(Protocol):
    """The store's part the MTP needs: submitting writes and reading what is owed."""

    @property
    def deliveries(self) -> DeliveryRepository: ...

    def submit(self, statements: list[Statement], on_commit: OnCommit | None = None) -> None: ...


@dataclass
class Mtp:
    platform: str
    transport: HttpTransport
    endpoint: AccEndpoint
    # Whether a receiver is a local agent (those the host redelivers itself after a restart).
    local: Callable[[str], object | None] = lambda _name: None
    # What a previous run still owed (the store's pending deliveries); None: not durable.
    owed: Callable[[], list[PendingDelivery]] | None = None
    # Makes an owed message that cannot be read back a dead letter, with the reason.
    quarantine: Callable[[PendingDelivery, str], None] | None = None

    @classmethod
    def attach(cls, router: Router, *, platform: str, acc_url: str, max_bytes: int,
               max_depth: int = DEFAULT_MAX_CONTENT_DEPTH,
               tracing: Tracing | None = None, allowed_hosts: tuple[str, ...] = (),
               deliveries: DeliveryLog | None = None,
               acceptances: AcceptanceLedger | None = None, book: Book | None = None,
               tls: ssl.SSLContext | None = None, known: Known | None = None) -> Mtp:
        """Add the resolver and the transport to ``router``; start the outbound workers.

        With ``deliveries`` outbound messages are durable: owed until sent or given up, and
        what a previous run still owed is sent again once we listen (``serving``). ``book``
        gives the MTP URLs of an agent's platform (the platform address book), ``known``
        whether a URL is one of the book's (the MTP may POST to those, and to hosts
        ``allowed_hosts`` allows); ``tls`` how https:// platforms are checked (and the client
        certificate shown to them)."""
        router.add_resolver(PlatformResolver(platform, lambda n: router.lookup(n) is not None))
        settle = None
        if deliveries is not None:
            log_ = deliveries

            def settle(message_id: str, receiver: str) -> None:
                log_.submit([DeliveryRepository.done(message_id, receiver)])

        transport = HttpTransport(platform=platform, bounce=router.bounce, acc_url=acc_url,
                                  allowed_hosts=allowed_hosts, settle=settle, book=book,
                                  tls=tls, known=known)
        router.add_transport(transport)
        transport.start()
        if "*" in allowed_hosts:
            log.warning("mtp_allowed_hosts is '*': anyone who can have a message sent can make "
                        "the server POST to any host it reaches (but its own)")
        mtp = cls(platform, transport, AccEndpoint(
            router, max_bytes=max_bytes, max_depth=max_depth, tracing=tracing,
            acceptances=acceptances, platform=platform, acc_url=lambda: transport.acc_url))
        if deliveries is not None:
            mtp.owed = deliveries.deliveries.pending
            store = deliveries

            def quarantine(pending: PendingDelivery, reason: str) -> None:
                store.submit([DeliveryRepository.dead(pending.message_id, pending.receiver,
                                                      pending.attempts, reason)])

            mtp.quarantine = quarantine
        mtp.local = router.lookup
        return mtp

    def listening(self, port: int) -> None:
        """The server also listens on ``port`` (gRPC, metrics): never a destination."""
        self.transport.own.listening(port)

    def serving(self, host: str, port: int, scheme: str = "http") -> AccEndpoint:
        """The ``/acc`` endpoint for the REST app bound to ``host:port``, which gives our
        ``/acc`` URL unless the config set one; then what a previous run still owed to other
        platforms goes out (it needed that URL as its senders' address)."""
        self.listening(port)
        if not self.transport.acc_url:
            self.transport.acc_url = _acc_url(host, port, scheme)
        log.info("FIPA HTTP MTP ready", platform=self.platform, acc_url=self.acc_url)
        self.recover()
        return self.endpoint

    def recover(self) -> int:
        """Forward again every outbound message a previous run still owed."""
        if self.owed is None:
            return 0
        count = 0
        for pending in self.owed():
            if self.local(pending.receiver) is not None:
                continue  # a local agent's: the host redelivers those
            try:
                if pending.problem is not None:
                    raise UnreadableError(pending.problem)
                msg = stored_message(orjson.dumps(pending.body))
            except UnreadableError as exc:
                if self.quarantine is not None:
                    self.quarantine(pending, f"unreadable after restart: {exc}")
                warn("deliveries", pending.message_id, str(exc), "dead-lettered")
                continue
            if self.transport.carries(msg, pending.receiver):
                self.transport.forward(msg, pending.receiver)
                count += 1
        if count:
            log.info("resending outbound MTP messages owed before the restart", count=count)
        return count

    @property
    def acc_url(self) -> str:
        return self.transport.acc_url

    def close(self, timeout_s: float = 5.0) -> None:
        self.transport.close(timeout_s)


def _acc_url(host: str, port: int, scheme: str = "http") -> str:
    if host in ("", "0.0.0.0", "::"):  # every interface: name the machine
        host = socket.gethostname()
    return f"{scheme}://{f'[{host}]' if ':' in host else host}:{port}/acc"
