"""A component agent calling host functions its permissions deny: a call that can return an
error returns ``invalid`` (and the agent decides), one that cannot (``now``, ``log``) traps and
fails the message as ``permission_denied``; each is reported as a violation. Components import
the whole host interface, so the check is at the call, not at deploy (core modules: deploy).

The components are hand-written WAT, so these run with no build step."""

from __future__ import annotations

from typing import Any

import pytest
from tests.wat_component import NOW, SEND, component

from caxton.domain.acl import AclMessage, Performative
from caxton.domain.agent_permissions import AgentPermissions, parse_permissions
from caxton.domain.limits import ResourceLimits
from caxton.runtime.delivery import INSTANCE_SUSPECT, RETRYABLE
from caxton.sandbox import loader
from caxton.sandbox.component import ComponentInstance
from caxton.sandbox.engine import CompiledComponent, SandboxEngine


class Services:
    """The host's side, recording what the sandbox tells it."""

    def __init__(self) -> None:
        self.logs: list[str] = []
        self.violations: list[tuple[str, str, str]] = []

    def state_read(self, agent: str, key: str) -> bytes | None:
        return None

    def state_keys(self, agent: str, prefix: str, limit: int) -> list[str]:
        return []

    def state_room(self, agent: str) -> int:
        return 1 << 20

    def agent_log(self, agent: str, level: int, text: str) -> None:
        self.logs.append(text)

    def violation(self, agent: str, kind: str, detail: str) -> None:
        self.violations.append((agent, kind, detail))


def run(engine: SandboxEngine, body: str, permissions: AgentPermissions | None,
        services: Services) -> ComponentInstance:
    compiled = engine.compile(component(body))
    assert isinstance(compiled, CompiledComponent)
    limits = ResourceLimits()
    loader.check(engine, compiled, limits, permissions)  # components pass: checked at the call
    instance = loader.instantiate(engine, compiled, name="agent", limits=limits,
                                  services=services, permissions=permissions)
    assert isinstance(instance, ComponentInstance)
    instance.initialize()
    return instance


def request() -> AclMessage:
    return AclMessage(performative=Performative.REQUEST, sender="client", receiver=("agent",),
                      content="hi")


def declared(**obj: Any) -> AgentPermissions:
    permissions = parse_permissions(obj)
    assert permissions is not None
    return permissions


@pytest.mark.parametrize("permissions", [None, {"host_functions": ["send", "now"]}])
def test_permitted_calls_work(engine: SandboxEngine, permissions: dict[str, Any] | None) -> None:
    services = Services()
    allowed = parse_permissions(permissions)
    outcome = run(engine, SEND, allowed, services).handle(request())
    assert outcome.ok, outcome
    assert [m.receiver for m in outcome.sends] == [("sink",)]
    assert run(engine, NOW, allowed, services).handle(request()).ok
    assert services.violations == []


def test_a_denied_send_returns_invalid_and_is_reported(engine: SandboxEngine) -> None:
    services = Services()
    instance = run(engine, SEND, declared(host_functions=["now"]), services)
    outcome = instance.handle(request())
    # The component saw send fail (it answers err("nope") then) and nothing was sent.
    assert not outcome.ok and outcome.error_kind == "agent_error" and "nope" in str(outcome.error)
    assert outcome.sends == []
    assert len(services.violations) == 1
    agent, kind, detail = services.violations[0]
    assert (agent, kind) == ("agent", "host_function")
    assert "'send' is not permitted" in detail
    assert any("send refused" in line and "permissions.host_functions" in line
               for line in services.logs)


def test_a_denied_call_without_an_error_result_fails_the_message(engine: SandboxEngine) -> None:
    services = Services()
    instance = run(engine, NOW, declared(host_functions=["send"]), services)
    outcome = instance.handle(request())
    assert not outcome.ok and outcome.error_kind == "permission_denied"
    assert "host function 'now' is not permitted" in str(outcome.error)
    assert [v[1] for v in services.violations] == ["host_function"]
    # Retrying cannot help; the trapped component cannot be entered again, so the runtime
    # gives the agent a fresh sandbox (test_agent_permissions_runtime checks the next message).
    assert "permission_denied" not in RETRYABLE
    assert "permission_denied" in INSTANCE_SUSPECT
