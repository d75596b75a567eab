"""What the store keeps, as the API answers it: conversations and dead letters."""

from __future__ import annotations

from typing import Annotated

import msgspec

from caxton.api.rest.models.common import DateTime
from caxton.api.rest.models.messages import AclMessage

Limit = Annotated[int, msgspec.Meta(ge=1, le=10_000, description="At most this many.")]


class ConversationsQuery(msgspec.Struct):
    limit: Limit = 100
    participant: Annotated[str | None, msgspec.Meta(
        description="Only conversations this agent took part in.")] = None


class ConversationSummary(msgspec.Struct):
    conversation_id: str
    protocol: str | None
    initiator: str
    started_at: DateTime
    last_at: DateTime
    message_count: int
    participants: list[str]
    status: str | None


class ConversationList(msgspec.Struct):
    conversations: list[ConversationSummary]


class Party(msgspec.Struct):
    kind: str
    state: str
    last: str | None
    deadline: str | None


class ConversationEvent(msgspec.Struct):
    at: str
    kind: str
    party: str | None
    message_id: str | None
    detail: str


class Conversation(ConversationSummary):
    parties: dict[str, Party]
    events: list[ConversationEvent]
    messages: list[AclMessage]


class DeadLettersQuery(msgspec.Struct):
    limit: Limit = 100
    agent: Annotated[str | None, msgspec.Meta(description="Only this receiver's.")] = None


class DeadLetter(msgspec.Struct):
    message_id: str
    receiver: str
    attempts: int
    reason: str | None
    failed_at: DateTime
    message: AclMessage


class DeadLetterList(msgspec.Struct):
    dead_letters: list[DeadLetter]


class Replayed(msgspec.Struct):
    replayed: Annotated[int, msgspec.Meta(description="Receivers it was queued for again.")]


class Purged(msgspec.Struct):
    purged: Annotated[int, msgspec.Meta(description="Dead letters deleted.")]
