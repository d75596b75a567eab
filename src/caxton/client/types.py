"""The shapes the client returns: the same JSON objects REST returns, as TypedDicts.

Answers over gRPC and over REST are interchangeable dictionaries, so code (and the CLI's
``-o json``) does not care which transport fetched them. A message is a plain ``dict`` in the
JSON form of docs/messaging.md: its ``X-`` parameters cannot be written as a TypedDict.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

Message = dict[str, Any]
"""An ACL message in its JSON form (``performative``, ``receiver``, ``content``, ...)."""


class ResourceLimits(TypedDict):
    fuel: int
    memory_bytes: int
    timeout_ms: int
    max_message_bytes: int
    max_host_calls: int
    max_sends_per_message: int


class RateLimit(TypedDict):
    messages_per_s: float
    burst: int


class Permissions(TypedDict):
    """What an agent may do (docs/agent-permissions.md)."""

    host_functions: list[str]
    messaging: list[str]
    rate: RateLimit | None
    max_receivers: int | None
    tools: list[str]


class AgentStats(TypedDict):
    handled: int
    failed: int
    sent: int
    fuel_used: int
    last_error: str | None
    failures_by_kind: dict[str, int]


class AgentView(TypedDict):
    """An agent, as ``caxton agents show -o json`` prints it."""

    name: str
    version: str
    state: str
    module_hash: str
    limits: ResourceLimits
    permissions: Permissions | None  # None: none declared, everything allowed
    deployed_at: str
    mailbox_depth: int
    memory_bytes: int
    hibernated: bool  # idle, sandbox dropped; rebuilt for the next message
    stats: AgentStats


class DeploymentError(TypedDict):
    code: str
    message: str


class Deployment(TypedDict):
    """A deploy that runs on in the server (``start_deployment``), as REST shows it."""

    id: str
    name: str
    version: str
    module_bytes: int
    status: str  # running, succeeded, failed
    stage: str  # validate, compile, instantiate, init, switch
    stages: list[str]
    progress: float
    started_at: str
    finished_at: str | None
    elapsed_s: float
    stage_s: dict[str, float]
    agent: AgentView | None
    error: DeploymentError | None


class LogLine(TypedDict):
    timestamp: str
    level: int  # 0 debug, 1 info, 2 warning, 3 error
    message: str


class SendResult(TypedDict):
    """What a send returns: the message as logged and, when waiting, the reply."""

    message: Message
    reply: Message | None
    duplicate: NotRequired[bool]  # present (True) when the message_id had been accepted before


class ConversationSummary(TypedDict):
    conversation_id: str
    protocol: str | None
    initiator: str
    started_at: str
    last_at: str
    message_count: int
    participants: list[str]
    status: str | None  # open | done | expired; None when no known protocol is followed


class PartyState(TypedDict):
    kind: str
    state: str
    last: str | None
    deadline: str | None


class ConversationEvent(TypedDict):
    """Something that happened in a conversation besides a delivered message."""

    at: str
    kind: str  # violation | late | timeout | expired
    party: str | None
    message_id: str | None
    detail: str


class Conversation(ConversationSummary):
    parties: dict[str, PartyState]
    events: list[ConversationEvent]
    messages: list[Message]


class DeadLetter(TypedDict):
    """A message one receiver gave up on after every delivery attempt."""

    message_id: str
    receiver: str
    attempts: int
    reason: str | None
    failed_at: str
    message: Message


class ServerStatus(TypedDict):
    """The bodies of REST's ``GET /health`` and ``GET /ready``."""

    health: dict[str, Any]
    ready: dict[str, Any]
