"""The REST guard's browser policy: Host names (DNS rebinding) and web origins."""

from __future__ import annotations

import pytest

from caxton.api.rest.guard import BrowserPolicy

POLICY = BrowserPolicy(hosts=frozenset({"localhost", "caxton.internal"}))


@pytest.mark.parametrize(("host", "allowed"), [
    ("localhost:8080", True), ("LOCALHOST", True), ("caxton.internal", True),
    ("127.0.0.1:8080", True), ("[::1]:8080", True), ("10.1.2.3", True), ("::1", True),
    ("evil.example", False), ("evil.example:8080", False), ("localhost.evil.example", False),
    ("", False), ("[::1", False), ("127.0.0.1.nip.io", False)])
def test_hosts(host: str, allowed: bool) -> None:
    assert POLICY.host_allowed(host) is allowed


def test_any_host_when_configured() -> None:
    assert BrowserPolicy(hosts=frozenset({"*"})).host_allowed("evil.example")


@pytest.mark.parametrize(("origin", "host", "allowed"), [
    ("http://localhost:8080", "localhost:8080", True),  # the server's own pages
    ("http://evil.example", "localhost:8080", False),
    ("http://localhost:9999", "localhost:8080", False),
    ("null", "localhost:8080", False),
    ("file://", "localhost:8080", False)])
def test_origins(origin: str, host: str, allowed: bool) -> None:
    assert BrowserPolicy().origin_allowed(origin, host) is allowed


def test_configured_origins() -> None:
    policy = BrowserPolicy(origins=frozenset({"https://ui.example.org"}))
    assert policy.origin_allowed("https://ui.example.org", "localhost:8080")
    assert not policy.origin_allowed("https://ui.example.org.evil", "localhost:8080")
