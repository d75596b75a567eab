"""What happens to agents, as events: lifecycle state changes and deployments.

The runtime reports them (``AgentHost.add_event_listener``); the service layer fans them out to
API streams (``caxton.api.events``) and telemetry counts them. An event is one flat JSON object::

    {"at": "2026-11-23T18:19:49.136240Z", "kind": "failed", "agent": "trapper",
     "version": "0.1.0", "module_hash": "…", "state": "failed",
     "reason": "10 consecutive failures; last: unreachable",
     "old_version": null, "old_module_hash": null}

``old_version`` and ``old_module_hash`` are set by ``upgraded`` (a new version of a deployed
agent switched in); ``reason`` by ``failed``; ``state`` is the agent's state after the event
(null once it is ``removed``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from caxton.domain.acl import utc_now_iso
from caxton.domain.lifecycle import AgentState
from caxton.errors import InvalidMessageError


class EventKind(StrEnum):
    # deployment
    DEPLOYED = "deployed"  # a new agent, loaded and started
    UPGRADED = "upgraded"  # a new version replaced the running one (hot reload)
    REMOVED = "removed"
    # lifecycle: the state the agent entered
    LOADED = "loaded"
    STARTED = "started"  # -> running (also a restart after a failure)
    STOPPING = "stopping"  # -> draining
    STOPPED = "stopped"
    FAILED = "failed"


DEPLOYMENT = frozenset({EventKind.DEPLOYED, EventKind.UPGRADED, EventKind.REMOVED})
LIFECYCLE = frozenset(set(EventKind) - DEPLOYMENT)
GROUPS: dict[str, frozenset[EventKind]] = {"deployment": DEPLOYMENT, "lifecycle": LIFECYCLE}

_ENTERED = {
    AgentState.LOADED: EventKind.LOADED,
    AgentState.RUNNING: EventKind.STARTED,
    AgentState.DRAINING: EventKind.STOPPING,
    AgentState.STOPPED: EventKind.STOPPED,
    AgentState.FAILED: EventKind.FAILED,
}


@dataclass(frozen=True, slots=True)
class AgentEvent:
    kind: EventKind
    agent: str
    version: str | None = None
    module_hash: str | None = None
    state: str | None = None
    reason: str | None = None
    old_version: str | None = None
    old_module_hash: str | None = None
    at: str = field(default_factory=utc_now_iso)

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at, "kind": self.kind.value, "agent": self.agent,
            "version": self.version, "module_hash": self.module_hash, "state": self.state,
            "reason": self.reason, "old_version": self.old_version,
            "old_module_hash": self.old_module_hash,
        }


def entered(state: AgentState) -> EventKind | None:
    """The event for an agent entering ``state`` (None for ``unloaded``)."""
    return _ENTERED.get(state)


def parse_kinds(text: str | None) -> frozenset[EventKind] | None:
    """A ``kind`` filter: comma-separated kinds or groups (``lifecycle``, ``deployment``).

    None or empty means every kind; an unknown name is an InvalidMessageError on ``kind``.
    """
    if not text:
        return None
    kinds: set[EventKind] = set()
    for raw in text.split(","):
        name = raw.strip().lower()
        if not name:
            continue
        if name in GROUPS:
            kinds |= GROUPS[name]
            continue
        try:
            kinds.add(EventKind(name))
        except ValueError:
            known = ", ".join([*(k.value for k in EventKind), *GROUPS])
            raise InvalidMessageError("kind", f"unknown event kind {name!r} (one of {known})"
                                      ) from None
    return frozenset(kinds) or None
