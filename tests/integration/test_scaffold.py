"""`caxton agents new` projects build with their own build.sh and deploy as they are."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from tests.conftest import CAXTON, ROOT, ServerProcess
from tests.integration.test_polyglot import toolchains_missing

LANGUAGES = ["c", "rust", "zig", "go", "assemblyscript", "python", "javascript"]


def toolchain_env() -> dict[str, str]:
    """ZIG, CARGO, RUSTC, GO and ASC as scripts/toolchains.sh finds them, for the build.sh files
    (a developer would have them on PATH; here they live in the venv and .cache/npm)."""
    script = ('source scripts/toolchains.sh; tc_zig; tc_rust; tc_go; tc_asc; '
              'printf "ZIG=%s\\nCARGO=%s\\nRUSTC=%s\\nGO=%s\\nASC=%s\\n" '
              '"$ZIG" "$CARGO" "$RUSTC" "$GO" "$ASC"')
    out = subprocess.run(["bash", "-c", f'ROOT="$PWD" PY="{sys.executable}"; {script}'],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    env = dict(line.split("=", 1) for line in out.splitlines())
    # the component tools, as scripts/install-component-tools.sh installs them
    env["PYTHON"] = sys.executable
    env["CJS"] = str(ROOT / ".cache" / "npm-components" / "node_modules" / ".bin" /
                     "componentize-js")
    return env


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    missing = toolchains_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"toolchains missing in CI: {missing}")
        pytest.skip(f"toolchains missing (run scripts/install-toolchains.sh): {missing}")
    base = tmp_path_factory.mktemp("scaffold")
    env = {**os.environ, **toolchain_env()}

    def make(language: str) -> tuple[str, Path]:
        name = f"new-{language}"
        subprocess.run([CAXTON, "agents", "new", name, "--language", language],
                       cwd=base, check=True, capture_output=True, text=True)
        build = subprocess.run(["./build.sh"], cwd=base / name, env=env,
                               capture_output=True, text=True)
        assert build.returncode == 0, f"{language}: {build.stdout}\n{build.stderr}"
        assert f"built {name}.wasm" in build.stdout
        return language, base / name / f"{name}.wasm"

    with ThreadPoolExecutor(2) as pool:
        return dict(pool.map(make, LANGUAGES))


def test_every_template_builds_deploys_and_answers(tmp_path: Path,
                                                    projects: dict[str, Path]) -> None:
    server = ServerProcess(tmp_path / "data").start()
    try:
        for language, module in projects.items():
            name = f"new-{language}"
            server.deploy(module, name)
            out = server.cli("messages", "send", "--to", name, "--content", '{"hi": "\\u00e9"}',
                             "--wait", "-o", "json").stdout
            reply = json.loads(out)["reply"]
            assert reply["performative"] == "inform", (language, reply)
            assert reply["content"] == {"agent": name, "count": 1, "echo": {"hi": "\u00e9"}}
            again = server.http.post("/api/v1/messages", params={"wait": "true"}, json={
                "performative": "request", "receiver": name, "content": [2]}).json()["reply"]
            assert again["content"] == {"agent": name, "count": 2, "echo": [2]}, language
    finally:
        server.stop()
