"""Shared fixtures: built example modules and real server processes on free ports."""

from __future__ import annotations

import os
import selectors
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from caxton.client._common import channel as grpc_channel

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
CAXTON = str(Path(sys.executable).with_name("caxton"))


@pytest.fixture(scope="session")
def examples() -> Path:
    """The example agents, built once per session (the script skips up-to-date modules)."""
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "build-examples.sh")],
        check=True, env={**os.environ, "PYTHON": sys.executable}, capture_output=True,
    )
    return ROOT / "examples" / "agents"


class ServerProcess:
    """``caxton server start`` as a subprocess, plus helpers to drive it like a user."""

    def __init__(self, data_dir: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.args = args
        self.env = {**os.environ, **(env or {})}
        self.env.pop("CAXTON_SERVER", None)
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.grpc_target = ""  # HOST:PORT of the gRPC API
        self.stderr_path = data_dir.parent / f"{data_dir.name}.stderr.log"
        self.preexec_fn: Callable[[], None] | None = None  # e.g. resource limits for the child
        self._http: httpx.Client | None = None
        self.token = ""  # the admin key the server wrote to <data-dir>/admin.token
        # A server with TLS on: what `http` trusts (and the client certificate it presents),
        # and the CLI's CAXTON_TLS_* variables.
        self.verify: ssl.SSLContext | bool = True
        self.cli_env: dict[str, str] = {}

    def start(self, timeout: float = 30.0) -> ServerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        stderr = open(self.stderr_path, "a")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [CAXTON, "server", "start", "--data-dir", str(self.data_dir), "--port", "0",
             "--grpc-port", "0", *self.args],
            stdout=subprocess.PIPE, stderr=stderr, text=True, env=self.env,
            preexec_fn=self.preexec_fn,  # noqa: PLW1509 - only set by tests that need it
        )
        stderr.close()
        line = self._read_line(timeout)
        if not line.startswith("caxton listening on "):
            self.proc.kill()
            raise AssertionError(f"server did not start: {line!r}\n{self.stderr()}")
        self.url = line.removeprefix("caxton listening on ").strip()
        # Printed right after the first line, so it may already sit in the pipe's read buffer
        # where select() cannot see it: read it directly (EOF ends the read if the server dies).
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("caxton grpc listening on "):
            self.proc.kill()
            raise AssertionError(f"gRPC did not start: {line!r}\n{self.stderr()}")
        self.grpc_target = line.removeprefix("caxton grpc listening on ").strip()
        token_file = self.data_dir / "admin.token"
        self.token = token_file.read_text().strip() if token_file.exists() else ""
        return self

    @property
    def headers(self) -> dict[str, str]:
        """The admin key as a request header (what every API call needs)."""
        return {"authorization": f"Bearer {self.token}"} if self.token else {}

    def client(self, **kwargs: Any) -> httpx.Client:
        """A new HTTP client for this server that sends the admin key."""
        kwargs.setdefault("timeout", 60)
        kwargs.setdefault("verify", self.verify)
        return httpx.Client(base_url=self.url, headers=self.headers, **kwargs)

    def channel(self) -> grpc.Channel:
        """A gRPC channel to this server that sends the admin key with every call."""
        return grpc_channel(self.grpc_target, None, self.token or None)

    def _read_line(self, timeout: float) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sel.select(timeout=0.1):
                return self.proc.stdout.readline()
            if self.proc.poll() is not None:
                return ""
        return ""

    def stderr(self) -> str:
        return self.stderr_path.read_text() if self.stderr_path.exists() else ""

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            self._http = self.client()
        return self._http

    def cli(self, *args: str, check: bool = True, timeout: float = 60,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [CAXTON, *args], capture_output=True, text=True, timeout=timeout,
            env={**os.environ, "CAXTON_SERVER": self.url, "CAXTON_GRPC_SERVER": self.grpc_target,
                 "CAXTON_TOKEN": self.token, **self.cli_env, **(env or {})},
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"caxton {' '.join(args)} exited {result.returncode}\n"
                f"stdout: {result.stdout}\nstderr: {result.stderr}"
            )
        return result

    def deploy(self, path: Path, name: str, *extra: str) -> None:
        # A large component compiles for a while on a loaded machine: wait as the CLI does.
        self.cli("agents", "deploy", str(path), "--name", name, *extra, timeout=600)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self._http is not None:
            self._http.close()
            self._http = None
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return code


def eventually(predicate: Callable[[], bool], timeout: float = 30) -> bool:
    """Poll ``predicate`` every 50 ms until it holds (True) or ``timeout`` passes (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def auth(server: ServerProcess) -> bytes:
    """The admin key as a raw HTTP header line, for tests that write requests by hand."""
    return f"Authorization: Bearer {server.token}\r\n".encode()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path / "data").start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory, examples: Path
                  ) -> Iterator[ServerProcess]:
    """One server for a module's tests that do not disturb each other."""
    proc = ServerProcess(tmp_path_factory.mktemp("shared") / "data").start()
    proc.deploy(examples / "wat" / "echo.wat", "echo")
    yield proc
    proc.stop()
