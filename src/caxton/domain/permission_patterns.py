"""Receiver patterns: whom an agent with permissions may message, checked at deploy and compiled
once, so that checking a receiver on the message path is a few set lookups and no regex.

==========================  ==============================================================
pattern                     allows a message to
==========================  ==============================================================
``echo``                    the agent named ``echo`` (also ``df``, ``ams``: the platform
                            agents are reachable only when named like this)
``worker-*``                any local name starting with ``worker-`` (not ``df``/``ams``)
``*``                       any local name (agents, API clients' inboxes; not ``df``/``ams``)
``service:translate``       ``service:translate`` and ``service:translate/round-robin``
``service:translate/all``   ``service:translate/all`` too (a broadcast is its own privilege)
``service:*``               any capability address but ``/all``; ``service:*/all``: any
``seller@jade``             that agent of another platform (platform case-insensitive);
                            ``seller@*``: the agent named ``seller`` on any platform
``*@jade``                  any agent of platform ``jade``; ``*@*``: of any platform
==========================  ==============================================================

A receiver is checked as the sender wrote it, before the router resolves it: ``service:KEY``
is not allowed by naming the agents that offer KEY, and ``echo@<this platform>`` needs its own
pattern (or ``*@<this platform>``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from caxton.domain.directory import CAPABILITY_PREFIX
from caxton.errors import InvalidPermissionsError

PLATFORM_AGENTS = frozenset({"df", "ams"})
_ALL, _ROUND_ROBIN = "/all", "/round-robin"
_LOCAL = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_LOCAL_PREFIX = re.compile(r"(?:[A-Za-z_][A-Za-z0-9_.-]*)?\*")
_REMOTE_PART = re.compile(r"[^\s@*]+")
_FORMS = ("NAME, PREFIX*, *, service:TYPE, service:TYPE/all, service:*, NAME@PLATFORM, "
          "*@PLATFORM or *@*")


def check_pattern(pattern: str, where: str) -> None:
    """Raise InvalidPermissionsError when ``pattern`` is none of the forms above."""
    if _kind(pattern) is None:
        raise InvalidPermissionsError(where, f"{pattern!r} is not a receiver pattern (one of: "
                                      f"{_FORMS})")


def _kind(pattern: str) -> str | None:
    if pattern.startswith(CAPABILITY_PREFIX):
        key = _service_key(pattern)[0]
        if not key or ("*" in key and key != "*") or any(c.isspace() for c in key):
            return None
        return "service"
    if "@" in pattern:
        local, _, platform = pattern.rpartition("@")
        if local != "*" and _REMOTE_PART.fullmatch(local) is None:
            return None
        if platform != "*" and _REMOTE_PART.fullmatch(platform) is None:
            return None
        return "remote"
    if _LOCAL_PREFIX.fullmatch(pattern) is not None:
        return "prefix"
    if _LOCAL.fullmatch(pattern) is not None:
        return "local"
    return None


def _service_key(address: str) -> tuple[str, bool]:
    """(key, broadcast) of ``service:KEY[/all|/round-robin]``."""
    rest = address[len(CAPABILITY_PREFIX):]
    if rest.endswith(_ALL) and len(rest) > len(_ALL):
        return rest[:-len(_ALL)], True
    if rest.endswith(_ROUND_ROBIN) and len(rest) > len(_ROUND_ROBIN):
        return rest[:-len(_ROUND_ROBIN)], False
    return rest, False


@dataclass(frozen=True, slots=True)
class Recipients:
    """A compiled list of patterns: ``allows(receiver)`` without allocating for local names."""

    names: frozenset[str]  # exact local names, df and ams included
    prefixes: tuple[str, ...]  # local prefixes ("" for "*")
    services: frozenset[str]  # capability keys, one agent at a time ("*": any)
    broadcasts: frozenset[str]  # capability keys, /all too ("*": any)
    remote: frozenset[tuple[str, str]]  # (name, platform in lower case)
    anywhere: frozenset[str]  # names allowed on any other platform (NAME@*)
    platforms: frozenset[str]  # platforms in lower case whose every agent is allowed ("*": any)

    @classmethod
    def compile(cls, patterns: Iterable[str]) -> Recipients:
        names: set[str] = set()
        prefixes: list[str] = []
        services: set[str] = set()
        broadcasts: set[str] = set()
        remote: set[tuple[str, str]] = set()
        anywhere: set[str] = set()
        platforms: set[str] = set()
        for pattern in patterns:
            kind = _kind(pattern)
            if kind == "service":
                key, broadcast = _service_key(pattern)
                (broadcasts if broadcast else services).add(key)
            elif kind == "remote":
                local, _, platform = pattern.rpartition("@")
                if local == "*":
                    platforms.add(platform.lower())
                elif platform == "*":
                    anywhere.add(local)
                else:
                    remote.add((local, platform.lower()))
            elif kind == "prefix":
                prefixes.append(pattern[:-1])
            elif kind == "local":
                names.add(pattern)
        return cls(frozenset(names), tuple(prefixes), frozenset(services),
                   frozenset(broadcasts), frozenset(remote), frozenset(anywhere),
                   frozenset(platforms))

    def allows(self, receiver: str) -> bool:
        if receiver in self.names:
            return True
        if receiver.startswith(CAPABILITY_PREFIX):
            key, broadcast = _service_key(receiver)
            if broadcast:
                return "*" in self.broadcasts or key in self.broadcasts
            return (key in self.services or key in self.broadcasts or "*" in self.services
                    or "*" in self.broadcasts)
        if "@" in receiver:
            local, _, platform = receiver.rpartition("@")
            platform = platform.lower()
            return ("*" in self.platforms or platform in self.platforms
                    or (local, platform) in self.remote or local in self.anywhere)
        if receiver in PLATFORM_AGENTS:
            return False  # only by name (above)
        return receiver.startswith(self.prefixes)


__all__ = ["PLATFORM_AGENTS", "Recipients", "check_pattern"]
