"""The bench/peers.py workloads on pykka (threading actors): see _workload.py.

The client is the main thread. One-way: ``tell`` to a sink actor, which sets an Event at the
N-th message. Ping-pong: ``ask`` an echo actor (a pykka future per round trip). Agent to
agent: ``tell`` to A, A ``tell``s B, B hands the answer to the client's inbox (a callback,
as Caxton's ClientInbox), with a window of requests in flight.
"""

from __future__ import annotations

import threading
import time
from importlib.metadata import version
from typing import Any

import _workload as w
import pykka


class Sink(pykka.ThreadingActor):
    def __init__(self, wanted: int, done: threading.Event) -> None:
        super().__init__()
        self.count, self.wanted, self.done = 0, wanted, done

    def on_receive(self, message: Any) -> Any:
        self.count += 1
        if self.count == self.wanted:
            self.done.set()


class Echo(pykka.ThreadingActor):
    def on_receive(self, message: Any) -> Any:
        return message


class Forwarder(pykka.ThreadingActor):
    def __init__(self, target: pykka.ActorRef[Any]) -> None:
        super().__init__()
        self.target = target

    def on_receive(self, message: Any) -> Any:
        self.target.tell(message)  # (reply_to, body): B answers the original sender


class Answerer(pykka.ThreadingActor):
    def on_receive(self, message: Any) -> Any:
        reply_to, body = message
        reply_to(body)


def oneway(n: int, seconds: float) -> tuple[int, float]:
    done = threading.Event()
    sink = Sink.start(n, done)
    deadline = time.monotonic() + seconds
    t0 = time.perf_counter()
    for i in range(n):
        sink.tell(w.payload(i))
        if i % 1000 == 0 and time.monotonic() > deadline:
            break
    done.wait(max(0.0, deadline - time.monotonic()) + 1)
    elapsed = time.perf_counter() - t0
    handled = sink.proxy().count.get(timeout=30)
    sink.stop()
    return handled, elapsed


def pingpong(n: int, seconds: float) -> list[float]:
    echo = Echo.start()
    for i in range(min(n, 200)):
        echo.ask(w.small(i), timeout=5)
    out = w.latencies(lambda i: echo.ask(w.small(i), timeout=5), n, seconds)
    echo.stop()
    return out


def a2a(n: int, window: int, seconds: float) -> tuple[int, float]:
    b = Answerer.start()
    a = Forwarder.start(b)
    slots = threading.Semaphore(window)
    lock = threading.Lock()
    answered = [0]
    all_in = threading.Event()
    target = [n]

    def inbox(body: Any) -> None:
        with lock:
            answered[0] += 1
            last = answered[0] == target[0]
        slots.release()
        if last:
            all_in.set()

    deadline = time.monotonic() + seconds
    t0 = time.perf_counter()
    sent = 0
    for i in range(n):
        if not slots.acquire(timeout=30):
            raise RuntimeError("no answer for 30 s")
        a.tell((inbox, w.small(i)))
        sent += 1
        if time.monotonic() > deadline:
            break
    with lock:
        target[0] = sent
        if answered[0] == sent:
            all_in.set()
    all_in.wait(30)
    elapsed = time.perf_counter() - t0
    a.stop()
    b.stop()
    return answered[0], elapsed


def main() -> None:
    args = w.args()
    result = w.Result("pykka", version("pykka"))
    for _ in range(args.rounds):
        handled, elapsed = oneway(args.oneway, args.seconds)
        result.oneway(handled, args.oneway, elapsed)
        result.pingpong(pingpong(args.pingpong, args.seconds), args.pingpong)
        answered, elapsed = a2a(args.a2a, args.window, args.seconds)
        result.a2a(answered, args.a2a, elapsed)
    pykka.ActorRegistry.stop_all()
    result.emit()


if __name__ == "__main__":
    main()
