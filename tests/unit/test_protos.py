"""The committed generated code is exactly what scripts/gen-protos.sh makes from the protos."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "src" / "caxton" / "api" / "grpc" / "_generated"


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())
            if p.is_file() and p.suffix in (".py", ".pyi")}


def test_regenerating_the_protos_changes_nothing(tmp_path: Path) -> None:
    subprocess.run(["bash", str(ROOT / "scripts" / "gen-protos.sh"), str(tmp_path)], check=True,
                   env={**os.environ, "PYTHON": sys.executable}, capture_output=True)
    fresh, committed = _files(tmp_path), _files(GENERATED)
    assert sorted(fresh) == sorted(committed), "run scripts/gen-protos.sh and commit the result"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"out of date (run scripts/gen-protos.sh): {stale}"


def test_every_proto_has_its_generated_modules() -> None:
    for proto in (ROOT / "protos" / "caxton" / "v1").glob("*.proto"):
        for suffix in ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py"):
            assert (GENERATED / f"{proto.stem}{suffix}").exists()
