"""Batch compaction must leave the database exactly as running the statements one by one."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from caxton.domain.acl import AclMessage, Performative
from caxton.store import conversation_log as c
from caxton.store import repositories as r
from caxton.store.acceptances import AcceptanceRepository
from caxton.store.compaction import compact
from caxton.store.database import connect, migrate
from caxton.store.writer import Statement, _runs


def _db(path: Path) -> sqlite3.Connection:
    conn = connect(path)
    migrate(conn)
    return conn


def _apply(conn: sqlite3.Connection, batch: list[tuple[str, list]]) -> None:
    conn.execute("BEGIN")
    for sql, rows in batch:
        conn.executemany(sql, rows)
    conn.execute("COMMIT")


def _dump(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    return {
        table: sorted(conn.execute(f"SELECT * FROM {table}").fetchall())
        for table in ("messages", "conversations", "conversation_participants", "deliveries",
                      "agent_state", "accepted")
    }


def _random_statements(rng: random.Random, n: int) -> list[Statement]:
    statements: list[Statement] = []
    owed: list[tuple[str, str]] = []
    for i in range(n):
        roll = rng.random()
        if roll < 0.5 or not owed:
            receiver = rng.choice(["a", "b", "c"])
            msg = AclMessage(performative=Performative.INFORM, sender=rng.choice(["x", "a"]),
                             receiver=(receiver,), content=i,
                             conversation_id=rng.choice(["c1", "c2", f"c{i}"]),
                             protocol=rng.choice([None, "fipa-request"]),
                             timestamp=f"2026-01-01T00:00:{i % 60:02d}.{i:06d}Z")
            if rng.random() < 0.3:  # a client chose the id: its acceptance row goes first
                statements.append(AcceptanceRepository.accept(
                    msg.message_id, msg.conversation_id, "fp", float(i)))
            statements.extend(r.message_statements(msg, (receiver,)))
            owed.append((msg.message_id, receiver))
            if msg.protocol is not None and rng.random() < 0.7:
                # The conversation manager's save; revisions out of order on purpose (two
                # routing threads may submit them so): the newest must win either way.
                statements.append(c.save_state(
                    msg.conversation_id or "", protocol="fipa-request", initiator="x",
                    at=msg.timestamp, status=rng.choice(["open", "done"]), state={"i": i},
                    revision=rng.randrange(1, 1000)))
        elif roll < 0.8:
            statements.append(r.DeliveryRepository.done(*owed.pop(rng.randrange(len(owed)))))
            statements.extend(r.StateRepository.statements("a", {f"k{i % 3}": str(i).encode()}))
        elif roll < 0.9:
            mid, rcv = owed[rng.randrange(len(owed))]
            statements.append(("UPDATE deliveries SET attempts = ?, last_error = ?"
                               " WHERE message_id = ? AND receiver = ?", (2, "trap", mid, rcv)))
        elif roll < 0.95:
            statements.extend(r.StateRepository.statements("a", {f"k{i % 3}": None}))
        else:
            statements.append(AcceptanceRepository.prune(float(i - 20)))
    return statements


@pytest.mark.parametrize("seed", range(25))
def test_compacted_batch_leaves_the_same_database(tmp_path: Path, seed: int) -> None:
    statements = _random_statements(random.Random(seed), 120)
    plain, compacted = _db(tmp_path / "plain.db"), _db(tmp_path / "compact.db")
    _apply(plain, _runs(statements))
    _apply(compacted, compact(statements))
    assert _dump(plain) == _dump(compacted)


def test_state_saves_merge_to_the_newest_revision() -> None:
    saves = [c.save_state("c1", protocol="fipa-request", initiator="x", at="t", status=s,
                          state={"n": n}, revision=n) for n, s in ((1, "open"), (3, "done"),
                                                                   (2, "open"))]
    saves.append(c.save_state("c2", protocol="fipa-request", initiator="x", at="t",
                              status="open", state={}, revision=1))
    ((sql, rows),) = compact(saves)
    assert sql is c.SAVE_STATE
    assert [(row[0], row[5], row[-1]) for row in rows] == [("c1", "done", 3), ("c2", "open", 1)]


def test_settled_delivery_never_touches_the_table() -> None:
    msg = AclMessage(performative=Performative.INFORM, sender="x", receiver=("a",),
                     conversation_id="c")
    statements = [*r.message_statements(msg, ("a",)),
                  r.DeliveryRepository.done(msg.message_id, "a")]
    batch = compact(statements)
    assert all("deliveries" not in sql for sql, _ in batch)


def test_a_delivery_settled_from_an_earlier_batch_keeps_later_pairs_cancelling() -> None:
    """A done whose insert was committed earlier must not stop the pairs after it from
    cancelling (it did: every such done kept all inserts, so none ever cancelled under load)."""
    earlier = AclMessage(performative=Performative.INFORM, sender="x", receiver=("a",))
    msg = AclMessage(performative=Performative.INFORM, sender="x", receiver=("a",))
    statements = [*r.message_statements(msg, ("a",)),
                  r.DeliveryRepository.done(earlier.message_id, "a"),
                  r.DeliveryRepository.done(msg.message_id, "a")]
    batch = compact(statements)
    deliveries = [(sql, rows) for sql, rows in batch if "deliveries" in sql]
    assert deliveries == [(r.DONE_DELIVERY, [(earlier.message_id, "a")])]


def test_conversation_upserts_merge_and_participants_dedupe() -> None:
    statements: list[Statement] = []
    for i in range(10):
        msg = AclMessage(performative=Performative.INFORM, sender="x", receiver=("a",),
                         conversation_id="same", content=i)
        statements.extend(r.message_statements(msg))
    batch = dict(compact(statements))
    assert len(batch[r.INSERT_MESSAGE]) == 10
    (merged,) = [rows for sql, rows in batch.items() if sql.startswith("INSERT INTO conv")]
    assert len(merged) == 1 and merged[0][5] == 10
    assert sorted(batch[r.ADD_PARTICIPANT]) == [("same", "a"), ("same", "x")]


def test_a_retry_in_between_keeps_the_pending_row(tmp_path: Path) -> None:
    msg = AclMessage(performative=Performative.INFORM, sender="x", receiver=("a",),
                     conversation_id="c")
    statements = [*r.message_statements(msg, ("a",)),
                  r.DeliveryRepository.attempted(msg.message_id, "a", 1, "trap")]
    conn = _db(tmp_path / "db")
    _apply(conn, compact(statements))
    assert conn.execute("SELECT attempts FROM deliveries").fetchall() == [(1,)]
