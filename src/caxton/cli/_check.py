"""``caxton server check``: the report on a data directory's database (see store/integrity)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from caxton.cli._output import emit_fields, emit_json
from caxton.errors import CaxtonError
from caxton.store.database import DB_FILE
from caxton.store.integrity import CheckReport, full_check, rebuild
from caxton.store.lock import DataDirLock


def run_check(data_dir: Path, *, repair: bool, as_json: bool) -> int:
    """Check (and with ``repair`` rebuild the indexes, then check again); the exit code."""
    db = data_dir / DB_FILE
    report = full_check(db)
    repaired: str | None = None
    if repair and report.problems and db.exists():
        repaired = _repair(data_dir, db)
        report = full_check(db)
    if as_json:
        emit_json(_as_dict(report, repaired))
    else:
        _print(report, repaired)
    return 0 if report.ok else 1


def _repair(data_dir: Path, db: Path) -> str:
    lock = DataDirLock(data_dir)
    try:
        lock.acquire()  # a running server holds it: never rebuild under its feet
    except CaxtonError as exc:
        return f"not attempted: {exc.message}"
    try:
        kept = rebuild(db)
    except Exception as exc:  # reported; the check that follows tells the outcome
        return f"not possible: {exc} (a table is damaged: restore a backup)"
    finally:
        lock.release()
    return f"rebuilt from the tables' rows; the damaged file is kept as {kept.name}"


def _as_dict(report: CheckReport, repaired: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"database": str(report.path), "ok": report.ok,
                           "schema_version": report.schema_version,
                           "integrity": report.problems or ["ok"],
                           "unreadable_rows": report.rows, "rows": report.counts}
    if repaired is not None:
        out["repair"] = repaired
    return out


def _print(report: CheckReport, repaired: str | None) -> None:
    counts = ", ".join(f"{n} {table}" for table, n in report.counts.items())
    pairs: list[tuple[str, Any]] = [
        ("database", report.path),
        ("schema", report.schema_version or "-"),
        ("integrity", "ok" if not report.problems
         else f"{len(report.problems)} problem(s)"),
        ("records", f"{counts or '-'}; {len(report.rows)} unreadable"),
    ]
    if repaired is not None:
        pairs.append(("repair", repaired))
    pairs.append(("result", "ok" if report.ok else "DAMAGED"))
    emit_fields(pairs)
    for line in (*report.problems, *report.rows):
        typer.echo(f"  - {line}")
    if not report.ok:
        typer.echo("Unreadable rows are quarantined when the server starts (failed agents, dead "
                   "letters); damage to the database itself needs a backup, or 'caxton server "
                   "check --repair' when only indexes are hit (it copies every table into a new "
                   "database file).")
