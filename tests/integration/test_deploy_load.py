"""Large deploys in parallel: bounded memory, bounded concurrency, a clear answer for each."""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import threading
import time
from pathlib import Path

import httpx
import orjson
import wasmtime
from tests.conftest import ROOT, ServerProcess, auth

MIB = 1024 * 1024
ECHO = ROOT / "examples" / "agents" / "wat" / "echo.wat"


def _leb128(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def padded_echo(tag: str, size: int) -> bytes:
    """The echo agent plus a custom section of random bytes: ``size`` bytes, unique per tag."""
    name = tag.encode()
    payload = _leb128(len(name)) + name + os.urandom(size)
    return bytes(wasmtime.wat2wasm(ECHO.read_text())) + b"\x00" + _leb128(len(payload)) + payload


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (the peak resident size) of a process, in KiB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def test_concurrent_large_deploys_stay_within_a_memory_bound(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", env={
        "CAXTON_MAX_CONCURRENT_DEPLOYS": "2", "CAXTON_MAX_QUEUED_DEPLOYS": "3"}).start()
    size, count = 16 * MIB, 8
    bodies = [orjson.dumps({"name": f"big{i}", "module_base64": base64.b64encode(
        padded_echo(f"big{i}", size)).decode()}) for i in range(count)]
    answers: list[httpx.Response | Exception] = []
    try:
        assert server.proc is not None
        before = memory_kib(server.proc.pid)

        def deploy(body: bytes) -> None:
            try:
                answers.append(httpx.post(server.url + "/api/v1/agents", content=body, timeout=300,
                                          headers={**server.headers,
                                                   "content-type": "application/json"}))
            except httpx.HTTPError as exc:
                answers.append(exc)

        threads = [threading.Thread(target=deploy, args=(body,)) for body in bodies]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
        after = memory_kib(server.proc.pid)
        peak_mib = (after["VmHWM"] - before["VmRSS"]) / 1024
        # Each deploy holds its module a few times over (body, base64 text, bytes, wasmtime's
        # copy): about 4 x 16 MiB at its peak. Two at a time stay well under 12 x 16 MiB;
        # eight at a time (no gate) went to 540 MiB.
        print(f"server RSS {before['VmRSS'] // 1024} MiB, peak {after['VmHWM'] // 1024} MiB "
              f"(+{peak_mib:.0f} MiB) for {count} concurrent {len(bodies[0]) / MIB:.0f} MiB "
              f"deploys")
        statuses = sorted(a.status_code if isinstance(a, httpx.Response) else repr(a)
                          for a in answers)
        # 2 run, 3 wait for them; the other 3 are told to come back (503, Retry-After).
        assert statuses == [201] * 5 + [503] * 3, statuses
        for answer in answers:
            assert isinstance(answer, httpx.Response)
            if answer.status_code == 503:
                assert answer.headers["retry-after"] == "2"
                assert answer.json()["code"] == "too_many_deploys"
        assert peak_mib < 16 * size / MIB
        listed = server.http.get("/api/v1/agents").json()["agents"]
        assert len(listed) == 5 and all(a["state"] == "running" for a in listed)
    finally:
        server.stop()


def test_an_oversized_body_is_refused_at_the_limit_not_after_it(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", env={"CAXTON_MAX_MODULE_BYTES": str(MIB)}).start()
    try:
        # Declared too large: refused before a byte of the body is read.
        response = server.http.post("/api/v1/agents", params={"name": "big"},
                                    content=b"\0asm" + b"\0" * (2 * MIB))
        assert response.status_code == 413
        assert response.json()["message"] == (
            f"request body of {2 * MIB + 4} bytes exceeds the limit of {MIB}")
        # Undeclared (chunked): refused once the limit is passed, while the client still
        # has most of the body to send (it never sends the end of it).
        host, port = server.url.removeprefix("http://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            sock.sendall(b"POST /api/v1/agents?name=big HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         + auth(server)
                         + b"Content-Type: application/wasm\r\nTransfer-Encoding: chunked\r\n\r\n")
            chunk = b"\0" * 65536
            sent = 0
            while sent <= MIB + 65536:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
            started = time.monotonic()
            answer = b""
            while b"exceeds" not in answer and (data := sock.recv(4096)):
                answer += data
        assert answer.startswith(b"HTTP/1.1 413 "), answer[:100]
        assert b"request body exceeds the limit of 1048576" in answer
        assert time.monotonic() - started < 10
        assert server.http.get("/api/v1/agents/big").status_code == 404
    finally:
        server.stop()


def test_a_trickled_upload_loses_its_deploy_slot_at_the_deadline(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", env={
        "CAXTON_MAX_CONCURRENT_DEPLOYS": "1", "CAXTON_DEPLOY_UPLOAD_TIMEOUT_S": "3",
        "CAXTON_HTTP_BODY_TIMEOUT_S": "2"}).start()
    results: dict[str, tuple[int, float]] = {}
    try:
        host, port = server.url.removeprefix("http://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            sock.sendall(b"POST /api/v1/agents?name=slow HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         + auth(server)
                         + b"Content-Type: application/wasm\r\nContent-Length: 1000\r\n\r\n")
            time.sleep(0.5)  # it has the only slot now

            def other() -> None:
                t0 = time.monotonic()
                response = httpx.post(server.url + "/api/v1/agents", headers=server.headers,
                                      params={"name": "echo"},
                                      content=ECHO.read_bytes(), timeout=60)
                results["other"] = (response.status_code, time.monotonic() - t0)

            waiting = threading.Thread(target=other)
            waiting.start()
            sock.setblocking(False)
            answer, started = b"", time.monotonic()
            while b"config deploy_upload_timeout_s" not in answer:
                assert time.monotonic() - started < 20, answer
                with contextlib.suppress(BlockingIOError):
                    answer += sock.recv(4096)
                with contextlib.suppress(OSError):  # closed once it has answered
                    sock.send(b"\0")  # one byte a second: never idle for the 2 s body timeout
                time.sleep(1)
            waiting.join(60)
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
        assert b"the module upload took longer than 3s" in answer
        status, waited = results["other"]
        assert status == 201  # it got the slot once the trickler lost it
        assert waited > 1.5  # ... and not before
    finally:
        server.stop()
