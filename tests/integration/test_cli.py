"""How the CLI finds the server and reports trouble."""

from __future__ import annotations

import os
import socket
import subprocess

from tests.conftest import CAXTON, ServerProcess


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items()
            if k not in ("CAXTON_SERVER", "CAXTON_TOKEN", "CAXTON_DATA_DIR")}
    return subprocess.run([CAXTON, *args], capture_output=True, text=True, timeout=60,
                          env={**base, **(env or {})})


def test_server_flag_and_environment_variable(server: ServerProcess) -> None:
    # The server's data dir holds its admin key: the CLI on the same machine uses it.
    local = {"CAXTON_DATA_DIR": str(server.data_dir)}
    assert _run("agents", "list", "--server", server.url, "-o", "json",
                env=local).stdout.strip() == "[]"
    assert _run("agents", "list", "-o", "json",
                env={**local, "CAXTON_SERVER": server.url}).stdout.strip() == "[]"
    # the flag wins over the environment
    assert _run("agents", "list", "--server", server.url, "-o", "json",
                env={**local, "CAXTON_SERVER": "http://127.0.0.1:1"}).returncode == 0


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


def test_version_prints_the_package_version() -> None:
    from importlib import metadata  # noqa: PLC0415

    result = _run("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"caxton {metadata.version('caxton')}"


def test_negative_durations_and_counts_are_usage_errors() -> None:
    # refused before any request is made: no server is needed (and none is reached)
    bad = [
        ("messages", "send", "--to", "x", "--timeout", "-1"),
        ("messages", "send", "--to", "x", "--wait", "--timeout", "-0.5"),
        ("messages", "cfp", "--to", "x", "--deadline", "-5s"),
        ("messages", "subscribe", "--to", "x", "--cancel-timeout", "-1"),
        ("agents", "logs", "x", "--limit", "-3"),
        ("agents", "deploy", "x.wat", "--name", "x", "--fuel", "-1"),
        ("agents", "deploy", "x.wat", "--name", "x", "--timeout-ms", "-10"),
        ("conversations", "list", "--limit", "-1"),
        ("dead-letters", "list", "--limit", "-1"),
        ("directory", "search", "--max-results", "-1"),
        ("directory", "register", "x", "--service", "a", "--lease-s", "-1"),
        ("events", "tail", "--count", "-1"),
        ("server", "start", "--workers", "-2"),
        ("server", "start", "--port", "-1"),
    ]
    for args in bad:
        result = _run(*args, env={"CAXTON_SERVER": "http://127.0.0.1:1"})
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr


def test_global_transport_before_the_command(server: ServerProcess) -> None:
    env = {"CAXTON_SERVER": "http://127.0.0.1:1", "CAXTON_GRPC_SERVER": server.grpc_target,
           "CAXTON_TOKEN": server.token}
    # before the command: gRPC is used, so the unreachable REST address does not matter
    before = _run("--transport", "grpc", "agents", "list", "-o", "json", env=env)
    assert before.returncode == 0, before.stderr
    assert before.stdout.strip() == "[]"
    # after the command, as before
    after = _run("agents", "list", "--transport", "grpc", "-o", "json", env=env)
    assert after.returncode == 0 and after.stdout.strip() == "[]"
    # the command's own option wins over the global one
    both = _run("--transport", "grpc", "agents", "list", "--transport", "rest", env=env)
    assert both.returncode == 3 and "http://127.0.0.1:1" in both.stderr
    # --server and --grpc-server work globally too
    served = _run("--server", server.url, "agents", "list", "-o", "json", env=env)
    assert served.returncode == 0 and served.stdout.strip() == "[]"
