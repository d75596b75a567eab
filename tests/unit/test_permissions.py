"""The permission table: every REST operation and gRPC method has one; roles nest."""

from __future__ import annotations

import importlib

import pytest

from caxton.api.rest.app import build_app
from caxton.security.permissions import (
    GRPC,
    GRPC_TARGETS,
    REST,
    REST_TARGETS,
    ROLE_PERMISSIONS,
    SCOPED,
    Permission,
    Role,
)
from caxton.security.principal import Principal

_PROTOS = ("agents", "messages", "conversations", "dead_letters", "server", "directory",
           "events", "protocols", "platforms")


class _NoService:
    """Enough to build the app and read its operations (handlers never run)."""


def rest_operations() -> dict[str, tuple[str, str]]:
    app = build_app(_NoService(), max_request_bytes=1, max_module_bytes=1,  # type: ignore[arg-type]
                    mtp=object(), security=object())  # type: ignore[arg-type]
    return {op.operation_id: (op.method, op.path) for op in app.state.api.operations}


def grpc_methods() -> set[str]:
    found = set()
    for name in _PROTOS:
        module = importlib.import_module(f"caxton.api.grpc._generated.{name}_pb2")
        for service in module.DESCRIPTOR.services_by_name.values():
            found |= {f"/{service.full_name}/{m.name}" for m in service.methods}
    return found


def test_every_rest_operation_has_exactly_one_entry_and_no_entry_is_stale() -> None:
    operations = rest_operations()
    assert set(operations) == set(REST) - {"metrics"}  # /metrics is served beside the API
    assert set(REST_TARGETS) <= set(REST)


def test_every_grpc_method_has_an_entry() -> None:
    methods = grpc_methods()
    assert methods <= set(GRPC), methods - set(GRPC)
    assert set(GRPC_TARGETS) <= set(GRPC)


def test_only_probes_the_document_and_the_mtp_are_open() -> None:
    assert {op for op, p in REST.items() if p is Permission.open} == {
        "health", "ready", "openapi", "receiveMtpMessage"}
    assert {m for m, p in GRPC.items() if p is Permission.open} == {
        "/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch"}


def test_roles_nest_and_only_admins_manage_keys_and_read_the_audit() -> None:
    viewer, developer, operator, admin = (ROLE_PERMISSIONS[r] for r in
                                          (Role.viewer, Role.developer, Role.operator, Role.admin))
    assert viewer < developer < operator < admin
    assert admin == frozenset(Permission)
    for role in (Role.viewer, Role.developer, Role.operator):
        assert Permission.tokens_manage not in ROLE_PERMISSIONS[role]
        assert Permission.audit_read not in ROLE_PERMISSIONS[role]
    assert all(p.value.endswith((".read", ".logs")) or p is Permission.open for p in viewer)


@pytest.mark.parametrize(("agents", "agent", "allowed"), [
    (("*",), "anything", True),
    (("team-a-*",), "team-a-x", True),
    (("team-a-*",), "team-b-x", False),
    (("team-a-*", "shared"), "shared", True),
    (("Team-*",), "team-x", False),  # case matters, as in agent names
])
def test_scoped_grants(agents: tuple[str, ...], agent: str, allowed: bool) -> None:
    developer = Principal("key:x", Role.developer, agents)
    assert developer.allows(Permission.agents_deploy, agent) is allowed
    assert developer.allows(Permission.agents_deploy) is True  # no target: the role decides
    assert developer.allows(Permission.events_read, agent) is True  # not scoped
    assert Permission.events_read not in SCOPED


def test_a_role_lacking_a_permission_is_refused_whatever_the_scope() -> None:
    viewer = Principal("key:v", Role.viewer)
    assert not viewer.allows(Permission.agents_deploy, "x")
    assert not viewer.allows(Permission.tokens_manage)
