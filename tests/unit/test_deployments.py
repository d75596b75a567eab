"""Deployments that run on in the server: the record (stages only move ahead, progress, times)
and the tracker (one per agent at a time, bounded, watchable, errors kept)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from caxton.api.deployments import Deployments, StageHook
from caxton.domain.deployment import STAGES, Deployment, DeploymentStatus
from caxton.errors import (
    DeploymentConflictError,
    DeploymentNotFoundError,
    DeploymentsBusyError,
    ModuleRejectedError,
)


def _record() -> Deployment:
    return Deployment(id="d1", name="a", version="1", module_bytes=10,
                      started_at="2026-01-01T00:00:00.000000Z", started=100.0)


def test_stages_only_move_ahead() -> None:
    d = _record()
    assert d.stage == "validate" and d.progress() == pytest.approx(1 / 6)
    assert d.enter("compile", 101.0)
    assert not d.enter("validate", 102.0)  # back
    assert not d.enter("compile", 102.0)  # again
    assert not d.enter("linking", 102.0)  # unknown
    assert d.enter("switch", 103.0)
    d.succeed({"name": "a"}, 104.0, "2026-01-01T00:00:04.000000Z")
    assert not d.enter("switch", 105.0)
    view = d.to_dict(now=999.0)
    assert view["status"] == "succeeded" and view["progress"] == 1.0
    assert view["elapsed_s"] == 4.0  # frozen at the end, not "now"
    assert view["stage_s"] == {"validate": 1.0, "compile": 2.0, "switch": 1.0}
    assert view["stages"] == list(STAGES) and STAGES[0] == "upload"


def test_a_failure_keeps_its_stage_and_error() -> None:
    d = _record()
    d.enter("compile", 101.0)
    d.fail("module_rejected", "bad", 102.0, "t")
    view = d.to_dict(now=200.0)
    assert (view["status"], view["stage"], view["error"]) == (
        "failed", "compile", {"code": "module_rejected", "message": "bad"})
    assert view["agent"] is None and d.done


def _gate() -> tuple[threading.Event, Any]:
    """A deploy function that reports two stages from a thread, then waits for the gate."""
    gate = threading.Event()

    def make(result: dict[str, Any] | Exception) -> Any:
        async def deploy(on_stage: StageHook) -> dict[str, Any]:
            def work() -> dict[str, Any]:
                on_stage("compile")
                gate.wait(10)
                on_stage("instantiate")
                if isinstance(result, Exception):
                    raise result
                return result
            return await asyncio.to_thread(work)
        return deploy
    return gate, make


def test_runs_on_reports_stages_and_finishes() -> None:
    async def main() -> None:
        tracker = Deployments()
        gate, make = _gate()
        first = tracker.start("a", "1", 5, make({"name": "a", "state": "running"}))
        assert first["status"] == "running" and first["stage"] == "validate"
        seen: list[tuple[str, str]] = []

        async def watch() -> None:
            async for view in tracker.watch(first["id"], heartbeat_s=0.05):
                seen.append((view["status"], view["stage"]))
        watcher = asyncio.create_task(watch())
        for _ in range(200):
            if tracker.get(first["id"])["stage"] == "compile":
                break
            await asyncio.sleep(0.01)
        assert tracker.get(first["id"])["stage"] == "compile"
        gate.set()
        await asyncio.wait_for(watcher, 10)
        final = tracker.get(first["id"])
        assert final["status"] == "succeeded" and final["agent"] == {"name": "a",
                                                                     "state": "running"}
        assert seen[-1] == ("succeeded", "instantiate")
        assert ("running", "compile") in seen
        assert [v["id"] for v in tracker.list()] == [first["id"]]
    asyncio.run(main())


def test_a_failed_deploy_keeps_the_error() -> None:
    async def main() -> None:
        tracker = Deployments()
        gate, make = _gate()
        gate.set()
        started = tracker.start("a", "1", 5, make(ModuleRejectedError("no handle export")))
        async for _ in tracker.watch(started["id"], heartbeat_s=0.05):
            pass
        view = tracker.get(started["id"])
        assert view["status"] == "failed" and view["stage"] == "instantiate"
        assert view["error"] == {"code": "module_rejected", "message": "no handle export"}
    asyncio.run(main())


def test_one_deployment_per_agent_and_a_bound_on_all() -> None:
    async def main() -> None:
        tracker = Deployments(max_running=2)
        gate, make = _gate()
        first = tracker.start("a", "1", 5, make({}))
        with pytest.raises(DeploymentConflictError, match=first["id"]):
            tracker.start("a", "2", 5, make({}))
        tracker.start("b", "1", 5, make({}))
        with pytest.raises(DeploymentsBusyError):
            tracker.start("c", "1", 5, make({}))
        gate.set()
        await tracker.drain(10)
        assert all(v["status"] == "succeeded" for v in tracker.list())
        tracker.start("a", "2", 5, make({}))  # free again once finished
        await tracker.drain(10)
    asyncio.run(main())


def test_unknown_ids_and_pruning() -> None:
    async def main() -> None:
        tracker = Deployments(keep=3)
        gate, make = _gate()
        gate.set()
        ids = []
        for i in range(6):
            ids.append(tracker.start(f"a{i}", "1", 5, make({}))["id"])
            await tracker.drain(10)
        assert [v["id"] for v in tracker.list()] == ids[::-1][:4]  # 3 kept + the newest
        with pytest.raises(DeploymentNotFoundError):
            tracker.get(ids[0])
        with pytest.raises(DeploymentNotFoundError):
            tracker.get("nope")
        # an agent's name finds its latest deployment
        assert tracker.get("a5")["id"] == ids[5]
        again = tracker.start("a5", "2", 5, make({}))
        await tracker.drain(10)
        assert tracker.get("a5")["id"] == again["id"]
        with pytest.raises(DeploymentNotFoundError):
            await anext(tracker.watch("nope"))
    asyncio.run(main())


def test_drain_cancels_what_outlives_the_grace() -> None:
    async def main() -> None:
        tracker = Deployments()
        never = asyncio.Event()

        async def stuck(_: StageHook) -> dict[str, Any]:
            await never.wait()
            return {}
        started = tracker.start("a", "1", 5, stuck)
        await tracker.drain(0.05)
        view = tracker.get(started["id"])
        assert view["status"] == "failed" and view["error"]["code"] == "cancelled"
        assert DeploymentStatus(view["status"]) is DeploymentStatus.failed
    asyncio.run(main())


def test_daemon_thread_work_hands_back_its_result_or_error() -> None:
    from caxton.api.deployments import in_daemon_thread  # noqa: PLC0415

    def boom() -> int:
        raise ModuleRejectedError("bad module")

    async def main() -> None:
        assert await in_daemon_thread(lambda: threading.current_thread().daemon) is True
        with pytest.raises(ModuleRejectedError, match="bad module"):
            await in_daemon_thread(boom)
    asyncio.run(main())


def gated(name: str) -> tuple[Callable[[StageHook], Awaitable[dict[str, Any]]], asyncio.Event]:
    """A deploy that finishes when the returned event is set."""
    release = asyncio.Event()

    async def deploy(_: StageHook) -> dict[str, Any]:
        await release.wait()
        return {"name": name, "version": "1"}

    return deploy, release


def test_a_watcher_resumed_after_the_end_still_gets_the_final_snapshot() -> None:
    """The deployment ends while the watcher is suspended at a yield (its snapshot of
    "running" on its way to the client): the watch must go on to the final snapshot, not
    stop on seeing ``done`` with "running" the last thing it sent."""
    async def main() -> None:
        deployments = Deployments()
        deploy, release = gated("a")
        started = deployments.start("a", "1", 10, deploy)
        watch = deployments.watch(started["id"])
        first = await watch.__anext__()
        assert first["status"] == "running"
        release.set()  # the deploy finishes while the watcher is suspended
        for _ in range(20):
            await asyncio.sleep(0)
        rest = [view async for view in watch]
        assert rest and rest[-1]["status"] == "succeeded", rest

    asyncio.run(main())


def test_watching_by_the_agents_name_follows_the_deployment_to_its_end() -> None:
    async def main() -> None:
        deployments = Deployments()
        deploy, release = gated("b")
        deployments.start("b", "1", 10, deploy)
        views = []
        async for view in deployments.watch("b"):  # the name stands for its latest deployment
            views.append(view)
            release.set()
        assert [v["status"] for v in views][-1] == "succeeded", views

    asyncio.run(main())
