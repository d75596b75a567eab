"""Where the CLI finds the server and how it speaks TLS to it (``caxton.cli._endpoint``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from caxton.cli._endpoint import DEFAULT_GRPC_SERVER, DEFAULT_SERVER, resolve
from caxton.cli._errors import CliError
from caxton.security.client_tls import ClientTls


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("CAXTON_SERVER", "CAXTON_GRPC_SERVER", "CAXTON_TLS_CA", "CAXTON_TLS_CERT",
                 "CAXTON_TLS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CAXTON_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def server_file(data_dir: Path, pid: int, url: str = "https://127.0.0.1:9443") -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "server.json").write_bytes(orjson.dumps(
        {"url": url, "grpc": "127.0.0.1:9444", "pid": pid, "tls": url.startswith("https")}))


def test_without_anything_the_defaults(clean_env: Path) -> None:
    found = resolve(None, None)
    assert (found.url, found.grpc, found.tls) == (DEFAULT_SERVER, DEFAULT_GRPC_SERVER, None)


def test_a_running_server_is_found_through_its_data_dir_with_its_ca(
        clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server_file(clean_env, os.getpid())
    (clean_env / "tls").mkdir()
    (clean_env / "tls" / "ca.crt").write_text("pem")
    found = resolve(None, None)
    assert (found.url, found.grpc) == ("https://127.0.0.1:9443", "127.0.0.1:9444")
    assert found.tls == ClientTls(clean_env / "tls" / "ca.crt")
    monkeypatch.setenv("CAXTON_SERVER", "")  # empty is not given
    assert resolve(None, None).url == "https://127.0.0.1:9443"
    # What is given wins, and then the data dir's CA is not assumed.
    given = resolve("https://example.org:8443", None)
    assert given.url == "https://example.org:8443" and given.tls == ClientTls()
    assert given.grpc == "127.0.0.1:9444"


def test_the_file_of_a_server_that_died_is_ignored(clean_env: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    server_file(clean_env, int(gone.stdout))
    assert resolve(None, None).url == DEFAULT_SERVER


def test_tls_files_from_the_environment(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAXTON_TLS_CA", "ca.crt")
    plain = resolve("http://127.0.0.1:1", "127.0.0.1:2")
    assert plain.tls == ClientTls(Path("ca.crt")) and plain.rest_tls is None  # gRPC: TLS
    monkeypatch.setenv("CAXTON_TLS_CERT", "alice.crt")
    with pytest.raises(CliError, match="needs its key"):
        resolve("https://127.0.0.1:1", None)
    monkeypatch.setenv("CAXTON_TLS_KEY", "alice.key")
    assert resolve("127.0.0.1:1", None).url == "http://127.0.0.1:1"
    assert resolve("https://h:1/", None).rest_tls == ClientTls(
        Path("ca.crt"), Path("alice.crt"), Path("alice.key"))
