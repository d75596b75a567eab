"""Agents: deploying one, and what the API says about it (docs/agents.md)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from caxton.api.rest.models.common import DateTime
from caxton.api.rest.models.directory import ServiceDescription
from caxton.api.rest.models.permissions import Permissions, PermissionsDeclared
from caxton.domain.limits import LIMIT_BOUNDS


def _bounds(name: str, description: str) -> msgspec.Meta:
    low, high = LIMIT_BOUNDS[name]
    return msgspec.Meta(ge=low, le=high, description=description)


Fuel = Annotated[int, _bounds("fuel", "Fuel (wasm instructions, roughly) per message.")]
MemoryBytes = Annotated[int, _bounds("memory_bytes", "The agent's memory cap in bytes.")]
TimeoutMs = Annotated[int, _bounds("timeout_ms", "Wall-clock time per message (ms).")]
MaxMessageBytes = Annotated[int, _bounds("max_message_bytes",
                                         "Largest message the agent may take or send (bytes).")]
MaxHostCalls = Annotated[int, _bounds("max_host_calls", "Host calls per message.")]
MaxSends = Annotated[int, _bounds("max_sends_per_message",
                                  "Sends and replies one handled message may make.")]
AgentName = Annotated[str, msgspec.Meta(min_length=1, max_length=255, examples=["echo"])]
Version = Annotated[str, msgspec.Meta(min_length=1, max_length=64, examples=["1.0.0"])]


class LimitOverrides(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Limits to set for this agent; absent or null ones keep the server's defaults."""

    fuel: Fuel | None = None
    memory_bytes: MemoryBytes | None = None
    timeout_ms: TimeoutMs | None = None
    max_message_bytes: MaxMessageBytes | None = None
    max_host_calls: MaxHostCalls | None = None
    max_sends_per_message: MaxSends | None = None


class DeployBody(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Deploy an agent, or a new version of one (the old one drains first)."""

    name: AgentName
    module_base64: Annotated[bytes, msgspec.Meta(
        description="The module, base64: WebAssembly binary, WAT text or a component.")]
    version: Version = "0.1.0"
    limits: LimitOverrides | None = None
    services: Annotated[list[ServiceDescription] | None, msgspec.Meta(
        description="The agent's directory (DF) registration: the services it offers.")] = None
    permissions: Annotated[PermissionsDeclared | None, msgspec.Meta(
        description="What the agent may do; absent or null: everything (none declared).")] \
        = None


class DeployQuery(msgspec.Struct):
    """The deployment's settings when the body is the raw module (``name`` is required then;
    with a JSON body they are ignored)."""

    name: AgentName | None = None
    version: Version = "0.1.0"
    fuel: Fuel | None = None
    memory_bytes: MemoryBytes | None = None
    timeout_ms: TimeoutMs | None = None
    max_message_bytes: MaxMessageBytes | None = None
    max_host_calls: MaxHostCalls | None = None
    max_sends_per_message: MaxSends | None = None
    services: Annotated[str | None, msgspec.Meta(
        description="The services, as a JSON list of service descriptions.",
        examples=['[{"type": "translate"}]'])] = None
    permissions: Annotated[str | None, msgspec.Meta(
        description="The agent's permissions, as a JSON object (absent: none declared).",
        examples=['{"host_functions": ["send"], "messaging": ["echo"]}'])] = None


class ResourceLimits(msgspec.Struct):
    fuel: int
    memory_bytes: int
    timeout_ms: int
    max_message_bytes: int
    max_host_calls: int
    max_sends_per_message: int


class AgentStats(msgspec.Struct):
    handled: int
    failed: int
    sent: int
    fuel_used: int
    last_error: str | None
    failures_by_kind: dict[str, int]
    sends_refused: int = 0
    batched_messages: Annotated[int, msgspec.Meta(description=(
        "messages handled in handle_batch calls, several per sandbox call"))] = 0


class AgentView(msgspec.Struct):
    name: str
    version: str
    state: Annotated[str, msgspec.Meta(examples=["running"], description=(
        "loading, running, draining, stopped or failed"))]
    module_hash: str
    limits: ResourceLimits
    permissions: Annotated[Permissions | None, msgspec.Meta(
        description="What the agent may do; null: none declared, everything allowed.")]
    deployed_at: DateTime
    mailbox_depth: int
    memory_bytes: int
    hibernated: Annotated[bool, msgspec.Meta(description=(
        "Idle, with its sandbox dropped (config hibernate_idle_s): its next message rebuilds it "
        "and runs init again; only its state-store data survives."))]
    stats: AgentStats


class AgentList(msgspec.Struct):
    agents: list[AgentView]


class LogsQuery(msgspec.Struct):
    limit: Annotated[int, msgspec.Meta(ge=1, le=1000, description="At most this many lines.")
                     ] = 100


class LogLine(msgspec.Struct):
    timestamp: str
    level: int
    message: str


class AgentLogs(msgspec.Struct):
    logs: list[LogLine]
