"""The Contract Net driver in process (``Runtime.open``), with scripted participants: a late
proposal is held back by the platform and reported as late, the driver still works with
conversation tracking off, and a cfp that breaks its conversation's protocol is refused."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from caxton.api.drivers import ContractNetRequest, drivers_of
from caxton.config import ServerConfig
from caxton.domain.acl import AclMessage, Performative, reply
from caxton.errors import ProtocolViolation
from caxton.router.local import ClientInbox
from caxton.server import Runtime

P = Performative
Answer = Callable[[AclMessage], AclMessage | None]


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime.open(ServerConfig(data_dir=tmp_path / "data", durability="normal", workers=2))
    try:
        yield rt
    finally:
        rt.close()


def participant(rt: Runtime, name: str, answer: Answer) -> list[AclMessage]:
    """A scripted participant: what it got, and it answers (from another thread) by ``answer``."""
    got: list[AclMessage] = []

    def deliver(msg: AclMessage) -> None:
        got.append(msg)
        out = answer(msg)
        if out is not None:
            threading.Timer(0.005, rt.router.route, (out,)).start()

    rt.router.register(name, ClientInbox(deliver))
    return got


def bidder(name: str, price: int, *, stamp: str | None = None) -> Answer:
    def answer(msg: AclMessage) -> AclMessage | None:
        if msg.performative is P.CFP:
            out = reply(msg, sender=name, performative=P.PROPOSE, content={"price": price})
            if stamp is not None:
                out.timestamp = stamp  # as if it had been sent then
            return out
        if msg.performative is P.ACCEPT_PROPOSAL:
            return reply(msg, sender=name, performative=P.INFORM, content={"done": True})
        return None

    return answer


def run(rt: Runtime, **fields: Any) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        return await drivers_of(rt.service).contract_net(ContractNetRequest.from_json(fields))

    return asyncio.run(go())


def in_an_hour() -> str:
    later = datetime.now(UTC) + timedelta(hours=1)
    return later.isoformat(timespec="microseconds").replace("+00:00", "Z")


def test_a_late_proposal_is_held_back_and_reported_late(runtime: Runtime) -> None:
    prompt = participant(runtime, "prompt", bidder("prompt", 9))
    late = participant(runtime, "late", bidder("late", 1, stamp=in_an_hour()))
    participant(runtime, "quiet", lambda _: None)
    outcome = run(runtime, receiver=["prompt", "late", "quiet"], deadline_s=0.5,
                  content={"size": 1})
    answers = {p["agent"]: p for p in outcome["participants"]}
    assert answers["prompt"]["answer"] == "proposed"
    assert answers["late"]["answer"] == "late"  # the cheaper bid never reached the driver
    assert "after the reply-by deadline" in answers["late"]["reason"]
    assert answers["quiet"]["answer"] == "timed-out"
    assert outcome["winner"] == "prompt" and outcome["status"] == "done"
    assert outcome["result"]["content"] == {"done": True}
    assert [m.performative for m in prompt] == [P.CFP, P.ACCEPT_PROPOSAL]
    # the platform, not the driver, rejected the late one
    rejected = [m for m in late if m.performative is P.REJECT_PROPOSAL]
    assert [m.sender for m in rejected] == ["ams"]
    assert rejected[0].content["error"] == "late"
    assert outcome["elapsed_s"] < 2.0


def test_the_driver_works_with_conversation_tracking_off(runtime: Runtime) -> None:
    runtime.router.observer = None
    participant(runtime, "a", bidder("a", 4))
    b = participant(runtime, "b", bidder("b", 3))
    participant(runtime, "quiet", lambda _: None)
    outcome = run(runtime, receiver="a,b,quiet", deadline_s=0.3, pick="max:price")
    answers = {p["agent"]: p for p in outcome["participants"]}
    assert outcome["winner"] == "a"
    assert answers["b"]["decision"] == "rejected"
    assert answers["quiet"]["answer"] == "timed-out"  # the driver's own deadline
    assert 0.3 <= outcome["elapsed_s"] < 1.5
    assert b[-1].performative is P.REJECT_PROPOSAL
    assert b[-1].content == {"reason": "not the best proposal by max:price", "rule": "max:price"}


def test_a_cfp_that_breaks_the_protocol_is_refused(runtime: Runtime) -> None:
    participant(runtime, "a", bidder("a", 4))
    first = run(runtime, receiver="a", deadline_s=2, conversation_id="cn-reused")
    assert first["status"] == "done" and first["elapsed_s"] < 2
    with pytest.raises(ProtocolViolation) as info:
        run(runtime, receiver="a", deadline_s=2, conversation_id="cn-reused")
    assert "fipa-contract-net" in info.value.message
