"""Models of deployments that answer at once (``/api/v1/deployments``)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec


class DeploymentError(msgspec.Struct):
    code: str
    message: str


class Deployment(msgspec.Struct):
    """A deployment as it runs: its stage, progress, and when done the agent or the error."""

    id: str
    name: str
    version: str
    module_bytes: int
    status: Annotated[str, msgspec.Meta(description="running, succeeded or failed")]
    stage: str
    stages: list[str]
    progress: Annotated[float, msgspec.Meta(ge=0, le=1)]
    started_at: str
    finished_at: str | None
    elapsed_s: float
    stage_s: Annotated[dict[str, float], msgspec.Meta(
        description="Seconds each stage took (the current one: so far).")]
    agent: dict[str, Any] | None
    error: DeploymentError | None


class StartedDeployment(Deployment):
    status_url: str = ""


class DeploymentList(msgspec.Struct):
    deployments: list[Deployment]
