"""The server itself: liveness, readiness, the MTP's answer, the event stream's filters."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from caxton.api.rest.models.common import DateTime


class Health(msgspec.Struct):
    status: Annotated[str, msgspec.Meta(examples=["ok"])]
    uptime_s: float


class AgentCounts(msgspec.Struct):
    total: int
    running: int


class Checks(msgspec.Struct):
    store: Annotated[str, msgspec.Meta(description="ok, or opening while starting")]
    agents: AgentCounts


class MessageRates(msgspec.Struct):
    routed_per_s: float
    processed_per_s: float
    routed_total: int
    processed_total: int
    window_s: float


class Readiness(msgspec.Struct):
    status: Annotated[str, msgspec.Meta(description="ready or starting")]
    checks: Checks
    messages: MessageRates | UnsetType = UNSET


class AccAccepted(msgspec.Struct):
    """A message from another platform, logged and on its way."""

    message_id: str
    receiver: list[str]


class EventStreamQuery(msgspec.Struct):
    agent: Annotated[str | None, msgspec.Meta(description="Only this agent's events.")] = None
    kind: Annotated[str | None, msgspec.Meta(
        description="Comma-separated kinds (deployed, upgraded, removed, loaded, started, "
                    "stopping, stopped, failed) or groups (deployment, lifecycle).")] = None


class AgentEvent(msgspec.Struct):
    at: DateTime
    kind: str
    agent: str
    version: str | None
    module_hash: str | None
    state: str | None
    reason: str | None
    old_version: str | None
    old_module_hash: str | None


class AgentEventItem(msgspec.Struct):
    """The data of one event of ``GET /api/v1/events``."""

    event: AgentEvent
    dropped: Annotated[int, msgspec.Meta(description="Events skipped: this client read too "
                                                     "slowly.")]
