"""Agents that loop until their deadline must not stop the others from being served."""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path

import httpx
from tests.conftest import FIXTURES, ROOT, ServerProcess

RUNAWAYS = 4  # as many as the default worker threads


def timeouts(http: httpx.Client, name: str) -> int:
    stats = http.get(f"/api/v1/agents/{name}").json()["stats"]
    assert set(stats["failures_by_kind"]) <= {"timeout"}, stats  # stopped by the deadline only
    return int(stats["failures_by_kind"].get("timeout", 0))


def test_echo_answers_quickly_while_four_runaways_are_busy(tmp_path: Path) -> None:
    # The runaways must stay running however often they fail, to keep the workers busy.
    server = ServerProcess(tmp_path / "data", env={
        "CAXTON_FAILURE_THRESHOLD": "1000000", "CAXTON_SHUTDOWN_TIMEOUT_S": "2"}).start()
    stop = threading.Event()
    pumps: list[threading.Thread] = []
    try:
        http = server.http
        server.deploy(ROOT / "examples" / "agents" / "wat" / "echo.wat", "echo")
        runaways = [f"runaway{i}" for i in range(RUNAWAYS)]
        for name in runaways:  # enough fuel that only the 1 s deadline stops each handler
            server.deploy(FIXTURES / "runaway.wat", name, "--fuel", str(10**11))

        def pump(name: str) -> None:
            with server.client(timeout=30) as client:
                while not stop.wait(0.05):
                    client.post("/api/v1/messages",
                                json={"performative": "request", "receiver": name})

        pumps = [threading.Thread(target=pump, args=(name,)) for name in runaways]
        for thread in pumps:
            thread.start()
        deadline = time.monotonic() + 30
        while not all(timeouts(http, name) for name in runaways):  # every runaway is spinning
            assert time.monotonic() < deadline, "the runaways never timed out"
            time.sleep(0.2)
        before = {name: timeouts(http, name) for name in runaways}

        latencies = []
        window_ends = time.monotonic() + 8
        while time.monotonic() < window_ends and len(latencies) < 2000:
            t0 = time.monotonic()
            response = http.post("/api/v1/messages", params={"wait": "true", "timeout": "10"},
                                 json={"performative": "request", "receiver": "echo",
                                       "content": len(latencies)})
            assert response.status_code == 200, response.text
            assert response.json()["reply"]["content"] == len(latencies)
            latencies.append(time.monotonic() - t0)
        after = {name: timeouts(http, name) for name in runaways}
        depth = {name: http.get(f"/api/v1/agents/{name}").json()["mailbox_depth"]
                 for name in runaways}
    finally:
        stop.set()
        for thread in pumps:
            thread.join(30)
        server.stop()
    latencies.sort()
    p50, worst = statistics.median(latencies), latencies[-1]
    print(f"echo while {RUNAWAYS} runaways spin: {len(latencies)} replies in 8 s, "
          f"p50 {p50 * 1000:.0f} ms, p90 {latencies[int(len(latencies) * 0.9)] * 1000:.0f} ms, "
          f"max {worst * 1000:.0f} ms; runaway timeouts in the window "
          f"{[after[n] - before[n] for n in after]}, mailboxes {list(depth.values())}")
    assert len(latencies) >= 20
    assert p50 < 1.0
    assert all(d > 0 for d in depth.values())  # the runaways had work all along
    # ... and their handlers kept being cut at the deadline, each taking its turn.
    assert all(after[n] - before[n] >= 2 for n in after), (before, after)
