"""Capability addresses (service:KEY, /all, /round-robin) and how the router uses them."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from caxton.domain.acl import AclMessage, Performative
from caxton.router.capabilities import CapabilityResolver, parse
from caxton.router.local import Router
from caxton.store.writer import OnCommit, Statement


class Providers:
    def __init__(self, table: dict[str, tuple[str, ...]]) -> None:
        self.table = table

    def providers(self, key: str) -> tuple[str, ...]:
        return self.table.get(key, ())


def resolver(depths: dict[str, int | None], table: dict[str, tuple[str, ...]]
             ) -> CapabilityResolver:
    return CapabilityResolver(Providers(table), depths.get)


@pytest.mark.parametrize(("address", "parsed"), [
    ("service:translate", ("translate", None)),
    ("service:translate/all", ("translate", "all")),
    ("service:translate/round-robin", ("translate", "round-robin")),
    ("service:a/b", ("a/b", None)),  # not a mode: part of the key
    ("service:a/b/all", ("a/b", "all")),
    ("service:/all", ("/all", None)),
    ("service:", None),
    ("translate", None),
    ("Service:translate", None),
])
def test_parse(address: str, parsed: tuple[str, str | None] | None) -> None:
    assert parse(address) == parsed


def test_the_least_busy_running_provider_ties_by_name() -> None:
    table = {"t": ("a", "b", "c", "d")}
    assert resolver({"a": 3, "b": 1, "c": 1, "d": None}, table).resolve("service:t") == ("b",)
    assert resolver({"a": 0, "b": 0}, table).resolve("service:t") == ("a",)
    assert resolver({"d": 0}, table).resolve("service:t") == ("d",)


def test_all_and_nobody() -> None:
    r = resolver({"a": 5, "b": None, "c": 0}, {"t": ("a", "b", "c")})
    assert r.resolve("service:t/all") == ("a", "c")
    assert r.resolve("service:u") == ()
    assert r.resolve("service:u/all") == ()
    assert resolver({}, {"t": ("a",)}).resolve("service:t") == ()  # not running
    assert r.resolve("echo") is None  # not a capability address
    assert r.unresolved("service:u/all") == "no running agent offers service 'u'"
    assert r.unresolved("echo") is None


def test_round_robin_is_fair_and_skips_agents_that_stop() -> None:
    depths: dict[str, int | None] = {"a": 0, "b": 7, "c": 0}
    r = resolver(depths, {"t": ("a", "b", "c")})
    picks = [r.resolve("service:t/round-robin")[0] for _ in range(300)]  # type: ignore[index]
    assert Counter(picks) == {"a": 100, "b": 100, "c": 100}
    assert picks[:6] == ["a", "b", "c", "a", "b", "c"]
    depths["b"] = None
    later = Counter(r.resolve("service:t/round-robin")[0]  # type: ignore[index]
                    for _ in range(100))
    assert later == {"a": 50, "c": 50}


def test_claims_takes_no_turn() -> None:
    r = resolver({"a": 0, "b": 0}, {"t": ("a", "b")})
    assert r.claims("service:t/round-robin") and not r.claims("echo")
    for _ in range(3):
        r.claims("service:t/round-robin")
    assert r.resolve("service:t/round-robin") == ("a",)


# -- through the router ------------------------------------------------------------------------
class Log:
    def message_statements(self, msg: AclMessage, durable: tuple[str, ...]) -> list[Statement]:
        return [("message", (msg.message_id, ",".join(msg.receiver)))]

    def submit(self, statements: list[Statement], on_commit: OnCommit | None = None) -> None:
        pass


class Inbox:
    durable = False

    def __init__(self) -> None:
        self.got: list[AclMessage] = []

    def refusal(self) -> str | None:
        return None

    def deliver(self, msg: AclMessage) -> str | None:
        self.got.append(msg)
        return None


def routed(**inboxes: Inbox) -> tuple[Router, dict[str, Any]]:
    router = Router(Log())
    for name, inbox in inboxes.items():
        router.register(name, inbox)
    depths = {name: 0 for name in inboxes if name != "client"}
    router.add_resolver(resolver(depths, {"t": tuple(sorted(depths))}))
    return router, depths


def test_the_router_swaps_the_address_for_the_agents() -> None:
    a, b, client = Inbox(), Inbox(), Inbox()
    router, _ = routed(a=a, b=b, client=client)
    msg = AclMessage(Performative.REQUEST, "client", ("service:t/all",), content=1)
    assert router.knows("service:t/all") and router.knows("service:nothing")
    router.route(msg)
    assert msg.receiver == ("a", "b")
    assert [m.message_id for m in a.got] == [m.message_id for m in b.got] == [msg.message_id]
    assert b"service:" not in msg.to_wire()


def test_nobody_offering_it_bounces_a_failure_that_says_so() -> None:
    a, client = Inbox(), Inbox()
    router, _ = routed(a=a, client=client)
    router.route(AclMessage(Performative.REQUEST, "client", ("service:nothing", "a")))
    assert len(a.got) == 1
    (failure,) = client.got
    assert failure.performative is Performative.FAILURE and failure.sender == "ams"
    assert failure.content == {"error": "undeliverable", "receiver": "service:nothing",
                               "reason": "no running agent offers service 'nothing'"}
    # and an unknown plain name keeps its reason
    router.route(AclMessage(Performative.REQUEST, "client", ("nobody",)))
    assert client.got[-1].content["reason"] == "no agent named 'nobody'"


def test_knowing_an_address_takes_no_round_robin_turn() -> None:
    a, b, client = Inbox(), Inbox(), Inbox()
    router, _ = routed(a=a, b=b, client=client)
    for _ in range(4):
        assert router.knows("service:t/round-robin")
        router.route(AclMessage(Performative.REQUEST, "client", ("service:t/round-robin",)))
    assert (len(a.got), len(b.got)) == (2, 2)
