"""Following a deployment from the CLI: a progress bar through its stages, and a clear word when
the client stops waiting while the server deploys on.

Stages: upload (the client sends the module), then validate, compile, instantiate, init and
switch on the server (domain/deployment.py). A large component spends most of its time in
compile; a deploy never fails because the client gave up waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from caxton.cli._client import Transport
from caxton.cli._errors import EXIT_ERROR, EXIT_TIMEOUT, CliError

STAGES = ("upload", "validate", "compile", "instantiate", "init", "switch")
_POLL_S = (0.1, 0.2, 0.3, 0.5)  # then every 0.5 s: quick deploys answer quickly


class DeployProgress:
    """A rich progress bar on standard error while a terminal watches; silent otherwise."""

    def __init__(self, name: str, *, enabled: bool | None = None) -> None:
        console = Console(stderr=True)
        show = console.is_terminal if enabled is None else enabled
        self._progress = Progress(
            SpinnerColumn(), TextColumn("[bold]{task.fields[name]}[/bold] {task.description}"),
            BarColumn(), TextColumn("{task.fields[detail]}"), TimeElapsedColumn(),
            console=console, transient=True, disable=not show)
        self._task: TaskID = self._progress.add_task(
            "upload", total=len(STAGES), name=name, detail="", start=True)

    def __enter__(self) -> DeployProgress:
        self._progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._progress.stop()

    def uploaded(self, sent: int, total: int) -> None:
        share = sent / total if total else 1.0
        self._progress.update(self._task, description="upload", completed=share,
                              detail=f"{sent / 1e6:.1f}/{total / 1e6:.1f} MB")

    def show(self, deployment: dict[str, Any]) -> None:
        stage = deployment["stage"]
        done = STAGES.index(stage) if stage in STAGES else 0
        if deployment["status"] == "succeeded":
            done = len(STAGES)
        self._progress.update(self._task, description=stage, completed=done,
                              detail=f"{deployment['stage_s'].get(stage, 0.0):.1f}s in {stage}")


def still_deploying(deployment: dict[str, Any], waited: float) -> CliError:
    name, ident = deployment["name"], deployment["id"]
    return CliError(
        f"still deploying {name} after {waited:g}s (stage {deployment['stage']}); the deploy "
        f"continues on the server: watch it with `caxton agents deployment {name} --wait` "
        f"(deployment {ident})", EXIT_TIMEOUT)


def failed(deployment: dict[str, Any]) -> CliError:
    error = deployment.get("error") or {}
    return CliError(f"{error.get('message', 'the deployment failed')} (deployment failed at "
                    f"stage {deployment['stage']})", EXIT_ERROR)


def wait_for(client: Transport, deployment: dict[str, Any], timeout: float,
             progress: DeployProgress, clock: Callable[[], float] = time.monotonic,
             sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Poll until the deployment is done or ``timeout`` passed; the last answer."""
    deadline = clock() + timeout
    polls = 0
    while True:
        progress.show(deployment)
        if deployment["status"] != "running":
            return deployment
        left = deadline - clock()
        if left <= 0:
            return deployment
        sleep(min(left, _POLL_S[min(polls, len(_POLL_S) - 1)]))
        polls += 1
        deployment = client.deployment(deployment["id"])


def deploy(client: Transport, name: str, module: bytes, version: str, limits: dict[str, int],
           services: list[dict[str, Any]] | None, timeout: float, *,
           show_progress: bool | None = None, permissions: dict[str, Any] | None = None
           ) -> dict[str, Any]:
    """Deploy ``module`` as ``name`` and wait up to ``timeout`` seconds: the agent's view."""
    started = time.monotonic()
    with DeployProgress(name, enabled=show_progress) as progress:
        deployment = client.start_deployment(
            name, module, version, limits, services, permissions,
            on_upload=lambda sent: progress.uploaded(sent, len(module)))
        left = max(0.0, timeout - (time.monotonic() - started))
        deployment = wait_for(client, deployment, left, progress)
    if deployment["status"] == "running":
        raise still_deploying(deployment, timeout)
    if deployment["status"] == "failed":
        raise failed(deployment)
    return dict(deployment["agent"])
