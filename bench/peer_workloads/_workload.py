"""What every peer workload script shares (runs inside the peer's own virtualenv: standard
library only, no Caxton).

A peer script is run as ``python SCRIPT --oneway N --pingpong N --a2a N --window W
--rounds R --seconds S`` and prints one JSON object on its last stdout line:
``{"system": ..., "version": ..., "oneway_msgs_s": [...], "pingpong_p50_us": [...],
"pingpong_p99_us": [...], "a2a_msgs_s": [...], "notes": [...]}``, one figure per round.

The workloads, identical for every system (bench/peers.py runs the same ones for Caxton):
  * one-way (W2): ``oneway`` messages (``payload``, about 100 bytes) to one sink actor, until
    the sink has handled them all; messages per second;
  * ping-pong (W1): ``pingpong`` sequential round trips (``small``) to an echo actor; p50 and
    p99 in us;
  * agent to agent: requests (``small``) from the client to actor A, which forwards each to
    actor B, which answers the client; ``window`` requests in flight; messages per second
    counting all three hops (client -> A, A -> B, B -> client).
Every loop stops at ``seconds`` per workload and round: the figure is then over what was done
(and a note says so).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable
from typing import Any

PAD = "x" * 80


def payload(i: int) -> dict[str, Any]:
    """The one-way body: about 100 bytes as JSON (the same body Caxton's sink gets)."""
    return {"n": i, "pad": PAD}


def small(i: int) -> dict[str, Any]:
    """The ping-pong and agent-to-agent body (the same body Caxton's echo gets)."""
    return {"n": i}


def args() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--oneway", type=int, default=20_000)
    p.add_argument("--pingpong", type=int, default=2_000)
    p.add_argument("--a2a", type=int, default=5_000, help="requests (3 messages each)")
    p.add_argument("--window", type=int, default=256)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=20.0, help="time bound per workload")
    return p.parse_args()


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def latencies(call: Callable[[int], None], n: int, seconds: float) -> list[float]:
    """Microseconds per ``call(i)``, sequentially, at most ``n`` calls or ``seconds``."""
    out: list[float] = []
    clock = time.perf_counter_ns
    deadline = time.monotonic() + seconds
    for i in range(n):
        t0 = clock()
        call(i)
        out.append((clock() - t0) / 1e3)
        if time.monotonic() > deadline:
            break
    return sorted(out)


class Result:
    def __init__(self, system: str, version: str) -> None:
        self.data: dict[str, Any] = {"system": system, "version": version, "oneway_msgs_s": [],
                                     "pingpong_p50_us": [], "pingpong_p99_us": [],
                                     "a2a_msgs_s": [], "notes": []}

    def note(self, text: str) -> None:
        if text not in self.data["notes"]:
            self.data["notes"].append(text)

    def oneway(self, handled: int, wanted: int, seconds: float) -> None:
        if handled < wanted:
            self.note(f"one-way: time bound hit, {handled} of {wanted} handled")
        self.data["oneway_msgs_s"].append(handled / seconds)

    def pingpong(self, sorted_us: list[float], wanted: int) -> None:
        if len(sorted_us) < wanted:
            self.note(f"ping-pong: time bound hit, {len(sorted_us)} of {wanted} round trips")
        self.data["pingpong_p50_us"].append(percentile(sorted_us, 50))
        self.data["pingpong_p99_us"].append(percentile(sorted_us, 99))

    def a2a(self, requests: int, wanted: int, seconds: float) -> None:
        if requests < wanted:
            self.note(f"agent to agent: time bound hit, {requests} of {wanted} requests")
        self.data["a2a_msgs_s"].append(3 * requests / seconds)

    def emit(self) -> None:
        print(json.dumps(self.data), flush=True)
