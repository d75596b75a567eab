"""Agent permissions in process (``Runtime.open``, real WASM and store): the host's violation
hook, which the audit trail will hear, is called once for every violation of every kind, a hook
that fails costs nothing else, and a component denied a host function fails each message with
a fresh sandbox."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import FIXTURES
from tests.wat_component import NOW, component

from caxton.config import ServerConfig
from caxton.domain.acl import AclMessage, Performative
from caxton.domain.agent_permissions import parse_permissions
from caxton.domain.limits import ResourceLimits
from caxton.errors import HostFunctionNotPermittedError
from caxton.router.local import ClientInbox
from caxton.server import Runtime

CLIENT = "_client-0000000000aa"


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime.open(ServerConfig(data_dir=tmp_path / "data", durability="normal", workers=2))
    try:
        yield rt
    finally:
        rt.close()


def deploy(rt: Runtime, name: str, fixture: str | bytes, permissions: Any = None) -> None:
    data = fixture if isinstance(fixture, bytes) else (FIXTURES / fixture).read_bytes()
    rt.host.deploy(name, data, "1.0", ResourceLimits(),
                   permissions=parse_permissions(permissions))


def ask(rt: Runtime, receiver: str, content: Any) -> None:
    rt.router.route(AclMessage(performative=Performative.REQUEST, sender=CLIENT,
                               receiver=(receiver,), content=content))


def until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def inform(*receivers: str) -> dict[str, Any]:
    return {"performative": "inform", "receiver": list(receivers), "content": 1}


def test_the_violation_hook_hears_every_violation_once(runtime: Runtime) -> None:
    heard: list[tuple[str, str, str]] = []
    runtime.host.on_violation = lambda *violation: heard.append(violation)
    deploy(runtime, "sink", "sink.wat")
    deploy(runtime, "relay", "relay.wat", {
        "host_functions": ["send"], "messaging": ["sink", "other"], "max_receivers": 1,
        "rate": {"messages_per_s": 0.001, "burst": 1}})  # one token, then one per 1000 s
    relay, sink = runtime.host.get("relay"), runtime.host.get("sink")
    for content, handled in ((inform("secret"), 2),  # not permitted; + the failure
                             (inform("sink", "other"), 4),  # too many receivers
                             (inform("sink"), 5),  # permitted: spends the token
                             (inform("sink"), 7)):  # over the rate
        ask(runtime, "relay", content)
        until(lambda n=handled: relay.stats.handled == n,  # type: ignore[misc]
              f"relay to handle {handled} messages")
    with pytest.raises(HostFunctionNotPermittedError, match=r"'caxton\.send' is not permitted"):
        deploy(runtime, "relay2", "relay.wat", {"host_functions": ["log"]})
    assert [(agent, kind) for agent, kind, _ in heard] == [
        ("relay", "messaging"), ("relay", "fanout"), ("relay", "rate"),
        ("relay2", "host_function")]
    assert "may not message 'secret'" in heard[0][2]
    assert "at most 1" in heard[1][2] and "permissions.rate" in heard[2][2]
    assert "caxton.send" in heard[3][2]
    until(lambda: sink.stats.handled == 1, "the one permitted message")
    time.sleep(0.3)
    assert sink.stats.handled == 1 and relay.stats.sent == 1
    assert runtime.host.denial_counts() == {
        ("relay", "messaging"): 1, ("relay", "fanout"): 1, ("relay", "rate"): 1,
        ("relay2", "host_function"): 1}
    metrics = runtime.metrics.render().decode()
    for kind in ("messaging", "fanout", "rate"):
        assert f'caxton_agent_permission_denials_total{{agent="relay",kind="{kind}"}} 1.0' \
            in metrics
    assert 'caxton_agent_permission_denials_total{agent="relay2",kind="host_function"} 1.0' \
        in metrics


def test_a_failing_hook_costs_nothing_else(runtime: Runtime) -> None:
    def broken(*_: str) -> None:
        raise RuntimeError("the audit trail is down")

    runtime.host.on_violation = broken
    deploy(runtime, "sink", "sink.wat")
    deploy(runtime, "relay", "relay.wat", {"host_functions": ["send"]})
    ask(runtime, "relay", inform("sink"))
    relay = runtime.host.get("relay")
    until(lambda: relay.stats.handled == 2, "the relay to handle the platform's failure")
    assert relay.stats.failed == 0 and runtime.host.get("sink").stats.handled == 0
    assert runtime.host.denial_counts() == {("relay", "messaging"): 1}


def test_a_component_denied_a_host_function_fails_each_message_in_a_fresh_sandbox(
        runtime: Runtime) -> None:
    replies: list[AclMessage] = []
    runtime.router.register(CLIENT, ClientInbox(replies.append))
    deploy(runtime, "ticker", component(NOW), {"host_functions": ["send"]})
    for count in (1, 2):
        ask(runtime, "ticker", "hi")
        until(lambda n=count: len(replies) == n, "the failure")  # type: ignore[misc]
    # Not retried (retrying cannot help), and the second message met the same refusal, not a
    # component that can no longer be entered.
    for failure in replies:
        assert failure.performative is Performative.FAILURE and failure.sender == "ticker"
        assert failure.content["error"] == "permission_denied"
        assert failure.content["attempts"] == 1
        assert "host function 'now' is not permitted" in failure.content["reason"]
    assert runtime.host.denial_counts() == {("ticker", "host_function"): 2}


def test_a_refused_failure_is_not_answered(runtime: Runtime) -> None:
    # An agent that passes every message on (as examples/agents/wat/forwarder.wat does) would
    # otherwise pass the platform's failure on, be refused again, and loop until max_hops.
    deploy(runtime, "relay", "relay.wat", {"host_functions": ["send"]})
    ask(runtime, "relay", {"performative": "failure", "receiver": ["sink"], "content": 1})
    until(lambda: runtime.host.denial_counts() == {("relay", "messaging"): 1}, "the refusal")
    time.sleep(0.5)
    relay = runtime.host.get("relay")
    assert relay.stats.handled == 1  # the request only: nothing came back
    assert runtime.router.routed == 1  # the request; the refused failure was only recorded
