"""The bench/peers.py workloads on Thespian: see _workload.py.

Thespian's ``multiprocTCPBase`` system base (its default for real deployments: one process
per actor, messages pickled over TCP on 127.0.0.1, the admin on a free port). The client is
the main thread, outside the actor system (``ActorSystem.tell``/``ask``/``listen``).
One-way: ``tell`` N messages to a sink, then ``ask`` it for its count (a sender's messages
arrive in order, so the answer comes after all N are handled). Ping-pong: ``ask`` an echo
actor. Agent to agent: ``tell`` to A, A sends to B, B answers the client, which ``listen``s,
with a window of requests in flight.
"""

from __future__ import annotations

import socket
import time
from importlib.metadata import version
from typing import Any

import _workload as w
from thespian.actors import Actor, ActorExitRequest, ActorSystem

COUNT = "count?"


class Sink(Actor):
    count = 0

    def receiveMessage(self, message: Any, sender: Any) -> None:  # noqa: N802 - Thespian's API
        if isinstance(message, ActorExitRequest):
            return
        if message == COUNT:
            self.send(sender, self.count)
        else:
            self.count += 1


class Echo(Actor):
    def receiveMessage(self, message: Any, sender: Any) -> None:  # noqa: N802
        if not isinstance(message, ActorExitRequest):
            self.send(sender, message)


class Forwarder(Actor):
    target: Any = None

    def receiveMessage(self, message: Any, sender: Any) -> None:  # noqa: N802
        if isinstance(message, ActorExitRequest):
            return
        if isinstance(message, tuple) and message[0] == "target":
            self.target = message[1]
            self.send(sender, "ok")
        else:  # B answers the original sender
            self.send(self.target, (sender, message))


class Answerer(Actor):
    def receiveMessage(self, message: Any, sender: Any) -> None:  # noqa: N802
        if isinstance(message, tuple):
            reply_to, body = message
            self.send(reply_to, body)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def oneway(asys: ActorSystem, n: int, seconds: float) -> tuple[int, float]:
    sink = asys.createActor(Sink)
    deadline = time.monotonic() + seconds
    t0 = time.perf_counter()
    for i in range(n):
        asys.tell(sink, w.payload(i))
        if i % 100 == 0 and time.monotonic() > deadline:
            break
    handled = asys.ask(sink, COUNT, timeout=max(5.0, deadline - time.monotonic() + 5))
    elapsed = time.perf_counter() - t0
    asys.tell(sink, ActorExitRequest())
    if not isinstance(handled, int):
        raise RuntimeError(f"the sink did not answer its count: {handled!r}")
    return handled, elapsed


def pingpong(asys: ActorSystem, n: int, seconds: float) -> list[float]:
    echo = asys.createActor(Echo)

    def call(i: int) -> None:
        body = w.small(i)
        if asys.ask(echo, body, timeout=10) != body:
            raise RuntimeError("no echo within 10 s")

    for i in range(min(n, 100)):
        call(i)
    out = w.latencies(call, n, seconds)
    asys.tell(echo, ActorExitRequest())
    return out


def a2a(asys: ActorSystem, n: int, window: int, seconds: float) -> tuple[int, float]:
    b = asys.createActor(Answerer)
    a = asys.createActor(Forwarder)
    if asys.ask(a, ("target", b), timeout=10) != "ok":
        raise RuntimeError("the forwarder did not start")
    deadline = time.monotonic() + seconds
    t0 = time.perf_counter()
    sent = answered = 0
    while sent < min(window, n):
        asys.tell(a, w.small(sent))
        sent += 1
    while answered < sent:
        if asys.listen(timeout=30) is None:
            raise RuntimeError("no answer for 30 s")
        answered += 1
        if sent < n and time.monotonic() < deadline:
            asys.tell(a, w.small(sent))
            sent += 1
    elapsed = time.perf_counter() - t0
    asys.tell(a, ActorExitRequest())
    asys.tell(b, ActorExitRequest())
    return answered, elapsed


def main() -> None:
    args = w.args()
    result = w.Result("thespian", version("thespian"))
    asys = ActorSystem("multiprocTCPBase", {"Admin Port": free_port()})
    try:
        for _ in range(args.rounds):
            handled, elapsed = oneway(asys, args.oneway, args.seconds)
            result.oneway(handled, args.oneway, elapsed)
            result.pingpong(pingpong(asys, args.pingpong, args.seconds), args.pingpong)
            answered, elapsed = a2a(asys, args.a2a, args.window, args.seconds)
            result.a2a(answered, args.a2a, elapsed)
    finally:
        asys.shutdown()
    result.note("multiprocTCPBase: one process per actor, pickled messages over local TCP")
    result.emit()


if __name__ == "__main__":
    main()
