"""The audit trail over a real store: filters, order, and bounded violation rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from caxton.security.audit import AuditEvent, AuditTrail, ViolationAudit
from caxton.store.store import Store


@pytest.fixture
def trail(tmp_path: Path) -> Iterator[tuple[AuditTrail, Store]]:
    store = Store(tmp_path, durability="normal")
    yield AuditTrail(store.readers, store.submit), store
    store.close()


def test_rows_filter_and_keep_their_order(trail: tuple[AuditTrail, Store]) -> None:
    audit, store = trail
    for i in range(5):
        audit.record(AuditEvent(f"key:{i % 2}", "rest 127.0.0.1:1", "stopAgent", f"a{i}",
                                "ok", 200))
    audit.record(AuditEvent("anonymous", "rest 127.0.0.1:2", "GET /x", "", "unauthenticated",
                            401, "no key"))
    store.writer.barrier().result(10)
    assert [r["target"] for r in audit.list()] == ["a0", "a1", "a2", "a3", "a4", ""]
    assert [r["target"] for r in audit.list(actor="key:1")] == ["a1", "a3"]
    assert [r["target"] for r in audit.list(limit=2)] == ["a4", ""]  # the newest, in order
    assert audit.list(action="GET /x")[0]["detail"] == "no key"
    assert audit.list(since="2999-01-01T00:00:00Z") == []


def test_long_fields_are_cut_not_refused(trail: tuple[AuditTrail, Store]) -> None:
    audit, store = trail
    audit.record(AuditEvent("a" * 10_000, "s", "x", "t" * 10_000, "ok", 200, "d" * 10_000))
    store.writer.barrier().result(10)
    row = audit.list()[0]
    assert (len(row["actor"]), len(row["target"]), len(row["detail"])) == (200, 500, 1000)


def test_a_hostile_agent_cannot_flood_the_trail(trail: tuple[AuditTrail, Store]) -> None:
    audit, store = trail
    hook = ViolationAudit(audit, per_s=1.0, burst=5)
    for _ in range(1000):
        hook("spammer", "messaging", "send to victim")
    hook("other", "rate", "over 10/s")
    store.writer.barrier().result(10)
    rows = audit.list(limit=5000)
    assert sum(r["actor"] == "agent:spammer" for r in rows) == 5
    assert sum(r["actor"] == "agent:other" for r in rows) == 1
