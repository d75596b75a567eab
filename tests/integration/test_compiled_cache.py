"""Compiled modules are kept on disk: a restart loads them instead of compiling again."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import wasmtime
from tests.conftest import ROOT, ServerProcess

from caxton.sandbox.engine import artifact_name

ECHO = ROOT / "examples" / "agents" / "wat" / "echo.wat"


def big_echo(functions: int = 16_000) -> bytes:
    """The echo agent plus enough functions that compiling it takes a second or more."""
    source = ECHO.read_text().rstrip()
    pads = "\n".join(f"(func $pad{i} (param i32) (result i32) (local.get 0) (i32.const {i})"
                     " (i32.add)" + " (i32.const 7) (i32.xor)" * 40 + ")"
                     for i in range(functions))
    return bytes(wasmtime.wat2wasm(source[:-1] + pads + ")"))


def events(server: ServerProcess, skip: int = 0) -> list[dict[str, Any]]:
    lines = server.stderr().splitlines()[skip:]
    return [json.loads(line) for line in lines if line.startswith("{")]


def timed_start(server: ServerProcess) -> float:
    started = time.monotonic()
    server.start()  # returns once the agents are restored and the server listens
    return time.monotonic() - started


def ask(server: ServerProcess, agent: str) -> Any:
    response = server.http.post("/api/v1/messages", params={"wait": "true", "timeout": "30"},
                                json={"performative": "request", "receiver": agent,
                                      "content": "hi"})
    assert response.status_code == 200, response.text
    return response.json()["reply"]["content"]


def test_a_restart_loads_compiled_code_and_a_damaged_file_is_compiled_again(
        tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = ServerProcess(data)
    server.start()
    try:
        response = server.http.post("/api/v1/agents", params={"name": "big"},
                                    content=big_echo())
        assert response.status_code == 201, response.text
        digest = response.json()["module_hash"]
        compiled = [e for e in events(server) if e["event"] == "module compiled"
                    and e["module"] == digest[:12]]
        assert len(compiled) == 1
        compile_s = compiled[0]["seconds"]
    finally:
        assert server.stop() == 0
    artifact = data / "compiled" / artifact_name(digest)
    assert artifact.is_file()
    assert artifact.with_name(artifact.name + ".sha256").is_file()

    seen = len(server.stderr().splitlines())
    cached_start_s = timed_start(server)
    try:
        after = events(server, seen)
        assert not [e for e in after if e["event"] == "module compiled"]
        assert ask(server, "big") == "hi"
    finally:
        assert server.stop() == 0

    damaged = bytearray(artifact.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF  # machine code wasmtime would load without a question
    artifact.write_bytes(damaged)
    seen = len(server.stderr().splitlines())
    recompile_start_s = timed_start(server)
    try:
        after = events(server, seen)
        assert [e["event"] for e in after if "compil" in e["event"]] == [
            "compiled code in the cache is unusable; compiling again", "module compiled"]
        assert ask(server, "big") == "hi"
        assert artifact.read_bytes() != damaged  # replaced by a good copy
    finally:
        assert server.stop() == 0
    print(f"compiling the module took {compile_s:.2f}s; restart with the cached code "
          f"{cached_start_s:.2f}s, with a damaged cache file (compiles) {recompile_start_s:.2f}s")
