"""ACL messages as clients send them and as the API answers them (docs/messaging.md)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, UnsetType

from caxton.api.rest.models.common import (
    USER_PARAMS,
    Address,
    DateTime,
    Seconds,
    ShortString,
    schema_extra,
)
from caxton.domain.acl import Performative
from caxton.domain.acl_fields import MAX_RECEIVERS, MAX_URLS

PERFORMATIVES = [p.value for p in Performative]
PerformativeName = Annotated[str, msgspec.Meta(
    max_length=64, extra_json_schema={"enum": PERFORMATIVES},
    description="A FIPA performative (SC00037). Case-insensitive; '_' may stand for '-', and "
                "call-for-proposal for cfp.")]
Receivers = Annotated[list[Address], msgspec.Meta(min_length=1, max_length=MAX_RECEIVERS)]
Url = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class TraceContext(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """W3C trace context, copied into replies."""

    traceparent: Annotated[str, msgspec.Meta(
        pattern=r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")]
    tracestate: str | UnsetType = UNSET


@schema_extra({**USER_PARAMS, "additionalProperties": False})
class AclMessageIn(msgspec.Struct, omit_defaults=True):
    """A FIPA-ACL message to send. ``X-...`` members are user-defined parameters (strings);
    any other member is refused."""

    performative: PerformativeName
    receiver: Address | Receivers
    content: Any = None
    sender: Address | None = None
    reply_to: Address | list[Address] | None = None
    message_id: ShortString | UnsetType = UNSET
    conversation_id: ShortString | None = None
    reply_with: ShortString | None = None
    in_reply_to: ShortString | None = None
    protocol: ShortString | None = None
    language: ShortString | None = None
    encoding: ShortString | None = None
    ontology: ShortString | None = None
    reply_by: DateTime | None = None
    timestamp: DateTime | UnsetType = UNSET
    trace_context: TraceContext | None = None
    addresses: dict[Address, Annotated[list[Url], msgspec.Meta(max_length=MAX_URLS)]] | None \
        = None


@schema_extra(USER_PARAMS)
class AclMessage(msgspec.Struct, omit_defaults=True):
    """A message as the server has it: ``content`` always last; absent members are unset."""

    message_id: str
    performative: str
    sender: str
    receiver: list[str]
    timestamp: DateTime
    content: Any
    reply_to: list[str] | UnsetType = UNSET
    addresses: dict[str, list[str]] | UnsetType = UNSET
    language: str | UnsetType = UNSET
    encoding: str | UnsetType = UNSET
    ontology: str | UnsetType = UNSET
    protocol: str | UnsetType = UNSET
    conversation_id: str | UnsetType = UNSET
    reply_with: str | UnsetType = UNSET
    in_reply_to: str | UnsetType = UNSET
    reply_by: DateTime | UnsetType = UNSET
    trace_context: TraceContext | UnsetType = UNSET


class SendQuery(msgspec.Struct):
    wait: Annotated[bool, msgspec.Meta(
        description="Wait for the first reply and answer it (200) instead of 202. "
                    "Also 1/0, yes/no.")] = False
    timeout: Annotated[Seconds, msgspec.Meta(
        description="Seconds to wait for the reply (at most the server's max_wait_s).")] = 30.0


class SendResult(msgspec.Struct, omit_defaults=True):
    message: AclMessage
    reply: AclMessage | None
    duplicate: Annotated[bool, msgspec.Meta(
        description="The message_id was accepted before; nothing was sent again.")] = False


class MessageStreamQuery(msgspec.Struct):
    agent: Annotated[str | None, msgspec.Meta(
        description="Only messages this agent sent or receives.")] = None
    performative: Annotated[str | None, msgspec.Meta(
        description="Only messages with this performative.")] = None


class MessageStreamItem(msgspec.Struct):
    """The data of one event of ``GET /api/v1/messages/stream``."""

    message: AclMessage
    dropped: Annotated[int, msgspec.Meta(description="Messages skipped: this client read too "
                                                     "slowly.")]
