"""Agent permissions, the pure parts: parsing the declaration (with the field at fault), receiver
patterns, the token bucket and what a send policy lets through."""

from __future__ import annotations

import math
from typing import Any

import pytest

from caxton.domain.acl import AclMessage, Performative
from caxton.domain.agent_permissions import (
    HOST_FUNCTIONS,
    STATE_FUNCTIONS,
    AgentPermissions,
    RateLimit,
    parse_permissions,
)
from caxton.domain.permission_patterns import Recipients, check_pattern
from caxton.domain.send_policy import FANOUT, MESSAGING, RATE, SendPolicy, TokenBucket
from caxton.errors import InvalidMessageError, InvalidPermissionsError
from caxton.sandbox import component_host, hostcalls


def _error(obj: Any) -> InvalidPermissionsError:
    with pytest.raises(InvalidPermissionsError) as caught:
        parse_permissions(obj)
    return caught.value


# -- the declaration ---------------------------------------------------------------------------
def test_none_declared_is_none_and_an_empty_object_allows_nothing() -> None:
    assert parse_permissions(None) is None
    empty = parse_permissions({})
    assert empty == AgentPermissions()
    assert not any(empty.allows_call(f) for f in HOST_FUNCTIONS)
    assert empty.to_dict() == {"host_functions": [], "messaging": [], "rate": None,
                               "max_receivers": None, "tools": []}


def test_a_full_declaration_and_its_shown_form() -> None:
    declared = parse_permissions({
        "host_functions": ["state", "send", "log"],
        "messaging": ["echo", "worker-*", "service:translate", "seller@jade"],
        "rate": {"messages_per_s": 2.5, "burst": 10},
        "max_receivers": 3,
        "tools": ["search", "search", "calc"],
    })
    assert declared is not None
    assert declared.to_dict() == {
        "host_functions": ["send", "log", *STATE_FUNCTIONS],  # expanded, in the ABI's order
        "messaging": ["echo", "worker-*", "service:translate", "seller@jade"],
        "rate": {"messages_per_s": 2.5, "burst": 10},
        "max_receivers": 3,
        "tools": ["search", "calc"],  # duplicates dropped
    }
    # What is stored reads back as the same permissions.
    assert parse_permissions(declared.to_dict()) == declared


def test_star_allows_every_host_function() -> None:
    every = parse_permissions({"host_functions": ["*"]})
    assert every is not None and all(every.allows_call(f) for f in HOST_FUNCTIONS)
    assert not every.allows_call("tool_call")  # reserved, not offered


def test_the_burst_defaults_to_the_rate_rounded_up() -> None:
    assert parse_permissions({"rate": {"messages_per_s": 2.5}}) == AgentPermissions(
        rate=RateLimit(2.5, 3))
    assert parse_permissions({"rate": {"messages_per_s": 0.01}}) == AgentPermissions(
        rate=RateLimit(0.01, 1))


@pytest.mark.parametrize(("obj", "field", "words"), [
    ([], "permissions", "must be a JSON object"),
    ("send", "permissions", "must be a JSON object"),
    ({"hostfunctions": []}, "permissions.hostfunctions", "unknown field"),
    ({"host_functions": "send"}, "permissions.host_functions", "must be a list of strings"),
    ({"host_functions": ["send", "exec"]}, "permissions.host_functions[1]",
     "unknown host function 'exec'"),
    ({"host_functions": ["tool_call"]}, "permissions.host_functions[0]", "unknown host function"),
    ({"host_functions": [7]}, "permissions.host_functions[0]", "must be a string"),
    ({"messaging": ["echo", "a*b"]}, "permissions.messaging[1]", "not a receiver pattern"),
    ({"messaging": ["service:"]}, "permissions.messaging[0]", "not a receiver pattern"),
    ({"messaging": ["service:tr*"]}, "permissions.messaging[0]", "not a receiver pattern"),
    ({"messaging": ["@jade"]}, "permissions.messaging[0]", "not a receiver pattern"),
    ({"messaging": ["seller@"]}, "permissions.messaging[0]", "not a receiver pattern"),
    ({"messaging": ["9lives"]}, "permissions.messaging[0]", "not a receiver pattern"),
    ({"messaging": [""]}, "permissions.messaging[0]", "must be 1 to 256 characters"),
    ({"messaging": [" echo"]}, "permissions.messaging[0]", "without leading or trailing"),
    ({"messaging": ["ec\nho"]}, "permissions.messaging[0]", "must be printable"),
    ({"messaging": ["x" * 257]}, "permissions.messaging[0]", "must be 1 to 256 characters"),
    ({"messaging": ["a"] * 257}, "permissions.messaging", "at most 256 items"),
    ({"rate": 5}, "permissions.rate", "must be an object"),
    ({"rate": {}}, "permissions.rate.messages_per_s", "is required"),
    ({"rate": {"messages_per_s": 0}}, "permissions.rate.messages_per_s", "more than 0"),
    ({"rate": {"messages_per_s": -1}}, "permissions.rate.messages_per_s", "more than 0"),
    ({"rate": {"messages_per_s": math.inf}}, "permissions.rate.messages_per_s", "more than 0"),
    ({"rate": {"messages_per_s": math.nan}}, "permissions.rate.messages_per_s", "more than 0"),
    ({"rate": {"messages_per_s": True}}, "permissions.rate.messages_per_s", "a number"),
    ({"rate": {"messages_per_s": "9"}}, "permissions.rate.messages_per_s", "a number"),
    ({"rate": {"messages_per_s": 1, "burst": 0}}, "permissions.rate.burst", "from 1 to"),
    ({"rate": {"messages_per_s": 1, "burst": 1.5}}, "permissions.rate.burst", "an integer"),
    ({"rate": {"messages_per_s": 1, "per": 1}}, "permissions.rate.per", "unknown field"),
    ({"max_receivers": 0}, "permissions.max_receivers", "from 1 to 10000"),
    ({"max_receivers": True}, "permissions.max_receivers", "an integer"),
    ({"tools": [None]}, "permissions.tools[0]", "must be a string"),
])
def test_each_bad_declaration_names_its_field(obj: Any, field: str, words: str) -> None:
    error = _error(obj)
    assert error.field == field
    assert words in error.reason
    assert isinstance(error, InvalidMessageError)  # REST and gRPC report its field as such
    assert error.code == "invalid_permissions"


def test_the_domain_names_exactly_the_host_functions_the_sandbox_offers() -> None:
    assert tuple(hostcalls.HOST_FUNCTIONS) == HOST_FUNCTIONS
    # Every component function is one of them, under its ABI v1 name, except begin-message
    # (a batch's bookkeeping, not a service: no permission governs it).
    assert set(component_host.PERMISSION) == set(component_host.HOST_FUNCTIONS)
    assert set(component_host.PERMISSION.values()) == {*HOST_FUNCTIONS, None}
    assert [n for n, f in component_host.PERMISSION.items() if f is None] == ["begin-message"]


# -- receiver patterns -------------------------------------------------------------------------
PATTERNS = ["echo", "worker-*", "service:translate", "service:news/all", "seller@jade",
            "*@fipa.org", "df"]


@pytest.mark.parametrize(("receiver", "allowed"), [
    ("echo", True),
    ("echo2", False),
    ("worker-1", True),
    ("worker-", True),
    ("worker", False),
    ("df", True),
    ("ams", False),
    ("service:translate", True),
    ("service:translate/round-robin", True),
    ("service:translate/all", False),  # a broadcast is its own privilege
    ("service:news", True),
    ("service:news/all", True),
    ("service:weather", False),
    ("seller@jade", True),
    ("seller@JADE", True),  # platforms compare without case
    ("buyer@jade", False),
    ("anyone@fipa.org", True),
    ("anyone@FIPA.org", True),
    ("echo@caxton", False),  # checked as written: this platform's names too
    ("_client-0123456789ab", False),
])
def test_receivers_against_patterns(receiver: str, allowed: bool) -> None:
    assert Recipients.compile(PATTERNS).allows(receiver) is allowed


def test_wildcards() -> None:
    local = Recipients.compile(["*"])
    assert local.allows("anything") and local.allows("_client-abc")
    assert not local.allows("df") and not local.allows("ams")  # platform agents: by name only
    assert not local.allows("x@jade") and not local.allows("service:t")
    services = Recipients.compile(["service:*"])
    assert services.allows("service:t") and not services.allows("service:t/all")
    assert Recipients.compile(["service:*/all"]).allows("service:t/all")
    remote = Recipients.compile(["*@*"])
    assert remote.allows("x@jade") and not remote.allows("x")
    named = Recipients.compile(["seller@*"])
    assert named.allows("seller@jade") and named.allows("seller@fipa.org")
    assert not named.allows("buyer@jade") and not named.allows("seller")
    assert not Recipients.compile([]).allows("echo")


@pytest.mark.parametrize("pattern", ["echo", "_client-*", "*", "a.b-c_d*", "service:t",
                                     "service:t/all", "service:t/round-robin", "service:*",
                                     "service:*/all", "a@b", "*@b", "*@*", "a@*", "df", "ams"])
def test_valid_patterns(pattern: str) -> None:
    check_pattern(pattern, "p")  # no error


# -- the token bucket and the send policy ------------------------------------------------------
def test_a_bucket_spends_its_burst_then_refills_at_its_rate() -> None:
    bucket = TokenBucket(2.0, 3)
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False]
    assert not bucket.take(100.4)  # 0.8 of a token
    assert bucket.take(100.5)
    assert [bucket.take(200.0) for _ in range(4)] == [True, True, True, False]  # capped at 3
    assert not bucket.take(150.0)  # a clock that goes back earns nothing


def _msg(*receivers: str, reply_to: tuple[str, ...] = (), sender: str = "a") -> AclMessage:
    return AclMessage(performative=Performative.INFORM, sender=sender, receiver=receivers,
                      reply_to=reply_to, content=1)


def _policy(**declared: Any) -> SendPolicy:
    permissions = parse_permissions(declared)
    assert permissions is not None
    return SendPolicy("a", permissions)


def test_none_declared_means_no_policy() -> None:
    assert SendPolicy.of("a", None) is None
    assert SendPolicy.of("a", AgentPermissions()) is not None


def test_a_receiver_outside_the_list_is_refused_with_its_name() -> None:
    policy = _policy(messaging=["b"])
    assert policy.screen(_msg("b"), None, 0.0) is None
    denial = policy.screen(_msg("b", "c", "d"), None, 0.0)
    assert denial is not None and denial.kind == MESSAGING
    assert denial.receivers == ("c", "d")
    assert "may not message 'c', 'd'" in denial.reason
    content = denial.content(_msg("c"))
    assert content["error"] == "permission_denied" and content["permission"] == MESSAGING


def test_answering_whoever_wrote_is_always_allowed() -> None:
    policy = _policy()  # may message nobody
    cause = _msg("a", sender="_client-1", reply_to=("watcher",))
    assert policy.screen(_msg("_client-1"), cause, 0.0) is None
    assert policy.screen(_msg("watcher"), cause, 0.0) is None
    assert policy.screen(_msg("other"), cause, 0.0) is not None
    assert policy.screen(_msg("_client-1"), None, 0.0) is not None  # not while handling it


def test_reply_to_is_checked_like_a_receiver() -> None:
    # Else an agent could have a permitted one answer where it may not write itself.
    policy = _policy(messaging=["b"])
    denial = policy.screen(_msg("b", reply_to=("secret",)), None, 0.0)
    assert denial is not None and denial.kind == MESSAGING and denial.receivers == ("secret",)
    assert "reply_to" in denial.reason


def test_too_many_receivers_is_refused_before_anything_else() -> None:
    policy = _policy(messaging=["*"], max_receivers=2)
    assert policy.screen(_msg("b", "c"), None, 0.0) is None
    denial = policy.screen(_msg("b", "c", "d"), None, 0.0)
    assert denial is not None and denial.kind == FANOUT and "at most 2" in denial.reason


def test_the_rate_refuses_the_excess_and_refused_sends_spend_no_tokens() -> None:
    policy = _policy(messaging=["b"], rate={"messages_per_s": 1, "burst": 2})
    assert policy.screen(_msg("nobody"), None, 0.0) is not None  # refused: no token spent
    kinds = [d.kind if (d := policy.screen(_msg("b"), None, 0.0)) else None for _ in range(4)]
    assert kinds == [None, None, RATE, RATE]
    assert policy.screen(_msg("b"), None, 1.0) is None  # one token back a second later
    denial = policy.screen(_msg("b"), None, 1.0)
    assert denial is not None and denial.content(_msg("b"))["error"] == "rate_limited"
