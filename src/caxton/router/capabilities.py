"""Capability addresses: send to whoever offers a service instead of to a named agent.

A receiver ``service:KEY`` stands for the running agents whose directory registration offers a
service whose type (or name) is KEY:

- ``service:KEY``              one agent: the least busy (smallest mailbox), ties by name;
- ``service:KEY/all``          every one of them;
- ``service:KEY/round-robin``  one agent, taking turns in name order.

It is a ``Resolver`` for the router, which swaps the address for the agents before the message
is logged, so the conversation shows who got it. When nobody offers the service (or none of
those who do is running) the resolution is empty and the router bounces the message to its
sender as a ``failure`` whose reason ``unresolved`` gives. Resolution reads only the directory's
in-memory index and the agents' mailboxes: no database on the routing path.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Protocol

from caxton.domain.directory import CAPABILITY_PREFIX

ALL, ROUND_ROBIN = "all", "round-robin"
_MODES = (ALL, ROUND_ROBIN)


class Providers(Protocol):
    def providers(self, key: str) -> tuple[str, ...]:
        """The agents offering ``key``, by name."""
        ...


# The mailbox depth of a running local agent, or None if it cannot take messages now.
Load = Callable[[str], int | None]


def parse(receiver: str) -> tuple[str, str | None] | None:
    """``(key, mode)`` of a capability address (mode None: the best one), else None."""
    if not receiver.startswith(CAPABILITY_PREFIX):
        return None
    rest = receiver[len(CAPABILITY_PREFIX):]
    key, slash, mode = rest.rpartition("/")
    if slash and mode in _MODES and key:
        return key, mode
    return (rest, None) if rest else None


class CapabilityResolver:
    def __init__(self, directory: Providers, load: Load) -> None:
        self._directory = directory
        self._load = load
        self._turns: dict[str, itertools.count[int]] = {}

    def claims(self, receiver: str) -> bool:
        """Whether ``receiver`` is a capability address (without resolving it: resolving takes
        a round-robin turn)."""
        return parse(receiver) is not None

    def resolve(self, receiver: str) -> tuple[str, ...] | None:
        parsed = parse(receiver)
        if parsed is None:
            return None
        key, mode = parsed
        load = self._load
        live = [(depth, name) for name in self._directory.providers(key)
                if (depth := load(name)) is not None]
        if not live:
            return ()
        if mode == ALL:
            return tuple(name for _, name in live)
        if mode == ROUND_ROBIN:
            turn = self._turns.get(key)
            if turn is None:
                turn = self._turns.setdefault(key, itertools.count())
            return (live[next(turn) % len(live)][1],)
        return (min(live)[1],)

    def unresolved(self, receiver: str) -> str | None:
        """Why a message to ``receiver`` found nobody (for the bounce), if it is ours."""
        parsed = parse(receiver)
        if parsed is None:
            return None
        return f"no running agent offers service '{parsed[0]}'"
