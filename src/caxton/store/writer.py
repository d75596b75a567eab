"""Group commit: every write goes through one thread that batches them into transactions.

A burst of messages costs one commit (and with ``synchronous=FULL`` one fsync) per batch, not
per message. Callers that must know their write is durable pass ``on_commit``, which runs on the
writer thread after the commit, with the error if the batch failed.
"""

from __future__ import annotations

import itertools
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from typing import Any

import structlog

from caxton.errors import StoreError

log = structlog.get_logger("caxton.store")

Statement = tuple[str, Sequence[Any]]
OnCommit = Callable[[BaseException | None], None]
_STOP = object()


class GroupCommitWriter:
    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        max_batch: int = 4096,
        compact: Callable[[Iterable[Statement]], list[tuple[str, list[Sequence[Any]]]]]
        | None = None,
    ) -> None:
        self._conn = conn
        self._compact = compact or _runs
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="caxton-writer", daemon=True)
        self.commits = 0
        self.statements = 0
        self.last_error: BaseException | None = None
        self.on_batch: Callable[[float, int], None] | None = None  # (seconds, statements)

    def start(self) -> None:
        self._thread.start()

    @property
    def backlog(self) -> int:
        return self._queue.qsize()

    def submit(self, statements: Iterable[Statement], on_commit: OnCommit | None = None) -> None:
        """Queue statements to run in order, in the same transaction as each other."""
        self._queue.put((tuple(statements), on_commit))

    def barrier(self) -> Future[None]:
        """A future that completes once everything submitted before it is committed."""
        fut: Future[None] = Future()

        def done(error: BaseException | None) -> None:
            if error is None:
                fut.set_result(None)
            else:
                fut.set_exception(StoreError(f"write failed: {error}"))

        self.submit((), done)
        return fut

    def write(self, statements: Iterable[Statement], timeout: float = 30.0) -> None:
        """Submit and wait for the commit (for rare writes such as deployments)."""
        fut: Future[None] = Future()

        def done(error: BaseException | None) -> None:
            if error is None:
                fut.set_result(None)
            else:
                fut.set_exception(StoreError(f"write failed: {error}"))

        self.submit(statements, done)
        fut.result(timeout)

    def close(self, timeout: float = 30.0) -> None:
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            stop = False
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[tuple[tuple[Statement, ...], OnCommit | None]]) -> None:
        try:
            self._execute(itertools.chain.from_iterable(stmts for stmts, _ in batch))
            error: BaseException | None = None
        except (sqlite3.Error, ValueError, TypeError, OverflowError) as exc:
            # One bad submission (a constraint, a value SQLite cannot bind) must not sink the
            # others, nor the writer thread: retry them one by one.
            log.error("batch write failed; retrying singly", error=str(exc), size=len(batch))
            for stmts, callback in batch:
                try:
                    self._execute(stmts)
                    err: BaseException | None = None
                except (sqlite3.Error, ValueError, TypeError, OverflowError) as single:
                    err = single
                    self.last_error = single
                    log.error("write failed", error=str(single))
                _notify(callback, err)
            return
        for _, callback in batch:
            _notify(callback, error)

    def _execute(self, statements: Iterable[Statement]) -> None:
        conn = self._conn
        started = time.perf_counter()
        conn.execute("BEGIN")
        try:
            count = 0
            for sql, rows in self._compact(statements):
                count += len(rows)
                if len(rows) == 1:
                    conn.execute(sql, rows[0])
                else:
                    conn.executemany(sql, rows)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self.commits += 1
        self.statements += count
        if self.on_batch is not None:
            self.on_batch(time.perf_counter() - started, count)


def _runs(statements: Iterable[Statement]) -> list[tuple[str, list[Sequence[Any]]]]:
    """Runs of the same statement, in order, each for one executemany."""
    return [(sql, [params for _, params in group])
            for sql, group in itertools.groupby(statements, key=lambda s: s[0])]


def _notify(callback: OnCommit | None, error: BaseException | None) -> None:
    if callback is not None:
        try:
            callback(error)
        except Exception:  # a caller's callback must not kill the writer
            log.exception("commit callback failed")
