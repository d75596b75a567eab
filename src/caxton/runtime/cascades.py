"""The cascade guard: cuts runaway loops and fork bombs on the routing path, and says so.

The router asks it about every message (``admit``) and tells it when an agent takes one
(``took``), is done with one (``settled``) and when one bounces (``bounced``). It keeps one
small record per cascade with messages in flight (``domain.cascade`` says what a cascade is and
what the limits measure): counters in memory, no SQL, one dict lookup under a lock per call.

A cascade is cut when one of its messages passes ``max_hops`` (a loop) or when it already has
``max_in_flight`` messages in flight (a fork bomb). The message that passed the limit is not
delivered; it is recorded in its conversation with a ``loop`` or ``fanout`` event beside it,
dead-lettered for each receiver, and a FIPA ``failure`` naming the reason goes where a reply to
it would go (its ``reply_to``, else its sender). That failure is delivered, but everything the
cascade sends afterwards, an answer to the failure included, is dropped and only counted: so a
cut costs bounded work even when the agents at fault answer everything they get.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from caxton.domain.acl import ERROR_ACTS, AclMessage, Performative, reply, utc_now_iso
from caxton.domain.cascade import FANOUT, LOOP, fanout_detail, loop_detail
from caxton.domain.ids import PLATFORM_AGENT
from caxton.router.local import Verdict
from caxton.store import conversation_log
from caxton.store.repositories import DeliveryRepository
from caxton.store.writer import Statement

log = structlog.get_logger("caxton.cascades")

DROP = Verdict()  # not delivered, not recorded: a later message of a cut cascade
_REMEMBERED_LOOPS = 10_000


@dataclass(slots=True)
class _Cascade:
    live: int = 0  # messages agents took and have not settled (queued, handled, retried)
    wasted: int = 0  # messages that bounced: refused, or sent to nobody
    cut: str | None = None  # why it was cut (LOOP or FANOUT)


class CascadeGuard:
    """Implements the router's ``Guard``."""

    def __init__(self, *, max_hops: int, max_in_flight: int) -> None:
        self.max_hops = max_hops
        self.max_in_flight = max_in_flight
        self._lock = threading.Lock()
        self._live: dict[str, _Cascade] = {}
        # Cascades cut for a loop, most recent last: a cut loop whose messages were not counted
        # in flight (replayed, recovered at start-up, or not sent by an agent) has no record in
        # ``_live`` to carry the mark, and answering its failure must not start it over.
        self._cut_loops: collections.OrderedDict[str, None] = collections.OrderedDict()
        self.cuts: collections.Counter[str] = collections.Counter()  # cascades cut, by reason
        self.dropped: collections.Counter[str] = collections.Counter()  # messages, by reason

    @property
    def in_flight(self) -> int:
        """Cascades with messages in flight."""
        return len(self._live)

    def admit(self, msg: AclMessage, ahead: int = 0) -> Verdict | None:
        """None to route ``msg``; else the verdict on a message that is not delivered.
        ``ahead``: messages of its cascade admitted just before it and not yet taken (an
        agent's turn routes its sends together), counted as in flight."""
        with self._lock:
            entry = self._live.get(msg.cascade_root)
            if entry is not None and entry.cut is not None:
                self.dropped[entry.cut] += 1
                return DROP
            if msg.hops > self.max_hops:
                if msg.cascade_root in self._cut_loops:  # cut already, nothing in flight
                    self.dropped[LOOP] += 1
                    return DROP
                self._cut_loops[msg.cascade_root] = None
                if len(self._cut_loops) > _REMEMBERED_LOOPS:
                    self._cut_loops.popitem(last=False)
                reason, detail = LOOP, loop_detail(msg, self.max_hops)
            elif entry is not None and entry.live + entry.wasted + ahead >= self.max_in_flight:
                reason = FANOUT
                detail = fanout_detail(entry.live + entry.wasted + ahead, self.max_in_flight)
            else:
                return None
            if entry is not None:
                entry.cut = reason
            self.cuts[reason] += 1
            self.dropped[reason] += 1
        log.warning("message cascade cut", reason=reason, detail=detail, sender=msg.sender,
                    receiver=list(msg.receiver), conversation_id=msg.conversation_id,
                    message_id=msg.message_id, cascade=msg.cascade_root, hops=msg.hops)
        return Verdict(_record(msg, reason, detail), hold=True, answers=_notice(msg, reason,
                                                                                detail))

    def took(self, msg: AclMessage) -> None:
        root = msg.cascade_root
        with self._lock:
            entry = self._live.get(root)
            if entry is None:
                self._live[root] = _Cascade(live=1)
            else:
                entry.live += 1

    def settled(self, msg: AclMessage) -> None:
        root = msg.cascade_root
        with self._lock:
            entry = self._live.get(root)
            if entry is not None:
                entry.live -= 1
                if entry.live <= 0:  # nothing left that could send more in this cascade
                    del self._live[root]

    def settled_all(self, messages: Sequence[AclMessage]) -> None:
        live = self._live
        with self._lock:  # once for an agent's whole turn
            for msg in messages:
                root = msg.cascade_root
                entry = live.get(root)
                if entry is not None:
                    entry.live -= 1
                    if entry.live <= 0:
                        del live[root]

    def bounced(self, msg: AclMessage) -> None:
        # A bounce still counts against the width: a fork bomb that fills a mailbox is refused
        # there, and would otherwise never look wider than the mailbox.
        with self._lock:
            entry = self._live.get(msg.cascade_root)
            if entry is not None:
                entry.wasted += 1


def _record(msg: AclMessage, reason: str, detail: str) -> list[Statement]:
    """The dead letters and the conversation event that show the cut (the router adds the
    message itself)."""
    rows = [DeliveryRepository.dead(msg.message_id, name, 0, f"{reason}: {detail}")
            for name in msg.receiver]
    if msg.conversation_id is not None:
        rows.append(conversation_log.add_event(
            msg.conversation_id, at=utc_now_iso(), kind=reason, party=msg.sender,
            message_id=msg.message_id, detail=f"cut: {detail}"))
    return rows


def _notice(msg: AclMessage, reason: str, detail: str) -> list[AclMessage]:
    if msg.performative in ERROR_ACTS:  # nobody answers a failure with a failure
        return []
    return [reply(msg, sender=PLATFORM_AGENT, performative=Performative.FAILURE,
                  content={"error": reason, "reason": detail, "message_id": msg.message_id,
                           "receiver": list(msg.receiver)})]


__all__ = ["DROP", "CascadeGuard"]
