"""Unit tests for caxton.api.deploy_gate: slots, the bounded queue, refusal."""

from __future__ import annotations

import asyncio

import pytest

from caxton.api.deploy_gate import DeployGate
from caxton.errors import TooManyDeploysError


def test_slots_then_queue_then_refusal() -> None:
    async def scenario() -> list[str]:
        gate = DeployGate(slots=2, queue=1)
        release = asyncio.Event()
        log: list[str] = []

        async def deploy(name: str) -> None:
            try:
                async with gate.slot():
                    log.append(f"{name} runs")
                    await release.wait()
            except TooManyDeploysError as exc:
                log.append(f"{name} refused: {exc.message}")

        tasks = [asyncio.create_task(deploy(f"d{i}")) for i in range(4)]
        await asyncio.sleep(0.05)
        assert (gate.running, gate.waiting, gate.refused) == (2, 1, 1)
        release.set()
        await asyncio.gather(*tasks)
        assert (gate.running, gate.waiting) == (0, 0)
        return log

    log = asyncio.run(scenario())
    assert log == ["d0 runs", "d1 runs", "d3 refused: 2 deploys are running and 1 waiting "
                   "(config max_concurrent_deploys=2, max_queued_deploys=1); retry in 2s",
                   "d2 runs"]


def test_a_failing_deploy_gives_its_slot_back() -> None:
    async def scenario() -> None:
        gate = DeployGate(slots=1, queue=0)
        with pytest.raises(RuntimeError):
            async with gate.slot():
                raise RuntimeError("compile failed")
        async with gate.slot():  # free again
            assert gate.running == 1

    asyncio.run(scenario())
