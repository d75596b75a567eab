"""Component agents for the tests: built once, compiled once per machine.

Compiling a component takes seconds to tens of seconds (it embeds CPython or SpiderMonkey), so
the compiled code is kept in ``~/.cache/caxton/compiled-components`` (what
``SandboxEngine(cache_dir=)`` writes) and copied into each test server's data directory, where
the server's own cache finds it. The first run on a machine pays for the compilation; later
runs load it in milliseconds.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from caxton.sandbox.engine import SandboxEngine, artifact_name

ROOT = Path(__file__).resolve().parents[1]
AGENTS = ROOT / "examples" / "agents"
FIXTURES = ROOT / "tests" / "fixtures" / "components"
# Per machine, not per checkout (like the build cache in scripts/build-examples.sh): a fresh
# clone then reuses what an earlier run compiled. wasmtime refuses artifacts from another
# version or configuration, and the engine then compiles again.
COMPILED = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "caxton" / \
    "compiled-components"
LANGS = ("python", "javascript")
NAMES = ("echo", "bidder", "faults")
PROBE = "sdkprobe"  # tests/fixtures/components/*/sdkprobe: every SDK call, and the sandbox


def component(lang: str, name: str) -> Path:
    return (FIXTURES if name == PROBE else AGENTS) / lang / f"{name}.wasm"


@functools.cache
def built() -> None:
    """Build the example and fixture components (the script skips what is up to date)."""
    for extra in ([], ["--tests"]):
        result = subprocess.run(
            ["bash", str(ROOT / "scripts" / "build-components.sh"), *extra, *LANGS],
            env={**os.environ, "PYTHON": sys.executable}, capture_output=True, text=True,
        )
        if result.returncode != 0:
            pytest.fail("cannot build the components (scripts/install-component-tools.sh "
                        f"installs the tools):\n{result.stdout}\n{result.stderr}",
                        pytrace=False)


@functools.cache
def compiled() -> list[Path]:
    """Every example component compiled into COMPILED (two at a time: one per core)."""
    built()
    engine = SandboxEngine(cache_dir=COMPILED)
    paths = [component(lang, name) for lang in LANGS for name in (*NAMES, PROBE)]
    with ThreadPoolExecutor(2) as pool:
        digests = list(pool.map(lambda p: engine.compile(p.read_bytes()).module_hash, paths))
    return [COMPILED / artifact_name(digest) for digest in digests]


def seed(data_dir: Path) -> None:
    """Give a server's data directory the compiled components (hard links when possible)."""
    target = data_dir / "compiled"
    target.mkdir(parents=True, exist_ok=True)
    for artifact in compiled():
        for path in (artifact, artifact.with_name(artifact.name + ".sha256")):  # and checksum
            dest = target / path.name
            if dest.exists() or not path.exists():
                continue
            try:
                os.link(path, dest)
            except OSError:
                shutil.copyfile(path, dest)
