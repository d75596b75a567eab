"""How the CLI finds the server and reports trouble."""

from __future__ import annotations

import os
import socket
import subprocess

from tests.conftest import CAXTON, ServerProcess


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "CAXTON_SERVER"}
    return subprocess.run([CAXTON, *args], capture_output=True, text=True, timeout=60,
                          env={**base, **(env or {})})


def test_server_flag_and_environment_variable(server: ServerProcess) -> None:
    assert _run("agents", "list", "--server", server.url, "-o", "json").stdout.strip() == "[]"
    assert _run("agents", "list", "-o", "json",
                env={"CAXTON_SERVER": server.url}).stdout.strip() == "[]"
    # the flag wins over the environment
    assert _run("agents", "list", "--server", server.url, "-o", "json",
                env={"CAXTON_SERVER": "http://127.0.0.1:1"}).returncode == 0


def test_unreachable_server_is_one_line_and_exit_3() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = _run("agents", "list", "--server", f"http://127.0.0.1:{port}")
    assert result.returncode == 3
    assert result.stderr.startswith(f"error: cannot reach the Caxton server at "
                                    f"http://127.0.0.1:{port}")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_usage_errors_exit_2() -> None:
    result = _run("agents", "deploy")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    result = _run("messages", "send", "--to", "x", "--output", "yaml")
    assert result.returncode == 2
