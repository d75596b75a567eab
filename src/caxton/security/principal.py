"""Who is calling: the identity a credential proves and what its grant allows (pure, no IO).

A ``Principal`` is the outcome of authentication: an actor name for the audit trail, a role,
and the agent-name patterns its grant is scoped to. Authorisation asks it ``allows``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from caxton.security.permissions import ROLE_PERMISSIONS, SCOPED, Permission, Role


@dataclass(frozen=True, slots=True)
class ClientCertificate:
    """A client certificate the TLS layer verified against the configured client CA."""

    common_name: str
    organizational_units: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Principal:
    actor: str  # who, as the audit trail names them: "key:ab12cd34", "jwt:alice", "cert:ops"
    role: Role
    # Agent-scoped permissions hold only for agents whose names match one of these patterns
    # (shell-style, case-sensitive); ("*",) is every agent.
    agents: tuple[str, ...] = ("*",)
    method: str = "api-key"  # api-key | jwt | certificate | open
    key_id: str = ""  # the API key's id, or the JWT's jti, for rate limits and revocation
    permissions: frozenset[Permission] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "permissions", ROLE_PERMISSIONS[self.role])

    def allows(self, permission: Permission, agent: str | None = None) -> bool:
        """Whether the grant includes ``permission`` (for ``agent``, if the permission is
        scoped to agents and the call names one)."""
        if permission not in self.permissions:
            return False
        if agent is None or permission not in SCOPED:
            return True
        return self.covers(agent)

    def covers(self, agent: str) -> bool:
        """Whether ``agent`` is within the grant's agent patterns."""
        return any(fnmatchcase(agent, pattern) for pattern in self.agents)


OPEN_PRINCIPAL = Principal("open", Role.admin, method="open")  # auth = "off": every call is admin
