"""What a call into an agent produced: one message's ``Outcome``, a batch's ``BatchOutcome``.

Plain data, shared by the core-module sandbox (instance.py), the component sandbox
(component.py) and the runtime that acts on them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from caxton.domain.acl import AclMessage
from caxton.domain.limits import ResourceLimits

# handle_batch's buffer: the current message's index and the count, then length-prefixed
# messages (docs/agent-abi.md).
BATCH_HEADER = struct.Struct("<II")
FRAME_LENGTH = struct.Struct("<I")
# A batch that runs out of these was cut short by its neighbours' use, not by the message.
BUDGET_KINDS = frozenset({"fuel_exhausted", "timeout"})
# What one handled message of a batch produced: its sends, its state writes, sends refused.
BatchPart = tuple[list[AclMessage], dict[str, bytes | None], int]


@dataclass(slots=True)
class Outcome:
    """What handling one message produced."""

    ok: bool
    sends: list[AclMessage] = field(default_factory=list)
    state_writes: dict[str, bytes | None] = field(default_factory=dict)
    fuel_used: int = 0
    error_kind: str | None = None
    error: str | None = None
    duration_s: float = 0.0
    sends_refused: int = 0  # sends and replies past the agent's max_sends_per_message


@dataclass(slots=True)
class BatchOutcome:
    """What one ``handle_batch`` call produced."""

    # For the first len(outcomes) messages, in order; only the last may be a failure. The
    # messages after them were not handled: the caller queues them again.
    outcomes: list[Outcome]
    # The call ran out of fuel or time after the handled ones, which the batch's earlier
    # messages share: the next message is retried alone (not failed), and the instance,
    # stopped halfway through it, must be renewed.
    budget_spent: bool = False
    # False when the messages went to ``handle`` one at a time after all (too few fit).
    batched: bool = True


def oversize(data: bytes, limits: ResourceLimits) -> Outcome | None:
    """The failed outcome for a message over the agent's size limit, else None."""
    if len(data) <= limits.max_message_bytes:
        return None
    return Outcome(ok=False, error_kind="too_large",
                   error=f"message of {len(data)} bytes exceeds the agent's limit of "
                   f"{limits.max_message_bytes}")
