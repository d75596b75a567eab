"""When the OS refuses a new sandbox its memory (address space, mappings), the server says it
is full (503 capacity_exhausted), not that the module is bad; and it recovers when room is
made. Provoked by capping the server's address space (RLIMIT_AS) just above what it uses, with
wasmtime's 4 GiB reservations, so that one more agent cannot fit."""

from __future__ import annotations

import resource
from pathlib import Path

from tests.conftest import FIXTURES, ServerProcess, eventually

GIB = 1024**3


def _virtual_size(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmSize")


def _deploy(server: ServerProcess, name: str) -> tuple[int, dict[str, object]]:
    response = server.http.post(
        "/api/v1/agents", params={"name": name},
        content=(FIXTURES / "counter.wat").read_bytes(),
        headers={"content-type": "application/wasm"})
    return response.status_code, response.json()


def test_no_address_space_for_a_sandbox_is_a_capacity_error(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data",
                           env={"CAXTON_MEMORY_RESERVATION_BYTES": str(4 * GIB)}).start()
    try:
        status, body = _deploy(server, "first")  # also compiles: later deploys only instantiate
        assert status == 201, body
        assert server.proc is not None
        # Room for about one more 4 GiB sandbox, plus 2 GiB for threads and heap.
        limit = _virtual_size(server.proc.pid) + 6 * GIB
        resource.prlimit(server.proc.pid, resource.RLIMIT_AS, (limit, limit))
        names, refused = [], None
        for i in range(4):
            status, body = _deploy(server, f"more-{i}")
            if status != 201:
                refused = (status, body)
                break
            names.append(f"more-{i}")
        assert refused is not None, "every deploy fit: the limit did not bite"
        status, body = refused
        assert status == 503, body
        assert body["code"] == "capacity_exhausted", body
        assert "Cannot allocate memory" in str(body["message"]), body
        assert server.http.get("/health").status_code == 200
        # Making room makes the same deploy work.
        assert server.http.delete("/api/v1/agents/first").status_code in (200, 204)
        for name in names:
            assert server.http.delete(f"/api/v1/agents/{name}").status_code in (200, 204)
        status, body = _deploy(server, "again")
        assert status == 201, body
    finally:
        server.stop()


def test_a_hibernated_agent_that_cannot_wake_fails_and_answers_its_mail(tmp_path: Path
                                                                        ) -> None:
    server = ServerProcess(tmp_path / "data", env={
        "CAXTON_MEMORY_RESERVATION_BYTES": str(4 * GIB), "CAXTON_HIBERNATE_IDLE_S": "0.2"}
    ).start()
    try:
        status, body = _deploy(server, "sleeper")
        assert status == 201, body
        asked = _ask(server, "sleeper")
        assert asked["performative"] == "inform" and asked["content"] == 1, asked
        assert eventually(lambda: server.http.get("/api/v1/agents/sleeper").json()["hibernated"])
        assert server.proc is not None
        pid = server.proc.pid
        _, hard = resource.prlimit(pid, resource.RLIMIT_AS)
        # Less room than one 4 GiB sandbox: waking it must fail.
        limit = _virtual_size(pid) + 2 * GIB
        resource.prlimit(pid, resource.RLIMIT_AS, (limit, hard))
        answer = _ask(server, "sleeper")
        assert answer["performative"] == "failure", answer
        agent = server.http.get("/api/v1/agents/sleeper").json()
        assert agent["state"] == "failed", agent
        assert "hibernation" in agent["stats"]["last_error"], agent
        assert "Cannot allocate memory" in agent["stats"]["last_error"], agent
        # Room again: started, it answers with the state it had stored.
        resource.prlimit(pid, resource.RLIMIT_AS, (hard, hard))
        assert server.http.post("/api/v1/agents/sleeper/start").status_code == 200
        asked = _ask(server, "sleeper")
        assert asked["performative"] == "inform" and asked["content"] == 2, asked
    finally:
        server.stop()


def _ask(server: ServerProcess, name: str) -> dict[str, object]:
    response = server.http.post("/api/v1/messages", params={"wait": "true", "timeout": "30"},
                                json={"performative": "request", "receiver": name,
                                      "content": "n"})
    assert response.status_code == 200, response.text
    reply: dict[str, object] = response.json()["reply"]
    return reply


