"""Component agents: what crossing the component boundary costs, and echo throughput.

(a) Per call, for one payload crossing the boundary as a WIT ``string`` or as a ``list<u8>``,
    into the guest (an export) and out of it (a host import), through wasmtime-py's generic
    component API ("naive") and through Caxton's raw C-API path (sandbox/_cvals.py). The
    guest is a hand-written WAT component, so the figures are the boundary alone.
(b) Echo messages/s for the Python and JavaScript example components and the WAT echo (a core
    module) in the same run: the sandbox call alone (``handle``), and routed in process
    (Router -> agent -> reply to a client inbox) with 64 requests in flight.
(c) The batch entry point (``handle-batch``, caxton:agent 1.1): the sandbox's CPU per message
    when N queued messages go in one call, against one ``handle`` call each, with the fuel per
    message (deterministic: the guest's own share); and the routed echo of (b) with the
    runtime's batching on and off, in alternating rounds.

Needs the example components (scripts/build-components.sh; built here when missing) and
compiles them once into .cache/compiled-components (the first run on a machine takes a minute
or two; later runs load them in milliseconds).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import wasmtime
import wasmtime.component as wc
from wasmtime import _ffi as ffi

import _common as c
from caxton.sandbox import _cvals as cv
from caxton.sandbox.component_linker import RawCallback, add_raw_func

COMPILED = c.ROOT / ".cache" / "compiled-components"
SINK = "bench:x/sink"
LIFT = '(memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))'
BENCH_WAT = f"""(component
  (import "{SINK}" (instance $sink
    (export "put-string" (func (param "s" string)))
    (export "put-bytes" (func (param "b" (list u8))))))
  (core module $libcm
    (memory (export "memory") 40)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1310720)))
  (core instance $libc (instantiate $libcm))
  (core func $ps (canon lower (func $sink "put-string") (memory (core memory $libc "memory"))))
  (core func $pb (canon lower (func $sink "put-bytes") (memory (core memory $libc "memory"))))
  (core module $m
    (import "libc" "memory" (memory 40))
    (import "sink" "put-string" (func $ps (param i32 i32)))
    (import "sink" "put-bytes" (func $pb (param i32 i32)))
    (func (export "take") (param i32 i32) (result i32) (local.get 1))
    (func (export "call-string") (param $n i32) (param $len i32)
      (loop $l (if (local.get $n) (then
        (call $ps (i32.const 16384) (local.get $len))
        (local.set $n (i32.sub (local.get $n) (i32.const 1))) (br $l)))))
    (func (export "call-bytes") (param $n i32) (param $len i32)
      (loop $l (if (local.get $n) (then
        (call $pb (i32.const 16384) (local.get $len))
        (local.set $n (i32.sub (local.get $n) (i32.const 1))) (br $l))))))
  (core instance $i (instantiate $m (with "libc" (instance $libc))
    (with "sink" (instance (export "put-string" (func $ps)) (export "put-bytes" (func $pb))))))
  (func (export "take-string") (param "s" string) (result u32)
    (canon lift (core func $i "take") {LIFT}))
  (func (export "take-bytes") (param "b" (list u8)) (result u32)
    (canon lift (core func $i "take") {LIFT}))
  (func (export "call-string") (param "n" u32) (param "len" u32)
    (canon lift (core func $i "call-string")))
  (func (export "call-bytes") (param "n" u32) (param "len" u32)
    (canon lift (core func $i "call-bytes"))))"""


# -- (a) the boundary --------------------------------------------------------------------------
def _instance(raw: bool, seen: list[int]) -> tuple[wasmtime.Store, wc.Instance, list[Any]]:
    engine = wasmtime.Engine()
    linker = wc.Linker(engine)
    keep: list[Any] = []
    with linker.root() as root, root.add_instance(SINK) as sink:
        if raw:
            def put_string(_e: Any, _c: Any, _t: Any, args: Any, *_rest: Any) -> int:
                seen.append(len(cv.read_string(args[0])))
                return 0

            def put_bytes(_e: Any, _c: Any, _t: Any, args: Any, *_rest: Any) -> int:
                seen.append(len(cv.read_bytes(args[0])))
                return 0

            keep = [RawCallback(put_string), RawCallback(put_bytes)]
            add_raw_func(sink, "put-string", keep[0])
            add_raw_func(sink, "put-bytes", keep[1])
        else:
            sink.add_func("put-string", lambda _store, s: seen.append(len(s)))
            sink.add_func("put-bytes", lambda _store, b: seen.append(len(b)))
    store = wasmtime.Store(engine)
    component = wc.Component(engine, wasmtime.wat2wasm(BENCH_WAT))
    return store, linker.instantiate(store, component), keep


def _raw_export(store: wasmtime.Store, func: wc.Func, kind: str, payload: bytes
                ) -> Callable[[], int]:
    args, results = (cv.Val * 1)(), (cv.Val * 1)()
    ctx, ref = store._context(), ctypes.byref(func._func)

    def call() -> int:
        if kind == "string":
            cv.borrow_string(args[0], payload)
        else:
            cv.set_bytes(args[0], payload)
        error = ffi.wasmtime_component_func_call(ref, ctx, args, 1, results, 1)
        if kind != "string":
            cv.drop(args[0])
        if error:
            raise wasmtime.WasmtimeError._from_ptr(error)
        return int(results[0].of.u32)

    return call


def boundary(size: int, n: int) -> list[list[object]]:
    """Microseconds per call for each path."""
    text = "x" * size
    data = text.encode()
    rows = []
    for raw in (False, True):
        seen: list[int] = []
        store, inst, _keep = _instance(raw, seen)
        path = "caxton raw C API" if raw else "wasmtime-py naive"
        for kind in ("string", "bytes"):
            func = inst.get_func(store, f"take-{kind}")
            assert func is not None
            if raw:
                call = _raw_export(store, func, kind, data)
            else:
                arg: Any = text if kind == "string" else data
                call = lambda f=func, a=arg, st=store: f(st, a)  # noqa: E731
            assert call() == size
            t0 = time.perf_counter()
            for _ in range(n):
                call()
            export_us = (time.perf_counter() - t0) / n * 1e6
            caller = inst.get_func(store, f"call-{kind}")
            assert caller is not None
            seen.clear()
            t0 = time.perf_counter()
            caller(store, n, size)  # the guest calls the host n times
            import_us = (time.perf_counter() - t0) / n * 1e6
            assert seen == [size] * n
            wit = "string" if kind == "string" else "list<u8>"
            rows.append([f"{path}: {wit}", size, export_us, import_us])
    return rows


# -- (b) echo ----------------------------------------------------------------------------------
def _components() -> dict[str, bytes]:
    paths = {"python echo (component)": c.ROOT / "examples/agents/python/echo.wasm",
             "javascript echo (component)": c.ROOT / "examples/agents/javascript/echo.wasm"}
    if not all(p.exists() for p in paths.values()):
        subprocess.run(["bash", str(c.ROOT / "scripts" / "build-components.sh")], check=True,
                       env={**os.environ, "PYTHON": sys.executable})
    out = {"wat echo (core module)": c.module_bytes("echo")}
    out.update({label: p.read_bytes() for label, p in paths.items()})
    return out


def sandbox_echo(agents: dict[str, bytes], n: int) -> list[list[object]]:
    from caxton.domain.acl import AclMessage, Performative  # noqa: PLC0415
    from caxton.domain.limits import ResourceLimits  # noqa: PLC0415
    from caxton.sandbox import loader  # noqa: PLC0415
    from caxton.sandbox.engine import SandboxEngine  # noqa: PLC0415

    class Quiet:
        def state_read(self, agent: str, key: str) -> bytes | None:
            return None

        def agent_log(self, agent: str, level: int, text: str) -> None:
            return None

    engine = SandboxEngine(cache_dir=COMPILED)
    rows = []
    for label, wasm in agents.items():
        t0 = time.perf_counter()
        compiled = engine.compile(wasm)
        load_s = time.perf_counter() - t0
        inst = loader.instantiate(engine, compiled, name="echo", limits=ResourceLimits(),
                                  services=Quiet())
        inst.initialize()
        times, fuel = [], 0
        for i in range(n + n // 10):
            msg = AclMessage(performative=Performative.REQUEST, sender="client",
                             receiver=("echo",), content={"n": i}, conversation_id="c1")
            t = time.perf_counter_ns()
            outcome = inst.handle(msg)
            if i >= n // 10:
                times.append(time.perf_counter_ns() - t)
                fuel += outcome.fuel_used
            assert outcome.ok and outcome.sends[0].content == {"n": i}, outcome
        inst.close()
        s = c.summary(times)
        rows.append([label, len(wasm), load_s, s["p50"] / 1e3, s["p99"] / 1e3,
                     1e9 / s["mean"], fuel // n])
    return rows


def _pump(rt: Any, agent: str, client: str, n: int, inflight: int) -> float:
    """Messages/s of ``n`` requests to ``agent``, ``inflight`` at a time, until every reply."""
    from caxton.domain.acl import AclMessage, Performative  # noqa: PLC0415
    from caxton.router.local import ClientInbox  # noqa: PLC0415

    slots = threading.Semaphore(inflight)
    done = threading.Event()
    got = [0]

    def on_reply(_msg: AclMessage) -> None:
        got[0] += 1
        slots.release()
        if got[0] == n:
            done.set()

    rt.router.register(client, ClientInbox(on_reply))
    t0 = time.perf_counter()
    for i in range(n):
        slots.acquire()
        rt.router.route(AclMessage(performative=Performative.REQUEST, sender=client,
                                   receiver=(agent,), content={"n": i}))
    if not done.wait(120):
        raise RuntimeError(f"{agent}: {got[0]} of {n} replies")
    return n / (time.perf_counter() - t0)


def routed_echo(agents: dict[str, bytes], n: int, inflight: int = 64) -> list[list[object]]:
    from caxton.config import ServerConfig  # noqa: PLC0415
    from caxton.domain.limits import ResourceLimits  # noqa: PLC0415
    from caxton.server import Runtime  # noqa: PLC0415

    rows: list[list[object]] = []
    with tempfile.TemporaryDirectory(prefix="caxton-bench-") as tmp:
        shutil.copytree(COMPILED, Path(tmp) / "compiled", dirs_exist_ok=True)
        rt = Runtime.open(ServerConfig(data_dir=Path(tmp), durability="normal", workers=2))
        try:
            for k, (label, wasm) in enumerate(agents.items()):
                rt.host.deploy(f"echo{k}", wasm, "1.0", ResourceLimits())
                rate = _pump(rt, f"echo{k}", f"bench-client-{k}", n, inflight)
                rows.append([label, n, rate])
        finally:
            rt.close()
    return rows


# -- (c) batches ------------------------------------------------------------------------------
BATCH_SIZES = (1, 2, 3, 4, 8, 16, 32, 64)


def sandbox_batches(agents: dict[str, bytes], rounds: int) -> list[list[object]]:
    """Per component: CPU microseconds and fuel per message, handle (N=1) or N per call.

    CPU time of this thread, not wall time: on a shared 2-core machine the wall clock mostly
    measures the neighbours. Median over rounds; the sizes alternate within each round.
    """
    from caxton.domain.acl import AclMessage, Performative  # noqa: PLC0415
    from caxton.domain.limits import ResourceLimits  # noqa: PLC0415
    from caxton.sandbox import loader  # noqa: PLC0415
    from caxton.sandbox.engine import SandboxEngine  # noqa: PLC0415

    class Quiet:
        def state_read(self, agent: str, key: str) -> bytes | None:
            return None

        def agent_log(self, agent: str, level: int, text: str) -> None:
            return None

    from caxton.sandbox import component  # noqa: PLC0415

    engine = SandboxEngine(cache_dir=COMPILED)
    total = 192  # messages per size and round (a multiple of every size)
    # The sandbox hands fewer than MIN_BATCH messages to handle; here every N is measured (the
    # figures are what MIN_BATCH rests on).
    min_batch, component.MIN_BATCH = component.MIN_BATCH, 2
    rows = []
    for label, wasm in agents.items():
        if "component" not in label:
            continue
        inst = loader.instantiate(engine, engine.compile(wasm), name="echo",
                                  limits=ResourceLimits(), services=Quiet())
        inst.initialize()
        if not inst.batched:
            rows.append([label, "no handle-batch export", *["-"] * (len(BATCH_SIZES) * 2 - 1)])
            continue
        msgs = [AclMessage(performative=Performative.REQUEST, sender="client",
                           receiver=("echo",), content={"n": i}, conversation_id=f"c{i}")
                for i in range(total)]
        for msg in msgs:  # warm-up
            assert inst.handle(msg).ok
        cpu: dict[int, list[float]] = {n: [] for n in BATCH_SIZES}
        fuel: dict[int, int] = {}
        for _ in range(rounds):
            for n in BATCH_SIZES:
                t0, used = time.thread_time_ns(), 0
                for k in range(0, total, n):
                    if n == 1:
                        outcomes = [inst.handle(msgs[k])]
                    else:
                        outcomes = inst.handle_batch(msgs[k:k + n]).outcomes
                        assert len(outcomes) == n, (label, n, len(outcomes))
                    assert all(o.ok for o in outcomes)
                    used += sum(o.fuel_used for o in outcomes)
                cpu[n].append((time.thread_time_ns() - t0) / total / 1e3)
                fuel[n] = used // total
        inst.close()
        med = {n: sorted(v)[len(v) // 2] for n, v in cpu.items()}
        rows.append([label, *(f"{med[n]:.1f}" for n in BATCH_SIZES),
                     *(f"{fuel[n] / 1e3:.0f}k" for n in BATCH_SIZES)])
    component.MIN_BATCH = min_batch
    return rows


def routed_batching(agents: dict[str, bytes], n: int, rounds: int,
                    inflight: int = 64) -> list[list[object]]:
    """(b2)'s routed echo per component with the runtime's batching on and off (its
    ``batching`` hook), rounds alternating: messages/s and the process's CPU per message."""
    from caxton.config import ServerConfig  # noqa: PLC0415
    from caxton.domain.limits import ResourceLimits  # noqa: PLC0415
    from caxton.server import Runtime  # noqa: PLC0415

    rows: list[list[object]] = []
    with tempfile.TemporaryDirectory(prefix="caxton-bench-") as tmp:
        shutil.copytree(COMPILED, Path(tmp) / "compiled", dirs_exist_ok=True)
        rt = Runtime.open(ServerConfig(data_dir=Path(tmp), durability="normal", workers=2))
        try:
            batching = rt.host.batching
            names = {label: f"echo{k}" for k, label in enumerate(agents)
                     if "component" in label}
            for label, name in names.items():
                rt.host.deploy(name, agents[label], "1.0", ResourceLimits())
            seen: dict[tuple[str, bool], list[tuple[float, float, int]]] = {}
            for r in range(rounds):
                for label, name in names.items():
                    for on in (False, True):
                        rt.host.batching = batching if on else (lambda _cell: False)
                        stats = rt.host.get(name).stats
                        before, c0 = stats.batched_messages, time.process_time()
                        rate = _pump(rt, name, f"bench-client-{name}-{on}-{r}", n, inflight)
                        cpu_us = (time.process_time() - c0) / n * 1e6
                        seen.setdefault((label, on), []).append(
                            (rate, cpu_us, stats.batched_messages - before))
            rt.host.batching = batching
            for label in names:
                off, on = (sorted(seen[(label, b)]) for b in (False, True))
                mid = rounds // 2
                rows.append([label, f"{off[mid][0]:.0f}", f"{on[mid][0]:.0f}",
                             c.ratio(on[mid][0], off[mid][0]), f"{off[mid][1]:.0f}",
                             f"{on[mid][1]:.0f}", sum(x[2] for x in seen[(label, True)])])
        finally:
            rt.close()
    return rows


def main() -> None:
    args = c.parser(__doc__.splitlines()[0]).parse_args()
    c.header("component agents", args)
    c.quiet_logs()
    n_calls, n_echo, n_routed = (300, 300, 500) if args.quick else (3000, 3000, 5000)
    t_start = time.perf_counter()
    print("(a) one payload across the component boundary, microseconds per call: into the "
          "guest (an export's argument) and out of it (a host import's argument)")
    sizes = [(1024, n_calls), (65536, n_calls // 30)]
    if not args.quick:
        sizes.append((1024 * 1024, 3))
    rows = [row for size, n in sizes for row in boundary(size, max(n, 3))]
    c.table(["path: WIT type", "bytes", "export us", "import us"], rows)
    agents = _components()
    print(f"(b1) echo, the sandbox call alone ({n_echo} messages after warm-up; 'load s' is "
          "compile or cache load)")
    rows = sandbox_echo(agents, n_echo)
    wat_rate = rows[0][5]
    c.table(["agent", "bytes", "load s", "p50 us", "p99 us", "msgs/s", "fuel/msg",
             "vs wat"], [[*r, c.ratio(float(str(r[5])), float(str(wat_rate)))] for r in rows])
    print(f"(b2) echo routed in process: {n_routed} requests, 64 in flight, client -> agent -> "
          "client (message log on, durability normal)")
    rows = routed_echo(agents, n_routed)
    wat_rate = rows[0][2]
    c.table(["agent", "messages", "msgs/s", "vs wat"],
            [[*r, c.ratio(float(str(r[2])), float(str(wat_rate)))] for r in rows])
    rounds = 3 if args.quick else 15
    print(f"(c1) the sandbox call with N messages per handle-batch call (N=1: handle), CPU us "
          f"per message (this thread, median of {rounds} rounds of 192 messages) and fuel per "
          "message")
    c.table(["agent", *(f"N={n} us" for n in BATCH_SIZES), *(f"N={n} fuel" for n in BATCH_SIZES)],
            sandbox_batches(agents, rounds))
    n_batch, r_batch = (300, 1) if args.quick else (3000, 3)
    print(f"(c2) echo routed in process as (b2), {n_batch} requests a round, batching off and on "
          f"in alternating rounds (median of {r_batch}); CPU is the whole process's per message")
    c.table(["agent", "off msgs/s", "on msgs/s", "on/off", "off CPU us", "on CPU us",
             "batched"], routed_batching(agents, n_batch, r_batch))
    print(f"total {time.perf_counter() - t_start:.1f}s")


if __name__ == "__main__":
    main()
