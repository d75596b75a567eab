"""`caxton agents build`: a new project builds with no toolchain set up by hand, deploys and
answers; a toolchain that cannot be had is named, with the command that installs it."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import CAXTON, ServerProcess

# What build.sh would otherwise take from the environment: the test must find them itself.
OVERRIDES = ("ZIG", "GO", "CARGO", "RUSTC", "ASC", "CJS", "PYTHON")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in OVERRIDES}
    return {**env, **extra}


def _new(tmp_path: Path, name: str, language: str) -> Path:
    subprocess.run([CAXTON, "agents", "new", name, "--language", language], cwd=tmp_path,
                   check=True, capture_output=True, text=True, timeout=60)
    return tmp_path / name


@pytest.fixture(scope="module")
def build_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path_factory.mktemp("build") / "data").start()
    yield server
    server.stop()


@pytest.mark.parametrize("language", [
    pytest.param("c", marks=pytest.mark.timeout(180)),
    pytest.param("zig", marks=pytest.mark.timeout(180)),
    pytest.param("go", marks=pytest.mark.timeout(300)),
])
def test_new_project_builds_deploys_and_answers(tmp_path: Path, build_server: ServerProcess,
                                                language: str) -> None:
    name = f"built-{language}"
    project = _new(tmp_path, name, language)
    # from inside the project, as its README says: no DIR, no toolchain variables
    build = subprocess.run([CAXTON, "agents", "build"], cwd=project, env=_env(),
                           capture_output=True, text=True, timeout=280)
    assert build.returncode == 0, f"{build.stdout}\n{build.stderr}"
    module = project / f"{name}.wasm"
    assert module.is_file()
    lines = build.stdout.splitlines()
    assert f"wasm: {module}" in lines
    assert f"next: caxton agents deploy {module} --name {name}" in lines
    assert f"building {name} ({language}) with " in build.stderr
    build_server.deploy(module, name)
    reply = json.loads(build_server.cli("messages", "send", "--to", name, "--content",
                                        '{"hi": 1}', "--wait", "-o", "json").stdout)["reply"]
    assert reply["performative"] == "inform"
    assert reply["content"] == {"agent": name, "count": 1, "echo": {"hi": 1}}


def test_missing_toolchains_are_named_with_their_install_command(tmp_path: Path) -> None:
    bare = tmp_path / "bin"  # a PATH with no node, npm, cargo or rustc on it
    bare.mkdir()
    for language, expected in [
        ("assemblyscript", "error: cannot build assemblyscript: missing Node.js 20 or later "
                           "and npm (not found) (install: apt-get install nodejs npm"),
        ("javascript", "error: cannot build javascript: missing Node.js 20 or later and npm "
                       "(not found) (install: apt-get install nodejs npm"),
        ("rust", "error: cannot build rust: missing cargo and rustc with the "
                 "wasm32-unknown-unknown target (install: apt-get install rustc cargo "
                 "libstd-rust-dev-wasm32 (Debian/Ubuntu), or rustup target add "
                 "wasm32-unknown-unknown)"),
    ]:
        project = _new(tmp_path, f"no-{language}", language)
        result = subprocess.run([CAXTON, "agents", "build", str(project)], capture_output=True,
                                text=True, timeout=60,
                                env=_env(PATH=str(bare), CAXTON_TOOLCHAIN_CACHE=str(tmp_path)))
        assert result.returncode == 1, (language, result.stdout, result.stderr)
        assert result.stderr.startswith(expected), (language, result.stderr)
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert not list(project.glob("*.wasm"))


def test_no_install_reports_instead_of_installing(tmp_path: Path) -> None:
    project = _new(tmp_path, "as-later", "assemblyscript")
    cache = tmp_path / "cache"
    result = subprocess.run([CAXTON, "agents", "build", str(project), "--no-install"],
                            capture_output=True, text=True, timeout=60,
                            env=_env(CAXTON_TOOLCHAIN_CACHE=str(cache)))
    if "Node.js" in result.stderr:
        pytest.skip("no Node.js on this machine")
    assert result.returncode == 1
    assert result.stderr == (
        "error: cannot build assemblyscript: missing asc (npm assemblyscript@0.28.20) "
        f"(install: npm install --prefix {cache / 'assemblyscript'} assemblyscript@0.28.20)\n")
    assert not cache.exists()  # nothing was installed


def test_a_folder_that_is_no_project_is_a_usage_error(tmp_path: Path) -> None:
    result = subprocess.run([CAXTON, "agents", "build", str(tmp_path)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and "has no build.sh" in result.stderr
    (tmp_path / "build.sh").write_text("echo hi\n")
    result = subprocess.run([CAXTON, "agents", "build", str(tmp_path)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and "does not look like an agent project" in result.stderr
