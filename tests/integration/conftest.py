"""Fixtures shared by the in-process integration tests (the real ``Runtime``, no server)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from caxton.api.service import DeployRequest
from caxton.config import ServerConfig
from caxton.server import Runtime


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    """The runtime as the server composes it, one worker, on a SQLite file of its own.
    Modules that need another configuration define their own ``runtime``."""
    rt = Runtime.open(ServerConfig(data_dir=tmp_path / "data", workers=1, log_level="warning"))
    try:
        yield rt
    finally:
        rt.close()


def deploy_wat(rt: Runtime, name: str, wat: str, **limits: int) -> None:
    """Deploy a module written in WAT through the service, with optional limit overrides."""
    from wasmtime import wat2wasm  # noqa: PLC0415

    asyncio.run(rt.service.deploy(DeployRequest(name=name, module=bytes(wat2wasm(wat)),
                                                limits=dict(limits) or None)))
