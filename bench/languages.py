"""Agents in every SDK language, side by side: the echo agent of each, measured in one run.

Per language (examples/agents/<language>/echo*, built by scripts/build-examples.sh):

  * module size;
  * build: compiling the echo agent and its SDK from source into a scratch folder with the
    flags of build-examples.sh (sources copied with a unique comment, so no compiler cache
    answers), while the toolchain's own libraries stay cached as on a developer's machine (Go's
    standard library, Zig's compiler_rt, Rust's std);
  * first deploy: AgentHost.deploy() of a module the engine has not compiled yet (wasmtime
    compiles it: this is where Go's 2 MB runtime shows);
  * start: AgentHost.deploy() of the cached module until it is RUNNING (p50);
  * handle: one AgentInstance.handle() call with a small message, sandbox only (p50);
  * msgs/s: client -> echo -> client through the router, in process, with a window of requests
    in flight, until the last reply (2 routed messages per request); the median of rounds that
    visit every language in turn.

Peer in the same run: the WAT echo (examples/agents/wat/echo.wat), which needs no SDK and no
JSON parsing; the last column is each language's throughput relative to it.

    python bench/languages.py [--quick] [--requests N] [--no-build] [--languages c,rust,...]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import _common as c

ROOT = c.ROOT
AGENTS = ROOT / "examples" / "agents"
SDK = ROOT / "sdk"
CLIENT = "_client-bench"

# language -> (built module, build-examples.sh language)
ECHOES = {
    "wat (peer)": ("wat/echo.wasm", "wat"),
    "c (bare ABI)": ("c/echo.wasm", "c"),
    "c (SDK)": ("c/echo_sdk.wasm", "c"),
    "rust": ("rust/echo.wasm", "rust"),
    "zig": ("zig/echo.wasm", "zig"),
    "go": ("go/echo.wasm", "go"),
    "assemblyscript": ("assemblyscript/echo.wasm", "assemblyscript"),
}


def toolchains() -> dict[str, str]:
    """ZIG, CARGO, RUSTC, GO, ASC as scripts/toolchains.sh finds them (empty when missing)."""
    script = ('ROOT="$PWD" PY="$1"; source scripts/toolchains.sh; tc_zig; tc_rust; tc_go; '
              'tc_asc; printf "ZIG=%s\\nCARGO=%s\\nRUSTC=%s\\nGO=%s\\nASC=%s\\n" '
              '"${ZIG:-}" "${CARGO:-}" "${RUSTC:-}" "${GO:-}" "${ASC:-}"')
    out = subprocess.run(["bash", "-c", script, "bash", sys.executable], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines())


def _copy(src: Path, dst: Path, nonce: str, comment: str) -> Path:
    """Copy src to dst with a unique comment at the end, so no compiler cache can answer."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(src.read_text(encoding="utf-8") + f"\n{comment} bench {nonce}\n",
                   encoding="utf-8")
    return dst


def build_command(lang: str, tc: dict[str, str], tmp: Path
                  ) -> tuple[list[str], Path, dict[str, str]]:
    """(argv, cwd, extra env) compiling this language's echo and its SDK into tmp with the flags
    of build-examples.sh. Sources are copied with a unique comment, so the agent and the SDK are
    really compiled, while the toolchain's own libraries (Go's standard library, Zig's
    compiler_rt, Rust's std) stay cached as they would on a developer's machine."""
    zig = tc["ZIG"].split()
    out = str(tmp / "echo.wasm")
    nonce = str(time.time_ns())
    if lang == "wat (peer)":
        code = ("import sys, wasmtime; open(sys.argv[2], 'wb').write("
                "wasmtime.wat2wasm(open(sys.argv[1]).read()))")
        return [sys.executable, "-c", code, str(AGENTS / "wat/echo.wat"), out], ROOT, {}
    c_flags = ["cc", "--target=wasm32-freestanding", "-O2", "-nostdlib", "-ffreestanding",
               "-fno-sanitize=all", "-Wl,--no-entry", "-Wl,--export=handle",
               "-Wl,--export=alloc", "-Wl,-z,stack-size=65536", "-Wl,--strip-all"]
    if lang == "c (bare ABI)":
        src = _copy(AGENTS / "c/echo.c", tmp / "echo.c", nonce, "//")
        return [*zig, *c_flags, str(src), "-o", out], tmp, {}
    if lang == "c (SDK)":
        shutil.copy(SDK / "c/caxton.h", tmp / "caxton.h")
        srcs = [_copy(AGENTS / "c/echo_sdk.c", tmp / "echo_sdk.c", nonce, "//"),
                _copy(SDK / "c/caxton.c", tmp / "caxton.c", nonce, "//")]
        return [*zig, *c_flags, f"-I{tmp}", *map(str, srcs), "-o", out], tmp, {}
    if lang == "rust":  # a fresh target folder: the SDK crate and the agent are compiled
        return [tc["CARGO"], "build", "--quiet", "--offline", "--release", "-p", "echo",
                "--target", "wasm32-unknown-unknown"], AGENTS / "rust", {
                    "CARGO_TARGET_DIR": str(tmp / "target"), "RUSTC": tc["RUSTC"]}
    if lang == "zig":
        _copy(AGENTS / "zig/echo.zig", tmp / "echo.zig", nonce, "//")
        _copy(SDK / "zig/caxton.zig", tmp / "caxton.zig", nonce, "//")
        return [*zig, "build-exe", "-target", "wasm32-freestanding", "-fno-entry", "-rdynamic",
                "-O", "ReleaseSmall", "-fstrip", "--dep", "caxton", "-Mroot=echo.zig",
                "-Mcaxton=caxton.zig", f"-femit-bin={out}"], tmp, {}
    if lang == "go":
        for name in ("go.mod", "caxton.go", "json.go"):
            _copy(SDK / "go" / name, tmp / "sdk" / name, nonce, "//")
        _copy(AGENTS / "go/echo/main.go", tmp / "app/echo/main.go", nonce, "//")
        (tmp / "app/go.mod").write_text(
            "module examples\n\ngo 1.24\n\nrequire caxton v0.0.0\n\nreplace caxton => ../sdk\n")
        return [tc["GO"], "build", "-buildmode=c-shared", "-trimpath", "-ldflags=-s", "-o", out,
                "./echo"], tmp / "app", {"GOTOOLCHAIN": "local", "GOPROXY": "off",
                                         "GOWORK": "off", "GOOS": "wasip1", "GOARCH": "wasm"}
    if lang == "assemblyscript":
        _copy(AGENTS / "assemblyscript/echo.ts", tmp / "a/b/c/echo.ts", nonce, "//")
        _copy(SDK / "assemblyscript/caxton.ts", tmp / "sdk/assemblyscript/caxton.ts", nonce,
              "//")
        return [tc["ASC"], "echo.ts", "-O3", "--runtime", "incremental", "--use",
                "abort=../../../sdk/assemblyscript/caxton/caxtonAbort", "-o", out], \
            tmp / "a/b/c", {}
    raise ValueError(lang)


def available(lang: str, tc: dict[str, str]) -> bool:
    need = {"c (bare ABI)": "ZIG", "c (SDK)": "ZIG", "zig": "ZIG", "rust": "CARGO", "go": "GO",
            "assemblyscript": "ASC"}.get(lang)
    return need is None or bool(tc.get(need))


def time_build(lang: str, tc: dict[str, str], repeats: int) -> float:
    """Median seconds to compile the echo agent from source (toolchain caches warm)."""
    times = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="caxton-bench-build-") as tmp:
            argv, cwd, env = build_command(lang, tc, Path(tmp))
            t0 = time.perf_counter()
            subprocess.run(argv, cwd=cwd, env={**os.environ, **env}, check=True,
                           capture_output=True, timeout=300)
            times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def measure(modules: dict[str, bytes], requests: int, window: int, starts: int,
            handles: int, first_deploys: int, rounds: int) -> dict[str, dict[str, float]]:
    """Deploy, start, handle and pipeline figures for each module, in one runtime."""
    from caxton.config import ServerConfig  # noqa: PLC0415
    from caxton.domain.acl import AclMessage, Performative  # noqa: PLC0415
    from caxton.domain.limits import ResourceLimits  # noqa: PLC0415
    from caxton.router.local import ClientInbox  # noqa: PLC0415
    from caxton.sandbox.instance import AgentInstance  # noqa: PLC0415
    from caxton.server import Runtime  # noqa: PLC0415

    out: dict[str, dict[str, float]] = {}
    limits = ResourceLimits()
    clock = time.perf_counter_ns
    with tempfile.TemporaryDirectory(prefix="caxton-bench-lang-") as tmp:
        rt = Runtime.open(ServerConfig(data_dir=Path(tmp), durability="normal", workers=2))
        try:
            replies = {"n": 0, "target": 0, "wrong": 0}
            lock = threading.Lock()
            slots = threading.Semaphore(window)
            finished = threading.Event()

            def on_reply(msg: AclMessage) -> None:
                with lock:
                    replies["n"] += 1
                    if msg.performative is not Performative.INFORM:
                        replies["wrong"] += 1
                    done = replies["n"] == replies["target"]
                slots.release()
                if done:
                    finished.set()

            rt.router.register(CLIENT, ClientInbox(on_reply))

            def pipeline(agent: str, count: int) -> float:
                with lock:
                    replies["n"], replies["target"] = 0, count
                finished.clear()
                t0 = time.perf_counter()
                for i in range(count):
                    if not slots.acquire(timeout=30):
                        raise RuntimeError(f"{agent}: no reply for 30 s")
                    rt.router.route(AclMessage(
                        performative=Performative.REQUEST, sender=CLIENT, receiver=(agent,),
                        content={"n": i, "text": "hello, agent"}, conversation_id=f"c{i}"))
                if not finished.wait(120):
                    raise RuntimeError(f"{agent}: {replies['n']} of {count} replies in 120 s")
                return time.perf_counter() - t0

            for k, (lang, wasm) in enumerate(modules.items()):
                fig: dict[str, float] = {}
                agent = f"echo-{k}"
                firsts = []
                for i in range(first_deploys):
                    fresh = c.with_custom_section(wasm, f"{lang}-{i}-{time.time_ns()}")
                    name = agent if i == first_deploys - 1 else f"{agent}-first-{i}"
                    t0 = clock()
                    rt.host.deploy(name, fresh, "1.0", limits)
                    firsts.append(clock() - t0)
                fig["first_ms"] = c.percentile(sorted(firsts), 50) / 1e6
                deploys = []
                for i in range(starts):
                    t0 = clock()
                    rt.host.deploy(f"{agent}-start-{i}", fresh, "1.0", limits)
                    deploys.append(clock() - t0)
                fig["start_ms"] = c.percentile(sorted(deploys), 50) / 1e6
                for i in range(starts):
                    rt.host.remove(f"{agent}-start-{i}")

                direct = AgentInstance(rt.engine, rt.engine.compile(fresh), name=f"{agent}-d",
                                       limits=limits, services=rt.host)
                direct.initialize()
                lat = []
                for i in range(handles + 50):
                    msg = AclMessage(performative=Performative.REQUEST, sender=CLIENT,
                                     receiver=(agent,), content={"n": i, "text": "hello, agent"},
                                     conversation_id="c1")
                    t0 = clock()
                    outcome = direct.handle(msg)
                    if i >= 50:
                        lat.append(clock() - t0)
                assert outcome.ok and outcome.sends[0].content == {"n": handles + 49,
                                                                   "text": "hello, agent"}
                direct.close()
                fig["handle_us"] = c.percentile(sorted(lat), 50) / 1e3

                out[lang] = fig

            # Throughput: rounds that visit every language in turn, after a warm-up of each, so
            # that no language is favoured by coming later (warmer caches, settled writer).
            agents = {lang: f"echo-{k}" for k, lang in enumerate(modules)}
            for agent in agents.values():
                pipeline(agent, min(500, requests))
            rates: dict[str, list[float]] = {lang: [] for lang in modules}
            per_round = max(1, requests // rounds)
            for _ in range(rounds):
                for lang, agent in agents.items():
                    rates[lang].append(2 * per_round / pipeline(agent, per_round))
            if replies["wrong"]:
                raise RuntimeError(f"{replies['wrong']} replies were not inform")
            for lang, values in rates.items():
                out[lang]["msgs_s"] = sorted(values)[len(values) // 2]
        finally:
            rt.close()
    return out


def main() -> None:
    p = c.parser(__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, help="requests per language in the pipeline")
    p.add_argument("--window", type=int, default=64, help="requests in flight (default 64)")
    p.add_argument("--no-build", action="store_true", help="skip timing the builds")
    p.add_argument("--languages", help="comma-separated subset of: " + ", ".join(ECHOES))
    args = p.parse_args()
    requests = args.requests or (1000 if args.quick else 10000)
    starts = 5 if args.quick else 30
    handles = 300 if args.quick else 3000
    repeats = 1 if args.quick else 3
    rounds = 1 if args.quick else 5
    c.quiet_logs()
    c.header("agents by language: echo", args)

    wanted = list(ECHOES)
    if args.languages:
        picked = {x.strip() for x in args.languages.split(",")}
        wanted = [k for k in ECHOES if k in picked or k.split()[0] in picked]
        wanted = wanted if "wat (peer)" in wanted else ["wat (peer)", *wanted]
    tc = toolchains()
    t_start = time.perf_counter()
    skipped = [k for k in wanted if not available(k, tc)]
    langs = [k for k in wanted if k not in skipped]
    subprocess.run(["bash", str(ROOT / "scripts" / "build-examples.sh"),
                    *sorted({ECHOES[k][1] for k in langs})],
                   check=True, env={**os.environ, "PYTHON": sys.executable},
                   stdout=subprocess.DEVNULL)
    modules = {k: (AGENTS / ECHOES[k][0]).read_bytes() for k in langs}

    builds: dict[str, float] = {}
    if not args.no_build:
        for k in langs:
            builds[k] = time_build(k, tc, repeats)
    figures = measure(modules, requests, args.window, starts, handles, repeats, rounds)

    peer = figures["wat (peer)"]
    print(f"Echo agents. build: agent + SDK from source, toolchain libraries cached (median of "
          f"{repeats}); first deploy: compiles the module (median of {repeats}); start: deploy "
          f"of the cached module, p50 of {starts}; handle: one AgentInstance.handle() call, "
          f"p50 of {handles}; msgs/s: {requests} requests through the router with "
          f"{args.window} in flight (2 messages each), median of {rounds} rounds that visit "
          "every language in turn, durability=normal.")
    rows: list[list[object]] = []
    for k in langs:
        f = figures[k]
        rows.append([k, len(modules[k]) / 1024, builds.get(k, float("nan")), f["first_ms"],
                     f["start_ms"], f["handle_us"], f["msgs_s"],
                     c.ratio(f["msgs_s"], peer["msgs_s"])])
    c.table(["language", "module KiB", "build s", "first deploy ms", "start ms",
             "handle us", "msgs/s", "msgs/s vs wat"], rows)
    for k in skipped:
        print(f"{k}: skipped, toolchain missing (scripts/install-toolchains.sh installs it)")
    versions = subprocess.run(
        ["bash", "-c", 'ROOT="$PWD" PY="$1"; source scripts/toolchains.sh; tc_zig && echo "zig '
         '$(tc_version zig)"; tc_rust && tc_version rust; tc_go && tc_version go; tc_asc && '
         'echo "assemblyscript $(tc_version asc)"', "bash", sys.executable],
        check=False, cwd=ROOT, capture_output=True, text=True).stdout.split("\n")
    print("toolchains: " + "; ".join(v for v in versions if v))
    print(f"total {time.perf_counter() - t_start:.1f}s")


if __name__ == "__main__":
    main()
