"""A damaged data directory, through the real server process: an empty or foreign database file
is refused in one line (unless --init), a damaged index is caught at start-up, unreadable rows
are quarantined while the rest is served, and ``caxton server check`` reports it all."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import CAXTON, ServerProcess

DB = "caxton.db"


def _start_fails(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``caxton server start`` that must exit by itself (it is refused)."""
    result = subprocess.run(
        [CAXTON, "server", "start", "--data-dir", str(data_dir), "--port", "0",
         "--grpc-port", "0", *args],
        capture_output=True, text=True, timeout=60,
        env={k: v for k, v in os.environ.items() if k != "CAXTON_SERVER"})
    assert result.returncode != 0, result
    assert result.stdout == ""  # never said it was listening
    return result


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def _check(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CAXTON, "server", "check", "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, timeout=60)


def _ready(server: ServerProcess) -> None:
    answer = server.http.get("/ready")
    assert answer.status_code == 200 and answer.json()["status"] == "ready", answer.text


def test_an_empty_database_file_is_refused_and_init_begins_anew(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / DB).write_bytes(b"")
    result = _start_fails(data)
    line = _one_error_line(result)
    assert str(data / DB) in line and "is empty (0 bytes)" in line and "--init" in line
    assert result.returncode == 1
    assert (data / DB).stat().st_size == 0  # left as it was

    server = ServerProcess(data, "--init").start()
    try:
        _ready(server)
        assert server.http.get("/api/v1/agents").json() == {"agents": []}
    finally:
        assert server.stop() == 0
    kept = [p.name for p in data.iterdir() if p.name.startswith(f"{DB}.damaged-")]
    assert len(kept) == 1
    # Now a sound database: a plain start works.
    ServerProcess(data).start().stop()


def test_the_first_start_on_an_absent_data_dir_needs_no_flag(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "new" / "data").start()
    try:
        _ready(server)
    finally:
        server.stop()


def test_a_foreign_file_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / DB).write_text("these are my notes, not a database\n" * 100)
    line = _one_error_line(_start_fails(data))
    assert str(data / DB) in line and "is not a SQLite database" in line
    assert (data / DB).read_text().startswith("these are my notes")  # untouched

    other = tmp_path / "other"
    other.mkdir()
    conn = sqlite3.connect(other / DB)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.commit()
    conn.close()
    line = _one_error_line(_start_fails(other))
    assert "is not a Caxton database" in line and "invoices" in line
    conn = sqlite3.connect(other / DB)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # not written to
    conn.close()

    check = _check(data)
    assert check.returncode == 1 and "is not a SQLite database" in check.stdout


def _populated(tmp_path: Path, examples: Path) -> tuple[Path, str]:
    """A data dir the real server wrote: echo deployed, a conversation with two messages."""
    data = tmp_path / "data"
    server = ServerProcess(data).start()
    try:
        server.deploy(examples / "wat" / "echo.wat", "echo")
        server.deploy(examples / "wat" / "echo.wat", "other")
        sent = server.http.post("/api/v1/messages", params={"wait": "true"}, json={
            "performative": "request", "receiver": ["echo"], "content": "kept",
            "conversation_id": "conv-kept"})
        assert sent.status_code == 200, sent.text
    finally:
        assert server.stop() == 0
    conn = sqlite3.connect(data / DB)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file
    conn.close()
    return data, "conv-kept"


def test_a_damaged_index_is_caught_at_start_and_repaired(tmp_path: Path,
                                                        examples: Path) -> None:
    data, conversation = _populated(tmp_path, examples)
    assert _check(data).returncode == 0
    conn = sqlite3.connect(data / DB)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE type = 'index'"
                           " AND name = 'messages_by_conversation'").fetchone()
    conn.close()
    with (data / DB).open("r+b") as f:  # garbage over the index's root page
        f.seek((root - 1) * page_size)
        f.write(bytes([0xA5]) * page_size)

    line = _one_error_line(_start_fails(data))
    assert "failed its integrity check" in line and f"Page {root}" in line
    assert "caxton server check" in line

    check = _check(data)
    assert check.returncode == 1, check.stdout
    assert "DAMAGED" in check.stdout and f"Page {root}" in check.stdout
    report = json.loads(_check(data, "--output", "json").stdout)
    assert report["ok"] is False and report["integrity"] != ["ok"]

    repaired = _check(data, "--repair")
    assert repaired.returncode == 0, repaired.stdout
    assert "rebuilt" in repaired.stdout
    server = ServerProcess(data).start()
    try:
        _ready(server)
        shown = server.http.get(f"/api/v1/conversations/{conversation}").json()
        assert [m["performative"] for m in shown["messages"]] == ["request", "inform"]
    finally:
        server.stop()


def test_unreadable_rows_are_quarantined_and_the_rest_is_served(tmp_path: Path,
                                                                examples: Path) -> None:
    data, _ = _populated(tmp_path, examples)
    conn = sqlite3.connect(data / DB)
    conn.execute("UPDATE agents SET limits = '{\"fuel\": ' WHERE name = 'other'")
    # A message still owed to echo whose stored body is no longer JSON.
    conn.execute("INSERT INTO messages(message_id, conversation_id, sender, receivers,"
                 " performative, created_at, body) VALUES ('bad-1', 'conv-bad', 'x', 'echo',"
                 " 'inform', '2026-01-01T00:00:00Z', x'00ff7b')")
    conn.execute("INSERT INTO deliveries(message_id, receiver, status, attempts, updated_at)"
                 " VALUES ('bad-1', 'echo', 'pending', 0, '2026-01-01T00:00:00Z')")
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")  # recent: not pruned
    conn.execute("INSERT INTO conversations(id, initiator, started_at, last_at, message_count)"
                 " VALUES ('conv-bad', 'x', ?, ?, 1)", (now, now))
    conn.commit()
    conn.close()
    check = _check(data)
    assert check.returncode == 1
    assert "agents: agent 'other': limits is not valid JSON" in check.stdout
    assert "deliveries: pending message bad-1 to 'echo'" in check.stdout

    server = ServerProcess(data, "--log-level", "info").start()
    try:
        _ready(server)
        agents = {a["name"]: a for a in server.http.get("/api/v1/agents").json()["agents"]}
        assert agents["echo"]["state"] == "running"
        assert agents["other"]["state"] == "failed"
        assert "limits is not valid JSON" in agents["other"]["stats"]["last_error"]
        answer = server.http.post("/api/v1/messages", params={"wait": "true"}, json={
            "performative": "request", "receiver": ["echo"], "content": "still served"})
        assert answer.status_code == 200 and answer.json()["reply"]["content"] == "still served"
        letters = server.http.get("/api/v1/dead-letters").json()["dead_letters"]
        (letter,) = [d for d in letters if d["message_id"] == "bad-1"]
        assert letter["receiver"] == "echo" and "unreadable" in letter["reason"]
        replay = server.http.post("/api/v1/dead-letters/bad-1/replay")
        assert replay.status_code == 400, replay.text  # a clear refusal, not a 500
        shown = server.http.get("/api/v1/conversations/conv-bad")
        assert shown.status_code == 200, shown.text
        (stand_in,) = shown.json()["messages"]
        assert stand_in["message_id"] == "bad-1" and "unreadable" in stand_in["content"]
    finally:
        assert server.stop() == 0
    warnings = [json.loads(line) for line in server.stderr().splitlines()
                if line.startswith("{") and "unreadable row quarantined" in line]
    assert {(w["table"], w["key"], w["level"]) for w in warnings} >= {
        ("agents", "other", "warning"), ("deliveries", "bad-1", "warning")}
    assert "Traceback" not in server.stderr()
