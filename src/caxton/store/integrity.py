"""Is ``caxton.db`` a Caxton database we can trust? Checked before the server opens it, and in
full by ``caxton server check``.

At start-up (``preflight`` then ``opening_check``): a file that is empty or not SQLite where a
database was expected is refused (with ``init``, moved aside and a new database begun); a SQLite
file that is not Caxton's, or is from a newer Caxton, is refused; ``PRAGMA quick_check`` must
pass. These are cheap next to what they prevent: serving from a silently new, empty database, or
from one whose pages are damaged. Single unreadable rows are not refused here: the parts that
load them quarantine them (``store.quarantine``) and the server runs on.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from caxton.errors import DataDirDamagedError

log = structlog.get_logger("caxton.store")

SQLITE_HEADER = b"SQLite format 3\x00"
COMPANIONS = ("-wal", "-shm")
CHECK_LIMIT = 100  # problems integrity_check reports at most


def _sidecar(db: Path, suffix: str) -> Path:
    return db.with_name(db.name + suffix)


def _what_to_do(db: Path) -> str:
    return (f"restore {db.name} from a backup, or start with --init to begin with an empty "
            "database (the file is kept beside it)")


def file_problem(db: Path) -> str | None:
    """Why ``db`` (which exists) is not a SQLite database, or None."""
    try:
        with db.open("rb") as f:
            header = f.read(len(SQLITE_HEADER))
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if not header:
        return "is empty (0 bytes)"
    if header != SQLITE_HEADER:
        return "is not a SQLite database"
    return None


def preflight(data_dir: Path, db_file: str, *, init: bool) -> bool:
    """Refuse (DataDirDamagedError) an empty or foreign database file, or a missing one in a
    data dir that had one; with ``init`` move such a file aside instead. True when there is a
    database to check (False: a new one will be created)."""
    db = data_dir / db_file
    if not db.exists():
        # The database's own companion files say it existed; a compiled-code cache does not
        # (it may be seeded, or copied from another server, before the first start).
        leftovers = [p.name for p in (_sidecar(db, "-wal"), _sidecar(db, "-shm"))
                     if p.exists()]
        if leftovers and not init:
            raise DataDirDamagedError(
                f"database {db} is missing but the data dir has been used ({', '.join(leftovers)}"
                f" found); {_what_to_do(db)}")
        return False
    problem = file_problem(db)
    if problem is None:
        return True
    if not init:
        raise DataDirDamagedError(
            f"database {db} {problem}; Caxton expected its database there: {_what_to_do(db)}")
    kept = db.with_name(f"{db.name}.damaged-{time.strftime('%Y%m%dT%H%M%S')}")
    db.rename(kept)
    for suffix in COMPANIONS:  # they belong to the old file, not to the new database
        sidecar = _sidecar(db, suffix)
        if sidecar.exists():
            sidecar.rename(kept.with_name(kept.name + suffix))
    log.warning("database file set aside; starting with an empty database", path=str(db),
                problem=problem, kept=str(kept))
    return False


def opening_check(db: Path, *, known_version: int) -> None:
    """Read-only, before the server writes anything: the file must be Caxton's (not another
    program's SQLite database, nor a newer Caxton's) and pass ``PRAGMA quick_check``."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise DataDirDamagedError(f"database {db} cannot be opened: {exc}; "
                                  f"{_what_to_do(db)}") from None
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        tables = {name for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        problems = _lines(row[0] for row in conn.execute("PRAGMA quick_check(20)"))
    except sqlite3.DatabaseError as exc:
        raise DataDirDamagedError(
            f"database {db} cannot be read ({exc}); run 'caxton server check --data-dir "
            f"{db.parent}' for a report, then restore it from a backup") from None
    finally:
        conn.close()
    if version > known_version:
        raise DataDirDamagedError(
            f"database {db} is from a newer Caxton (schema {version}; this one knows up to "
            f"{known_version}): run that version, or restore a backup made by this one")
    if (version == 0 and tables) or (version > 0 and "agents" not in tables):
        raise DataDirDamagedError(
            f"database {db} is not a Caxton database (tables: {', '.join(sorted(tables))}); "
            "point --data-dir at Caxton's data directory")
    if problems:
        raise DataDirDamagedError(
            f"database {db} failed its integrity check ({problems[0]}"
            f"{f' and {len(problems) - 1} more' if len(problems) > 1 else ''}); run "
            f"'caxton server check --data-dir {db.parent}' for the full report")


@dataclass
class CheckReport:
    """What ``caxton server check`` found: database-level problems and unreadable rows."""

    path: Path
    schema_version: int = 0
    problems: list[str] = field(default_factory=list)  # integrity_check's findings
    rows: list[str] = field(default_factory=list)  # rows that cannot be read
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.rows


def full_check(db: Path) -> CheckReport:
    """``PRAGMA integrity_check`` and a pass that decodes every stored record, read-only."""
    from caxton.store.quarantine import decode_problems  # noqa: PLC0415 - avoids a cycle

    report = CheckReport(db)
    if not db.exists():
        report.problems.append("the file does not exist")
        return report
    problem = file_problem(db)
    if problem is not None:
        report.problems.append(f"the file {problem}")
        return report
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        report.problems.append(f"cannot be opened: {exc}")
        return report
    try:
        report.schema_version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        report.problems.extend(_integrity(conn))
        try:
            report.rows, report.counts = decode_problems(conn)
        except sqlite3.DatabaseError as exc:
            report.problems.append(f"reading the records failed: {exc}")
    except sqlite3.DatabaseError as exc:
        report.problems.append(f"cannot be read: {exc}")
    finally:
        conn.close()
    return report


def _integrity(conn: sqlite3.Connection) -> list[str]:
    """integrity_check's findings; when it cannot finish (a page too damaged to walk),
    quick_check's, which reports such pages instead of stopping at them."""
    try:
        found = [row[0] for row in conn.execute(f"PRAGMA integrity_check({CHECK_LIMIT})")]
    except sqlite3.DatabaseError as exc:
        found = [f"integrity_check stopped: {exc}"]
        try:
            found += [row[0] for row in conn.execute(f"PRAGMA quick_check({CHECK_LIMIT})")]
        except sqlite3.DatabaseError as again:
            found.append(f"quick_check stopped: {again}")
    return _lines(found)


def _lines(found: Iterable[str]) -> list[str]:
    """A check's findings one per line (SQLite may put several in one row, under a heading);
    empty when it says ``ok``."""
    lines = [line.strip() for text in found for line in text.splitlines()
             if line.strip() and line.strip() != "*** in database main ***"]
    return [] if lines == ["ok"] else lines


def rebuild(db: Path) -> Path:
    """Copy every table's rows into a new database built by the migrations (so every index
    is built afresh from its table), then put it in place of ``db``; the old file is kept
    beside it, its path returned. Mends damage confined to indexes; if a table itself cannot
    be read, raises sqlite3.DatabaseError and leaves ``db`` as it was. The copy is at the
    newest schema (an older file's rows fill the columns they have)."""
    from caxton.store.database import connect, migrate  # noqa: PLC0415 - avoids a cycle

    fresh = db.with_name(f"{db.name}.rebuilding")
    for stale in (fresh, *(_sidecar(fresh, s) for s in COMPANIONS)):
        stale.unlink(missing_ok=True)
    conn = connect(fresh, synchronous="FULL")
    try:
        migrate(conn)
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("ATTACH DATABASE ? AS old", (f"file:{db}?mode=ro",))
        ours = _tables(conn, "main")
        theirs = _tables(conn, "old")
        conn.execute("BEGIN")
        for table in ours.keys() & theirs.keys():  # the migrations' names: safe to splice in
            columns = ", ".join(f'"{c}"' for c in ours[table] if c in theirs[table])
            conn.execute(f'DELETE FROM main."{table}"')  # noqa: S608 - rows a migration seeded
            conn.execute(f'INSERT INTO main."{table}" ({columns})'  # noqa: S608
                         f' SELECT {columns} FROM old."{table}"')
        conn.execute("COMMIT")
        conn.execute("DETACH DATABASE old")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except BaseException:
        conn.close()
        for stale in (fresh, *(_sidecar(fresh, s) for s in COMPANIONS)):
            stale.unlink(missing_ok=True)
        raise
    conn.close()
    kept = db.with_name(f"{db.name}.damaged-{time.strftime('%Y%m%dT%H%M%S')}")
    db.rename(kept)
    for suffix in COMPANIONS:
        if _sidecar(db, suffix).exists():
            _sidecar(db, suffix).rename(_sidecar(kept, suffix))
    fresh.rename(db)
    return kept


def _tables(conn: sqlite3.Connection, schema: str) -> dict[str, list[str]]:
    names = [name for (name,) in conn.execute(
        f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table'"  # noqa: S608
        " AND name NOT LIKE 'sqlite_%'")]
    return {name: [c for (c,) in conn.execute(
        "SELECT name FROM pragma_table_info(?, ?)", (name, schema))] for name in names}
