"""An agent's permissions applied to what one handler run sent, on the worker, before routing.

A send the agent's ``SendPolicy`` refuses is not delivered: it is recorded in its conversation
(held, as the cascade guard records a cut message) with a ``permission`` event beside it, and the
platform (``ams``) answers it to the agent with a FIPA ``failure`` in the same conversation, whose
content says which permission is missing. A refused ``failure`` or ``not-understood`` is not
answered (the router never answers those either: that is how loops start). The answer rides in
the same batch as the run's other sends, so it is committed with the handled message's outcome
like them: a crash before that commit leaves the message owed, and the rerun decides again.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from caxton.domain.acl import ERROR_ACTS, AclMessage, Performative, reply, utc_now_iso
from caxton.domain.ids import PLATFORM_AGENT
from caxton.domain.send_policy import Denial, SendPolicy
from caxton.runtime.cell import AgentCell
from caxton.sandbox.outcome import Outcome
from caxton.store import conversation_log
from caxton.store.writer import Statement

Record = Callable[[AclMessage, tuple[str, ...]], list[Statement]]
Report = Callable[[str, str, str], None]
EVENT = "permission"  # the conversation event beside a refused message


def screen_sends(cell: AgentCell, policy: SendPolicy, cause: AclMessage, outcome: Outcome, *,
                 record: Record, report: Report) -> list[Statement]:
    """Replace each refused send in ``outcome.sends`` by the platform's answer to it; return
    the rows that record the refused ones. ``report`` hears each violation."""
    sends = outcome.sends
    now = time.monotonic()
    kept: list[AclMessage] | None = None  # made only once something is refused
    held: list[Statement] = []
    for i, msg in enumerate(sends):
        denial = policy.screen(msg, cause, now)
        if denial is None:
            if kept is not None:
                kept.append(msg)
            continue
        if kept is None:
            kept = sends[:i]
        held.extend(_held(msg, denial, cell.name, record))
        if msg.performative not in ERROR_ACTS:  # answering a failure is how loops start
            kept.append(answer(cell.name, msg, denial))
        cell.stats.sent -= 1  # counted as sent by the cell before this screen
        cell.add_log(3, f"send refused: {denial.reason}")
        report(cell.name, denial.kind, f"message {msg.message_id} to "
                                       f"{', '.join(msg.receiver)}: {denial.reason}")
    if kept is not None:
        outcome.sends = kept
    return held


def answer(agent: str, msg: AclMessage, denial: Denial) -> AclMessage:
    """The platform's ``failure`` to ``agent`` about its refused ``msg`` (to the agent itself,
    whatever ``reply_to`` the message named)."""
    out = reply(msg, sender=PLATFORM_AGENT, performative=Performative.FAILURE,
                content=denial.content(msg))
    out.receiver = (agent,)
    out.addresses = {}  # those of the refused message's receivers, not the agent's
    return out


def _held(msg: AclMessage, denial: Denial, agent: str, record: Record) -> list[Statement]:
    rows = record(msg, ())  # logged, owed to nobody: never delivered
    if msg.conversation_id is not None:
        rows.append(conversation_log.add_event(
            msg.conversation_id, at=utc_now_iso(), kind=EVENT, party=agent,
            message_id=msg.message_id, detail=f"refused ({denial.kind}): {denial.reason}"))
    return rows


__all__ = ["EVENT", "answer", "screen_sends"]
