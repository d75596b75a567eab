"""Deploying, listing, showing and removing agents through the CLI and REST."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest
from tests.conftest import FIXTURES, ServerProcess


def test_deploy_wat_and_wasm_then_list_show_remove(server: ServerProcess, examples: Path) -> None:
    out = server.cli("agents", "deploy", str(examples / "wat" / "echo.wat"), "--name", "echo",
                     "--version", "1.2.3", "--fuel", "2000000", "--memory-bytes", "1048576",
                     "--timeout-ms", "500").stdout
    assert "deployed echo 1.2.3 (running)" in out
    server.deploy(examples / "c" / "echo.wasm", "c-echo")

    agents = json.loads(server.cli("agents", "list", "--output", "json").stdout)
    assert [a["name"] for a in agents] == ["c-echo", "echo"]
    assert all(a["state"] == "running" for a in agents)

    table = server.cli("agents", "list").stdout
    assert "echo" in table and "running" in table and "1.2.3" in table

    shown = json.loads(server.cli("agents", "show", "echo", "-o", "json").stdout)
    assert shown["version"] == "1.2.3"
    assert shown["limits"]["fuel"] == 2_000_000
    assert shown["limits"]["memory_bytes"] == 1_048_576
    assert shown["limits"]["timeout_ms"] == 500
    assert len(shown["module_hash"]) == 64
    assert "state" in server.cli("agents", "show", "echo").stdout

    assert "removed echo" in server.cli("agents", "remove", "echo").stdout
    remaining = json.loads(server.cli("agents", "list", "-o", "json").stdout)
    assert [a["name"] for a in remaining] == ["c-echo"]
    missing = server.cli("agents", "show", "echo", check=False)
    assert missing.returncode == 1
    assert missing.stderr.strip() == "error: no agent named 'echo' (HTTP 404)"


def test_redeploy_replaces_the_version(server: ServerProcess, examples: Path) -> None:
    server.deploy(examples / "wat" / "echo.wat", "echo", "--version", "1")
    server.deploy(examples / "c" / "echo.wasm", "echo", "--version", "2")
    agent = server.http.get("/api/v1/agents/echo").json()
    assert agent["version"] == "2"
    reply = server.http.post("/api/v1/messages", params={"wait": "true", "timeout": "5"},
                             json={"performative": "request", "receiver": "echo",
                                   "content": "v2"}).json()["reply"]
    assert reply["content"] == "v2"


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("not_wasm.bin", "not a WebAssembly module"),
        ("missing_handle.wat", "missing required export 'handle'"),
        ("bad_import.wat", "import 'env.system' is not provided by the host"),
        ("big_memory.wat", "memory minimum of 1024 pages (67108864 bytes) exceeds the agent's "
                           "memory limit of 16777216 bytes"),
        ("bad_init.wat", "init returned 7; expected 0"),
    ],
)
def test_invalid_modules_are_refused_and_nothing_is_stored(
    shared_server: ServerProcess, fixture: str, expected: str
) -> None:
    result = shared_server.cli("agents", "deploy", str(FIXTURES / fixture), "--name", "bad",
                               check=False)
    assert result.returncode == 1
    assert expected in result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    names = [a["name"] for a in shared_server.http.get("/api/v1/agents").json()["agents"]]
    assert "bad" not in names


def test_invalid_wat_text_and_empty_file(shared_server: ServerProcess, tmp_path: Path) -> None:
    broken = tmp_path / "broken.wat"
    broken.write_text("(module (func $f (result i32) i32.add))")
    result = shared_server.cli("agents", "deploy", str(broken), "--name", "broken", check=False)
    assert result.returncode == 1
    assert "invalid" in result.stderr
    empty = tmp_path / "empty.wasm"
    empty.write_bytes(b"")
    result = shared_server.cli("agents", "deploy", str(empty), "--name", "empty", check=False)
    assert "the file is empty" in result.stderr
    truncated = tmp_path / "truncated.wasm"
    truncated.write_bytes(b"\0asm\x01\x00\x00\x00\x01\x05")
    result = shared_server.cli("agents", "deploy", str(truncated), "--name", "t", check=False)
    assert "invalid WebAssembly module" in result.stderr


@pytest.mark.parametrize("name", ["9lives", "has space", "x" * 65, "ams", "_client-abc", "a/b"])
def test_bad_agent_names_are_refused(shared_server: ServerProcess, examples: Path,
                                     name: str) -> None:
    result = shared_server.cli("agents", "deploy", str(examples / "wat" / "echo.wat"),
                               "--name", name, check=False)
    assert result.returncode == 1
    assert "invalid agent name" in result.stderr


def test_bad_limits_are_refused(shared_server: ServerProcess, examples: Path) -> None:
    result = shared_server.cli("agents", "deploy", str(examples / "wat" / "echo.wat"),
                               "--name", "x", "--fuel", "5", check=False)
    assert result.returncode == 1
    # the CLI sends the raw module with its limits as query parameters
    assert "'fuel' must be an integer from 1000" in result.stderr


def test_missing_file_is_a_clear_error(shared_server: ServerProcess) -> None:
    result = shared_server.cli("agents", "deploy", "/nonexistent/a.wasm", "--name", "x",
                               check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot read /nonexistent/a.wasm")


def test_rest_deploy_raw_body_and_json_errors(shared_server: ServerProcess, examples: Path
                                              ) -> None:
    http = shared_server.http
    wat = (examples / "wat" / "echo.wat").read_bytes()
    created = http.post("/api/v1/agents", params={"name": "raw-echo", "version": "9"},
                        content=wat, headers={"content-type": "application/wasm"})
    assert created.status_code == 201, created.text
    assert created.json()["version"] == "9"

    bad = http.post("/api/v1/agents", json={"name": "x", "module_base64": "!!!"})
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_request"
    rejected = http.post("/api/v1/agents", json={
        "name": "x", "module_base64": base64.b64encode(b"garbage").decode()})
    assert rejected.status_code == 422
    assert rejected.json() == {
        "code": "module_rejected",
        "message": "not a WebAssembly module: expected a binary module (starting with \\0asm) "
                   "or WAT text containing '(module'",
    }
    nameless = http.post("/api/v1/agents", json={"module_base64": ""})
    assert nameless.status_code == 400
    assert http.delete("/api/v1/agents/nobody").status_code == 404


def test_stop_and_start_keep_messages_waiting(server: ServerProcess, examples: Path) -> None:
    server.deploy(examples / "wat" / "echo.wat", "echo")
    stopped = json.loads(server.cli("agents", "stop", "echo", "-o", "json").stdout)
    assert stopped["state"] == "stopped"
    # a stopped agent's messages wait in its queue instead of failing
    queued = server.http.post("/api/v1/messages", json={
        "performative": "request", "receiver": "echo", "conversation_id": "while-stopped",
        "content": "later"})
    assert queued.status_code == 202
    assert server.http.get("/api/v1/agents/echo").json()["mailbox_depth"] == 1
    started = json.loads(server.cli("agents", "start", "echo", "-o", "json").stdout)
    assert started["state"] == "running"
    for _ in range(50):
        messages = server.http.get("/api/v1/conversations/while-stopped").json()["messages"]
        if len(messages) == 2:
            break
        time.sleep(0.1)
    assert [m["performative"] for m in messages] == ["request", "inform"]
    assert messages[1]["content"] == "later"
    # starting a running agent is a no-op, like starting a running service
    again = json.loads(server.cli("agents", "start", "echo", "-o", "json").stdout)
    assert again["state"] == "running"
