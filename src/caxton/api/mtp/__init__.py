"""The FIPA HTTP MTP (SC00084 with the XML envelope of SC00085): how JADE-style platforms and
Caxton send each other messages.

- ``inbound``: ``POST /acc`` on the REST port, and the absolute-URI request lines MTP clients use;
- ``outbound``: the router ``Transport`` that POSTs to agents with ``http(s)://`` addresses;
- ``resolver``: ``name@<platform_name>`` means local agent ``name``;
- ``foreign``: what a message looks like to another platform, and one from there to us.

``Mtp.attach`` wires all of it into a router; the composition root calls it once.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

import structlog

from caxton.api.mtp.inbound import AbsoluteFormTarget, AccEndpoint
from caxton.api.mtp.outbound import HttpTransport
from caxton.api.mtp.resolver import PlatformResolver, guid
from caxton.router.local import Router
from caxton.telemetry.tracing import Tracing

log = structlog.get_logger("caxton.mtp")
__all__ = ["AbsoluteFormTarget", "AccEndpoint", "HttpTransport", "Mtp", "PlatformResolver",
           "guid"]


@dataclass
class Mtp:
    platform: str
    transport: HttpTransport
    endpoint: AccEndpoint

    @classmethod
    def attach(cls, router: Router, *, platform: str, acc_url: str, max_bytes: int,
               tracing: Tracing | None = None, allowed_hosts: tuple[str, ...] = ()) -> Mtp:
        """Add the resolver and the transport to ``router``; start the outbound workers."""
        router.add_resolver(PlatformResolver(platform, lambda n: router.lookup(n) is not None))
        transport = HttpTransport(platform=platform, bounce=router.bounce, acc_url=acc_url,
                                  allowed_hosts=allowed_hosts)
        router.add_transport(transport)
        transport.start()
        return cls(platform, transport, AccEndpoint(router, max_bytes=max_bytes,
                                                    tracing=tracing))

    def serving(self, host: str, port: int) -> AccEndpoint:
        """The ``/acc`` endpoint for the REST app bound to ``host:port``, which gives our
        ``/acc`` URL unless the config set one."""
        if not self.transport.acc_url:
            self.transport.acc_url = _acc_url(host, port)
        log.info("FIPA HTTP MTP ready", platform=self.platform, acc_url=self.acc_url)
        return self.endpoint

    @property
    def acc_url(self) -> str:
        return self.transport.acc_url

    def close(self, timeout_s: float = 5.0) -> None:
        self.transport.close(timeout_s)


def _acc_url(host: str, port: int) -> str:
    if host in ("", "0.0.0.0", "::"):  # every interface: name the machine
        host = socket.gethostname()
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/acc"
