"""The platform address book, held in memory and written through to the store.

The outbound MTP asks it, on the routing path, where an agent ``NAME@PLATFORM`` lives when the
message gives no address for it, and whether a URL is one of its entries' (``knows``: the MTP
may POST there); so it answers from immutable snapshots, taking no lock.
Entries from the server config are fixed (listed with source ``config``); the API adds, replaces
and removes the others, each change queued to the group-commit writer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

from caxton.domain.platforms import (
    API,
    PlatformEntry,
    parse_name,
    parse_urls,
    platform_of,
    url_key,
)
from caxton.errors import InvalidMessageError, PlatformConfiguredError, PlatformNotFoundError
from caxton.store.platforms import PlatformRepository
from caxton.store.writer import OnCommit, Statement

log = structlog.get_logger("caxton.platforms")
Submit = Callable[[list[Statement], OnCommit | None], None]


class PlatformBook:
    def __init__(self, repository: PlatformRepository | None, submit: Submit, *, own: str,
                 configured: tuple[PlatformEntry, ...] = ()) -> None:
        self._repository = repository
        self._submit = submit
        self._own = own.lower()
        self._lock = threading.Lock()
        self._configured = {e.name.lower(): e for e in configured}
        if self._own in self._configured:
            raise InvalidMessageError("platforms", f"{own!r} is this server's own platform")
        self._entries: dict[str, PlatformEntry] = dict(self._configured)  # by lower-case name
        self._known = _keys(self._entries)  # the URLs of every entry, as url_key compares them

    def restore(self) -> int:
        """Load the stored entries (the config's win over a stored one of the same name)."""
        stored = self._repository.all() if self._repository is not None else []
        with self._lock:
            entries = {e.name.lower(): e for e in stored}
            self._entries = {**entries, **self._configured}
            self._known = _keys(self._entries)
        log.info("platform address book restored", platforms=len(self._entries))
        return len(self._entries)

    # -- queries (any thread, no lock) ---------------------------------------------------------
    def get(self, name: str) -> PlatformEntry | None:
        return self._entries.get(name.lower())

    def entries(self) -> list[PlatformEntry]:
        return sorted(self._entries.values(), key=lambda e: e.name.lower())

    def urls(self, agent: str) -> tuple[str, ...]:
        """Where ``agent`` (``NAME@PLATFORM``) is reached, if its platform is in the book."""
        platform = platform_of(agent)
        found = self._entries.get(platform.lower()) if platform is not None else None
        return found.urls if found is not None else ()

    def knows(self, url: str) -> bool:
        """Whether ``url`` is one of the book's URLs (the outbound MTP may POST there)."""
        key = url_key(url)
        return key is not None and key in self._known

    # -- changes -------------------------------------------------------------------------------
    def add(self, name: str, urls: object, *, on_commit: OnCommit | None = None
            ) -> tuple[PlatformEntry, bool]:
        """Add ``name`` or replace its URLs; returns the entry and whether it is new."""
        entry = PlatformEntry(parse_name(name), parse_urls(urls), API)
        key = entry.name.lower()
        if key == self._own:
            raise InvalidMessageError("name", f"{name!r} is this server's own platform "
                                      "(platform_name): its agents are local")
        with self._lock:
            self._fixed(key)
            created = key not in self._entries
            self._entries = {**self._entries, key: entry}
            self._known = _keys(self._entries)
            self._submit([PlatformRepository.save(entry)], on_commit)
        return entry, created

    def remove(self, name: str, *, on_commit: OnCommit | None = None) -> PlatformEntry:
        key = name.lower()
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                raise PlatformNotFoundError(f"platform '{name}' is not in the address book")
            self._fixed(key)
            self._entries = {k: v for k, v in self._entries.items() if k != key}
            self._known = _keys(self._entries)
            self._submit([PlatformRepository.delete(found.name)], on_commit)
        return found

    def _fixed(self, key: str) -> None:
        if key in self._configured:
            raise PlatformConfiguredError(
                f"platform '{self._configured[key].name}' is set in the server config "
                "(platforms); change it there")


def _keys(entries: dict[str, PlatformEntry]) -> frozenset[tuple[str, str, int, str]]:
    return frozenset(key for entry in entries.values() for url in entry.urls
                     if (key := url_key(url)) is not None)
