"""The protocol drivers (docs/messaging.md#protocol-drivers): Contract Net and subscribe."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, UnsetType

from caxton.api.drivers.common import MAX_WAIT_S
from caxton.api.rest.models.common import (
    DRIVER_USER_PARAMS,
    Address,
    DateTime,
    schema_extra,
)
from caxton.api.rest.models.messages import AclMessage, Receivers

DriverString = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
Receiver = Annotated[Address | Receivers, msgspec.Meta(
    description="Agent names: a list, a comma-separated string, or a service:TYPE/all "
                "address.")]


@schema_extra({**DRIVER_USER_PARAMS, "additionalProperties": False})
class ContractNetBody(msgspec.Struct, omit_defaults=True):
    """Run one Contract Net: a cfp to every receiver, the best proposal accepted by ``pick``,
    the others rejected, the winner's result awaited."""

    receiver: Receiver
    content: Any = None
    deadline_s: Annotated[float, msgspec.Meta(gt=0, le=MAX_WAIT_S, description=(
        "Seconds the participants have to propose."))] | None = None
    pick: Annotated[str, msgspec.Meta(examples=["min:price", "max:score", "first"], description=(
        "min:FIELD, max:FIELD or first (default min:price)."))] | None = None
    result_timeout_s: Annotated[float, msgspec.Meta(ge=0, le=MAX_WAIT_S)] | None = None
    conversation_id: DriverString | None = None
    language: DriverString | None = None
    ontology: DriverString | None = None


class Participant(msgspec.Struct):
    agent: str
    answer: Annotated[str | None, msgspec.Meta(
        description="proposed, refused, timed-out, late or failed")]
    after_s: float | None
    content: Any
    message_id: str | None
    decision: str | None
    reason: str | None


class ContractNetResult(msgspec.Struct):
    performative: str
    content: Any
    after_s: float
    message_id: str


class ContractNetOutcome(msgspec.Struct):
    conversation_id: str
    protocol: str
    rule: str
    reply_by: DateTime
    status: Annotated[str, msgspec.Meta(
        description="done, failed, no-result, no-proposals or none-acceptable")]
    winner: str | None
    proposal: Any
    result: ContractNetResult | None
    participants: list[Participant]
    elapsed_s: float


@schema_extra({**DRIVER_USER_PARAMS, "additionalProperties": False})
class SubscribeBody(msgspec.Struct, omit_defaults=True):
    """Subscribe to one agent and stream the subscription's events."""

    receiver: Receiver
    content: Any = None
    count: Annotated[int, msgspec.Meta(ge=1, le=1_000_000, description=(
        "Cancel after this many informs."))] | None = None
    cancel_timeout_s: Annotated[float, msgspec.Meta(ge=0, le=MAX_WAIT_S)] | None = None
    conversation_id: DriverString | None = None
    language: DriverString | None = None
    ontology: DriverString | None = None


class SubscriptionEvent(msgspec.Struct, omit_defaults=True):
    """One event of a subscription (the data of each server-sent event, and the answer of a
    cancel)."""

    event: Annotated[str, msgspec.Meta(description=(
        "subscribed, agree, inform, refuse, failure, not-understood or cancelled"))]
    conversation_id: str
    after_s: float
    message: AclMessage | UnsetType | None = UNSET
    answer: AclMessage | UnsetType | None = UNSET
    outcome: Annotated[str, msgspec.Meta(description=(
        "cancelled, cancel-failed, no-answer or not-understood"))] | UnsetType = UNSET
    reason: str | UnsetType = UNSET
