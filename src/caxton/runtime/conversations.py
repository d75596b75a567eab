"""The conversation manager: every conversation that names a known FIPA protocol is followed
through that protocol's state machine (``domain.protocols``) as its messages are routed.

It is the router's ``Observer``. For each message it advances the conversation's state and has
the new state written in the same transaction as the message, so after a restart the state
matches the message log. A message the protocol forbids is recorded but not delivered, and the
sender gets ``not-understood`` from the platform (``ams``) saying what the protocol expected. A
deadline-bound answer (a proposal, a bid) that comes after the ``reply_by`` it was given is kept
from the initiator and answered with ``reject-proposal``: FIPA's "late proposals are rejected".

``sweep`` (run every so often by ``ConversationSweeper``) times out parties that owe an answer
past their deadline, telling the initiator with a ``failure`` (a WebAssembly agent has no clock
of its own to wait with), expires conversations idle for longer than ``idle_timeout_s``, and
prunes conversations, with their messages, once ``retention_s`` has passed since their last one.

Only messages that name the conversation's protocol are steps in it (a reply made with the ABI's
``reply`` inherits it); others that share its id pass unchecked, as do a participant's messages
to agents outside the conversation (a note to a ledger, an answer to the platform). Messages a
platform sends about a conversation (our bounces and these reports, or another platform's AMS
saying a receiver does not exist there) are recorded and delivered but not fed to the state
machine: the platform is not a party.
"""

from __future__ import annotations

import collections
import heapq
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from caxton.domain.acl import AclMessage, utc_now_iso
from caxton.domain.ids import PLATFORM_AGENT, is_platform_agent, new_id
from caxton.domain.protocols import (
    ConversationState,
    Protocol,
    expire,
    next_deadline,
    overdue,
    protocol_for,
    reports,
    utc_key,
)
from caxton.domain.protocols.base import LATE
from caxton.errors import CaxtonError, ProtocolViolation
from caxton.router.local import PASS, Verdict
from caxton.store import conversation_log as rows
from caxton.store.conversation_log import OpenConversation
from caxton.store.writer import Statement

log = structlog.get_logger("caxton.conversations")

_UNSEEN: Any = object()


@dataclass(frozen=True, slots=True)
class ConversationSettings:
    idle_timeout_s: float = 3600.0
    retention_s: float = 7 * 86400.0
    recently_closed: int = 10_000  # finished conversations kept in memory to answer late-comers
    max_open: int = 1_000_000      # beyond this the oldest idle ones are expired early


@dataclass(slots=True)
class _Tracked:
    state: ConversationState
    revision: int
    touched: float  # monotonic time of the last message
    expired: bool = False  # given up for idleness: kept only to refuse what still comes
    # Where the initiator wants replies about each party (the reply_to, else the sender, of its
    # last message to it): timeout reports go there, with the transport addresses that message
    # gave for those agents when they live on another platform. Not persisted; after a restart,
    # the initiator (reached through the platform address book if it is elsewhere).
    reply_to: dict[str, tuple[str, ...]] = field(default_factory=dict)
    addresses: dict[str, tuple[str, ...]] = field(default_factory=dict)


class ConversationManager:
    def __init__(self, settings: ConversationSettings, *,
                 submit: Callable[[list[Statement]], None],
                 route: Callable[[Sequence[AclMessage]], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._submit = submit
        self._route = route
        self._clock = clock
        self._lock = threading.Lock()
        self._open: collections.OrderedDict[str, _Tracked] = collections.OrderedDict()
        self._closed: collections.OrderedDict[str, _Tracked] = collections.OrderedDict()
        self._deadlines: list[tuple[str, str]] = []  # (ISO deadline, conversation id), a heap
        self.ended: collections.Counter[tuple[str, str]] = collections.Counter()
        self._revision = 0  # of state writes: increasing across conversations and restarts
        self._known: dict[str | None, Protocol | None] = {}  # protocol field -> protocol
        self.violations = 0
        self.late = 0
        self.timeouts = 0
        self.expired = 0

    @property
    def open_count(self) -> int:
        return len(self._open)

    def open_by_protocol(self) -> dict[str, int]:
        with self._lock:
            found = collections.Counter(t.state.protocol.name for t in self._open.values())
        return dict(found)

    def restore(self, conversations: list[OpenConversation]) -> int:
        """Take back the conversations a previous run left (from the store): the open ones,
        and recently ended ones so that late messages in them are still refused."""
        now = self._clock()
        with self._lock:
            for conv in conversations:
                protocol = protocol_for(conv.state.get("protocol"))
                if protocol is None:
                    continue
                try:
                    state = ConversationState.from_dict(conv.state, protocol)
                except (KeyError, TypeError, ValueError, CaxtonError) as exc:
                    # A state that cannot be read back: that conversation goes untracked,
                    # the others are restored.
                    log.warning("unreadable row quarantined", table="conversations",
                                key=conv.id, reason=f"protocol state: {exc!r}",
                                action="not tracked")
                    continue
                tracked = _Tracked(state, conv.revision, now, expired=conv.status == "expired")
                self._revision = max(self._revision, conv.revision)
                if conv.status == "open":
                    self._open[conv.id] = tracked
                    self._watch_deadline(conv.id, state)
                else:
                    self._closed[conv.id] = tracked
        return len(self._open)

    # -- the routing path ----------------------------------------------------------------------
    def observe(self, msg: AclMessage) -> Verdict:
        # Most messages name no protocol: they pass without taking the lock.
        protocol = self._known.get(msg.protocol, _UNSEEN)
        if protocol is _UNSEEN:
            protocol = protocol_for(msg.protocol)
            if len(self._known) < 256:  # names come from clients: keep the cache bounded
                self._known[msg.protocol] = protocol
        if protocol is None or (is_platform_agent(msg.sender)
                                and msg.performative in reports.PLATFORM_REPORTS):
            return PASS
        cid = msg.conversation_id
        with self._lock:
            tracked = None
            if cid is not None:
                tracked = self._open.get(cid) or self._closed.get(cid)
            if tracked is None:
                if cid is None:  # FIPA protocols need one; give it before anything records it
                    cid = msg.conversation_id = new_id()
                    msg._wire = None  # the cached wire form had no conversation id
                tracked = _Tracked(ConversationState.start(protocol), 0, self._clock())
                before = tracked.state
                fresh = True
            elif protocol is not tracked.state.protocol:
                return PASS  # a side message in the conversation, not a step of its protocol
            else:
                before = tracked.state
                fresh = False
            assert cid is not None
            if tracked.expired:
                return self._violation(cid, msg, reports.expired(
                    cid, protocol.name, self._settings.idle_timeout_s, msg), tracked)
            from_initiator = fresh or msg.sender in before.initiator_addresses
            if not from_initiator and before.aside(msg):
                return PASS
            try:
                after = before.advance(msg, from_initiator)
            except ProtocolViolation as exc:
                return self._violation(cid, msg, exc, tracked if not fresh else None)
            tracked.state, tracked.revision = after, self._next_revision()
            tracked.touched = self._clock()
            if from_initiator:
                for name in msg.receiver:
                    tracked.reply_to[name] = msg.reply_address
                for name in msg.reply_address:
                    if name in msg.addresses:
                        tracked.addresses[name] = msg.addresses[name]
            verdict = Verdict()
            if (not from_initiator and after.party(msg.sender).state == LATE
                    and before.party(msg.sender).state != LATE):
                self._late(cid, msg, after, verdict)
            done = self._place(cid, tracked)
            verdict.statements.append(self._save(cid, tracked, "done" if done else "open",
                                                 at=msg.timestamp))
            return verdict

    def _violation(self, cid: str, msg: AclMessage, exc: ProtocolViolation,
                   tracked: _Tracked | None) -> Verdict:
        self.violations += 1
        log.info("protocol violation", conversation_id=cid, sender=msg.sender,
                 performative=msg.performative.value, reason=exc.message)
        statements = [rows.add_event(cid, at=utc_now_iso(), kind="violation", party=msg.sender,
                                     message_id=msg.message_id, detail=exc.message)]
        if tracked is not None:
            tracked.touched = self._clock()
        return Verdict(statements, hold=True, answers=[reports.not_understood(msg, exc)])

    def _late(self, cid: str, msg: AclMessage, state: ConversationState,
              verdict: Verdict) -> None:
        self.late += 1
        answer, detail = reports.late_answer(msg, state.party(msg.sender).deadline)
        verdict.hold = True
        verdict.answers.append(answer)
        verdict.statements.append(rows.add_event(
            cid, at=utc_now_iso(), kind="late", party=msg.sender, message_id=msg.message_id,
            detail=detail))

    def _next_revision(self) -> int:
        """A revision above every earlier one, also those of a previous run (a clock-based
        floor), so a conversation tracked anew after it left memory still saves (lock held)."""
        self._revision = max(self._revision + 1, time.time_ns())
        return self._revision

    def _place(self, cid: str, tracked: _Tracked) -> bool:
        """File ``tracked`` as open or closed after a change (lock held); True if it ended."""
        done = tracked.state.done
        if done:
            if self._open.pop(cid, None) is not None or cid not in self._closed:
                self.ended[(tracked.state.protocol.name, "done")] += 1
            self._closed[cid] = tracked
            self._closed.move_to_end(cid)
            if len(self._closed) > self._settings.recently_closed:
                self._closed.popitem(last=False)
        else:
            self._closed.pop(cid, None)
            self._open[cid] = tracked
            self._open.move_to_end(cid)
            self._watch_deadline(cid, tracked.state)
        return done

    def _watch_deadline(self, cid: str, state: ConversationState) -> None:
        deadline = next_deadline(state)
        if deadline is not None:
            heapq.heappush(self._deadlines, (deadline, cid))

    def _save(self, cid: str, tracked: _Tracked, status: str | None = None,
              at: str | None = None) -> Statement:
        state = tracked.state
        return rows.save_state(
            cid, protocol=state.protocol.name, initiator=state.initiator or "",
            at=at or utc_now_iso(), status=status or ("done" if state.done else "open"),
            state=state, revision=tracked.revision)  # serialised by the writer

    # -- time ----------------------------------------------------------------------------------
    def sweep(self, now: datetime | None = None) -> int:
        """Time out overdue parties and expire idle conversations; returns how many changed."""
        now = now or datetime.now(UTC)
        statements: list[Statement] = []
        answers: list[AclMessage] = []
        with self._lock:
            changed = self._time_out(now, statements, answers)
            changed += self._expire_idle(statements)
        if statements:
            self._submit(statements)
        if answers:
            self._route(answers)
        return changed

    def _time_out(self, now: datetime, statements: list[Statement],
                  answers: list[AclMessage]) -> int:
        changed = 0
        stamp = utc_key(now.isoformat())
        while self._deadlines and self._deadlines[0][0] < stamp:
            _, cid = heapq.heappop(self._deadlines)
            tracked = self._open.get(cid)
            if tracked is None:
                continue
            late = overdue(tracked.state, now)
            if not late:
                continue
            tracked.state = expire(tracked.state, now)
            tracked.revision = self._next_revision()
            changed += 1
            for party in late:
                self.timeouts += 1
                state = tracked.state
                to = tracked.reply_to.get(party) or (state.initiator or PLATFORM_AGENT,)
                report, detail = reports.timed_out(cid, state.protocol.name, to, party,
                                                   state.party(party).deadline,
                                                   addresses=tracked.addresses)
                statements.append(rows.add_event(cid, at=utc_now_iso(), kind="timeout",
                                                 party=party, message_id=None, detail=detail))
                answers.append(report)
            statements.append(self._save(cid, tracked))
            self._place(cid, tracked)
        return changed

    def _expire_idle(self, statements: list[Statement]) -> int:
        settings, count = self._settings, 0
        cutoff = self._clock() - settings.idle_timeout_s
        while self._open:
            cid, tracked = next(iter(self._open.items()))
            if tracked.touched > cutoff and len(self._open) <= settings.max_open:
                break
            self._open.pop(cid)
            tracked.revision = self._next_revision()
            tracked.expired = True
            self._closed[cid] = tracked
            self.expired += 1
            self.ended[(tracked.state.protocol.name, "expired")] += 1
            count += 1
            statements.append(self._save(cid, tracked, "expired"))
            statements.append(rows.add_event(
                cid, at=utc_now_iso(), kind="expired", party=None, message_id=None,
                detail=f"no message for {settings.idle_timeout_s:g}s; the conversation expired"))
        return count

    def snapshot(self, cid: str) -> dict[str, Any] | None:
        """The live state of a conversation still in memory, as stored (the Contract Net
        driver reads who was held back as late)."""
        with self._lock:
            tracked = self._open.get(cid) or self._closed.get(cid)
            return tracked.state.to_dict() if tracked is not None else None

    def prune_statements(self, now: datetime | None = None) -> list[Statement]:
        now = now or datetime.now(UTC)
        before = now - timedelta(seconds=self._settings.retention_s)
        return rows.prune(before.isoformat(timespec="microseconds").replace("+00:00", "Z"))
