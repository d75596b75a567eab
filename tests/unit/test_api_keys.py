"""API keys and the key book over a real store: hashed at rest, revoked at once, expiring."""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from caxton.errors import AuthenticationError, InvalidMessageError, TokenNotFoundError
from caxton.security import api_keys
from caxton.security.key_book import KeyBook
from caxton.security.permissions import Role
from caxton.store.api_keys import ApiKeyRepository
from caxton.store.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path, durability="normal")
    yield opened
    opened.close()


def book(store: Store) -> KeyBook:
    keys = KeyBook(ApiKeyRepository(store.readers), store.submit)
    keys.restore()
    return keys


def test_a_key_parses_and_only_its_hash_is_stored(store: Store, tmp_path: Path) -> None:
    keys = book(store)
    record, token = keys.create("developer", agents=["team-*"], name="ci")
    key_id, secret = api_keys.parse(token) or ("", "")
    assert key_id == record.stored.id and len(secret) == 43
    store.writer.barrier().result(10)
    with sqlite3.connect(tmp_path / "caxton.db") as db:
        dumped = "\n".join(db.iterdump())
    assert secret not in dumped and api_keys.hash_secret(secret) in dumped
    principal = keys.authenticate(token)
    assert (principal.role, principal.agents, principal.actor) == (
        Role.developer, ("team-*",), f"key:{key_id}")


@pytest.mark.parametrize("bad", ["", "cxk_", "cxk_abc_def", "Bearer x", "cxk_" + "a" * 12 + "_"
                                 + "b" * 42, "cxk_" + "A" * 12 + "_" + "b" * 43])
def test_malformed_keys_are_refused(store: Store, bad: str) -> None:
    with pytest.raises(AuthenticationError, match="malformed"):
        book(store).authenticate(bad)


def test_a_forged_secret_for_a_real_id_is_refused(store: Store) -> None:
    keys = book(store)
    _, token = keys.create("admin")
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(AuthenticationError, match="unknown API key"):
        keys.authenticate(forged)


def test_revocation_is_immediate_and_survives_a_restart(store: Store, tmp_path: Path) -> None:
    keys = book(store)
    record, token = keys.create("operator")
    keys.authenticate(token)
    keys.revoke(record.stored.id)
    with pytest.raises(AuthenticationError, match="revoked"):
        keys.authenticate(token)
    store.writer.barrier().result(10)
    with pytest.raises(AuthenticationError, match="revoked"):
        book(store).authenticate(token)
    with pytest.raises(TokenNotFoundError):
        keys.revoke("nosuchkey000")


def test_an_expired_key_is_refused(store: Store) -> None:
    keys = book(store)
    _, token = keys.create("viewer", expires_in_s=1)
    keys.authenticate(token)
    time.sleep(2.1)  # whole seconds, rounded up
    with pytest.raises(AuthenticationError, match="expired"):
        keys.authenticate(token)
    assert keys.list()[0].to_dict()["active"] is False


@pytest.mark.parametrize(("role", "agents", "field"), [
    ("root", None, "role"), ("admin", [], "agents"), ("admin", ["x" * 300], "agents"),
    ("admin", [3], "agents")])
def test_bad_grants_name_the_field(store: Store, role: str, agents: object, field: str) -> None:
    with pytest.raises(InvalidMessageError) as refused:
        book(store).create(role, agents=agents)
    assert refused.value.field == field


def test_the_admin_token_file(store: Store, tmp_path: Path) -> None:
    keys = book(store)
    path = keys.ensure_admin_token(tmp_path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    first = path.read_text().strip()
    assert keys.authenticate(first).role is Role.admin
    assert keys.ensure_admin_token(tmp_path) == path and path.read_text().strip() == first
    path.unlink()  # lost: the next start makes a new one and revokes the old
    keys.ensure_admin_token(tmp_path)
    second = path.read_text().strip()
    assert second != first and keys.authenticate(second).role is Role.admin
    with pytest.raises(AuthenticationError, match="revoked"):
        keys.authenticate(first)


@pytest.mark.parametrize(("text", "seconds"), [("30d", 30 * 86400), ("12h", 43200),
                                                ("90m", 5400), ("1w", 604800), ("45s", 45),
                                                ("1d12h", 129600)])
def test_durations(text: str, seconds: float) -> None:
    assert api_keys.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "30", "d", "0d", "-1d", "1y", "30 days"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        api_keys.parse_duration(text)
