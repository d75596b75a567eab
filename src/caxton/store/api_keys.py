"""The ``api_keys`` table, written through the group-commit writer; the key book
(``caxton.security.key_book``) holds the keys in memory and is restored from here."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from caxton.store.database import Readers
from caxton.store.writer import Statement

INSERT = ("INSERT INTO api_keys(id, secret_hash, role, agents, name, created_by, created_at,"
          " expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
REVOKE = "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"


@dataclass(frozen=True, slots=True)
class StoredKey:
    id: str
    secret_hash: str
    role: str
    agents: tuple[str, ...]
    name: str
    created_by: str
    created_at: str
    expires_at: str | None
    revoked_at: str | None


class ApiKeyRepository:
    def __init__(self, readers: Readers) -> None:
        self._readers = readers

    @staticmethod
    def insert(key: StoredKey) -> Statement:
        return (INSERT, (key.id, key.secret_hash, key.role, orjson.dumps(list(key.agents)).decode(),
                         key.name, key.created_by, key.created_at, key.expires_at,
                         key.revoked_at))

    @staticmethod
    def revoke(key_id: str, at: str) -> Statement:
        return (REVOKE, (at, key_id))

    def all(self) -> list[StoredKey]:
        rows = self._readers.get().execute(
            "SELECT id, secret_hash, role, agents, name, created_by, created_at, expires_at,"
            " revoked_at FROM api_keys ORDER BY created_at, id").fetchall()
        return [StoredKey(r[0], r[1], r[2], tuple(orjson.loads(r[3])), *r[4:]) for r in rows]
