"""One core or two: the same workload with the process pinned to 1 CPU, then to 2.

The issue's "both cores used" target is 2-core throughput >= 1.8x the 1-core figure. One
Caxton process runs its Python (routing, bookkeeping, the writer) under one GIL; what runs in
parallel is the WebAssembly itself (a call into an agent releases the GIL). So the answer
depends on how much of a message is the agent's own work:

    sink     the agent returns at once (W2's sink): all Python, one core's worth
    worker   the agent computes for about 100 µs per message (a loop in WebAssembly), the
             kind of agent a real deployment runs

Each figure is a fresh child process (``os.sched_setaffinity``) with the real runtime
(``Runtime``: router, 2 worker threads, sandbox, group-commit writer, durability full), 8
agents, the messages routed round-robin in batches of 100 until all are handled and committed;
medians over the rounds.

    python bench/cores.py [--quick] [--rounds N]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common as c

AGENTS = 8
# Spins `iterations` times (read from nothing: a constant), then returns; with handle_batch.
WORKER = """(module (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func $work (result i32) (local $i i32)
    (loop $spin
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $spin (i32.lt_u (local.get $i) (i32.const ITERATIONS))))
    (i32.const 0))
  (func (export "handle") (param i32 i32) (result i32) (call $work))
  (func (export "handle_batch") (param $p i32) (param i32) (result i32)
    (local $n i32) (local $k i32)
    (local.set $n (i32.load (i32.add (local.get $p) (i32.const 4))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
      (i32.store (local.get $p) (local.get $k))
      (drop (call $work))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $next)))
    (i32.const 0)))"""
ITERATIONS = 200_000  # about 100 µs of WebAssembly on the project's machine


def measure(kind: str, count: int) -> float:
    """Messages per second, in this process (pinned by the parent)."""
    from wasmtime import wat2wasm  # noqa: PLC0415

    from caxton.config import ServerConfig  # noqa: PLC0415
    from caxton.domain.acl import AclMessage, Performative  # noqa: PLC0415
    from caxton.domain.limits import ResourceLimits  # noqa: PLC0415
    from caxton.server import Runtime  # noqa: PLC0415

    c.server_process()
    module = c.SINK if kind == "sink" else bytes(
        wat2wasm(WORKER.replace("ITERATIONS", str(ITERATIONS))))
    with tempfile.TemporaryDirectory(prefix="caxton-bench-cores-") as tmp:
        rt = Runtime.open(ServerConfig(data_dir=Path(tmp), durability="full", workers=2,
                                       log_level="warning", mailbox_capacity=10 * count))
        try:
            names = [f"a{i}" for i in range(AGENTS)]
            for name in names:
                rt.host.deploy(name, module, "1.0", ResourceLimits())
            cells = [rt.host.get(name) for name in names]

            def run(n: int) -> float:
                base = sum(cell.stats.handled for cell in cells)
                t0 = time.perf_counter()
                for start in range(0, n, 100):
                    rt.router.route_batch([
                        AclMessage(performative=Performative.INFORM, sender="client",
                                   receiver=(names[i % AGENTS],), content={"n": i})
                        for i in range(start, min(n, start + 100))])
                deadline = time.monotonic() + 300
                while sum(cell.stats.handled for cell in cells) - base < n:
                    if time.monotonic() > deadline:
                        raise RuntimeError("the agents did not handle every message in time")
                    time.sleep(0.001)
                rt.store.writer.barrier().result(120)
                return n / (time.perf_counter() - t0)

            run(max(count // 10, 100))  # warm-up
            return run(count)
        finally:
            rt.close()


def child(kind: str, count: int, cpus: int) -> float:
    """Run ``measure`` in a fresh process pinned to the first ``cpus`` CPUs."""
    code = (f"import os, sys, json; os.sched_setaffinity(0, set(range({cpus}))); "
            f"sys.path.insert(0, {str(Path(__file__).parent)!r}); import cores; "
            f"print(json.dumps(cores.measure({kind!r}, {count})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=900, check=True)
    return float(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    p = c.parser(__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, help="rounds per figure (medians are printed)")
    args = p.parse_args()
    c.header("one core or two: the same process pinned to 1 CPU, then 2", args)
    if len(os.sched_getaffinity(0)) < 2:
        print("   only one CPU is available here: nothing to compare")
        return
    rounds = args.rounds or (1 if args.quick else 3)
    counts = {"sink": 2_000 if args.quick else 40_000, "worker": 400 if args.quick else 24_000}
    rows = []
    for kind, count in counts.items():
        one, two = [], []
        for _ in range(rounds):  # alternating, so that drift on the machine hits both
            one.append(child(kind, count, 1))
            two.append(child(kind, count, 2))
        a, b = statistics.median(one), statistics.median(two)
        rows.append((kind, count, a, b, f"{b / a:.2f}x", c.verdict(b / a, 1.8, at_least=True)))
    c.table(["agents' work", "messages", "1 CPU msgs/s", "2 CPUs msgs/s", "2 / 1",
             "target >= 1.8x"], rows)


if __name__ == "__main__":
    main()
