"""Deployments that run on in the server while the client asks how far they got.

``POST /api/v1/deployments`` (and gRPC ``StartDeployment``) answers as soon as the server has the
bytes and the request's fields check out; the deploy itself (validate, compile, instantiate,
init, switch) runs in a worker thread, reporting each stage as it begins. A client polls
``GET /api/v1/deployments/{id}`` or watches its event stream; a client that gave up waiting
loses nothing, since the deploy goes on.

Bounded: at most ``max_running`` deploys at once (compiling is heavy), one at a time per agent
name, and the last ``keep`` finished ones are remembered.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import structlog

from caxton.domain.acl import utc_now_iso
from caxton.domain.deployment import Deployment
from caxton.domain.ids import new_id
from caxton.errors import (
    CaxtonError,
    DeploymentConflictError,
    DeploymentNotFoundError,
    DeploymentsBusyError,
)

log = structlog.get_logger("caxton.deployments")

StageHook = Callable[[str], None]
_T = TypeVar("_T")
# Runs one deploy (the service's), calling the hook from its worker thread as stages begin.
DeployFn = Callable[[StageHook], Awaitable[dict[str, Any]]]


class Deployments:
    def __init__(self, *, max_running: int = 4, keep: int = 200,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._max_running = max_running
        self._keep = keep
        self._clock = clock
        self._all: OrderedDict[str, Deployment] = OrderedDict()  # oldest first
        self._changed: dict[str, asyncio.Event] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def start(self, name: str, version: str, module_bytes: int, deploy: DeployFn) -> dict[str, Any]:
        """Begin a deployment of ``name`` (on the running event loop); its first snapshot."""
        running = [d for d in self._all.values() if not d.done]
        same = next((d for d in running if d.name == name), None)
        if same is not None:
            raise DeploymentConflictError(
                f"agent '{name}' is being deployed already (deployment {same.id}, stage "
                f"{same.stage}): follow it with `caxton agents deployment {same.id} --wait` "
                f"or GET /api/v1/deployments/{same.id}")
        if len(running) >= self._max_running:
            raise DeploymentsBusyError(
                f"{len(running)} deployments are in progress, the most this server runs at "
                "once: retry when one has finished")
        deployment = Deployment(id=new_id(), name=name, version=version,
                                module_bytes=module_bytes, started_at=utc_now_iso(),
                                started=self._clock())
        self._all[deployment.id] = deployment
        self._changed[deployment.id] = asyncio.Event()
        self._prune()
        loop = asyncio.get_running_loop()

        def on_stage(stage: str) -> None:  # from the deploy's worker thread
            loop.call_soon_threadsafe(self._enter, deployment, stage)

        task = loop.create_task(self._run(deployment, deploy(on_stage)))
        self._tasks[deployment.id] = task
        task.add_done_callback(lambda _: self._tasks.pop(deployment.id, None))
        log.info("deployment started", deployment=deployment.id, agent=name, version=version,
                 module_bytes=module_bytes)
        return deployment.to_dict(self._clock())

    async def _run(self, deployment: Deployment, work: Awaitable[dict[str, Any]]) -> None:
        try:
            agent = await work
        except CaxtonError as exc:
            deployment.fail(exc.code, exc.message, self._clock(), utc_now_iso())
            log.info("deployment failed", deployment=deployment.id, agent=deployment.name,
                     stage=deployment.stage, error=exc.message)
        except asyncio.CancelledError:
            deployment.fail("cancelled", "the server shut down during the deployment",
                            self._clock(), utc_now_iso())
            raise
        except Exception as exc:
            log.exception("deployment failed", deployment=deployment.id)
            deployment.fail("internal", f"internal error: {type(exc).__name__}",
                            self._clock(), utc_now_iso())
        else:
            deployment.succeed(agent, self._clock(), utc_now_iso())
            log.info("deployment succeeded", deployment=deployment.id, agent=deployment.name,
                     seconds=round(self._clock() - deployment.started, 3))
        finally:
            self._notify(deployment)

    def _enter(self, deployment: Deployment, stage: str) -> None:
        if deployment.enter(stage, self._clock()):
            self._notify(deployment)

    def _notify(self, deployment: Deployment) -> None:
        event = self._changed.get(deployment.id)
        if event is not None:
            event.set()
            # Watchers wait on the event they saw; the next change gets a fresh one.
            self._changed[deployment.id] = asyncio.Event()

    def _prune(self) -> None:
        finished = [key for key, d in self._all.items() if d.done]
        for key in finished[:max(0, len(finished) - self._keep)]:
            del self._all[key]
            self._changed.pop(key, None)

    def _find(self, deployment_id: str) -> Deployment:
        """By id, else the latest deployment of the agent of that name."""
        deployment = self._all.get(deployment_id) or next(
            (d for d in reversed(self._all.values()) if d.name == deployment_id), None)
        if deployment is None:
            raise DeploymentNotFoundError(
                f"no deployment with id (or of an agent named) '{deployment_id}' (finished "
                f"ones are kept for the last {self._keep} deployments)")
        return deployment

    def get(self, deployment_id: str) -> dict[str, Any]:
        return self._find(deployment_id).to_dict(self._clock())

    def list(self) -> list[dict[str, Any]]:
        """Every remembered deployment, newest first."""
        now = self._clock()
        return [d.to_dict(now) for d in reversed(self._all.values())]

    async def watch(self, deployment_id: str, *, heartbeat_s: float = 1.0
                    ) -> AsyncIterator[dict[str, Any]]:
        """Snapshots: now, at each change (and every ``heartbeat_s``), the last when done."""
        deployment = self._find(deployment_id)
        while True:
            changed = self._changed.get(deployment.id)  # the id, also when asked by name
            # Whether this snapshot is the last is decided with it: the deployment may end
            # while the watcher is suspended at the yield, and then one more is owed.
            done, snapshot = deployment.done, deployment.to_dict(self._clock())
            yield snapshot
            if done or changed is None:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), heartbeat_s)

    async def drain(self, timeout: float) -> None:
        """Let running deployments finish (up to ``timeout`` seconds), then cancel the rest."""
        tasks = list(self._tasks.values())
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


async def in_daemon_thread(work: Callable[[], _T]) -> _T:
    """``work()`` in a thread of its own that does not hold up the process's exit.

    A deploy that answered 202 may still be compiling when the server stops; after the
    shutdown grace (``Deployments.drain``) it is abandoned, not waited for (asyncio's default
    executor would keep the process alive until the compile ends, a minute for a large
    component). Nothing half-done is kept: the store is closed by then.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[_T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():
            outcome()

    def run() -> None:
        try:
            result = work()
        except BaseException as exc:  # handed to the awaiting coroutine
            failure = exc
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(settle, lambda: future.set_exception(failure))
        else:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(settle, lambda: future.set_result(result))

    threading.Thread(target=run, name="caxton-deploy", daemon=True).start()
    return await future

