"""Starting, configuring and stopping the server process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path

import httpx
from tests.conftest import CAXTON, ServerProcess


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_health_ready_and_openapi(server: ServerProcess) -> None:
    assert server.http.get("/health").json()["status"] == "ok"
    ready = server.http.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    spec = server.http.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    for path in ("/api/v1/agents", "/api/v1/messages", "/api/v1/conversations",
                 "/api/v1/conversations/{conversation_id}", "/health", "/ready"):
        assert path in spec["paths"], path


def test_database_is_sqlite_in_wal_mode(server: ServerProcess) -> None:
    db = server.data_dir / "caxton.db"
    assert db.exists()
    header = db.read_bytes()[:16]
    assert header == b"SQLite format 3\x00"
    assert db.read_bytes()[18:20] == b"\x02\x02"  # read/write versions 2 mean WAL


def test_second_server_on_same_data_dir_refuses(server: ServerProcess) -> None:
    result = subprocess.run(
        [CAXTON, "server", "start", "--data-dir", str(server.data_dir), "--port", "0"],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 1
    assert "in use by another Caxton server" in result.stderr
    assert "Traceback" not in result.stderr
    assert server.http.get("/health").status_code == 200  # the first is unharmed


def test_sigterm_and_sigint_shut_down_gracefully(tmp_path: Path) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        proc = ServerProcess(tmp_path / "data").start()
        assert proc.stop(sig) == 0, proc.stderr()
        assert "caxton stopped" in proc.stderr()
        assert not (tmp_path / "data" / "server.json").exists()
    # the lock was released: a new server starts on the same directory
    again = ServerProcess(tmp_path / "data").start()
    assert again.stop() == 0


def test_settings_precedence_file_env_flag(tmp_path: Path) -> None:
    file_port, env_port, flag_port = _free_port(), _free_port(), _free_port()
    config = tmp_path / "caxton.toml"
    config.write_text(f'port = {file_port}\nworkers = 2\n[limits]\nfuel = 123456\n')
    data = tmp_path / "data"

    def listening(*args: str, env: dict[str, str] | None = None) -> str:
        proc = subprocess.Popen(
            [CAXTON, "server", "start", "--config", str(config), "--data-dir", str(data), *args],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, "CAXTON_GRPC_PORT": "0", **(env or {})},
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        proc.stdout.close()
        return line.strip()

    assert listening().endswith(f":{file_port}")
    assert listening(env={"CAXTON_PORT": str(env_port)}).endswith(f":{env_port}")
    assert listening("--port", str(flag_port),
                     env={"CAXTON_PORT": str(env_port)}).endswith(f":{flag_port}")


def test_config_limits_become_agent_defaults(tmp_path: Path, examples: Path) -> None:
    config = tmp_path / "caxton.toml"
    config.write_text("[limits]\nfuel = 123456\ntimeout_ms = 250\n")
    proc = ServerProcess(tmp_path / "data", "--config", str(config)).start()
    try:
        proc.deploy(examples / "wat" / "echo.wat", "echo")
        limits = proc.http.get("/api/v1/agents/echo").json()["limits"]
        assert limits["fuel"] == 123456
        assert limits["timeout_ms"] == 250
    finally:
        proc.stop()


def test_bad_config_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("port = 'eighty'\n")
    result = subprocess.run([CAXTON, "server", "start", "--config", str(bad),
                             "--data-dir", str(tmp_path / "d")],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "error: setting 'port'" in result.stderr
    assert "Traceback" not in result.stderr
    bad.write_text("port = [\n")
    result = subprocess.run([CAXTON, "server", "start", "--config", str(bad)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "not valid TOML" in result.stderr


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([CAXTON, "server", "start", "--data-dir", str(tmp_path / "d"),
                                 "--port", str(port)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert result.stderr == (f"error: cannot listen for HTTP on 127.0.0.1:{port}: address in "
                             "use (use --port PORT, or --port 0 for any free port)\n")


def test_taken_default_grpc_port_names_the_flag(tmp_path: Path) -> None:
    # `caxton server start` as the README writes it, with the gRPC default port taken
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            busy.bind(("127.0.0.1", 50051))
        except OSError:
            pass  # someone else holds it: the server must say so all the same
        else:
            busy.listen()
        result = subprocess.run([CAXTON, "server", "start", "--data-dir", str(tmp_path / "d"),
                                 "--port", "0"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert result.stderr == ("error: cannot listen for gRPC on 127.0.0.1:50051: address in use "
                             "(use --grpc-port PORT, or --grpc-port 0 for any free port)\n")
    assert result.stdout == ""


def test_metrics_port_in_use_names_the_flag(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([CAXTON, "server", "start", "--data-dir", str(tmp_path / "d"),
                                 "--port", "0", "--grpc-port", "0", "--metrics-port", str(port)],
                                capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert result.stderr == (f"error: cannot listen for metrics on 127.0.0.1:{port}: address in "
                             "use (use --metrics-port PORT, or --metrics-port 0 for any free "
                             "port)\n")


def test_one_port_for_two_listeners_is_refused(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = subprocess.run([CAXTON, "server", "start", "--data-dir", str(tmp_path / "d"),
                             "--port", str(port), "--grpc-port", str(port)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert f"cannot listen for gRPC on 127.0.0.1:{port}: --port uses it already" in result.stderr


def test_grpc_port_zero_prints_the_chosen_port(server: ServerProcess) -> None:
    # the fixture starts with --port 0 --grpc-port 0 and reads the printed addresses
    host, port = server.grpc_target.rsplit(":", 1)
    assert host == "127.0.0.1" and int(port) > 0
    with socket.socket() as probe:
        assert probe.connect_ex((host, int(port))) == 0


def test_unknown_route_is_json_404(server: ServerProcess) -> None:
    response = server.http.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    response = server.http.put("/api/v1/messages")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_server_status_command(server: ServerProcess) -> None:
    out = server.cli("server", "status", "--output", "json").stdout
    assert '"status": "ready"' in out
    assert isinstance(httpx.get(server.url + "/health").json()["uptime_s"], float)


def test_openapi_lists_every_api_route(server: ServerProcess) -> None:
    spec = server.http.get("/openapi.json").json()
    assert "/api/v1/dead-letters" in spec["paths"]
    assert "/api/v1/dead-letters/{message_id}/replay" in spec["paths"]
    assert set(spec["paths"]["/api/v1/agents"]) == {"get", "post"}
