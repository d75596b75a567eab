"""An agent as the runtime holds it: lifecycle state, mailbox, live instance and counters."""

from __future__ import annotations

import collections
import threading
from typing import Any, Protocol

import structlog

from caxton.domain.acl import ERROR_ACTS, AclMessage, Performative, reply, utc_now_iso
from caxton.domain.agent import AgentRecord, AgentStats
from caxton.domain.lifecycle import ACCEPTING, AgentState, Transition, next_state
from caxton.sandbox.instance import AgentInstance, Outcome

log = structlog.get_logger("caxton.runtime")

# Failures after which the sandbox is rebuilt: the instance's memory may be half-written.
_INSTANCE_SUSPECT = frozenset({
    "trap", "fuel_exhausted", "timeout", "stack_overflow", "memory_out_of_bounds",
    "unreachable", "bad_agent", "host_trap", "error",
})


class Routes(Protocol):
    def route(self, msg: AclMessage) -> None: ...

    def bounce(self, msg: AclMessage, receiver: str, reason: str) -> None: ...


class CellHooks(Protocol):
    """What a cell needs from its host besides routing."""

    def schedule(self, cell: AgentCell) -> None: ...

    def commit_state(self, agent: str, writes: dict[str, bytes | None]) -> None: ...

    def fresh_instance(self, cell: AgentCell) -> AgentInstance: ...


class AgentCell:
    def __init__(
        self,
        record: AgentRecord,
        instance: AgentInstance | None,
        *,
        routes: Routes,
        hooks: CellHooks,
        mailbox_capacity: int,
        failure_threshold: int,
        batch: int = 64,
    ) -> None:
        self.record = record
        self.instance = instance
        self.state = AgentState.UNLOADED
        self.stats = AgentStats()
        self.logs: collections.deque[dict[str, Any]] = collections.deque(maxlen=1000)
        self._mailbox: collections.deque[AclMessage] = collections.deque()
        self._capacity = mailbox_capacity
        self._threshold = failure_threshold
        self._batch = batch
        self._routes = routes
        self._hooks = hooks
        self._lock = threading.Lock()  # guards state, scheduling flag and the mailbox bound
        self._running = threading.Lock()  # held while a worker handles this agent's mail
        self._scheduled = False
        self._idle = threading.Condition(self._lock)

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
        if state is AgentState.RUNNING and self._mailbox and not self._scheduled:
            self._scheduled = True
            self._hooks.schedule(self)

    def drain(self, timeout: float) -> bool:
        """Stop taking mail and wait until what is queued is handled. True when it emptied."""
        with self._lock:
            if self.state is AgentState.RUNNING:
                self._set(next_state(self.state, Transition.DRAIN), None)
            return self._idle.wait_for(lambda: not self._mailbox and not self._scheduled, timeout)

    def take_mailbox(self) -> list[AclMessage]:
        with self._lock:
            left = list(self._mailbox)
            self._mailbox.clear()
            return left

    def replace_instance(
        self, record: AgentRecord, instance: AgentInstance
    ) -> AgentInstance | None:
        """Switch to a new version between two messages; the old instance is returned."""
        with self._running:
            old, self.instance, self.record = self.instance, instance, record
            self.stats.consecutive_failures = 0
            return old

    # -- delivery ------------------------------------------------------------------------------
    def refusal(self) -> str | None:
        """Why a message cannot be queued now, or None when it can."""
        if self.state not in ACCEPTING:
            return f"agent '{self.name}' is {self.state.value}"
        if len(self._mailbox) >= self._capacity:
            return f"mailbox of agent '{self.name}' is full ({self._capacity} messages)"
        return None

    def deliver(self, msg: AclMessage) -> str | None:
        """Queue ``msg``; returns the reason when the agent cannot take it."""
        with self._lock:
            problem = self.refusal()
            if problem is not None:
                return problem
            self._mailbox.append(msg)
            if self._scheduled:
                return None
            self._scheduled = True
        self._hooks.schedule(self)
        return None

    # -- running (on a worker thread) ----------------------------------------------------------
    def run(self) -> bool:
        with self._running:
            mailbox = self._mailbox
            for _ in range(self._batch):
                if not mailbox or self.instance is None:
                    break
                if self.state not in (AgentState.RUNNING, AgentState.DRAINING):
                    break
                msg = mailbox.popleft()
                try:
                    self._process(msg)
                except Exception as exc:  # a host bug must cost one message, not the agent
                    log.exception("message processing failed", agent=self.name)
                    self._failed(msg, Outcome(ok=False, error_kind="internal", error=repr(exc)))
        with self._lock:
            if mailbox and self.state in (AgentState.RUNNING, AgentState.DRAINING):
                return True
            stranded = list(mailbox) if self.state is AgentState.FAILED else []
            mailbox.clear() if stranded else None
            self._scheduled = False
            self._idle.notify_all()
        for msg in stranded:  # a failed agent answers what it can no longer handle
            self._routes.bounce(msg, self.name, f"agent '{self.name}' has failed")
        return False

    def _process(self, msg: AclMessage) -> None:
        assert self.instance is not None
        outcome = self.instance.handle(msg)
        stats = self.stats
        stats.fuel_used += outcome.fuel_used
        if outcome.ok:
            stats.handled += 1
            stats.consecutive_failures = 0
            if outcome.state_writes:
                self._hooks.commit_state(self.name, outcome.state_writes)
            stats.sent += len(outcome.sends)
            for out in outcome.sends:
                self._routes.route(out)
            return
        self._failed(msg, outcome)

    def _failed(self, msg: AclMessage, outcome: Outcome) -> None:
        kind = outcome.error_kind or "error"
        stats = self.stats
        stats.failed += 1
        stats.consecutive_failures += 1
        stats.failures_by_kind[kind] = stats.failures_by_kind.get(kind, 0) + 1
        stats.last_error = f"{kind}: {outcome.error}"
        log.warning("message failed", agent=self.name, kind=kind, error=outcome.error,
                    message_id=msg.message_id)
        self.add_log(3, f"message {msg.message_id} failed: {kind}: {outcome.error}")
        if kind in _INSTANCE_SUSPECT:
            try:
                self.instance = self._hooks.fresh_instance(self)
            except Exception as exc:
                with self._lock:
                    if self.state in (AgentState.RUNNING, AgentState.DRAINING):
                        self._set(next_state(self.state, Transition.FAIL),
                                  f"cannot re-instantiate: {exc}")
        if msg.performative not in ERROR_ACTS:
            self._routes.route(reply(
                msg, sender=self.name, performative=Performative.FAILURE,
                content={"error": kind, "reason": outcome.error, "agent": self.name},
            ))
        if stats.consecutive_failures >= self._threshold:
            with self._lock:
                if self.state in (AgentState.RUNNING, AgentState.DRAINING):
                    self._set(next_state(self.state, Transition.FAIL),
                              f"{stats.consecutive_failures} consecutive failures; last: {kind}")

    def add_log(self, level: int, text: str) -> None:
        self.logs.append({"timestamp": utc_now_iso(), "level": level, "message": text})
