"""`caxton agents new` projects build (`caxton agents build`, which runs their own build.sh) and
deploy as they are: one test per language, each with the time its toolchain really needs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import CAXTON, ROOT, ServerProcess, eventually
from tests.integration.test_polyglot import imports_and_exports, toolchains_missing

# The core-module templates export handle_batch (through their SDK, or in AssemblyScript's
# entry file).
_BATCH_TEMPLATES = ("c", "zig", "rust", "go", "assemblyscript")
# Seconds for scaffold + build + deploy + two messages on a loaded two-core machine. The
# component languages build a 12-19 MB component and the server compiles it at deploy.
TIMEOUTS = {"c": 90, "zig": 120, "go": 180, "rust": 300, "assemblyscript": 180,
            "python": 420, "javascript": 420}
LANGUAGES = list(TIMEOUTS)


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
def scaffold_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    missing = toolchains_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"toolchains missing in CI: {missing}")
        pytest.skip(f"toolchains missing (run scripts/install-toolchains.sh): {missing}")
    server = ServerProcess(tmp_path_factory.mktemp("scaffold") / "data").start()
    yield server
    server.stop()


@pytest.mark.parametrize("language", [pytest.param(lang, marks=pytest.mark.timeout(seconds))
                                      for lang, seconds in TIMEOUTS.items()])
def test_template_builds_deploys_and_answers(tmp_path: Path, scaffold_server: ServerProcess,
                                             language: str) -> None:
    name = f"new-{language}"
    subprocess.run([CAXTON, "agents", "new", name, "--language", language],
                   cwd=tmp_path, check=True, capture_output=True, text=True)
    # The toolchains as the repository's scripts installed them (no registry is asked here;
    # tests/integration/test_agents_build.py covers finding them without these variables).
    build = subprocess.run([CAXTON, "agents", "build", name], cwd=tmp_path,
                           env={**os.environ, **toolchain_env()}, capture_output=True, text=True)
    assert build.returncode == 0, f"{language}: {build.stdout}\n{build.stderr}"
    module = tmp_path / name / f"{name}.wasm"
    assert f"built {name}.wasm" in build.stdout and f"wasm: {module}" in build.stdout
    if language in _BATCH_TEMPLATES:  # the template (or its vendored SDK) adds the batch export
        assert "handle_batch" in imports_and_exports(module.read_bytes())[1], language
    scaffold_server.deploy(module, name)
    out = scaffold_server.cli("messages", "send", "--to", name, "--content",
                              '{"hi": "\\u00e9"}', "--wait", "-o", "json").stdout
    reply = json.loads(out)["reply"]
    assert reply["performative"] == "inform", (language, reply)
    assert reply["content"] == {"agent": name, "count": 1, "echo": {"hi": "\u00e9"}}
    again = scaffold_server.http.post("/api/v1/messages", params={"wait": "true"}, json={
        "performative": "request", "receiver": name, "content": [2]}).json()["reply"]
    assert again["content"] == {"agent": name, "count": 2, "echo": [2]}, language
    if language in ("python", "javascript"):
        queued_messages_are_batched(scaffold_server, name)


def queued_messages_are_batched(server: ServerProcess, name: str) -> None:
    """The component templates build the world batch-agent: messages that queued up go in
    batches, and each sees the count the one before it wrote (state across a batch)."""
    http = server.http
    assert http.post(f"/api/v1/agents/{name}/stop").status_code == 200
    for i in range(8):
        assert http.post("/api/v1/messages", json={
            "performative": "request", "receiver": name, "conversation_id": f"q-{name}",
            "content": i}).status_code in (200, 202)
    assert http.post(f"/api/v1/agents/{name}/start").status_code == 200

    def replies() -> list[Any]:
        shown = http.get(f"/api/v1/conversations/q-{name}").json()
        return [m["content"] for m in shown.get("messages", []) if m["sender"] == name]

    assert eventually(lambda: len(replies()) == 8, timeout=60), replies()
    assert replies() == [{"agent": name, "count": 3 + i, "echo": i} for i in range(8)]
    assert http.get(f"/api/v1/agents/{name}").json()["stats"]["batched_messages"] > 0
