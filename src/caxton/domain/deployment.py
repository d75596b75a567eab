"""A deployment followed while it runs: the stages every deploy goes through, and where one is.

A large module (a WebAssembly component of tens of megabytes) takes a while to compile, longer
than a client wants to hold a request open. Such a deploy runs on in the server while the
client asks how far it got; this record is what it is told.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# In order. The client does the upload; the server reports the rest as each begins.
STAGES = ("upload", "validate", "compile", "instantiate", "init", "switch")


class DeploymentStatus(StrEnum):
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


@dataclass
class Deployment:
    """One deployment. Times are RFC 3339 UTC strings; ``elapsed_s`` is ``now - started``."""

    id: str
    name: str
    version: str
    module_bytes: int
    started_at: str
    started: float  # monotonic seconds, for elapsed_s
    stage: str = "validate"  # the server has the bytes: the upload is done
    status: DeploymentStatus = DeploymentStatus.running
    finished_at: str | None = None
    finished: float | None = None
    agent: dict[str, Any] | None = None  # the agent as GET /api/v1/agents/{name} shows it
    error: dict[str, str] | None = None  # {"code", "message"} as REST errors are
    history: list[tuple[str, float]] = field(default_factory=list)  # (stage, monotonic start)

    def __post_init__(self) -> None:
        if not self.history:
            self.history.append((self.stage, self.started))

    @property
    def done(self) -> bool:
        return self.status is not DeploymentStatus.running

    def enter(self, stage: str, now: float) -> bool:
        """Move on to ``stage``; False (and no change) when it is unknown or not ahead."""
        if self.done or stage not in STAGES or STAGES.index(stage) <= STAGES.index(self.stage):
            return False
        self.stage = stage
        self.history.append((stage, now))
        return True

    def succeed(self, agent: dict[str, Any], now: float, at: str) -> None:
        self.status, self.agent = DeploymentStatus.succeeded, agent
        self.finished, self.finished_at = now, at

    def fail(self, code: str, message: str, now: float, at: str) -> None:
        self.status, self.error = DeploymentStatus.failed, {"code": code, "message": message}
        self.finished, self.finished_at = now, at

    def progress(self) -> float:
        """The share of stages done, 0 to 1 (a failed deployment stays where it stopped)."""
        if self.status is DeploymentStatus.succeeded:
            return 1.0
        return STAGES.index(self.stage) / len(STAGES)

    def to_dict(self, now: float) -> dict[str, Any]:
        end = self.finished if self.finished is not None else now
        return {
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "module_bytes": self.module_bytes,
            "status": self.status.value,
            "stage": self.stage,
            "stages": list(STAGES),
            "progress": round(self.progress(), 3),
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "elapsed_s": round(max(0.0, end - self.started), 3),
            # How long each stage took (the current one: so far).
            "stage_s": {stage: round((self.history[i + 1][1] if i + 1 < len(self.history)
                                      else end) - began, 3)
                        for i, (stage, began) in enumerate(self.history)},
            "agent": self.agent,
            "error": self.error,
        }
