"""Handing agent events (``caxton.domain.events``) from the runtime to whoever listens.

The host reports deployments and, through its cells, every state change; the service layer's
event bus and the metrics listen. Listeners run on the thread that changed the agent, some
under the agent's lock, so they must only hand the event off: never block.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from caxton.domain.agent import AgentRecord
from caxton.domain.events import AgentEvent, EventKind
from caxton.runtime.cell import AgentCell

log = structlog.get_logger("caxton.runtime")
Listener = Callable[[AgentEvent], None]


class EventEmitter:
    def __init__(self) -> None:
        # Replaced, never mutated: emitters iterate it without a lock.
        self._listeners: tuple[Listener, ...] = ()

    @property
    def listening(self) -> bool:
        return bool(self._listeners)

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every event from now on; returns a function removing it."""
        self._listeners = (*self._listeners, listener)

        def remove() -> None:
            self._listeners = tuple(x for x in self._listeners if x is not listener)

        return remove

    def emit(self, event: AgentEvent) -> None:
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:  # a listener's bug must not undo an agent's change
                log.exception("event listener failed", kind=event.kind.value)


def cell_event(kind: EventKind, cell: AgentCell, *, reason: str | None = None,
               previous: AgentRecord | None = None) -> AgentEvent:
    """``kind`` happening to ``cell`` now; ``previous`` is the record an upgrade replaced."""
    record = cell.record
    return AgentEvent(
        kind, cell.name, version=record.version, module_hash=record.module_hash,
        state=None if kind is EventKind.REMOVED else cell.state.value, reason=reason,
        old_version=previous.version if previous is not None else None,
        old_module_hash=previous.module_hash if previous is not None else None)
