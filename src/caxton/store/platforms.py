"""The platform address book's table, written through the group-commit writer.

The book itself lives in memory (``caxton.runtime.platforms``); this table is what it is
restored from when the server starts.
"""

from __future__ import annotations

import orjson

from caxton.domain.acl import utc_now_iso
from caxton.domain.platforms import API, PlatformEntry
from caxton.store.database import Readers
from caxton.store.writer import Statement

UPSERT = (
    "INSERT INTO platforms(name, urls, updated_at) VALUES (?, ?, ?)"
    " ON CONFLICT(name) DO UPDATE SET name = excluded.name, urls = excluded.urls,"
    " updated_at = excluded.updated_at"
)
DELETE = "DELETE FROM platforms WHERE name = ?"


class PlatformRepository:
    def __init__(self, readers: Readers) -> None:
        self._readers = readers

    @staticmethod
    def save(entry: PlatformEntry) -> Statement:
        return (UPSERT, (entry.name, orjson.dumps(list(entry.urls)).decode(), utc_now_iso()))

    @staticmethod
    def delete(name: str) -> Statement:
        return (DELETE, (name,))

    def all(self) -> list[PlatformEntry]:
        rows = self._readers.get().execute(
            "SELECT name, urls FROM platforms ORDER BY name").fetchall()
        return [PlatformEntry(name, tuple(orjson.loads(urls)), API) for name, urls in rows]
