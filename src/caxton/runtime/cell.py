"""An agent as the runtime holds it: lifecycle state, mailbox, live instance and counters.

The cell decides *when* an agent runs (one worker at a time, batches of mail); what a handled
or failed message means for durability, retries and replies is the host's business
(``CellHooks``).
"""

from __future__ import annotations

import collections
import contextlib
import threading
import time
from typing import Any, Protocol

import structlog

from caxton.domain.acl import AclMessage, utc_now_iso
from caxton.domain.agent import AgentRecord, AgentStats
from caxton.domain.lifecycle import AgentState, Transition, next_state
from caxton.domain.send_policy import SendPolicy
from caxton.runtime.call_sizing import CallSizer
from caxton.sandbox.instance import AgentInstance
from caxton.sandbox.outcome import BatchOutcome, Outcome

log = structlog.get_logger("caxton.runtime")

# States whose mailbox takes new mail; only RUNNING and DRAINING also handle it.
_QUEUEING = frozenset({AgentState.RUNNING, AgentState.DRAINING, AgentState.STOPPED,
                       AgentState.LOADED})
_WORKING = frozenset({AgentState.RUNNING, AgentState.DRAINING})
# States in which an idle agent may hibernate (runtime/hibernation.py).
_SLEEPING = frozenset({AgentState.RUNNING, AgentState.STOPPED})
TIME_SLICE_S = 0.05


class CellHooks(Protocol):
    """What a cell needs from its host."""

    def schedule(self, cell: AgentCell) -> None: ...

    def handled(self, cell: AgentCell, msg: AclMessage, outcome: Outcome) -> None: ...

    def failed(self, cell: AgentCell, msg: AclMessage, outcome: Outcome) -> None: ...

    def stranded(self, cell: AgentCell, messages: list[AclMessage]) -> None: ...

    def turn_done(self, cell: AgentCell) -> None:
        """The end of a turn on a worker: commit and route what ``handled`` noted."""
        ...

    def traced(self, cell: AgentCell, msg: AclMessage
               ) -> contextlib.AbstractContextManager[dict[str, str] | None]:
        """A span around one handler run; yields the trace context for what it sends."""
        ...

    def state_changed(self, cell: AgentCell, old: AgentState, new: AgentState,
                      reason: str | None) -> None:
        """Called under the cell's lock after every state change: it must only hand off."""
        ...

    def wake(self, cell: AgentCell) -> None:
        """Give a hibernated cell a fresh instance (or fail it); called at the start of a
        turn, on the worker, before any of its mail is handled."""
        ...

    def batching(self, cell: AgentCell) -> bool:
        """Whether several messages may go to the agent in one call (not while each handler
        run needs a span of its own)."""
        ...

    def renew(self, cell: AgentCell) -> None:
        """Replace the cell's instance with a fresh one (or fail the cell); on the worker."""
        ...


class AgentCell:
    durable = True  # the router records a pending delivery for every message to an agent

    def __init__(
        self,
        record: AgentRecord,
        instance: AgentInstance | None,
        *,
        hooks: CellHooks,
        mailbox_capacity: int,
        batch: int = 64,
    ) -> None:
        self.record = record
        # What it may send, compiled from its permissions (None: anything). Its rate bucket
        # lives as long as the deployment: a restart of a failed agent keeps it.
        self.policy = SendPolicy.of(record.name, record.permissions)
        self.instance = instance
        self.state = AgentState.UNLOADED
        self.stats = AgentStats()
        self.logs: collections.deque[dict[str, Any]] = collections.deque(maxlen=1000)
        self.attempts: dict[str, int] = {}  # message_id -> failed attempts so far
        # What this turn handled, committed together at its end (touched only by the worker
        # that runs the cell): (message, outcome, held rows), and the state commit callbacks.
        self.turn: list[tuple[AclMessage, Outcome, Any]] = []
        self.turn_commits: list[Any] = []
        self._mailbox: collections.deque[AclMessage] = collections.deque()
        self._capacity = mailbox_capacity
        self._batch = batch
        self._hooks = hooks
        self._lock = threading.Lock()  # guards state, scheduling flag and the mailbox bound
        self._running = threading.Lock()  # held while a worker handles this agent's mail
        self._scheduled = False
        self._idle = threading.Condition(self._lock)
        # Set once the sandbox is released (removed, or parked at shutdown): nothing may call
        # into the instance after that, whichever thread still holds a reference to the cell
        # (a retry timer, a worker with the cell queued, a metrics scrape).
        self._closed: str | None = None
        self._parked = False  # closed for shutdown: mail stays owed in the store
        self._interrupting = False  # handlers now end at the epoch: their mail stays owed
        self._memory_seen = 0
        # Hibernation (runtime/hibernation.py): the instance was dropped while idle and is
        # rebuilt at the start of the next turn; last_turn is when the last turn began.
        self.hibernated = False
        self.last_turn = time.monotonic()
        self._sizer = CallSizer()  # how many queued messages a sandbox call takes

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def mailbox_depth(self) -> int:
        return len(self._mailbox)

    # -- lifecycle -----------------------------------------------------------------------------
    def transition(self, change: Transition, reason: str | None = None) -> None:
        with self._lock:
            self._set(next_state(self.state, change), reason)

    def _set(self, state: AgentState, reason: str | None) -> None:
        old, self.state = self.state, state
        if reason is not None:
            self.stats.last_error = reason
        log.info("agent state", agent=self.name, old=old.value, new=state.value, reason=reason)
        self._hooks.state_changed(self, old, state, reason)
        if state in _WORKING and self._mailbox and not self._scheduled:
            self._scheduled = True
            self._hooks.schedule(self)

    def drain(self, timeout: float) -> bool:
        """Handle what is queued (new mail still queues) until empty or ``timeout``."""
        with self._lock:
            if self.state is AgentState.RUNNING:
                self._set(next_state(self.state, Transition.DRAIN), None)
            return self._idle.wait_for(lambda: not self._mailbox and not self._scheduled, timeout)

    def interrupting(self) -> None:
        """From now on a handler that fails (the epoch is about to end it) leaves its message
        owed instead of failing it: shutdown, not the agent, cut it short."""
        self._interrupting = True

    def close(self, *, park: bool = False) -> list[AclMessage]:
        """Release the sandbox for good and return the mail still queued.

        Waits for the handler running now (if any), so no thread is inside the instance when
        it is freed; afterwards ``run`` does nothing and ``deliver`` refuses (removed) or
        accepts without queueing (``park``: at shutdown, the store still owes the mail and the
        next start delivers it).
        """
        with self._running, self._lock:
            self._closed = "parked" if park else f"agent '{self.name}' was removed"
            self._parked = park
            instance, self.instance = self.instance, None
            left = list(self._mailbox)
            self._mailbox.clear()
            self._idle.notify_all()
        if instance is not None:
            instance.close()
        return left

    def replace_instance(
        self, record: AgentRecord, instance: AgentInstance
    ) -> AgentInstance | None:
        """Switch to a new version between two messages; the old instance is returned.

        On a closed cell the new instance is refused (returned, for the caller to close).
        """
        with self._running:
            if self._closed is not None:
                return instance
            if record is not self.record:  # a new deployment: its permissions replace these
                self.policy = SendPolicy.of(record.name, record.permissions)
            old, self.instance, self.record = self.instance, instance, record
            self.stats.consecutive_failures = 0
            self.hibernated, self.last_turn = False, time.monotonic()  # hibernation
            return old

    # -- hibernation (runtime/hibernation.py decides when) -------------------------------------
    def hibernate(self) -> AgentInstance | None:
        """Drop the instance if the agent is idle right now: no handler running, no mail, not
        scheduled. Returns it for the caller to close (outside the cell's locks), else None.
        Mail that arrives afterwards schedules a turn, and the turn wakes the cell first."""
        if not self._running.acquire(blocking=False):
            return None
        try:
            with self._lock:
                if (self._closed is not None or self.instance is None or self._mailbox
                        or self._scheduled or self.state not in _SLEEPING):
                    return None
                instance, self.instance = self.instance, None
                self.hibernated, self._memory_seen = True, 0
                return instance
        finally:
            self._running.release()

    def memory_bytes(self) -> int:
        """The sandbox's memory size, read only while no handler runs (else the last reading):
        a store may not be touched from two threads, nor after it is freed."""
        if self._running.acquire(blocking=False):
            try:
                if self.instance is not None:
                    self._memory_seen = self.instance.memory_bytes()
            finally:
                self._running.release()
        return self._memory_seen

    # -- delivery ------------------------------------------------------------------------------
    def refusal(self) -> str | None:
        """Why a message cannot be queued now, or None when it can."""
        if self._closed is not None:
            return None if self._parked else self._closed
        if self.state not in _QUEUEING:
            return f"agent '{self.name}' is {self.state.value}"
        if len(self._mailbox) >= self._capacity:
            return f"mailbox of agent '{self.name}' is full ({self._capacity} messages)"
        return None

    def deliver(self, msg: AclMessage, *, force: bool = False) -> str | None:
        """Queue ``msg``; returns the reason when the agent cannot take it.

        ``force`` skips the checks: for mail the agent already owes (recovery, retries).
        """
        with self._lock:
            if self._closed is not None:  # parked: owed in the store, delivered after restart
                return None if self._parked else self._closed
            if not force and (problem := self.refusal()) is not None:
                return problem
            self._mailbox.append(msg)
            if self._scheduled or self.state not in _WORKING:
                return None
            self._scheduled = True
        self._hooks.schedule(self)
        return None

    # -- running (on a worker thread) ----------------------------------------------------------
    def run(self) -> bool:
        with self._running:
            # A turn ends after a batch or a time slice, whichever comes first: an agent whose
            # handlers run to their deadline goes back in line after each of them.
            self.last_turn = now = time.monotonic()
            turn_ends = now + TIME_SLICE_S
            if (self.hibernated and self.instance is None and self._closed is None
                    and not self._interrupting):
                self._hooks.wake(self)  # hibernation: a fresh sandbox before the first message
            mailbox = self._mailbox
            budget = self._batch
            while budget > 0:
                if (not mailbox or self.instance is None or self.state not in _WORKING
                        or self._interrupting):
                    break
                take = self._call_batch(min(budget, len(mailbox)))
                budget -= take
                if take > 1:
                    self._process_batch([mailbox.popleft() for _ in range(take)])
                else:
                    msg = mailbox.popleft()
                    try:
                        self._process(msg)
                    except Exception as exc:  # a host bug must cost one message, not the agent
                        log.exception("message processing failed", agent=self.name)
                        self._hooks.failed(self, msg, Outcome(ok=False, error_kind="internal",
                                                              error=repr(exc)))
                if time.monotonic() > turn_ends:
                    break
            if self.turn:
                self._finish_turn()
        with self._lock:
            if mailbox and self.state in _WORKING and not self._interrupting:
                return True
            stranded = list(mailbox) if self.state is AgentState.FAILED else []
            if stranded:
                mailbox.clear()
            self._scheduled = False
            self._idle.notify_all()
        if stranded:
            self._hooks.stranded(self, stranded)
        return False

    def _finish_turn(self) -> None:
        try:
            self._hooks.turn_done(self)
        except Exception as exc:  # a host bug: the turn's messages are retried, not lost
            log.exception("committing a turn failed", agent=self.name)
            turn, self.turn, self.turn_commits = self.turn, [], []
            for msg, _, _ in turn:
                self._hooks.failed(self, msg, Outcome(ok=False, error_kind="internal",
                                                      error=repr(exc)))

    def _call_batch(self, queued: int) -> int:
        """How many queued messages the next sandbox call takes (1: ``handle``)."""
        instance = self.instance
        if queued < 2 or instance is None or not instance.batched:
            return 1
        take = self._sizer.size(queued, self.record.limits)
        return take if take > 1 and self._hooks.batching(self) else 1

    def _process(self, msg: AclMessage) -> None:
        assert self.instance is not None
        with self._hooks.traced(self, msg) as trace_context:
            outcome = self.instance.handle(msg)
            self._sizer.observed(outcome.fuel_used, outcome.duration_s)
            self._account(msg, outcome, trace_context)

    def _process_batch(self, messages: list[AclMessage]) -> None:
        assert self.instance is not None
        try:
            result = self.instance.handle_batch(messages)
        except Exception as exc:  # a host bug: the messages are retried, not lost
            log.exception("batch processing failed", agent=self.name)
            result = BatchOutcome([Outcome(ok=False, error_kind="internal", error=repr(exc))],
                                  batched=False)
        outcomes = result.outcomes
        if outcomes:
            last = outcomes[-1]
            self._sizer.observed(last.fuel_used, last.duration_s)
        unhandled = messages[len(outcomes):]
        if unhandled:  # first in line again, ahead of what arrived meanwhile
            self._mailbox.extendleft(reversed(unhandled))
        if result.budget_spent:
            self._sizer.spent(self.record.limits)
            if not self._interrupting:
                self._hooks.renew(self)
        for msg, outcome in zip(messages, outcomes, strict=False):
            if outcome.ok and result.batched:
                self.stats.batched_messages += 1
            self._account(msg, outcome, None)

    def _account(self, msg: AclMessage, outcome: Outcome,
                 trace_context: dict[str, str] | None) -> None:
        """Count what one handler run did and hand its outcome to the host."""
        if not outcome.ok and self._interrupting:
            return  # cut short by shutdown: still owed, handled after the restart
        self.stats.fuel_used += outcome.fuel_used
        self.stats.sends_refused += outcome.sends_refused
        if outcome.ok:
            self.stats.handled += 1
            self.stats.consecutive_failures = 0
            self.stats.sent += len(outcome.sends)
            if trace_context:  # what this run sends is part of its trace
                for sent in outcome.sends:
                    sent.trace_context = trace_context
            self._hooks.handled(self, msg, outcome)
        else:
            self._hooks.failed(self, msg, outcome)

    def fail(self, reason: str) -> None:
        """Mark the agent failed (from RUNNING or DRAINING); its queued mail is answered."""
        with self._lock:
            if self.state in _WORKING:
                self._set(next_state(self.state, Transition.FAIL), reason)

    def add_log(self, level: int, text: str) -> None:
        self.logs.append({"timestamp": utc_now_iso(), "level": level, "message": text})
