"""Memory per idle agent: RSS growth from deploying N echo agents, divided by N.

Each measurement runs in its own fresh subprocess (this script with --child), so one does not
inherit another's heap. The child opens a Runtime (durability "normal", 2 workers), deploys one
agent first (the compile, the first instance, lazily built caches), reads VmRSS from
/proc/self/status, deploys N more echo agents under distinct names, waits for the store writer,
and reads VmRSS again. The agents stay idle (no messages).

Peer in the same run: the same N in a bare wasmtime process — one Store + host Func + Instance
of echo.wasm per agent, kept alive.

Then hibernation (``hibernate_idle_s``): a fresh child deploys --idle-agents (100,000; 1,000
with --quick) echo agents into a Runtime with hibernate_idle_s 0.2, so each one's sandbox is
dropped shortly after its deploy; it waits until all are hibernated and reads VmRSS (per-agent
RSS growth, deploy p50 = agent start), then sends one request at a time to a sample of them
and times the reply: the first message to a hibernated agent (its wake-up: instantiate + init
+ handle) against a second message to the same, now awake, agent.

    python bench/agent_memory.py [--quick] [--sizes 1000,10000] [--idle-agents 100000]
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common as c

MB = 1024 * 1024


def _status(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _snapshot() -> dict[str, int]:
    gc.collect()
    time.sleep(0.2)  # let background threads settle
    return {"rss": _status("VmRSS"), "anon": _status("RssAnon"), "file": _status("RssFile"),
            "vm": _status("VmSize"), "maps": _map_count()}


def _map_count() -> int:
    with open("/proc/self/maps", encoding="ascii", errors="replace") as f:
        return sum(1 for _ in f)


def child_caxton(n: int) -> dict[str, float]:
    c.quiet_logs()
    from caxton.config import ServerConfig  # noqa: PLC0415
    from caxton.domain.limits import ResourceLimits  # noqa: PLC0415
    from caxton.server import Runtime  # noqa: PLC0415

    wasm = c.module_bytes("echo")
    limits = ResourceLimits()
    with tempfile.TemporaryDirectory(prefix="caxton-bench-mem-") as tmp:
        rt = Runtime.open(ServerConfig(data_dir=Path(tmp), durability="normal", workers=2,
                                       max_total_memory_bytes=2**50))  # thousands of agents
        try:
            rt.host.deploy("warm", wasm, "1.0", limits)
            rt.store.writer.barrier().result(60)
            before = _snapshot()
            t0 = time.perf_counter()
            for i in range(n):
                rt.host.deploy(f"agent-{i}", wasm, "1.0", limits)
            deploy_s = time.perf_counter() - t0
            rt.store.writer.barrier().result(60)
            after = _snapshot()
            wasm_mem = sum(cell.instance.memory_bytes() for cell in rt.host.all()
                           if cell.instance is not None)
            agents = len(rt.host.all()) - 1
        finally:
            rt.close()
    return {"n": agents, "deploy_s": deploy_s, "linear_memory_bytes": wasm_mem / (agents + 1),
            **{f"{k}_before": v for k, v in before.items()},
            **{f"{k}_after": v for k, v in after.items()}}


def child_hibernated(n: int) -> dict[str, float]:
    c.quiet_logs()
    import threading  # noqa: PLC0415

    from caxton.config import ServerConfig  # noqa: PLC0415
    from caxton.domain.acl import AclMessage, Performative  # noqa: PLC0415
    from caxton.domain.limits import ResourceLimits  # noqa: PLC0415
    from caxton.router.local import ClientInbox  # noqa: PLC0415
    from caxton.server import Runtime  # noqa: PLC0415

    wasm = c.module_bytes("echo")
    limits = ResourceLimits()
    clock = time.perf_counter_ns
    with tempfile.TemporaryDirectory(prefix="caxton-bench-hib-") as tmp:
        rt = Runtime.open(ServerConfig(data_dir=Path(tmp), durability="normal", workers=2,
                                       hibernate_idle_s=0.2, max_total_memory_bytes=2**50))
        try:
            host = rt.host
            host.deploy("warm", wasm, "1.0", limits)
            rt.store.writer.barrier().result(60)
            _wait_asleep(host, 1)
            before = _snapshot()
            starts = []
            t0 = time.perf_counter()
            for i in range(n):
                t = clock()
                host.deploy(f"agent-{i}", wasm, "1.0", limits)
                starts.append(clock() - t)
            deploy_s = time.perf_counter() - t0
            rt.store.writer.barrier().result(120)
            _wait_asleep(host, n + 1)
            after = _snapshot()
            # The first message to a hibernated agent, then a second one to it awake.
            replied = threading.Event()
            rt.router.register("_client-bench", ClientInbox(lambda _msg: replied.set()))
            sample = range(0, n, max(5, n // 1000))  # 1,000 of 100,000; 200 of 1,000

            def ask(name: str) -> int:
                replied.clear()
                t = clock()
                rt.router.route(AclMessage(performative=Performative.REQUEST,
                                           sender="_client-bench", receiver=(name,),
                                           content={"n": 1}))
                if not replied.wait(30):
                    raise RuntimeError(f"{name} did not answer")
                return clock() - t

            wake, awake = [], []
            for i in sample:
                wake.append(ask(f"agent-{i}"))
                awake.append(ask(f"agent-{i}"))
            woken = host.hibernation.stats.woken
        finally:
            rt.close()
    s_start, s_wake, s_awake = (c.summary(v) for v in (starts, wake, awake))
    return {"n": n, "deploy_s": deploy_s, "woken": woken,
            "start_p50": s_start["p50"], "start_p99": s_start["p99"],
            "wake_p50": s_wake["p50"], "wake_p99": s_wake["p99"],
            "awake_p50": s_awake["p50"], "awake_p99": s_awake["p99"],
            **{f"{k}_before": v for k, v in before.items()},
            **{f"{k}_after": v for k, v in after.items()}}


def _wait_asleep(host: object, n: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    cells = host.all  # type: ignore[attr-defined]
    while sum(1 for cell in cells() if cell.hibernated and cell.instance is None) < n:
        if time.monotonic() > deadline:
            raise RuntimeError("agents did not hibernate")
        time.sleep(0.1)


def child_bare(n: int) -> dict[str, float]:
    import wasmtime  # noqa: PLC0415

    wasm = c.module_bytes("echo")
    config = wasmtime.Config()
    config.consume_fuel = True
    config.epoch_interruption = True
    engine = wasmtime.Engine(config)
    module = wasmtime.Module(engine, wasm)
    functype = wasmtime.FuncType([wasmtime.ValType.i32(), wasmtime.ValType.i32()],
                                 [wasmtime.ValType.i32()])

    def reply(ptr: int, length: int) -> int:
        return 0

    keep = []

    def one() -> None:
        store = wasmtime.Store(engine)
        keep.append((store, wasmtime.Instance(store, module,
                                              [wasmtime.Func(store, functype, reply)])))

    one()
    before = _snapshot()
    t0 = time.perf_counter()
    for _ in range(n):
        one()
    deploy_s = time.perf_counter() - t0
    after = _snapshot()
    return {"n": n, "deploy_s": deploy_s, "linear_memory_bytes": 65536.0,
            **{f"{k}_before": v for k, v in before.items()},
            **{f"{k}_after": v for k, v in after.items()}}


def run_child(kind: str, n: int) -> dict[str, float]:
    proc = subprocess.run([sys.executable, __file__, "--child", kind, str(n)],
                          capture_output=True, text=True, timeout=1800, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"child {kind} {n} failed:\n{proc.stderr[-2000:]}")
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        kind, n = sys.argv[2], int(sys.argv[3])
        child = {"caxton": child_caxton, "bare": child_bare, "hibernated": child_hibernated}
        result = child[kind](n)
        print(json.dumps(result))
        return
    p = c.parser(__doc__.split("\n\n")[0])
    p.add_argument("--sizes", help="comma-separated agent counts (default 1000,10000)")
    p.add_argument("--idle-agents", type=int,
                   help="hibernated agents (default 100000; 1000 with --quick); 0: skip")
    args = p.parse_args()
    sizes = ([int(s) for s in args.sizes.split(",")] if args.sizes
             else [200, 1000] if args.quick else [1000, 10_000])
    c.header("memory per idle agent", args)

    t_start = time.perf_counter()
    results = {(kind, n): run_child(kind, n) for n in sizes for kind in ("caxton", "bare")}
    rows = []
    for n in sizes:
        bare = results[("bare", n)]
        bare_per = (bare["rss_after"] - bare["rss_before"]) / n
        for kind in ("caxton", "bare"):
            r = results[(kind, n)]
            per = (r["rss_after"] - r["rss_before"]) / n
            anon = (r["anon_after"] - r["anon_before"]) / n
            label = ("caxton deployed echo agents" if kind == "caxton"
                     else "bare wasmtime Store + Func + Instance")
            virt = (r["vm_after"] - r["vm_before"]) / n
            rows.append([label, n, r["rss_before"] / MB, r["rss_after"] / MB, per / 1024,
                         anon / 1024, virt / 1024**3, (r["maps_after"] - r["maps_before"]) / n,
                         n / r["deploy_s"], c.ratio(per, bare_per),
                         c.verdict(per / MB, c.TARGETS["agent_rss_mb"]) if kind == "caxton"
                         else ""])
    print("RSS from /proc/self/status; per agent = (after - before) / N; one fresh process per "
          "row.")
    c.table(["measurement", "agents", "RSS before MB", "RSS after MB", "KiB/agent",
             "anon KiB/agent", "virtual GiB/agent", "mmaps/agent", "created/s", "vs bare",
             "target < 1 MB/agent"], rows)
    lin = results[("caxton", sizes[-1])]["linear_memory_bytes"]
    try:
        max_maps = int(Path("/proc/sys/vm/max_map_count").read_text())
    except (OSError, ValueError):
        max_maps = 0
    print(f"(each echo agent's linear memory is {lin / 1024:.0f} KiB; wasmtime reserves "
          "virtual address space and memory mappings per instance, which cost no RSS but bound "
          f"the agents per process: x86-64 user space is 128 TiB, vm.max_map_count is "
          f"{max_maps:,})")
    idle_n = args.idle_agents if args.idle_agents is not None else (
        1000 if args.quick else 100_000)
    if idle_n:
        _hibernation_table(run_child("hibernated", idle_n))
    print(f"total {time.perf_counter() - t_start:.1f}s")


def _hibernation_table(r: dict[str, float]) -> None:
    n = int(r["n"])
    per = (r["rss_after"] - r["rss_before"]) / n
    print(f"\nHibernation (hibernate_idle_s 0.2): {n:,} idle echo agents, every sandbox dropped "
          f"({int(r['woken'])} woken for the sample below).")
    c.table(["measurement", "value", "target"], [
        ["RSS growth per hibernated agent, KiB", per / 1024,
         c.verdict(per / 1024, 20.0)],
        ["RSS before -> after, MB", f"{r['rss_before'] / MB:.0f} -> {r['rss_after'] / MB:.0f}",
         ""],
        ["memory mappings per agent", (r["maps_after"] - r["maps_before"]) / n, ""],
        ["virtual KiB per agent", (r["vm_after"] - r["vm_before"]) / n / 1024, ""],
        ["deploys per second", n / r["deploy_s"], ""],
        ["agent start (deploy) p50 / p99, ms",
         f"{r['start_p50'] / 1e6:.3f} / {r['start_p99'] / 1e6:.3f}",
         c.verdict(r["start_p50"] / 1e6, 1.0)],
        ["first message to a hibernated agent p50 / p99, us",
         f"{r['wake_p50'] / 1e3:.0f} / {r['wake_p99'] / 1e3:.0f}", ""],
        ["the next message, agent awake, p50 / p99, us",
         f"{r['awake_p50'] / 1e3:.0f} / {r['awake_p99'] / 1e3:.0f}", ""],
    ])


if __name__ == "__main__":
    main()
