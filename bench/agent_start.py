"""Agent start time: AgentHost.deploy() until the agent is RUNNING and routable.

  * cached: the module is already compiled (the engine caches by SHA-256), so a deploy is
    validate + instantiate + init + the durable store write + switch-in. Measured with
    durability "normal" and "full" (the store write waits for its commit; "full" fsyncs).
  * first deploy: a module the engine has not seen (each deploy gets the echo module with a
    distinct custom section, so the hash differs and it is compiled).

Peers in the same run: bare wasmtime — Store + host Func + Instance(...) of the same module
(the floor for a cached start), and Module(...) compilation (the floor for a first deploy).
Also shown: Caxton's own sandbox part (AgentInstance + initialize, no store write).

    python bench/agent_start.py [--quick] [--n N] [--compile-n N]
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import _common as c


def caxton_deploys(wasm: bytes, durability: str, n: int, compile_n: int
                   ) -> dict[str, list[float]]:
    from caxton.config import ServerConfig  # noqa: PLC0415
    from caxton.domain.lifecycle import AgentState  # noqa: PLC0415
    from caxton.domain.limits import ResourceLimits  # noqa: PLC0415
    from caxton.sandbox.instance import AgentInstance  # noqa: PLC0415
    from caxton.server import Runtime  # noqa: PLC0415

    out: dict[str, list[float]] = {"cached": [], "first": [], "sandbox": []}
    limits = ResourceLimits()
    clock = time.perf_counter_ns
    with tempfile.TemporaryDirectory(prefix="caxton-bench-start-") as tmp:
        rt = Runtime.open(ServerConfig(data_dir=Path(tmp), durability=durability, workers=2,
                                       max_total_memory_bytes=2**50))  # thousands of agents
        try:
            deploy = rt.host.deploy
            deploy("warm", wasm, "1.0", limits)  # compiles once; the rest hit the cache
            for i in range(n):
                t0 = clock()
                cell = deploy(f"agent-{i}", wasm, "1.0", limits)
                out["cached"].append(clock() - t0)
                assert cell.state is AgentState.RUNNING
            for i in range(compile_n):
                fresh = c.with_custom_section(wasm, f"{durability}-{i}-{time.time_ns()}")
                t0 = clock()
                cell = deploy(f"fresh-{i}", fresh, "1.0", limits)
                out["first"].append(clock() - t0)
                assert cell.state is AgentState.RUNNING
            compiled = rt.engine.compile(wasm)
            for i in range(n):
                t0 = clock()
                inst = AgentInstance(rt.engine, compiled, name=f"bare-{i}", limits=limits,
                                     services=rt.host)
                inst.initialize()
                out["sandbox"].append(clock() - t0)
                inst.close()
        finally:
            rt.close()
    return out


def bare_wasmtime(wasm: bytes, n: int, compile_n: int) -> dict[str, list[float]]:
    import wasmtime  # noqa: PLC0415

    config = wasmtime.Config()
    config.consume_fuel = True
    config.epoch_interruption = True
    engine = wasmtime.Engine(config)
    module = wasmtime.Module(engine, wasm)
    functype = wasmtime.FuncType([wasmtime.ValType.i32(), wasmtime.ValType.i32()],
                                 [wasmtime.ValType.i32()])

    def reply(ptr: int, length: int) -> int:
        return 0

    out: dict[str, list[float]] = {"instance": [], "compile": []}
    clock = time.perf_counter_ns
    keep = []
    for _ in range(n + 20):
        t0 = clock()
        store = wasmtime.Store(engine)
        instance = wasmtime.Instance(store, module, [wasmtime.Func(store, functype, reply)])
        out["instance"].append(clock() - t0)
        keep.append((store, instance))  # as a host would: agents stay alive
    del out["instance"][:20]
    for i in range(compile_n):
        fresh = c.with_custom_section(wasm, f"bare-{i}-{time.time_ns()}")
        t0 = clock()
        wasmtime.Module(engine, fresh)
        out["compile"].append(clock() - t0)
    return out


def main() -> None:
    p = c.parser(__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, help="cached deploys per durability")
    p.add_argument("--compile-n", type=int, help="first (compiling) deploys per durability")
    args = p.parse_args()
    n = args.n or (50 if args.quick else 500)
    compile_n = args.compile_n or (5 if args.quick else 40)
    c.quiet_logs()
    c.header("agent start", args)
    wasm = c.module_bytes("echo")

    t_start = time.perf_counter()
    runs = {d: caxton_deploys(wasm, d, n, compile_n) for d in ("normal", "full")}
    bare = bare_wasmtime(wasm, n, compile_n)
    stats = {
        "caxton deploy, cached module (durability=normal)": runs["normal"]["cached"],
        "caxton deploy, cached module (durability=full)": runs["full"]["cached"],
        "caxton AgentInstance + initialize (no store)": runs["normal"]["sandbox"],
        "bare wasmtime Store + Func + Instance": bare["instance"],
        "caxton first deploy, compiles (durability=normal)": runs["normal"]["first"],
        "caxton first deploy, compiles (durability=full)": runs["full"]["first"],
        "bare wasmtime Module(...) compile": bare["compile"],
    }
    summ = {k: c.summary(v) for k, v in stats.items()}
    floor_start = summ["bare wasmtime Store + Func + Instance"]
    floor_compile = summ["bare wasmtime Module(...) compile"]
    rows = []
    for name, s in summ.items():
        floor = floor_compile if "compile" in name else floor_start
        rows.append([name, s["n"], s["p50"] / 1e6, s["p90"] / 1e6, s["p99"] / 1e6,
                     1e9 / s["mean"], c.ratio(s["p50"], floor["p50"])])
    print(f"echo.wasm ({len(wasm)} bytes); each agent deployed under a new name. Milliseconds.")
    c.table(["measurement", "n", "p50 ms", "p90 ms", "p99 ms", "per second",
             "p50 / bare wasmtime"], rows)
    cached = summ["caxton deploy, cached module (durability=normal)"]["p50"] / 1e6
    cached_full = summ["caxton deploy, cached module (durability=full)"]["p50"] / 1e6
    print(f"Target: agent start p50 < 10 ms -> durability=normal "
          f"{c.verdict(cached, c.TARGETS['start_p50_ms'])}, durability=full "
          f"{c.verdict(cached_full, c.TARGETS['start_p50_ms'])}")
    print(f"total {time.perf_counter() - t_start:.1f}s")


if __name__ == "__main__":
    main()
