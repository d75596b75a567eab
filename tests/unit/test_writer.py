"""Unit tests for caxton.store.writer: group commit against a real SQLite file.

Submitting before ``start()`` queues work the writer thread has not seen yet, which makes the
batch boundaries deterministic: everything queued before ``start`` is one batch.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from caxton.errors import StoreError
from caxton.store.writer import GroupCommitWriter

INSERT = "INSERT INTO t (v) VALUES (?)"
WAIT = 10.0


class Recorder:
    """Collects on_commit callbacks in the order the writer calls them."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, BaseException | None]] = []
        self.done = threading.Event()
        self.expected = 0

    def callback(self, tag: str):  # type: ignore[no-untyped-def]
        self.expected += 1

        def called(error: BaseException | None) -> None:
            self.calls.append((tag, error))
            if len(self.calls) == self.expected:
                self.done.set()

        return called

    def wait(self, timeout: float = WAIT) -> dict[str, BaseException | None]:
        assert self.done.wait(timeout), f"only {len(self.calls)} of {self.expected} callbacks ran"
        return dict(self.calls)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "writer.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
        conn.execute("CREATE TABLE u (k TEXT PRIMARY KEY)")
    conn.close()
    return path


@pytest.fixture
def conn(db: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    yield connection
    connection.close()


@pytest.fixture
def writer(conn: sqlite3.Connection) -> Iterator[GroupCommitWriter]:
    w = GroupCommitWriter(conn)
    yield w
    w.close(timeout=WAIT)


def rows(db: Path) -> list[str]:
    """What another connection sees: only committed data."""
    reader = sqlite3.connect(db)
    try:
        return [r[0] for r in reader.execute("SELECT v FROM t ORDER BY id")]
    finally:
        reader.close()


def test_submissions_queued_together_commit_as_one_batch(writer: GroupCommitWriter, db: Path
                                                         ) -> None:
    for i in range(50):
        writer.submit([(INSERT, (f"row{i}",))])
    barrier = writer.barrier()
    writer.start()
    barrier.result(WAIT)
    assert writer.commits == 1
    assert writer.statements == 50
    assert rows(db) == [f"row{i}" for i in range(50)]


def test_batches_are_capped_at_max_batch(conn: sqlite3.Connection, db: Path) -> None:
    writer = GroupCommitWriter(conn, max_batch=10)
    for i in range(25):
        writer.submit([(INSERT, (str(i),))])
    writer.start()
    writer.close(WAIT)
    assert writer.commits == 3  # 10 + 10 + 5
    assert writer.statements == 25
    assert rows(db) == [str(i) for i in range(25)]


def test_mixed_statements_run_in_submission_order(writer: GroupCommitWriter, db: Path) -> None:
    writer.submit([(INSERT, ("a",)), (INSERT, ("b",)),
                   ("UPDATE t SET v = v || '!' WHERE v = ?", ("a",)), (INSERT, ("c",))])
    writer.submit([("DELETE FROM t WHERE v = ?", ("b",)), (INSERT, ("d",))])
    writer.start()
    writer.barrier().result(WAIT)
    assert rows(db) == ["a!", "c", "d"]
    assert writer.statements == 6


def test_callbacks_run_in_order_after_the_commit(writer: GroupCommitWriter, db: Path) -> None:
    seen: list[tuple[str, list[str]]] = []
    finished = threading.Event()

    def callback(tag: str, last: bool = False):  # type: ignore[no-untyped-def]
        def called(error: BaseException | None) -> None:
            assert error is None
            seen.append((tag, rows(db)))  # what a reader sees once told it is committed
            if last:
                finished.set()
        return called

    writer.submit([(INSERT, ("x",))], callback("first"))
    writer.submit([(INSERT, ("y",))], callback("second", last=True))
    writer.start()
    assert finished.wait(WAIT)
    assert seen == [("first", ["x", "y"]), ("second", ["x", "y"])]


def test_barrier_waits_for_earlier_writes(writer: GroupCommitWriter, db: Path) -> None:
    for i in range(10):
        writer.submit([(INSERT, (str(i),))])
    barrier = writer.barrier()
    assert isinstance(barrier, Future)
    assert not barrier.done()  # the writer has not started: nothing can be committed yet
    writer.start()
    assert barrier.result(WAIT) is None
    assert rows(db) == [str(i) for i in range(10)]


def test_barrier_on_an_idle_writer_resolves(writer: GroupCommitWriter) -> None:
    writer.start()
    assert writer.barrier().result(WAIT) is None


def test_barriers_resolve_in_order_with_interleaved_writes(writer: GroupCommitWriter, db: Path
                                                           ) -> None:
    writer.start()
    seen: list[list[str]] = []
    for i in range(5):
        writer.submit([(INSERT, (str(i),))])
        writer.barrier().result(WAIT)
        seen.append(rows(db))
    assert seen == [[str(j) for j in range(i + 1)] for i in range(5)]


def test_bad_submission_does_not_lose_the_others_in_its_batch(writer: GroupCommitWriter,
                                                              db: Path) -> None:
    rec = Recorder()
    writer.submit([(INSERT, ("before",))], rec.callback("good1"))
    writer.submit([(INSERT, ("doomed",)), ("INSERT INTO missing VALUES (?)", (1,))],
                  rec.callback("bad"))
    writer.submit([(INSERT, ("after",))], rec.callback("good2"))
    writer.submit([(INSERT, ("x",)), (INSERT, (None,))], rec.callback("null"))  # NOT NULL
    writer.start()
    result = rec.wait()
    assert [tag for tag, _ in rec.calls] == ["good1", "bad", "good2", "null"]
    assert result["good1"] is None
    assert result["good2"] is None
    assert isinstance(result["bad"], sqlite3.OperationalError)
    assert "missing" in str(result["bad"])
    assert isinstance(result["null"], sqlite3.IntegrityError)
    # Each submission is atomic: the failed ones left nothing behind.
    assert rows(db) == ["before", "after"]
    assert writer.last_error is result["null"]


def test_writer_keeps_working_after_a_failed_batch(writer: GroupCommitWriter, db: Path) -> None:
    writer.start()
    with pytest.raises(StoreError, match="write failed: no such table: missing"):
        writer.write([("INSERT INTO missing VALUES (1)", ())], timeout=WAIT)
    writer.write([(INSERT, ("fine",))], timeout=WAIT)
    assert rows(db) == ["fine"]


def test_write_waits_for_its_commit(writer: GroupCommitWriter, db: Path) -> None:
    writer.start()
    writer.write([(INSERT, ("now",)), ("INSERT INTO u (k) VALUES (?)", ("k1",))], timeout=WAIT)
    assert rows(db) == ["now"]
    reader = sqlite3.connect(db)
    try:
        assert reader.execute("SELECT k FROM u").fetchall() == [("k1",)]
    finally:
        reader.close()


def test_barrier_still_resolves_when_its_batch_had_a_failure(writer: GroupCommitWriter,
                                                             db: Path) -> None:
    writer.submit([("INSERT INTO u (k) VALUES (?)", ("dup",))])
    writer.submit([("INSERT INTO u (k) VALUES (?)", ("dup",))])  # primary key violation
    barrier = writer.barrier()
    writer.start()
    assert barrier.result(WAIT) is None
    assert isinstance(writer.last_error, sqlite3.IntegrityError)


def test_a_failing_callback_does_not_stop_the_writer(writer: GroupCommitWriter, db: Path
                                                     ) -> None:
    def explode(_error: BaseException | None) -> None:
        raise RuntimeError("caller bug")

    writer.submit([(INSERT, ("one",))], explode)
    writer.start()
    writer.write([(INSERT, ("two",))], timeout=WAIT)
    assert rows(db) == ["one", "two"]


def test_close_flushes_pending_writes(conn: sqlite3.Connection, db: Path) -> None:
    writer = GroupCommitWriter(conn, max_batch=7)
    rec = Recorder()
    writer.start()
    for i in range(100):
        writer.submit([(INSERT, (str(i),))], rec.callback(str(i)))
    writer.close(WAIT)
    assert len(rec.calls) == 100  # every callback ran before close returned
    assert all(error is None for _, error in rec.calls)
    assert rows(db) == [str(i) for i in range(100)]
    assert writer.statements == 100


def test_close_stops_the_thread_and_is_idempotent(conn: sqlite3.Connection) -> None:
    writer = GroupCommitWriter(conn)
    writer.start()
    writer.close(WAIT)
    assert not writer._thread.is_alive()
    writer.close(WAIT)  # a second close does nothing


@pytest.mark.parametrize(
    "bad",
    [(2**70,), ({"not": "bindable"},), ("too", "many"), 5],
    ids=["overflow", "unsupported-type", "wrong-arity", "not-a-sequence"],
)
def test_unbindable_parameters_do_not_kill_the_writer(writer: GroupCommitWriter, db: Path,
                                                      bad: Any) -> None:
    # Regression: only sqlite3.Error was caught, so an OverflowError ended the writer thread,
    # no callback of that batch ever ran and every later write waited forever.
    rec = Recorder()
    writer.submit([(INSERT, ("before",))], rec.callback("before"))
    writer.submit([(INSERT, bad)], rec.callback("bad"))
    writer.submit([(INSERT, ("after",))], rec.callback("after"))
    writer.start()
    result = rec.wait(timeout=5.0)
    assert result["bad"] is not None
    assert result["before"] is None
    assert result["after"] is None
    assert rows(db) == ["before", "after"]
    writer.write([(INSERT, ("later",))], timeout=WAIT)  # the thread is still alive
    assert rows(db) == ["before", "after", "later"]
