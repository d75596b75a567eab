"""Hibernation: an idle agent's sandbox is dropped, and rebuilt for its next message.

A live wasmtime instance costs a server RSS (its linear memory's touched pages, the store),
three memory mappings (the kernel allows ~65,000 per process by default) and address space;
an agent waiting for mail needs none of it. With ``hibernate_idle_s`` set, an agent that has
had no turn for that long (running or stopped, no mail queued, no handler running) gives its
instance back; its cell (name, mailbox, counters, record) stays, so it still takes mail and
shows in every listing, flagged ``hibernated``. The next turn (a message arrives) first
instantiates the cached compiled module again and runs the module's start-up exports
(``_initialize``, ``caxton_abi_version``, ``init``) as a deploy does: a fresh instance has
fresh memory, and the SDKs' ``init`` sets up their runtime and the agent's own start-up code.

What survives is what the agent keeps in the state store (``state_put``/``state_get``, written
with each handled message); what it kept in linear memory or globals does not. That is why
hibernation is off unless the operator turns it on for the server: an agent written to keep
its data in memory would otherwise lose it silently.

Mail is never at risk: it waits in the cell's mailbox (and is owed in the store) while the
instance is rebuilt, on the worker and under the cell's run lock, before the turn handles
anything, so messages keep their order and are handled once. When the rebuild fails (its
init now fails, or the OS has no memory for it) the agent is marked failed, as a failing
handler would make it, and its queued mail is answered like a failed agent's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from caxton.runtime.cell import AgentCell
from caxton.sandbox.instance import AgentInstance

log = structlog.get_logger("caxton.hibernation")

__all__ = ["Hibernation", "HibernationStats", "idle", "sweep_interval"]


def sweep_interval(idle_s: float) -> float:
    """How often to look for idle agents: a quarter of the idle time, from 50 ms to 5 s (so
    an agent hibernates at most 25% (or 5 s) later than its idle time says)."""
    return min(max(idle_s / 4, 0.05), 5.0)


def idle(last_turn: float, now: float, idle_s: float) -> bool:
    """Whether an agent whose last turn began at ``last_turn`` has been idle long enough."""
    return idle_s > 0 and now - last_turn >= idle_s


@dataclass(slots=True)
class HibernationStats:
    hibernated: int = 0  # instances dropped so far
    woken: int = 0  # instances rebuilt so far
    wake_failures: int = 0
    wake_seconds: float = 0.0  # in all, for the mean


class Hibernation:
    """Drops idle agents' instances (a sweeper thread) and rebuilds them (``wake``)."""

    def __init__(
        self,
        idle_s: float,
        fresh: Callable[[AgentCell], AgentInstance],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idle_s = idle_s
        self._fresh = fresh
        # The cells that got an instance since the sweeper last looked at them: a sweep looks
        # at these only, not at every agent (100,000 mostly asleep). One left out would merely
        # never hibernate; a stale entry (removed, asleep) is dropped by the next sweep.
        self._awake: dict[int, AgentCell] = {}
        self._awake_lock = threading.Lock()
        self._clock = clock
        self.stats = HibernationStats()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return self.idle_s > 0

    def awake(self, cell: AgentCell) -> None:
        """``cell`` has an instance now (deployed, started, restored, woken): watch it."""
        if self.enabled:
            with self._awake_lock:
                self._awake[id(cell)] = cell

    def sweep(self) -> int:
        """Hibernate every watched agent idle for ``idle_s`` now; returns how many."""
        if not self.enabled:
            return 0
        now, idle_s = self._clock(), self.idle_s
        with self._awake_lock:
            watched = list(self._awake.items())
        count, done = 0, []
        for key, cell in watched:
            if cell.instance is None:  # removed, failed or asleep already
                done.append((key, cell))
            elif idle(cell.last_turn, now, idle_s):
                instance = cell.hibernate()  # None: busy after all (mail, a handler running)
                if instance is not None:
                    instance.close()
                    count += 1
                    done.append((key, cell))
        with self._awake_lock:
            for key, cell in done:
                # A cell woken again meanwhile has an instance: it stays watched.
                if self._awake.get(key) is cell and cell.instance is None:
                    del self._awake[key]
        if count:
            self.stats.hibernated += count
            log.debug("agents hibernated", count=count)
        return count

    def wake(self, cell: AgentCell) -> None:
        """Rebuild ``cell``'s instance (on the worker, before its turn handles anything)."""
        started = time.perf_counter()
        try:
            instance = self._fresh(cell)
        except Exception as exc:  # its init fails now, or the OS has no room: the agent fails
            self.stats.wake_failures += 1
            log.error("agent wake failed", agent=cell.name, error=str(exc))
            cell.fail(f"waking from hibernation failed: {exc}")
            return
        cell.instance, cell.hibernated = instance, False
        self.awake(cell)
        self.stats.woken += 1
        self.stats.wake_seconds += time.perf_counter() - started

    # -- the sweeper thread --------------------------------------------------------------------
    def start(self) -> None:
        if self.enabled and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="caxton-hibernation",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        interval = sweep_interval(self.idle_s)
        while not self._stop.wait(interval):
            try:
                self.sweep()
            except Exception:  # a bug here must not end hibernation for the server's life
                log.exception("hibernation sweep failed")
