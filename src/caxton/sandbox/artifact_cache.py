"""Compiled machine code on disk, so that a restart or a redeploy does not compile again.

One file per compiled module or component, ``<sha256 of the wasm>-<engine fingerprint>.cwasm``,
where the fingerprint covers the wasmtime version, the CPU architecture and the engine
settings that change the generated code: an engine never even looks at another one's files.
Beside each file, ``<file>.sha256`` holds the checksum of its contents. The file is native
code that wasmtime loads without checking it, so a file whose checksum does not match (a
partial write, a disk error, any other change) is deleted and the module compiled again:
never loaded, never a crash.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import structlog
import wasmtime

log = structlog.get_logger("caxton.sandbox")
_T = TypeVar("_T")
_CHUNK = 1024 * 1024


def fingerprint(*parts: object) -> str:
    """A short stable digest of what makes compiled code usable by one engine only."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


class ArtifactCache:
    def __init__(self, directory: Path, engine_fingerprint: str) -> None:
        self.directory = directory
        self.fingerprint = engine_fingerprint

    def path(self, digest: str) -> Path:
        return self.directory / f"{digest}-{self.fingerprint}.cwasm"

    def load(self, digest: str, deserialize: Callable[[str], _T]) -> _T | None:
        """The cached compiled code for ``digest``, or None (absent or unusable)."""
        path = self.path(digest)
        if not path.is_file():
            return None
        try:
            expected = _checksum_file(path).read_text().strip()
            if _sha256(path) != expected:
                raise ValueError("checksum mismatch")
            return deserialize(str(path))
        except (OSError, ValueError, wasmtime.WasmtimeError) as exc:
            log.warning("compiled code in the cache is unusable; compiling again",
                        file=path.name, error=str(exc).strip().splitlines()[0][:200])
            self.discard(digest)
            return None

    def store(self, digest: str, artifact: bytes | bytearray) -> None:
        """Keep ``artifact``; a failure to write only costs a compilation later."""
        path = self.path(digest)
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            suffix = f".{os.getpid()}.{threading.get_ident()}.tmp"
            tmp, tmp_sum = path.with_name(path.name + suffix), path.with_name(
                _checksum_file(path).name + suffix)
            tmp.write_bytes(artifact)
            tmp_sum.write_text(hashlib.sha256(artifact).hexdigest() + "\n")
            tmp.replace(path)  # readers never see a half-written file; a stale checksum only
            tmp_sum.replace(_checksum_file(path))  # makes them compile again
        except OSError as exc:
            log.warning("cannot cache compiled code", file=path.name, error=str(exc))

    def discard(self, digest: str) -> None:
        """Delete the module's files (also under an earlier release's name, ``<sha256>.cwasm``,
        which this release never reads)."""
        path = self.path(digest)
        for stale in (path, _checksum_file(path), self.directory / f"{digest}.cwasm"):
            _unlink(stale)


def _checksum_file(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _unlink(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)
