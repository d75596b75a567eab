"""caxton agents new: templates render, projects get the current SDK, bad targets are refused."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from caxton.cli.main import app
from caxton.cli.scaffold import SDK_FILES, Language, crate_name, create_project, template_root

ROOT = Path(__file__).resolve().parents[2]

SOURCES = {
    Language.c: "agent.c", Language.rust: "src/lib.rs", Language.zig: "agent.zig",
    Language.go: "main.go", Language.assemblyscript: "agent.ts",
    Language.python: "app.py", Language.javascript: "agent.js",
}


@pytest.mark.parametrize("language", list(Language))
def test_projects_carry_the_current_sdk(tmp_path: Path, language: Language) -> None:
    written = create_project("sdk-check", language, tmp_path / "p")
    assert SDK_FILES[language]
    for rel, source in SDK_FILES[language].items():
        assert rel in written
        assert (tmp_path / "p" / rel).read_bytes() == (ROOT / source).read_bytes(), rel


def test_templates_hold_no_sdk_copies() -> None:
    # the SDKs have one home (sdk/, wit/); templates only hold what is per project
    for language in Language:
        for rel in SDK_FILES[language]:
            assert not template_root(language).joinpath(*rel.split("/")).is_file(), rel


@pytest.mark.parametrize("language", list(Language))
def test_project_is_rendered_with_the_name(tmp_path: Path, language: Language) -> None:
    target = tmp_path / "proj"
    files = create_project("my-agent.v2", language, target)
    assert set(files) >= {"README.md", "build.sh", SOURCES[language], *SDK_FILES[language]}
    for rel in files:
        text = (target / rel).read_text(encoding="utf-8")
        assert "{{" not in text or rel in SDK_FILES[language], rel
    assert "my-agent.v2" in (target / SOURCES[language]).read_text(encoding="utf-8")
    readme = (target / "README.md").read_text(encoding="utf-8")
    assert "caxton agents deploy my-agent.v2.wasm --name my-agent.v2" in readme
    build = target / "build.sh"
    assert build.stat().st_mode & stat.S_IXUSR
    assert "my-agent.v2.wasm" in build.read_text(encoding="utf-8")
    if language is Language.rust:
        assert 'name = "my_agent_v2"' in (target / "Cargo.toml").read_text(encoding="utf-8")


def test_crate_name_is_an_identifier() -> None:
    assert crate_name("My-Agent.2") == "my_agent_2"


@pytest.mark.parametrize("name", ["9lives", "ams", "has space", "x" * 65, ""])
def test_bad_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="invalid agent name"):
        create_project(name, Language.c, tmp_path / "p")
    assert not (tmp_path / "p").exists()


def test_existing_files_are_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "agent.c").write_text("mine")
    with pytest.raises(FileExistsError):
        create_project("p", Language.c, tmp_path / "p")
    assert (tmp_path / "p" / "agent.c").read_text() == "mine"
    (tmp_path / "empty").mkdir()
    assert "agent.c" in create_project("p", Language.c, tmp_path / "empty")


def test_cli_creates_the_project_and_says_what_next(tmp_path: Path) -> None:
    runner = CliRunner()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = runner.invoke(app, ["agents", "new", "greeter", "--language", "zig"])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("created greeter/ (zig): README.md, agent.zig, build.sh")
    assert "caxton agents build greeter\n" in result.output
    assert "caxton agents deploy greeter/greeter.wasm --name greeter" in result.output
    assert (tmp_path / "greeter" / "caxton.zig").is_file()

    result = runner.invoke(app, ["agents", "new", "g2", "-l", "go", "--dir",
                                 str(tmp_path / "elsewhere")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "elsewhere" / "caxton" / "caxton.go").is_file()


def test_cli_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(app, ["agents", "new", "9x", "-l", "c", "--dir", str(tmp_path / "a")])
    assert bad.exit_code == 2
    assert "invalid agent name '9x'" in bad.output
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x").write_text("")
    taken = runner.invoke(app, ["agents", "new", "b", "-l", "c", "--dir", str(tmp_path / "b")])
    assert taken.exit_code == 1
    assert "already exists" in taken.output
    unknown = runner.invoke(app, ["agents", "new", "b", "-l", "cobol"])
    assert unknown.exit_code == 2
