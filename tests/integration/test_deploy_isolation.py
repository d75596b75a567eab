"""One agent's slow deploy must not hold up the management of the others."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from tests.conftest import FIXTURES, ROOT, ServerProcess

ECHO = ROOT / "examples" / "agents" / "wat" / "echo.wat"


def test_a_slow_init_does_not_hold_up_other_agents(server: ServerProcess) -> None:
    results: dict[str, tuple[int, str, float]] = {}

    def deploy(key: str, name: str, path: Path, **params: str) -> None:
        with server.client(timeout=120) as http:
            response = http.post("/api/v1/agents", params={"name": name, **params},
                                 content=path.read_bytes())
            results[key] = (response.status_code, response.text, time.monotonic())

    # Enough fuel that only the init deadline (10 s at least) stops its loop.
    slow = threading.Thread(target=deploy, args=("slow", "slow", FIXTURES / "slow_init.wat"),
                            kwargs={"fuel": str(10**11)})
    started = time.monotonic()
    slow.start()
    time.sleep(1.0)  # the slow deploy is spinning in init by now
    http = server.http
    t0 = time.monotonic()
    assert http.post("/api/v1/agents", params={"name": "other"},
                     content=ECHO.read_bytes()).status_code == 201
    assert http.post("/api/v1/agents/other/stop").json()["state"] == "stopped"
    assert http.post("/api/v1/agents/other/start").json()["state"] == "running"
    assert http.delete("/api/v1/agents/other").status_code == 204
    others_s = time.monotonic() - t0
    assert slow.is_alive(), "the slow init ended early: the test proves nothing"
    # A second deploy of the *same* name waits for the first one to finish.
    same = threading.Thread(target=deploy, args=("same", "slow", ECHO))
    same_started = time.monotonic()
    same.start()
    slow.join(60)
    same.join(60)
    status, text, slow_done = results["slow"]
    assert status == 422 and "init failed (timeout)" in text, text
    slow_s = slow_done - started
    assert slow_s > 9.5  # the init deadline, 10 s
    assert others_s < slow_s / 3, (others_s, slow_s)  # measured: about 0.1 s against 10 s
    status, text, same_done = results["same"]
    assert status == 201, text
    # Serialized behind the slow deploy of the same name (alone it takes a few ms). The two
    # clients' clocks are read on different threads: compare durations, not order.
    assert same_done - same_started > 0.5 * (slow_done - same_started)
    agent = http.get("/api/v1/agents/slow").json()
    assert agent["state"] == "running"
    reply = http.post("/api/v1/messages", params={"wait": "true", "timeout": "10"},
                      json={"performative": "request", "receiver": "slow", "content": 7})
    assert reply.json()["reply"]["content"] == 7
    print(f"other agent's deploy+stop+start+remove: {others_s:.2f}s; slow init: {slow_s:.2f}s")
