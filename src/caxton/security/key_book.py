"""The API keys, held in memory and written through to the store.

Checking a key is a dict lookup and one hash, with no IO, on every request; revoking one takes
effect for the next request (the in-memory record changes before the write is queued).
The server's first start creates an admin key and writes it to ``<data-dir>/admin.token``.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from caxton.errors import AuthenticationError, InvalidMessageError, TokenNotFoundError
from caxton.security import api_keys
from caxton.security.permissions import Role
from caxton.security.principal import Principal
from caxton.store.api_keys import ApiKeyRepository, StoredKey
from caxton.store.writer import OnCommit, Statement

log = structlog.get_logger("caxton.security")
Submit = Callable[[list[Statement], OnCommit | None], None]
ADMIN_TOKEN_FILE = "admin.token"  # noqa: S105 - a file name
ADMIN_KEY_NAME = "admin.token"


@dataclass(frozen=True, slots=True)
class KeyRecord:
    stored: StoredKey
    principal: Principal
    expires: float | None  # epoch seconds
    revoked: bool

    def to_dict(self) -> dict[str, Any]:
        s = self.stored
        return {"id": s.id, "name": s.name, "role": s.role, "agents": list(s.agents),
                "created_by": s.created_by, "created_at": s.created_at,
                "expires_at": s.expires_at, "revoked_at": s.revoked_at,
                "active": not self.revoked and not self.expired()}

    def expired(self, now: float | None = None) -> bool:
        return self.expires is not None and (now or time.time()) >= self.expires


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _epoch(iso: str | None) -> float | None:
    return None if iso is None else datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _record(stored: StoredKey) -> KeyRecord:
    principal = Principal(f"key:{stored.id}", Role(stored.role), stored.agents,
                          method="api-key", key_id=stored.id)
    return KeyRecord(stored, principal, _epoch(stored.expires_at), stored.revoked_at is not None)


def parse_agents(patterns: object) -> tuple[str, ...]:
    if patterns is None:
        return ("*",)
    items = [patterns] if isinstance(patterns, str) else patterns
    if not isinstance(items, list | tuple) or not items or not all(
            isinstance(p, str) and 0 < len(p) <= 256 for p in items):
        raise InvalidMessageError("agents", "a list of agent-name patterns such as 'team-a-*'")
    return tuple(p.strip() for p in items)


class KeyBook:
    def __init__(self, repository: ApiKeyRepository, submit: Submit) -> None:
        self._repository = repository
        self._submit = submit
        self._lock = threading.Lock()
        self._keys: dict[str, KeyRecord] = {}

    def restore(self) -> int:
        self._keys = {s.id: _record(s) for s in self._repository.all()}
        return len(self._keys)

    # -- checking (every request) --------------------------------------------------------------
    def authenticate(self, token: str) -> Principal:
        parsed = api_keys.parse(token)
        if parsed is None:
            raise AuthenticationError("malformed API key")
        record = self._keys.get(parsed[0])
        if record is None or not api_keys.matches(parsed[1], record.stored.secret_hash):
            raise AuthenticationError("unknown API key")
        if record.revoked:
            raise AuthenticationError("the API key was revoked")
        if record.expired():
            raise AuthenticationError("the API key has expired")
        return record.principal

    # -- management ----------------------------------------------------------------------------
    def create(self, role: str, *, agents: object = None, name: str = "",
               expires_in_s: float | None = None, created_by: str = "",
               on_commit: OnCommit | None = None) -> tuple[KeyRecord, str]:
        """A new key and its token (the only time the token is known)."""
        try:
            checked_role = Role(role)
        except ValueError:
            raise InvalidMessageError("role", f"{role!r} is not a role; one of "
                                      f"{', '.join(r.value for r in Role)}") from None
        if len(name) > 200:
            raise InvalidMessageError("name", "at most 200 characters")
        key = api_keys.new_key()
        now = time.time()
        stored = StoredKey(key.id, key.secret_hash, checked_role.value, parse_agents(agents),
                           name, created_by, _iso(now),
                           # rounded up: a key never expires before its lifetime is over
                           _iso(math.ceil(now + expires_in_s)) if expires_in_s else None, None)
        record = _record(stored)
        with self._lock:
            self._keys[key.id] = record
            self._submit([ApiKeyRepository.insert(stored)], on_commit)
        return record, key.token

    def revoke(self, key_id: str, *, on_commit: OnCommit | None = None) -> KeyRecord:
        with self._lock:
            record = self._keys.get(key_id)
            if record is None:
                raise TokenNotFoundError(f"no API key with id '{key_id}'")
            if not record.revoked:
                at = _iso(time.time())
                record = replace(record, stored=replace(record.stored, revoked_at=at),
                                 revoked=True)
                self._keys[key_id] = record  # refused from the next request on
                self._submit([ApiKeyRepository.revoke(key_id, at)], on_commit)
            elif on_commit is not None:
                on_commit(None)
        return record

    def list(self) -> list[KeyRecord]:
        return sorted(self._keys.values(), key=lambda r: (r.stored.created_at, r.stored.id))

    def get(self, key_id: str) -> KeyRecord:
        record = self._keys.get(key_id)
        if record is None:
            raise TokenNotFoundError(f"no API key with id '{key_id}'")
        return record

    # -- the admin token file ------------------------------------------------------------------
    def ensure_admin_token(self, data_dir: Path) -> Path:
        """Make sure ``<data-dir>/admin.token`` holds a working admin key; returns its path.

        A missing or no longer valid file gets a new key (and earlier admin.token keys are
        revoked): deleting the file and restarting is how a lost admin key is replaced.
        """
        path = data_dir / ADMIN_TOKEN_FILE
        try:
            self.authenticate(path.read_text().strip())
            os.chmod(path, 0o600)
            return path
        except (OSError, AuthenticationError):
            pass
        for record in self.list():
            if record.stored.name == ADMIN_KEY_NAME and not record.revoked:
                self.revoke(record.stored.id)
        _, token = self.create(Role.admin.value, name=ADMIN_KEY_NAME, created_by="server")
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(token + "\n")
        os.replace(tmp, path)
        log.info("admin API key created", file=str(path))
        return path
