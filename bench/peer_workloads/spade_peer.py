"""The bench/peers.py workloads on SPADE 4 (XMPP agents, asyncio): see _workload.py.

SPADE agents must log in to an XMPP server: this script starts SPADE's embedded one
(``spade run``, pyjabber, in-memory database) as a subprocess on free ports of 127.0.0.1 and
registers the agents on it. All agents live in one SPADE container (one process), so SPADE
hands their messages to each other inside the container, as it does in any single-process
deployment; the XMPP server carries the logins and presence. The client is an agent too
(a behaviour that sends and receives). One-way: the client sends N messages to a sink agent,
which sets an Event at the N-th. Ping-pong: send to an echo agent and ``receive`` its reply.
Agent to agent: client -> A, A sends to B with the client in its metadata, B answers the
client; a window of requests in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import _workload as w
import spade
from spade.agent import Agent
from spade.behaviour import CyclicBehaviour, OneShotBehaviour
from spade.message import Message

HOST = "127.0.0.1"
PASSWORD = "bench-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class XmppServer:
    """``spade run`` on free ports of 127.0.0.1, in a temporary directory (its certificates)."""

    def __init__(self, timeout: float = 60.0) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="caxton-bench-spade-")
        exe = Path(sys.executable).with_name("spade")
        self.proc = subprocess.Popen(
            [str(exe), "run", "--host", HOST, "--client_port", str(self.port),
             "--server_port", str(free_port()), "--memory"],
            cwd=self.dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"spade run exited with {self.proc.returncode}")
            with socket.socket() as s:
                if s.connect_ex((HOST, self.port)) == 0:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the XMPP server did not listen within {timeout:g}s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)


class SinkAgent(Agent):
    count = 0
    wanted = 0
    done: asyncio.Event

    class Count(CyclicBehaviour):
        async def run(self) -> None:
            msg = await self.receive(timeout=1)
            if msg is not None:
                agent: Any = self.agent
                agent.count += 1
                if agent.count == agent.wanted:
                    agent.done.set()

    async def setup(self) -> None:
        self.done = asyncio.Event()
        self.add_behaviour(self.Count())


class EchoAgent(Agent):
    class Echo(CyclicBehaviour):
        async def run(self) -> None:
            msg = await self.receive(timeout=1)
            if msg is not None:
                answer = msg.make_reply()
                answer.body = msg.body
                await self.send(answer)

    async def setup(self) -> None:
        self.add_behaviour(self.Echo())


class ForwarderAgent(Agent):
    target = ""

    class Forward(CyclicBehaviour):
        async def run(self) -> None:
            msg = await self.receive(timeout=1)
            if msg is not None:
                out = Message(to=self.agent.target, body=msg.body)  # type: ignore[attr-defined]
                out.set_metadata("reply_to", str(msg.sender))
                await self.send(out)

    async def setup(self) -> None:
        self.add_behaviour(self.Forward())


class AnswererAgent(Agent):
    class Answer(CyclicBehaviour):
        async def run(self) -> None:
            msg = await self.receive(timeout=1)
            if msg is not None:
                await self.send(Message(to=msg.get_metadata("reply_to"), body=msg.body))

    async def setup(self) -> None:
        self.add_behaviour(self.Answer())


class Job(OneShotBehaviour):
    """Runs one workload function as the client agent's behaviour; keeps what it returns."""

    def __init__(self, work: Any) -> None:
        super().__init__()
        self.work, self.result = work, None

    async def run(self) -> None:
        self.result = await self.work(self)


async def run_job(client: Agent, work: Any) -> Any:
    job = Job(work)
    client.add_behaviour(job)
    await job.join(timeout=600)
    return job.result


def body(i: int) -> str:
    return json.dumps(w.payload(i))


def small(i: int) -> str:
    return json.dumps(w.small(i))


async def main(args: Any, port: int, result: w.Result) -> None:
    jid = lambda name: f"{name}-{os.getpid()}@{HOST}"  # noqa: E731
    sink = SinkAgent(jid("sink"), PASSWORD, port=port)
    echo = EchoAgent(jid("echo"), PASSWORD, port=port)
    b = AnswererAgent(jid("b"), PASSWORD, port=port)
    a = ForwarderAgent(jid("a"), PASSWORD, port=port)
    a.target = jid("b")
    client = Agent(jid("client"), PASSWORD, port=port)
    agents = [sink, echo, b, a, client]
    for agent in agents:
        await agent.start(auto_register=True)
    try:
        for _ in range(args.rounds):
            await one_round(args, client, sink, jid, result)
    finally:
        for agent in agents:
            await agent.stop()


async def one_round(args: Any, client: Agent, sink: SinkAgent, jid: Any,
                    result: w.Result) -> None:
    async def oneway(job: Job) -> tuple[int, float]:
        sink.count, sink.wanted = 0, args.oneway
        sink.done.clear()
        deadline = time.monotonic() + args.seconds
        t0 = time.perf_counter()
        for i in range(args.oneway):
            await job.send(Message(to=jid("sink"), body=body(i)))
            if time.monotonic() > deadline:
                break
        with contextlib.suppress(TimeoutError):  # the figure is then over what was handled
            await asyncio.wait_for(sink.done.wait(), max(0.5, deadline - time.monotonic()))
        return sink.count, time.perf_counter() - t0

    handled, elapsed = await run_job(client, oneway)
    result.oneway(handled, args.oneway, elapsed)

    async def pingpong(job: Job) -> list[float]:
        out: list[float] = []
        deadline = time.monotonic() + args.seconds
        for i in range(args.pingpong + 50):
            t0 = time.perf_counter_ns()
            await job.send(Message(to=jid("echo"), body=small(i)))
            if await job.receive(timeout=10) is None:
                raise RuntimeError("no echo within 10 s")
            if i >= 50:
                out.append((time.perf_counter_ns() - t0) / 1e3)
            if time.monotonic() > deadline:
                break
        return sorted(out)

    result.pingpong(await run_job(client, pingpong), args.pingpong)

    async def a2a(job: Job) -> tuple[int, float]:
        deadline = time.monotonic() + args.seconds
        t0 = time.perf_counter()
        sent = answered = 0
        while sent < min(args.window, args.a2a):
            await job.send(Message(to=jid("a"), body=small(sent)))
            sent += 1
        while answered < sent:
            if await job.receive(timeout=30) is None:
                raise RuntimeError("no answer for 30 s")
            answered += 1
            if sent < args.a2a and time.monotonic() < deadline:
                await job.send(Message(to=jid("a"), body=small(sent)))
                sent += 1
        return answered, time.perf_counter() - t0

    answered, elapsed = await run_job(client, a2a)
    result.a2a(answered, args.a2a, elapsed)


def entry() -> None:
    args = w.args()
    result = w.Result("spade", version("spade"))
    server = XmppServer()
    try:
        spade.run(main(args, server.port, result))
    finally:
        server.stop()
    result.note("agents in one container: SPADE passes their messages inside the process; "
                "the embedded XMPP server (pyjabber) carries logins and presence")
    result.emit()


if __name__ == "__main__":
    entry()
