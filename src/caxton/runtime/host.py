"""The agent host: deploys, restores, replaces and removes agents, and serves their host calls.

Deployment validates everything before an agent takes traffic: the bytes are a module, the
module speaks ABI v1 within its limits, and it instantiates and initialises in the sandbox.
Only then is it stored and switched in.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog
import wasmtime

from caxton.domain.acl import AclMessage
from caxton.domain.agent import AgentRecord
from caxton.domain.agent_permissions import AgentPermissions
from caxton.domain.events import EventKind, entered
from caxton.domain.ids import validate_agent_name
from caxton.domain.lifecycle import AgentState, Transition
from caxton.domain.limits import ResourceLimits
from caxton.domain.send_policy import HOST_FUNCTION
from caxton.errors import (
    AgentNotFoundError,
    HostFunctionNotPermittedError,
    MailboxFullError,
    MemoryBudgetError,
    ModuleRejectedError,
    PayloadTooLargeError,
    StoreError,
)
from caxton.router.local import Router
from caxton.runtime.agent_state import AgentStateView
from caxton.runtime.cell import AgentCell
from caxton.runtime.delivery import Delivery, RetryPolicy
from caxton.runtime.events import EventEmitter, cell_event
from caxton.runtime.hibernation import Hibernation
from caxton.runtime.keyed_lock import KeyedLock
from caxton.runtime.permission_screen import screen_sends
from caxton.runtime.scheduler import Scheduler
from caxton.runtime.state import PendingState
from caxton.runtime.timer import Timer
from caxton.sandbox import loader
from caxton.sandbox.engine import Compiled, SandboxEngine
from caxton.sandbox.instance import AgentInstance
from caxton.sandbox.outcome import Outcome
from caxton.sandbox.validate import compile_error, to_binary
from caxton.store.store import Store
from caxton.store.writer import Statement
from caxton.telemetry.tracing import Tracing

log = structlog.get_logger("caxton.host")
_LOG_LEVELS = {0: "debug", 1: "info", 2: "warning", 3: "error"}


def _no_stage(_stage: str) -> None:
    """Nobody follows this deploy's stages."""


@dataclass(frozen=True, slots=True)
class HostSettings:
    mailbox_capacity: int = 10_000
    max_module_bytes: int = 32 * 1024 * 1024
    drain_timeout_s: float = 10.0
    max_state_bytes: int = 64 * 1024 * 1024  # keys plus values, per agent
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_total_memory_bytes: int = 8 * 1024**3  # the sum of all agents' memory limits
    hibernate_idle_s: float = 0.0  # 0: agents keep their instances (runtime/hibernation.py)


class AgentHost:
    def __init__(
        self,
        engine: SandboxEngine,
        store: Store,
        router: Router,
        scheduler: Scheduler,
        settings: HostSettings,
    ) -> None:
        self._engine = engine
        self._store = store
        self._router = router
        self._scheduler = scheduler
        self._settings = settings
        self._cells: dict[str, AgentCell] = {}
        self._mutate = threading.Lock()  # guards the agent table; held only briefly
        self._deploying = KeyedLock()  # deploys (and restarts) of one name, one at a time
        self._reserved: dict[str, int] = {}  # memory_bytes of deploys still initialising
        # The sum of the deployed agents' memory_bytes limits, kept as they come and go (under
        # _mutate): summing 100,000 cells at each deploy made deploying them quadratic.
        self._committed = 0
        self._state = AgentStateView(store.state, PendingState(), settings.max_state_bytes)
        self.tracing = Tracing(env={})  # off; the composition root swaps in the configured one
        self._timer = Timer()
        self.events = EventEmitter()  # lifecycle and deployment events, to listeners
        self.on_rejected: Callable[[], None] | None = None  # a module failed validation
        # Every permission violation, as (agent, kind, detail): for the audit trail. Kinds are
        # domain.send_policy's KINDS. Called on the thread that caught it; must not block.
        self.on_violation: Callable[[str, str, str], None] | None = None
        self._denials: collections.Counter[tuple[str, str]] = collections.Counter()
        self._denials_lock = threading.Lock()
        self.delivery = Delivery(store, router, self._timer, self._state.pending,
                                 settings.retry, self._renew)
        self.hibernation = Hibernation(settings.hibernate_idle_s, self.fresh_instance)

    # -- queries -------------------------------------------------------------------------------
    def get(self, name: str) -> AgentCell:
        cell = self._cells.get(name)
        if cell is None:
            raise AgentNotFoundError(f"no agent named '{name}'")
        return cell

    def all(self) -> list[AgentCell]:
        return sorted(self._cells.values(), key=lambda c: c.name)

    # -- deployment ----------------------------------------------------------------------------
    def prepare(self, data: bytes, limits: ResourceLimits,
                on_stage: Callable[[str], None] = _no_stage, *,
                permissions: AgentPermissions | None = None) -> tuple[bytes, Compiled]:
        """Turn uploaded bytes into a validated, compiled module (or ModuleRejectedError)."""
        on_stage("validate")
        if len(data) > self._settings.max_module_bytes:
            raise PayloadTooLargeError(
                f"module of {len(data)} bytes exceeds the limit of "
                f"{self._settings.max_module_bytes}"
            )
        if not data:
            raise ModuleRejectedError("not a WebAssembly module: the file is empty")
        binary = to_binary(data)
        on_stage("compile")
        try:
            compiled = self._engine.compile(binary)
        except wasmtime.WasmtimeError as exc:
            raise compile_error(exc) from None
        loader.check(self._engine, compiled, limits, permissions)
        return binary, compiled

    def deploy(self, name: str, data: bytes, version: str, limits: ResourceLimits,
               on_stage: Callable[[str], None] = _no_stage, *,
               permissions: AgentPermissions | None = None) -> AgentCell:
        """Validate, compile, instantiate, initialise, store and switch in ``data`` as ``name``.

        ``on_stage`` hears each stage as it begins (domain/deployment.py names them), from this
        thread: a slow deploy can show where it is. ``permissions`` None: none declared.
        """
        validate_agent_name(name)
        try:
            binary, compiled = self.prepare(data, limits, on_stage, permissions=permissions)
        except ModuleRejectedError as exc:
            if isinstance(exc, HostFunctionNotPermittedError):
                self.violation(name, HOST_FUNCTION, f"deploy refused: {exc.message}")
            if self.on_rejected is not None:
                self.on_rejected()
            raise
        return self.install(name, binary, compiled, version, limits, on_stage,
                            permissions=permissions)

    def install(self, name: str, binary: bytes, compiled: Compiled, version: str,
                limits: ResourceLimits, on_stage: Callable[[str], None] = _no_stage, *,
                permissions: AgentPermissions | None = None) -> AgentCell:
        """Start a prepared module as agent ``name`` (new, or a new version of it).

        Instantiation and ``init`` (which may take up to the init deadline) run outside the
        global lock, so deploys, stops and removes of other agents do not wait for them; two
        deploys of the same name still run one after the other.
        """
        validate_agent_name(name)
        with self._deploying.hold(name):
            with self._mutate:
                self._reserve(name, limits.memory_bytes)
            try:
                instance = self._instantiate(compiled, name, limits, permissions,
                                             on_stage)  # smoke run
            except BaseException:
                with self._mutate:
                    self._reserved.pop(name, None)
                raise
            on_stage("switch")
            with self._mutate:
                self._reserved.pop(name, None)
                record = AgentRecord(name=name, version=version,
                                     module_hash=compiled.module_hash, limits=limits,
                                     permissions=permissions)
                return self._switch_in(record, binary, instance)

    def _reserve(self, name: str, memory_bytes: int) -> None:
        """Count ``memory_bytes`` against the total budget while ``name`` is being deployed
        (under ``_mutate``); a new version's limit replaces the old one's."""
        budget = self._settings.max_total_memory_bytes
        current = self._cells.get(name)
        others = self._committed - (current.record.limits.memory_bytes if current else 0)
        others += sum(v for k, v in self._reserved.items() if k != name)
        if others + memory_bytes > budget:
            raise MemoryBudgetError(
                f"deploying '{name}' with memory_bytes {memory_bytes} would bring the agents' "
                f"memory limits to {others + memory_bytes} bytes in all, over the server's "
                f"budget of {budget} (config max_total_memory_bytes); remove agents or ask "
                f"for less memory")
        self._reserved[name] = memory_bytes

    def _switch_in(self, record: AgentRecord, binary: bytes, instance: AgentInstance
                   ) -> AgentCell:
        name, version, module_hash = record.name, record.version, record.module_hash
        current = self._cells.get(name)
        try:
            self._store.agents.save(record, binary)
        except Exception:
            instance.close()
            raise
        if current is None:
            cell = self._new_cell(record, instance)
            cell.transition(Transition.LOAD)
            cell.transition(Transition.START)
            self._cells[name] = cell
            self._committed += record.limits.memory_bytes
            self._router.register(name, cell)
            self.hibernation.awake(cell)
            log.info("agent deployed", agent=name, version=version, module=module_hash[:12],
                     restricted=record.permissions is not None)
            self.events.emit(cell_event(EventKind.DEPLOYED, cell))
            return cell
        previous = current.record
        old = current.replace_instance(record, instance)
        if current.record is record:  # switched (a parked cell at shutdown refuses)
            self._committed += record.limits.memory_bytes - previous.limits.memory_bytes
        if old is not None:
            old.close()
        self.hibernation.awake(current)
        if current.state is not AgentState.RUNNING:
            current.transition(Transition.START, None)
        log.info("agent replaced", agent=name, version=version, module=module_hash[:12],
                 restricted=record.permissions is not None)
        self.events.emit(cell_event(EventKind.UPGRADED, current, previous=previous))
        if previous.module_hash != record.module_hash:
            self._forget_module(previous.module_hash)
        return current

    def _forget_module(self, module_hash: str) -> None:
        """Let the engine drop compiled code that no agent runs any more."""
        if all(c.record.module_hash != module_hash for c in self._cells.values()):
            self._engine.forget(module_hash)

    def remove(self, name: str) -> None:
        with self._mutate:
            cell = self.get(name)
            if cell.state is AgentState.RUNNING:
                cell.drain(self._settings.drain_timeout_s)
            self._router.unregister(name)
            del self._cells[name]
            self._committed -= cell.record.limits.memory_bytes
            left = cell.close()  # after this no retry, timer or worker can run it
            self._store.agents.delete(name)
            self._state.forget(name)
            for msg in left:
                self._router.settled(msg)
                self._router.bounce(msg, name, f"agent '{name}' was removed")
            log.info("agent removed", agent=name)
            self.events.emit(cell_event(EventKind.REMOVED, cell))
            self._forget_module(cell.record.module_hash)

    def stop(self, name: str) -> AgentCell:
        with self._mutate:
            cell = self.get(name)
            if cell.state is AgentState.RUNNING:
                cell.drain(self._settings.drain_timeout_s)
            if cell.state is AgentState.DRAINING:
                cell.transition(Transition.STOP)
            self._store.agents.set_desired(name, AgentState.STOPPED)
            return cell

    def start(self, name: str) -> AgentCell:
        with self._deploying.hold(name):
            cell = self.get(name)
            if cell.record.damage is not None:  # its limits and permissions are unknown
                raise ModuleRejectedError(f"agent '{name}' cannot start: its stored record is "
                                          f"unreadable ({cell.record.damage}); deploy it again")
            # A failed agent restarts with a fresh instance, whose init may be slow: made
            # outside the global lock, like a deploy's.
            fresh = self._instantiate(self._compiled(cell), name, cell.record.limits,
                                      cell.record.permissions) \
                if cell.state is AgentState.FAILED else None
            with self._mutate:
                if self._cells.get(name) is not cell:
                    if fresh is not None:
                        fresh.close()
                    raise AgentNotFoundError(f"no agent named '{name}'")
                if fresh is not None:
                    if cell.state is AgentState.FAILED:
                        old = cell.replace_instance(cell.record, fresh)
                        if old is not None:
                            old.close()
                        self.hibernation.awake(cell)
                    else:
                        fresh.close()
                if cell.state is not AgentState.RUNNING:
                    cell.transition(Transition.START)
                self._store.agents.set_desired(name, AgentState.RUNNING)
                return cell

    def restore(self) -> None:
        """Bring back the agents stored by a previous run, each as it was left."""
        for record in self._store.agents.all():
            cell = self._new_cell(record, None)
            self._cells[record.name] = cell
            self._committed += record.limits.memory_bytes
            self._router.register(record.name, cell)
            try:
                if record.damage is not None:
                    raise StoreError(f"its stored record is unreadable: {record.damage}; "
                                     "deploy it again")
                data = self._store.agents.module_bytes(record.module_hash)
                if data is None:
                    raise ModuleRejectedError(f"artifact {record.module_hash[:12]} is missing")
                compiled = self._engine.compile(data)
                if self.hibernation.enabled:  # 100,000 agents need not all be instantiated
                    cell.hibernated = True  # now: each is built for its first message
                else:
                    cell.instance = self._instantiate(compiled, record.name, record.limits,
                                                      record.permissions)
                cell.transition(Transition.LOAD)
                if record.desired is AgentState.RUNNING:
                    cell.transition(Transition.START)
                else:
                    cell.transition(Transition.STOP)
            except Exception as exc:
                cell.transition(Transition.LOAD)
                cell.transition(Transition.FAIL, f"restore failed: {exc}")
                log.error("agent restore failed", agent=record.name, error=str(exc))
        self._timer.start()
        self.hibernation.start()
        self.delivery.recover(self._cells)
        log.info("agents restored", count=len(self._cells))

    def shutdown(self, timeout: float) -> None:
        """Finish queued messages (up to ``timeout`` in all), then stop every agent.

        Agents keep handling (and sending to each other) until their mailboxes are empty or
        the deadline; then handlers still running are interrupted through the epoch and
        every sandbox is closed. What was not handled stays owed in the store and is
        delivered after the next start: nothing is failed, lost or handled twice.
        """
        deadline = time.monotonic() + timeout
        for cell in self.all():  # stop intake everywhere first, then wait
            if cell.state is AgentState.RUNNING:
                cell.transition(Transition.DRAIN)
        for cell in self.all():
            if cell.state is AgentState.DRAINING:
                cell.drain(max(0.0, deadline - time.monotonic()))
        self._timer.stop()  # retries now wait for the next start (their rows stay owed)
        self.hibernation.stop()
        cells = self.all()
        for cell in cells:
            cell.interrupting()
        self._engine.interrupt_all()
        for cell in cells:
            cell.close(park=True)

    # -- helpers and hooks ---------------------------------------------------------------------
    def _new_cell(self, record: AgentRecord, instance: AgentInstance | None) -> AgentCell:
        return AgentCell(record, instance, hooks=self,
                         mailbox_capacity=self._settings.mailbox_capacity)

    def _instantiate(self, compiled: Compiled, name: str, limits: ResourceLimits,
                     permissions: AgentPermissions | None,
                     on_stage: Callable[[str], None] = _no_stage) -> AgentInstance:
        on_stage("instantiate")
        instance = loader.instantiate(self._engine, compiled, name=name, limits=limits,
                                      services=self, permissions=permissions)
        on_stage("init")
        try:
            instance.initialize()
        except Exception:
            instance.close()
            raise
        return instance

    def _compiled(self, cell: AgentCell) -> Compiled:
        compiled = self._engine.cached(cell.record.module_hash)
        if compiled is None:
            data = self._store.agents.module_bytes(cell.record.module_hash)
            if data is None:
                raise ModuleRejectedError("artifact missing")
            compiled = self._engine.compile(data)
        return compiled

    def fresh_instance(self, cell: AgentCell) -> AgentInstance:
        """A new instance of the cell's module; the caller swaps it in and closes the old."""
        return self._instantiate(self._compiled(cell), cell.name, cell.record.limits,
                                 cell.record.permissions)

    def _renew(self, cell: AgentCell) -> None:
        """Rebuild a suspect sandbox; called on the worker that is running ``cell``."""
        old, cell.instance = cell.instance, self.fresh_instance(cell)
        if old is not None:
            old.close()

    # CellHooks
    def schedule(self, cell: AgentCell) -> None:
        self._scheduler.ready(cell)

    def handled(self, cell: AgentCell, msg: AclMessage, outcome: Outcome) -> None:
        if outcome.state_writes:
            self._state.wrote(cell.name, outcome.state_writes)
        held: list[Statement] = []
        if cell.policy is not None and outcome.sends:  # only agents with permissions pay
            held = screen_sends(cell, cell.policy, msg, outcome,
                                record=self._store.message_statements, report=self.violation)
        self.delivery.handled(cell, msg, outcome, held)

    def turn_done(self, cell: AgentCell) -> None:
        self.delivery.finish_turn(cell)

    def failed(self, cell: AgentCell, msg: AclMessage, outcome: Outcome) -> None:
        self.delivery.failed(cell, msg, outcome)

    def stranded(self, cell: AgentCell, messages: list[AclMessage]) -> None:
        self.delivery.stranded(cell, messages)

    def traced(self, cell: AgentCell, msg: AclMessage
               ) -> contextlib.AbstractContextManager[dict[str, str] | None]:
        return self.tracing.handle(cell.name, msg)

    def wake(self, cell: AgentCell) -> None:
        self.hibernation.wake(cell)

    def batching(self, cell: AgentCell) -> bool:
        return not self.tracing.enabled

    def renew(self, cell: AgentCell) -> None:
        try:
            self._renew(cell)
        except Exception as exc:
            cell.fail(f"cannot re-instantiate: {exc}")

    def state_changed(self, cell: AgentCell, old: AgentState, new: AgentState,
                      reason: str | None) -> None:
        kind = entered(new)
        if kind is not None and self.events.listening:
            self.events.emit(cell_event(kind, cell, reason=reason))

    def replay(self, message_id: str) -> int:
        return self.delivery.replay(message_id, self._cells)

    # HostServices
    def state_read(self, agent: str, key: str) -> bytes | None:
        return self._state.read(agent, key)

    def state_room(self, agent: str) -> int:
        return self._state.room(agent)

    def state_keys(self, agent: str, prefix: str, limit: int) -> list[str]:
        return self._state.keys(agent, prefix, limit)

    def agent_log(self, agent: str, level: int, text: str) -> None:
        cell = self._cells.get(agent)
        if cell is not None:
            cell.add_log(level, text)
        log.log(_log_level(level), "agent log", agent=agent, text=text)

    def violation(self, agent: str, kind: str, detail: str) -> None:
        """Count a permission violation and tell the audit hook (any thread)."""
        with self._denials_lock:
            self._denials[(agent, kind)] += 1
        log.warning("permission denied", agent=agent, kind=kind, detail=detail)
        hook = self.on_violation
        if hook is not None:
            try:
                hook(agent, kind, detail)
            except Exception:  # the audit's trouble must not cost the agent its message
                log.exception("violation hook failed", agent=agent, kind=kind)

    def denial_counts(self) -> dict[tuple[str, str], int]:
        """Violations so far by (agent, kind), for the metrics."""
        with self._denials_lock:
            return dict(self._denials)

    def deliverable(self, msg: AclMessage) -> None:
        """Raise when a local receiver cannot take ``msg`` right now (API back-pressure)."""
        for name in msg.receiver:
            cell = self._cells.get(name)
            if cell is not None and cell.mailbox_depth >= self._settings.mailbox_capacity:
                raise MailboxFullError(f"mailbox of agent '{name}' is full")


def _log_level(level: int) -> int:
    return getattr(logging, _LOG_LEVELS.get(level, "info").upper(), logging.INFO)
