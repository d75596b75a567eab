"""What handling a message means durably: effects, retries, dead letters and recovery.

A handled message's pending delivery is deleted in the *same* transaction that records its
effects (state writes, messages sent), so a crash leaves each message either owed (redelivered,
none of its effects applied) or done (all of them applied): the agent's visible effect is
exactly once even though delivery is at least once. Failed attempts are retried with
exponential back-off; the last failure dead-letters the message and answers the sender.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog

from caxton.domain.acl import ERROR_ACTS, AclMessage, Performative, parse_message, reply
from caxton.errors import AgentNotFoundError, CaxtonError, InvalidMessageError
from caxton.router.local import Router
from caxton.runtime.cell import AgentCell
from caxton.runtime.state import PendingState
from caxton.runtime.timer import Timer
from caxton.sandbox.outcome import Outcome
from caxton.store.quarantine import UnreadableError, warn
from caxton.store.repositories import DeliveryRepository, StateRepository
from caxton.store.store import Store
from caxton.store.writer import OnCommit, Statement

log = structlog.get_logger("caxton.delivery")

# Failures worth another try: the next attempt may land differently (a timeout under load, a
# trap that depends on state). An agent's own error code or an oversized message will not.
RETRYABLE = frozenset({
    "trap", "fuel_exhausted", "timeout", "stack_overflow", "memory_out_of_bounds",
    "unreachable", "host_trap", "bad_agent", "internal", "error",
})
# After these the sandbox is rebuilt: the instance's memory may be half-written (and a
# component cannot be entered again after a trap, such as a host function its permissions deny).
INSTANCE_SUSPECT = (RETRYABLE - {"internal"}) | {"permission_denied"}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 3
    backoff_s: float = 0.05  # then x4 per attempt: 50 ms, 200 ms, 800 ms, ...
    failure_threshold: int = 10  # consecutive dead letters that mark an agent failed


class Delivery:
    def __init__(
        self,
        store: Store,
        router: Router,
        timer: Timer,
        state: PendingState,
        policy: RetryPolicy,
        renew: Callable[[AgentCell], None],
    ) -> None:
        self._store = store
        self._router = router
        self._timer = timer
        self._state = state
        self._policy = policy
        self._renew = renew
        self.redelivered = 0
        self.quarantined = 0  # owed messages that could not be read back: dead-lettered
        self.retried = 0
        self.dead_lettered = 0
        # (message, outcome, seconds, fuel, failure kind): set by telemetry when it is on
        self.on_processed: Callable[[AclMessage, str, float, int, str | None], None] | None = None
        # The messages one turn handled, with their outcomes: the same, for a whole turn
        self.on_turn: Callable[[list[tuple[AclMessage, Outcome]]], None] | None = None

    # -- outcomes (worker threads) -------------------------------------------------------------
    def handled(self, cell: AgentCell, msg: AclMessage, outcome: Outcome,
                held: Sequence[Statement] = ()) -> None:
        """Take note of what handling ``msg`` did; ``held``: rows for sends that were recorded
        but not sent (refused by the agent's permissions). Committed and routed by
        ``finish_turn``, together with the rest of the agent's turn."""
        if outcome.state_writes:  # now: the agent's next message must read these writes
            cell.turn_commits.append(self._state.remember(cell.name, outcome.state_writes))
        cell.turn.append((msg, outcome, held))

    def finish_turn(self, cell: AgentCell) -> None:
        """Commit and route what the messages handled in this turn did: one write for all of
        them (each message's pending delivery is deleted in the transaction that records its
        effects, as before), their sends routed in the order they were made."""
        turn, commits = cell.turn, cell.turn_commits
        if not turn:
            return
        cell.turn, cell.turn_commits = [], []
        extra: list[Statement] = []
        sends: list[AclMessage] = []
        attempts = cell.attempts
        for msg, outcome, held in turn:
            extra.append(DeliveryRepository.done(msg.message_id, cell.name))
            extra.extend(held)
            if outcome.state_writes:
                extra.extend(StateRepository.statements(cell.name, outcome.state_writes))
            if attempts:
                attempts.pop(msg.message_id, None)
            sends.extend(outcome.sends)
        self._router.route_batch(sends, extra=extra, on_commit=_all(commits))
        # After their sends are routed: those keep the cascade going.
        self._router.settled_all([msg for msg, _, _ in turn])
        if self.on_turn is not None:
            self.on_turn([(msg, outcome) for msg, outcome, _ in turn])

    def failed(self, cell: AgentCell, msg: AclMessage, outcome: Outcome) -> None:
        self.finish_turn(cell)  # what succeeded before it is committed first
        kind = outcome.error_kind or "error"
        stats = cell.stats
        stats.failures_by_kind[kind] = stats.failures_by_kind.get(kind, 0) + 1
        stats.last_error = f"{kind}: {outcome.error}"
        attempts = cell.attempts.get(msg.message_id, 0) + 1
        log.warning("message failed", agent=cell.name, kind=kind, error=outcome.error,
                    message_id=msg.message_id, conversation_id=msg.conversation_id,
                    attempt=attempts)
        cell.add_log(3, f"message {msg.message_id} failed (attempt {attempts}): "
                        f"{kind}: {outcome.error}")
        if kind in INSTANCE_SUSPECT:
            try:
                self._renew(cell)
            except Exception as exc:
                cell.fail(f"cannot re-instantiate: {exc}")
        final = not (kind in RETRYABLE and attempts < self._policy.max_attempts)
        if self.on_processed is not None:
            self.on_processed(msg, "dead_lettered" if final else "retried", outcome.duration_s,
                              outcome.fuel_used, kind)
        if not final:
            self.retried += 1
            cell.attempts[msg.message_id] = attempts
            self._store.submit([DeliveryRepository.attempted(
                msg.message_id, cell.name, attempts, f"{kind}: {outcome.error}")])
            delay = self._policy.backoff_s * 4 ** (attempts - 1)
            self._timer.call_later(delay, lambda: self._retry(cell, msg))
            return
        cell.attempts.pop(msg.message_id, None)
        stats.failed += 1
        stats.consecutive_failures += 1
        self._dead_letter(cell.name, msg, attempts, kind, outcome.error or kind)
        self._router.settled(msg)
        if stats.consecutive_failures >= self._policy.failure_threshold:
            cell.fail(f"{stats.consecutive_failures} consecutive failures; last: {kind}")

    def stranded(self, cell: AgentCell, messages: list[AclMessage]) -> None:
        for msg in messages:
            self._dead_letter(cell.name, msg, cell.attempts.pop(msg.message_id, 0), "failed",
                              f"agent '{cell.name}' has failed")
            self._router.settled(msg)

    def _retry(self, cell: AgentCell, msg: AclMessage) -> None:
        if cell.state.value == "failed":
            self.stranded(cell, [msg])
        elif (problem := cell.deliver(msg, force=True)) is not None:
            # removed while the retry waited: its delivery went with it; tell the sender
            self._router.settled(msg)
            self._router.bounce(msg, cell.name, problem)

    def _dead_letter(self, agent: str, msg: AclMessage, attempts: int, kind: str,
                     reason: str) -> None:
        self.dead_lettered += 1
        self._store.submit([DeliveryRepository.dead(msg.message_id, agent, attempts,
                                                    f"{kind}: {reason}")])
        if msg.performative not in ERROR_ACTS:
            self._router.route(reply(
                msg, sender=agent, performative=Performative.FAILURE,
                content={"error": kind, "reason": reason, "agent": agent,
                         "attempts": attempts},
            ))

    # -- recovery and dead letters (API / start-up) --------------------------------------------
    def recover(self, cells: dict[str, AgentCell]) -> int:
        """Queue every delivery a previous run still owed, in the order it was accepted."""
        count = 0
        for pending in self._store.deliveries.pending():
            cell = cells.get(pending.receiver)
            if cell is None:
                continue
            try:
                if pending.problem is not None:
                    raise UnreadableError(pending.problem)
                msg = _stored(pending.body)
            except (UnreadableError, CaxtonError) as exc:
                # One unreadable message must not stop the others: it becomes a dead letter.
                reason = f"unreadable after restart: {exc}"
                self._store.submit([DeliveryRepository.dead(
                    pending.message_id, pending.receiver, pending.attempts, reason)])
                warn("deliveries", pending.message_id, str(exc), "dead-lettered")
                self.quarantined += 1
                continue
            if pending.attempts:
                cell.attempts[msg.message_id] = pending.attempts
            self._router.took(msg)
            cell.deliver(msg, force=True)
            count += 1
        self.redelivered += count
        if count:
            log.info("redelivering messages owed before the restart", count=count)
        return count

    def replay(self, message_id: str, cells: dict[str, AgentCell]) -> int:
        letters = self._store.deliveries.dead_letters(message_id=message_id, limit=1000)
        if not letters:
            raise AgentNotFoundError(f"no dead letter with message id '{message_id}'")
        for letter in letters:
            cell = cells.get(letter.receiver)
            if cell is None:
                raise AgentNotFoundError(f"no agent named '{letter.receiver}' to replay to")
            if not letter.readable:
                raise InvalidMessageError("message_id", "the stored message cannot be read, so "
                                          "it cannot be replayed; purge it")
        self._store.writer.write([DeliveryRepository.revive(letter.message_id, letter.receiver)
                                  for letter in letters])
        for letter in letters:
            cell = cells[letter.receiver]
            cell.attempts.pop(letter.message_id, None)
            msg = _stored(letter.message)
            self._router.took(msg)
            cell.deliver(msg, force=True)
        return len(letters)


def _all(callbacks: list[OnCommit]) -> OnCommit | None:
    """One commit callback that runs each of ``callbacks`` (None when there are none)."""
    if not callbacks:
        return None
    if len(callbacks) == 1:
        return callbacks[0]

    def every(error: BaseException | None) -> None:
        for callback in callbacks:
            callback(error)

    return every


def _stored(body: dict[str, object]) -> AclMessage:
    sender = body.get("sender")
    return parse_message(body, sender=sender if isinstance(sender, str) else "ams")


__all__ = ["Delivery", "RetryPolicy"]
