"""Zero message loss: crashes, hot reloads under load, and a disk that runs out."""

from __future__ import annotations

import random
import resource
import signal
import sqlite3
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from tests.conftest import CAXTON, FIXTURES, ServerProcess


def _wait_idle(server: ServerProcess, agent: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline:
        depth = server.http.get(f"/api/v1/agents/{agent}").json()["mailbox_depth"]
        quiet = quiet + 1 if depth == 0 else 0
        if quiet >= 3:
            return
        time.sleep(0.1)
    raise AssertionError(f"{agent} still busy after {timeout}s")


def _count(server: ServerProcess) -> int:
    reply = server.http.post("/api/v1/messages", params={"wait": "true", "timeout": "30"},
                             json={"performative": "request", "receiver": "counter",
                                   "conversation_id": "final-count"}).json()["reply"]
    return int(reply["content"])


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = ServerProcess(data).start()
    server.deploy(FIXTURES / "counter.wat", "counter")
    acked: set[str] = set()
    lock = threading.Lock()
    rng = random.Random(20261123)
    target, kills = 10_000, 0
    deadline = time.monotonic() + 240

    def load(url: str, stop: threading.Event) -> None:
        with httpx.Client(base_url=url, timeout=10, headers=server.headers) as client:
            while not stop.is_set():
                with lock:
                    if len(acked) >= target:
                        return
                message_id = uuid.uuid4().hex
                try:
                    response = client.post("/api/v1/messages", json={
                        "performative": "inform", "receiver": "counter",
                        "message_id": message_id, "content": None})
                except httpx.HTTPError:
                    return  # the server died under us: this message was never acknowledged
                if response.status_code == 202:
                    with lock:
                        acked.add(message_id)

    while len(acked) < target and time.monotonic() < deadline:
        stop = threading.Event()
        with ThreadPoolExecutor(8) as pool:
            for _ in range(8):
                pool.submit(load, server.url, stop)
            if kills < 3:  # crash mid-load; the senders see their connections drop
                time.sleep(rng.uniform(0.5, 2.0))
                server.proc.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
                kills += 1
        # (after the third crash the senders simply run until the target is reached)
        server.stop()
        server = ServerProcess(data).start()
    assert len(acked) >= target, f"only {len(acked)} acknowledged before the deadline"
    assert kills == 3

    _wait_idle(server, "counter")
    handled = _count(server) - 1  # the final request counts itself
    server.stop()

    db = sqlite3.connect(f"file:{data / 'caxton.db'}?mode=ro", uri=True)
    committed = {mid for (mid,) in db.execute(
        "SELECT message_id FROM messages WHERE receivers = 'counter'"
        " AND performative = 'inform' AND sender LIKE '_client-%'")}
    pending = db.execute("SELECT count(*) FROM deliveries").fetchone()[0]
    db.close()
    print(f"acknowledged {len(acked)}, accepted {len(committed)}, handled {handled}, "
          f"SIGKILLs {kills}")
    assert acked <= committed, f"{len(acked - committed)} acknowledged messages were lost"
    assert handled == len(committed), (
        f"counter handled {handled} but {len(committed)} messages were accepted")
    assert pending == 0


def _version_agent(version: str) -> bytes:
    reply = f'{{"performative":"inform","content":"{version}"}}'
    escaped = reply.replace('"', '\\"')
    return f'''(module
      (import "caxton" "reply" (func $reply (param i32 i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 16) "{escaped}")
      (func (export "alloc") (param i32) (result i32) (i32.const 1024))
      (func (export "handle") (param i32 i32) (result i32)
        (call $reply (i32.const 16) (i32.const {len(reply)}))))'''.encode()


def test_ten_hot_reloads_under_load_answer_every_message_once(server: ServerProcess,
                                                               tmp_path: Path) -> None:
    versions = [f"v{i}" for i in range(1, 11)]
    (tmp_path / "v1.wat").write_bytes(_version_agent("v1"))
    server.deploy(tmp_path / "v1.wat", "svc", "--version", "v1")
    replies: list[tuple[int, str]] = []
    stop = threading.Event()

    def load() -> None:
        with server.client(timeout=30) as client:
            i = 0
            while not stop.is_set() and i < 5000:
                response = client.post("/api/v1/messages", params={"wait": "true"},
                                       json={"performative": "request", "receiver": "svc",
                                             "content": i})
                assert response.status_code == 200, response.text
                replies.append((i, response.json()["reply"]["content"]))
                i += 1

    sender = threading.Thread(target=load)
    sender.start()
    for version in versions[1:]:
        time.sleep(0.15)
        path = tmp_path / f"{version}.wat"
        path.write_bytes(_version_agent(version))
        server.deploy(path, "svc", "--version", version)
    time.sleep(0.15)
    stop.set()
    sender.join(60)
    assert not sender.is_alive()
    assert [i for i, _ in replies] == list(range(len(replies)))  # every message answered once
    seen = [v for _, v in replies]
    assert set(seen) <= set(versions)
    # versions only move forward: no message went back to a retired version
    order = [versions.index(v) for v in seen]
    assert order == sorted(order)
    assert seen[-1] == "v10"
    assert len(set(seen)) >= 8  # traffic really flowed across the reloads
    assert server.http.get("/api/v1/agents/svc").json()["version"] == "v10"


def _limit_file_size(limit: int) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_full_disk_gives_a_clear_error_and_no_corruption(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = ServerProcess(data).start()
    first.deploy(FIXTURES / "counter.wat", "echo")
    first.stop()

    # Restart with the database unable to grow past 2 MiB more than it is now.
    size = (data / "caxton.db").stat().st_size + 2 * 1024 * 1024
    server = ServerProcess(data)
    server.preexec_fn = lambda: _limit_file_size(size)
    server.start()
    try:
        failed = None
        payload = "x" * 30_000  # fits the counter fixture's one-page memory
        for _ in range(200):
            response = server.http.post("/api/v1/messages", json={
                "performative": "inform", "receiver": "echo", "content": payload})
            if response.status_code != 202:
                failed = response
                break
        assert failed is not None, "the disk never filled"
        assert failed.status_code == 503
        assert failed.json()["code"] == "store_error"
        assert "full" in failed.json()["message"] or "disk" in failed.json()["message"]
        # the server is still alive and answers reads
        assert server.http.get("/health").status_code == 200
        assert server.http.get("/api/v1/agents/echo").status_code == 200
    finally:
        server.stop()
    # without the limit the database opens, passes its integrity check and still works
    again = ServerProcess(data).start()
    try:
        db = sqlite3.connect(f"file:{data / 'caxton.db'}?mode=ro", uri=True)
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        db.close()
        reply = again.http.post("/api/v1/messages", params={"wait": "true", "timeout": "10"},
                                json={"performative": "request", "receiver": "echo",
                                      "content": "after"}).json()["reply"]
        assert reply["performative"] == "inform", reply["content"]  # the counter still counts
    finally:
        again.stop()


def test_unusable_data_dir_is_refused_clearly(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    result = subprocess.run([CAXTON, "server", "start", "--data-dir", str(not_a_dir),
                             "--port", "0"], capture_output=True, text=True, timeout=30,
                            check=False)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: cannot use data dir {not_a_dir}")
    assert "Traceback" not in result.stderr
