"""The platform address book: its entries, the in-memory book, the config's [platforms], and
the outbound MTP finding NAME@PLATFORM through it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from caxton.api.mtp import HttpTransport
from caxton.codecs import fipa_sl, mtp
from caxton.config import load_config
from caxton.domain.acl import AclMessage, Performative
from caxton.domain.platforms import CONFIG, PlatformEntry, parse_book, parse_urls, platform_of
from caxton.errors import (
    ConfigError,
    InvalidMessageError,
    PlatformConfiguredError,
    PlatformNotFoundError,
)
from caxton.runtime.platforms import PlatformBook
from caxton.store.platforms import DELETE, UPSERT

JADE = "http://127.0.0.1:7778/acc"


class Writes:
    def __init__(self) -> None:
        self.statements: list[Any] = []

    def __call__(self, statements: list[Any], on_commit: Any = None) -> None:
        self.statements.extend(statements)
        if on_commit is not None:
            on_commit(None)


def test_entries_and_names() -> None:
    assert parse_urls(JADE) == (JADE,)
    assert parse_urls([JADE, JADE, "HTTPS://b/acc"]) == (JADE, "HTTPS://b/acc")
    for bad in ([], ["ftp://x"], "iiop://x", ["http://a b"], [1], ["http://" + "x" * 300]):
        with pytest.raises(InvalidMessageError):
            parse_urls(bad)
    assert platform_of("jresp@JadePlat") == "JadePlat"
    assert platform_of("da0@host:1099/JADE") == "host:1099/JADE"
    assert platform_of("echo") is None and platform_of("@x") is None
    assert parse_book("J=http://a/acc, other=http://b/acc https://c/acc,") == (
        PlatformEntry("J", ("http://a/acc",), CONFIG),
        PlatformEntry("other", ("http://b/acc", "https://c/acc"), CONFIG))
    for bad in ("J", "J=", "J=ftp://x", "J=http://a/acc,j=http://b/acc", "has space=http://a"):
        with pytest.raises(InvalidMessageError):
            parse_book(bad)


def test_the_book_adds_replaces_and_removes_and_keeps_config_entries_fixed() -> None:
    writes = Writes()
    book = PlatformBook(None, writes, own="caxton",
                        configured=parse_book("Fixed=http://fixed/acc"))
    entry, created = book.add("JadePlat", [JADE])
    assert created and entry.urls == (JADE,)
    assert book.urls("jresp@jadeplat") == (JADE,)  # platform names compare case-insensitively
    assert book.urls("jresp@other") == () and book.urls("echo") == ()
    _, created = book.add("JADEPLAT", ["http://moved/acc"])
    assert not created and book.urls("x@JadePlat") == ("http://moved/acc",)
    assert [e.name for e in book.entries()] == ["Fixed", "JADEPLAT"]
    assert [sql for sql, _ in writes.statements] == [UPSERT, UPSERT]
    with pytest.raises(PlatformConfiguredError):
        book.add("fixed", [JADE])
    with pytest.raises(PlatformConfiguredError):
        book.remove("Fixed")
    with pytest.raises(InvalidMessageError, match="own platform"):
        book.add("Caxton", [JADE])
    book.remove("jadeplat")
    assert book.urls("x@JadePlat") == () and writes.statements[-1][0] == DELETE
    with pytest.raises(PlatformNotFoundError):
        book.remove("JadePlat")


def test_the_config_takes_a_platforms_table_or_text(tmp_path: Path) -> None:
    file = tmp_path / "caxton.toml"
    file.write_text(f'[platforms]\nJadePlat = "{JADE}"\nother = ["http://a/acc", '
                    '"https://b/acc"]\n')
    assert load_config(file, env={}).platform_book == (
        PlatformEntry("JadePlat", (JADE,), CONFIG),
        PlatformEntry("other", ("http://a/acc", "https://b/acc"), CONFIG))
    assert load_config(env={"CAXTON_PLATFORMS": f"J={JADE}"}).platform_book == (
        PlatformEntry("J", (JADE,), CONFIG),)
    with pytest.raises(ConfigError, match="own platform_name"):
        load_config(env={"CAXTON_PLATFORMS": f"caxton={JADE}"})
    with pytest.raises(ConfigError, match="platforms"):
        load_config(env={"CAXTON_PLATFORMS": "J=nowhere"})
    file.write_text("[platforms]\nJ = 7\n")
    with pytest.raises(ConfigError, match="a URL or a list"):
        load_config(file, env={})


def test_the_outbound_mtp_sends_to_a_platform_of_the_book() -> None:
    posted: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        posted.append(request)
        return httpx.Response(200)

    book = PlatformBook(None, Writes(), own="caxton")
    book.add("JadePlat", [JADE])
    transport = HttpTransport(platform="caxton", bounce=lambda *_: None,
                              acc_url="http://caxton/acc", book=book.urls,
                              client=httpx.Client(transport=httpx.MockTransport(record)))
    msg = AclMessage(Performative.REQUEST, "party", ("jresp@JadePlat", "nobody@Else"))
    assert transport.carries(msg, "jresp@JadePlat")
    assert not transport.carries(msg, "nobody@Else") and not transport.carries(msg, "party")
    assert transport.deliver(msg, "jresp@JadePlat", transport.urls(msg, "jresp@JadePlat"))
    (request,) = posted
    assert str(request.url) == JADE
    envelope, _ = mtp.decode(request.headers["content-type"], request.content)
    assert [(a.name, a.addresses) for a in envelope.intended_receiver] == [
        ("jresp@JadePlat", (JADE,))]
    # The message's own addresses win over the book's.
    own = AclMessage(Performative.REQUEST, "party", ("jresp@JadePlat",),
                     addresses={"jresp@JadePlat": ("http://direct/acc",)})
    assert transport.urls(own, "jresp@JadePlat") == ("http://direct/acc",)
    transport.close(1)


def test_the_receiver_of_an_mts_error_report_is_read() -> None:
    # As JADE 4.6.5's AMS writes it.
    jade = ('( (action ( agent-identifier :name party@caxton  :addresses (sequence '
            'http://127.0.0.1:39983/acc )) (ACLMessage) ) (MTS-error ( agent-identifier :name '
            'ghost@JadePlat  :addresses (sequence http://127.0.0.1:51117/acc )) (internal-error '
            '"Agent not found: getContainerID() failed to find agent ghost@JadePlat")) )')
    assert fipa_sl.mts_error_receiver(jade) == "ghost@JadePlat"
    assert fipa_sl.mts_error_receiver("(MTS-error ghost@x (internal-error x))") == "ghost@x"
    for other in ("done", "(result x)", "(unclosed", "(MTS-error)"):
        assert fipa_sl.mts_error_receiver(other) is None
