"""The audit trail: who did what, when, from where, and how it ended, in SQLite.

Rows go through the group-commit writer with the rest of the server's writes (no fsync of their
own). The API can only read them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from caxton.domain.acl import utc_now_iso
from caxton.security.rate_limit import Rate, RateLimiter
from caxton.store.database import Readers
from caxton.store.writer import OnCommit, Statement

Submit = Callable[[list[Statement], OnCommit | None], None]
_INSERT = ("INSERT INTO audit(at, actor, source, action, target, outcome, status, detail)"
           " VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
_COLUMNS = ("seq", "at", "actor", "source", "action", "target", "outcome", "status", "detail")


@dataclass(frozen=True, slots=True)
class AuditEvent:
    actor: str  # "key:ab12...", "jwt:alice", "cert:ops", "agent:x", "anonymous"
    source: str  # the client's address, "rest 127.0.0.1:5555" / "grpc ipv4:..."; "host"
    action: str  # the operation: "deployAgent", "/caxton.v1.AgentService/StopAgent", ...
    target: str  # what it was about: an agent name, a key id...
    outcome: str  # ok | denied | unauthenticated | rate_limited | error | violation
    status: int  # the HTTP status (gRPC calls: the HTTP equivalent)
    detail: str = ""


class AuditTrail:
    def __init__(self, readers: Readers, submit: Submit) -> None:
        self._readers = readers
        self._submit = submit

    def record(self, event: AuditEvent) -> None:
        self._submit([(_INSERT, (utc_now_iso(), event.actor[:200], event.source[:200],
                                 event.action[:200], event.target[:500], event.outcome,
                                 event.status, event.detail[:1000]))], None)

    def list(self, *, since: str | None = None, actor: str | None = None,
             action: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The newest ``limit`` rows matching, oldest first."""
        where, args = [], []
        for column, value, op in (("at", since, ">="), ("actor", actor, "="),
                                  ("action", action, "=")):
            if value is not None:
                where.append(f"{column} {op} ?")
                args.append(value)
        sql = (f"SELECT {', '.join(_COLUMNS)} FROM audit"  # noqa: S608
               f"{' WHERE ' + ' AND '.join(where) if where else ''} ORDER BY seq DESC LIMIT ?")
        # Only fixed column names and operators are joined in; every value is a parameter.
        rows = self._readers.get().execute(sql, (*args, limit)).fetchall()
        return [dict(zip(_COLUMNS, row, strict=True)) for row in reversed(rows)]


class ViolationAudit:
    """Agent permission violations as audit rows, at most ``per_s`` a second per agent (a
    hostile agent refused in a loop is counted in /metrics, not written row by row)."""

    def __init__(self, trail: AuditTrail, per_s: float = 10.0, burst: int = 100) -> None:
        self._trail = trail
        self._limiter = RateLimiter(Rate(per_s, burst), capacity=10_000)
        self._lock = threading.Lock()  # called from the agents' worker threads

    def __call__(self, agent: str, kind: str, detail: str) -> None:
        with self._lock:
            if self._limiter.take(agent):
                return
        self._trail.record(AuditEvent(f"agent:{agent}", "host", "agentPermission", agent,
                                      "violation", 403, f"{kind}: {detail}"))
