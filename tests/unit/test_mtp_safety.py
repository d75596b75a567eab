"""Unit tests for the MTP's limits: which URLs the outbound MTP may POST to
(``Destinations``, ``OwnAddresses``, ``GuardedBackend`` on real sockets), URL comparison, the
address book's URLs, and which senders ``/acc`` refuses (``impersonation``)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpcore
import pytest

from caxton.api.mtp.destinations import Destinations, GuardedBackend, OwnAddresses, api_path
from caxton.api.mtp.senders import impersonation
from caxton.domain.acl import AclMessage, Performative
from caxton.domain.platforms import url_key
from caxton.errors import DestinationRefusedError
from caxton.runtime.platforms import PlatformBook

BOOK = "http://jade.example:7778/acc"


def _destinations(*allowed: str) -> Destinations:
    own = OwnAddresses()
    own.acc_url("http://caxton.example:8080/acc")
    return Destinations(allowed, known=lambda url: url_key(url) == url_key(BOOK), own=own)


@pytest.mark.parametrize(("url", "allowed", "says"), [
    (BOOK, (), None),
    ("HTTP://JADE.example:7778/acc", (), None),  # the same URL, written otherwise
    ("http://jade.example:7778/other", (), "address book"),  # same host, another URL
    ("http://platform.example.org/acc", (), "address book"),
    ("http://platform.example.org/acc", ("*.example.org",), None),
    ("http://platform.example.org:7778/acc", ("platform.example.org:7778",), None),
    ("http://platform.example.org:7779/acc", ("platform.example.org:7778",), "address book"),
    ("http://169.254.169.254/latest/meta-data", ("*",), None),  # "*": any host, as documented
    ("http://x.example/api/v1/agents/a/stop", ("*",), "/api/"),
    (BOOK.replace("/acc", "/api/v1/x"), (), "/api/"),
    ("http://caxton.example:8080/acc", ("*",), "own address"),
    ("http://CAXTON.example.:8080/anything", ("*",), "own address"),
    ("http://caxton.example:8081/acc", ("*",), None),  # another port of that host
    ("ftp://x.example/acc", ("*",), "http://"),
    ("http://[::1", ("*",), "not a valid URL"),
])
def test_destinations(url: str, allowed: tuple[str, ...], says: str | None) -> None:
    why = _destinations(*allowed).refusal(url)
    assert (why is None) if says is None else (why is not None and says in why), why


@pytest.mark.parametrize(("path", "api"), [
    ("/api", True), ("/api/", True), ("/API/v1/agents", True), ("//api//v1", True),
    ("/x/../api/v1", True), ("api/v1", True), ("/acc", False), ("/apis", False),
    ("/x/api/v1", False), ("", False),
])
def test_api_paths(path: str, api: bool) -> None:
    assert api_path(path) is api


def test_url_keys_compare_scheme_host_port_and_path() -> None:
    assert url_key("http://A.example/acc") == ("http", "a.example", 80, "/acc")
    assert url_key("https://a.example:443") == ("https", "a.example", 443, "/")
    assert url_key("http://a.example/acc?x=1") == ("http", "a.example", 80, "/acc?x=1")
    assert url_key("http://[::1]:7/acc") == ("http", "::1", 7, "/acc")
    for bad in ("ftp://a/acc", "http:///acc", "http://a:99999/acc", "nothing"):
        assert url_key(bad) is None


def test_the_book_knows_its_urls_as_they_change() -> None:
    book = PlatformBook(None, lambda *_: None, own="caxton")
    assert not book.knows(BOOK)
    book.add("JadePlat", [BOOK, "https://b.example/acc"])
    assert book.knows("HTTP://jade.EXAMPLE:7778/acc") and book.knows("https://b.example:443/acc")
    assert not book.knows("http://jade.example:7778/api/v1/x")
    book.add("JadePlat", ["https://b.example/acc"])
    assert not book.knows(BOOK)
    book.remove("jadeplat")
    assert not book.knows("https://b.example/acc")


def test_own_addresses_are_local_addresses_on_a_port_we_listen_on() -> None:
    own = OwnAddresses()
    own.listening(8080)
    for ip in ("127.0.0.1", "127.3.2.1", "0.0.0.0", "::1", "::", "::ffff:127.0.0.1"):
        assert own.reaches(ip, 8080), ip
        assert not own.reaches(ip, 8081), ip
    assert not own.reaches("192.0.2.1", 8080)  # TEST-NET: not this machine
    here = socket.gethostbyname(socket.gethostname())
    assert own.reaches(here, 8080)  # the machine's own address, when bound to a wildcard


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server


def test_the_backend_refuses_our_own_listeners_by_any_name(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    own = OwnAddresses()
    backend = GuardedBackend(own)
    backend.connect_tcp("localhost", port, timeout=5).close()  # not ours yet: connects
    own.listening(port)
    for host in ("localhost", "127.0.0.1", "0.0.0.0"):
        with pytest.raises(DestinationRefusedError, match="this server's own address"):
            backend.connect_tcp(host, port, timeout=5)
    with pytest.raises(httpcore.ConnectError):
        backend.connect_tcp("no-such-host.invalid", port, timeout=5)


def _msg(sender: str, *, reply_to: tuple[str, ...] = (),
         addresses: dict[str, tuple[str, ...]] | None = None) -> AclMessage:
    return AclMessage(Performative.REQUEST, sender, ("echo",), reply_to=reply_to,
                      addresses=addresses or {})


@pytest.mark.parametrize(("msg", "says"), [
    (_msg("buyer@jade"), None),
    (_msg("buyer@jade", reply_to=("sink@jade",)), None),
    (_msg("echo@caxton.example"), None),  # another platform whose name starts like ours
    (_msg("echo"), "sender 'echo' is a local name"),
    (_msg("df"), "sender 'df' is a local name"),
    (_msg("echo@Caxton"), "agent of this platform"),
    (_msg("AMS@CAXTON"), "agent of this platform"),
    (_msg("nobody@caxton"), "agent of this platform"),
    (_msg("buyer@jade", reply_to=("echo",)), "reply-to 'echo'"),
    (_msg("buyer@jade", reply_to=("echo@caxton",)), "reply-to 'echo@caxton'"),
    (_msg("x@other", addresses={"x@other": ("HTTP://Caxton.example:80/acc",)}), "own /acc"),
    (_msg("x@other", addresses={"x@other": ("http://caxton.example:81/acc",)}), None),
])
def test_acc_senders_that_claim_an_agent_of_ours(msg: AclMessage, says: str | None) -> None:
    why = impersonation(msg, platform="caxton", acc_url="http://caxton.example/acc")
    assert (why is None) if says is None else (why is not None and says in why), why
