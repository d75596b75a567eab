"""The directory facilitator's registrations, held in memory and written through to the store.

Everything that reads the directory on the routing path (the DF platform agent, capability
addresses) reads this in-memory index, never the database. Changes are made under a lock and
published as fresh immutable snapshots, so readers on any thread take no lock at all. Each change
is queued to the group-commit writer; callers that must know it is durable pass ``on_commit``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import structlog

from caxton.domain.directory import AgentDescription, ServiceDescription, search
from caxton.errors import AlreadyRegisteredError, InvalidMessageError, NotRegisteredError
from caxton.store.directory import DirectoryRepository
from caxton.store.writer import OnCommit, Statement

log = structlog.get_logger("caxton.directory")
Submit = Callable[[list[Statement], OnCommit | None], None]
DEPLOY, REGISTER = "deploy", "register"


class Directory:
    def __init__(self, repository: DirectoryRepository, submit: Submit) -> None:
        self._repository = repository
        self._submit = submit
        self._lock = threading.Lock()
        self._entries: dict[str, AgentDescription] = {}
        # service type or name -> the agents offering it, by name (a snapshot, replaced whole)
        self._providers: dict[str, tuple[str, ...]] = {}
        self._leases = False  # whether any registration has a lease (then expiry is checked)

    def restore(self) -> int:
        """Load the stored registrations (dropping lapsed ones); returns how many are live."""
        now = datetime.now(UTC)
        lapsed: list[Statement] = []
        with self._lock:
            for description, _source in self._repository.all():
                assert description.agent is not None
                if description.expired(now):
                    lapsed.append(DirectoryRepository.delete(description.agent))
                else:
                    self._entries[description.agent] = description
            self._publish()
        if lapsed:
            self._submit(lapsed, None)
        log.info("directory restored", registrations=len(self._entries), lapsed=len(lapsed))
        return len(self._entries)

    # -- queries (any thread, no lock) ---------------------------------------------------------
    def get(self, agent: str) -> AgentDescription | None:
        found = self._entries.get(agent)
        return found if found is not None and not found.expired(datetime.now(UTC)) else None

    def search(self, template: AgentDescription, max_results: int | None = None
               ) -> list[AgentDescription]:
        return search(list(self._entries.values()), template, max_results)

    def providers(self, key: str) -> tuple[str, ...]:
        """The agents whose registration offers a service of type or name ``key``, by name."""
        found = self._providers.get(key, ())
        if self._leases and found:
            now, entries = datetime.now(UTC), self._entries
            found = tuple(n for n in found if (d := entries.get(n)) is not None
                          and not d.expired(now))
        return found

    def __len__(self) -> int:
        return len(self._entries)

    # -- changes -------------------------------------------------------------------------------
    def register(self, description: AgentDescription, *, on_commit: OnCommit | None = None
                 ) -> AgentDescription:
        agent = _name(description)
        with self._lock:
            if self.get(agent) is not None:
                raise AlreadyRegisteredError(f"agent '{agent}' is already registered")
            self._put(description, REGISTER, on_commit)
        return description

    def modify(self, description: AgentDescription, *, on_commit: OnCommit | None = None
               ) -> AgentDescription:
        agent = _name(description)
        with self._lock:
            if self.get(agent) is None:
                raise NotRegisteredError(f"agent '{agent}' is not registered")
            self._put(description, REGISTER, on_commit)
        return description

    def deregister(self, agent: str, *, on_commit: OnCommit | None = None) -> None:
        with self._lock:
            if self.get(agent) is None:
                raise NotRegisteredError(f"agent '{agent}' is not registered")
            self._drop(agent, on_commit)

    def declare(self, agent: str, services: tuple[ServiceDescription, ...], *,
                on_commit: OnCommit | None = None) -> None:
        """What a deployment says the agent offers: its registration from now on (none when
        ``services`` is empty), whatever it was before."""
        with self._lock:
            if services:
                self._put(AgentDescription(agent=agent, services=services), DEPLOY, on_commit)
            elif agent in self._entries:
                self._drop(agent, on_commit)
            elif on_commit is not None:
                self._submit([], on_commit)

    def forget(self, agent: str, *, on_commit: OnCommit | None = None) -> None:
        """The agent is gone: drop its registration, if it has one."""
        with self._lock:
            if agent in self._entries:
                self._drop(agent, on_commit)
            elif on_commit is not None:
                self._submit([], on_commit)

    def _put(self, description: AgentDescription, source: str, on_commit: OnCommit | None
             ) -> None:
        assert description.agent is not None
        self._entries = {**self._entries, description.agent: description}
        self._publish()
        self._submit([DirectoryRepository.save(description, source)], on_commit)

    def _drop(self, agent: str, on_commit: OnCommit | None) -> None:
        self._entries = {k: v for k, v in self._entries.items() if k != agent}
        self._publish()
        self._submit([DirectoryRepository.delete(agent)], on_commit)

    def _publish(self) -> None:
        providers: dict[str, list[str]] = {}
        for name in sorted(self._entries):
            keys = {k for s in self._entries[name].services for k in (s.type, s.name) if k}
            for key in keys:
                providers.setdefault(key, []).append(name)
        self._providers = {k: tuple(v) for k, v in providers.items()}
        self._leases = any(d.lease is not None for d in self._entries.values())


def _name(description: AgentDescription) -> str:
    if description.agent is None:
        raise InvalidMessageError("description.agent", "is required")
    return description.agent
