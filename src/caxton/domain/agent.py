"""What the platform knows about a deployed agent, apart from its running instance."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from caxton.domain.acl import utc_now_iso
from caxton.domain.agent_permissions import AgentPermissions
from caxton.domain.lifecycle import AgentState
from caxton.domain.limits import ResourceLimits


@dataclass(slots=True)
class AgentRecord:
    """The durable description of an agent: name, version, artifact, limits, permissions."""

    name: str
    version: str
    module_hash: str
    limits: ResourceLimits
    # What it may do (domain.agent_permissions); None: none declared, everything allowed.
    permissions: AgentPermissions | None = None
    desired: AgentState = AgentState.RUNNING
    deployed_at: str = field(default_factory=utc_now_iso)
    # Why the stored record could not be read back (the agent is then restored as failed,
    # with default limits, until it is deployed again); None for a sound record.
    damage: str | None = None


@dataclass(slots=True)
class AgentStats:
    """Counters kept in memory while the server runs."""

    handled: int = 0
    failed: int = 0
    consecutive_failures: int = 0
    sent: int = 0
    fuel_used: int = 0
    last_error: str | None = None
    failures_by_kind: dict[str, int] = field(default_factory=dict)
    sends_refused: int = 0  # sends and replies past max_sends_per_message
    batched_messages: int = 0  # handled in handle_batch calls (several messages a call)

    def to_dict(self) -> dict[str, Any]:
        return {
            "handled": self.handled,
            "failed": self.failed,
            "sent": self.sent,
            "fuel_used": self.fuel_used,
            "last_error": self.last_error,
            "failures_by_kind": dict(self.failures_by_kind),
            "sends_refused": self.sends_refused,
            "batched_messages": self.batched_messages,
        }
