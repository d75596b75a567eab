"""Echo round trip: a request to the echo agent and its `inform` back, one at a time.

(a) in process: Router.route() of a request to `echo`, until the reply reaches a ClientInbox
    callback and wakes the sending thread (threading.Event). Microseconds.
(b) over REST: POST /api/v1/messages?wait=true against a real `caxton server start` subprocess
    with an httpx keep-alive client, sending the admin API key the server wrote to
    ``<data-dir>/admin.token`` (authentication is on, the default). Milliseconds.

Peers measured in the same run:
  * naive embedding: wasmtime-py Func.__call__ into the same echo.wasm, with `caxton.reply`
    defined as a wasmtime.Func (the usual way), JSON in and out, on the calling thread;
  * Caxton's own sandbox call (AgentInstance.handle) on the calling thread, no routing;
  * the floor of a cross-thread hand-off: queue.SimpleQueue ping-pong between two threads, and
    SimpleQueue there + threading.Event back (the shape of (a));
  * for REST: a bare Starlette app on uvicorn that echoes the JSON body (the HTTP stack alone);
  * a Ray actor echo, when `import ray` works (it is not a Caxton dependency).
A diagnostic row repeats (a) with the store's message log replaced by a no-op (bench only; not
a Caxton mode) to show what logging every message costs the round trip.

    python bench/echo_roundtrip.py [--quick] [--n N] [--rest-n N] [--no-rest]
"""

from __future__ import annotations

import base64
import os
import queue
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

import _common as c

if TYPE_CHECKING:
    import httpx

CLIENT = "_client-bench"


# -- peers -------------------------------------------------------------------------------------
def simplequeue_pingpong(n: int) -> list[float]:
    """Round trip of an int through two SimpleQueues and a second thread (ns)."""
    there: queue.SimpleQueue[int | None] = queue.SimpleQueue()
    back: queue.SimpleQueue[int] = queue.SimpleQueue()

    def echo() -> None:
        while (item := there.get()) is not None:
            back.put(item)

    thread = threading.Thread(target=echo, daemon=True)
    thread.start()
    out: list[float] = []
    clock = time.perf_counter_ns
    for i in range(n):
        t0 = clock()
        there.put(i)
        back.get()
        out.append(clock() - t0)
    there.put(None)
    thread.join(5)
    return out


def simplequeue_event(n: int) -> list[float]:
    """SimpleQueue to a worker thread, threading.Event back: the hand-offs of (a), nothing else."""
    there: queue.SimpleQueue[int | None] = queue.SimpleQueue()
    done = threading.Event()

    def worker() -> None:
        while there.get() is not None:
            done.set()

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    out: list[float] = []
    clock = time.perf_counter_ns
    for i in range(n):
        done.clear()
        t0 = clock()
        there.put(i)
        done.wait(5)
        out.append(clock() - t0)
    there.put(None)
    thread.join(5)
    return out


def naive_wasmtime(wasm: bytes, n: int) -> list[float]:
    """wasmtime-py the usual way: Func.__call__, host function as wasmtime.Func (ns per call).

    Same work per message as the runtime's sandbox call: serialise the message to JSON, write it
    into the agent's memory, call `handle`, and in `reply` read the bytes and parse the JSON.
    Fuel is armed before each call, as a sandboxing host must.
    """
    import wasmtime  # noqa: PLC0415

    config = wasmtime.Config()
    config.consume_fuel = True
    engine = wasmtime.Engine(config)
    store = wasmtime.Store(engine)
    module = wasmtime.Module(engine, wasm)
    replies: list[object] = []

    def reply(caller: wasmtime.Caller, ptr: int, length: int) -> int:
        memory = caller["memory"]
        assert isinstance(memory, wasmtime.Memory)
        replies.append(orjson.loads(memory.read(caller, ptr, ptr + length)))
        return 0

    functype = wasmtime.FuncType([wasmtime.ValType.i32(), wasmtime.ValType.i32()],
                                 [wasmtime.ValType.i32()])
    host = wasmtime.Func(store, functype, reply, access_caller=True)
    instance = wasmtime.Instance(store, module, [host])
    exports = instance.exports(store)
    memory, alloc, handle = exports["memory"], exports["alloc"], exports["handle"]
    assert isinstance(memory, wasmtime.Memory)
    assert isinstance(alloc, wasmtime.Func) and isinstance(handle, wasmtime.Func)
    store.set_fuel(50_000_000)
    inbox = alloc(store, 4096)  # one buffer, reused (as the ABI says the host does)
    out: list[float] = []
    clock = time.perf_counter_ns
    for i in range(n):
        msg = _message_dict(i)
        t0 = clock()
        data = orjson.dumps(msg)
        store.set_fuel(50_000_000)
        memory.write(store, data, inbox)
        rc = handle(store, inbox, len(data))
        out.append(clock() - t0)
        assert rc == 0
    assert len(replies) == n and replies[-1]["content"] == {"n": n - 1}  # type: ignore[index]
    return out


def _message_dict(i: int) -> dict[str, object]:
    # What AclMessage.to_dict() gives for the in-process request (ids are 32 hex digits).
    return {
        "message_id": os.urandom(16).hex(), "performative": "request", "sender": CLIENT,
        "receiver": ["echo"], "conversation_id": "c1",
        "timestamp": "2026-01-01T00:00:00.000000Z", "content": {"n": i},
    }


def ray_echo(n: int) -> tuple[list[float] | None, str]:
    try:
        import ray  # noqa: PLC0415
    except ImportError:
        return None, ("`import ray` failed. Ray is not a Caxton dependency and was not installed "
                      "here: on 2026-11-23 `pip install ray` meant ray 2.60.0, a 79 MB wheel that "
                      "unpacks to 202 MB, over this benchmark's 200 MB budget")
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    try:
        @ray.remote
        class Echo:
            def handle(self, content: object) -> object:
                return content

        actor = Echo.remote()  # type: ignore[attr-defined]
        for i in range(min(n, 200)):
            ray.get(actor.handle.remote({"n": i}))
        out: list[float] = []
        clock = time.perf_counter_ns
        for i in range(n):
            t0 = clock()
            ray.get(actor.handle.remote({"n": i}))
            out.append(clock() - t0)
        return out, f"ray {ray.__version__}"
    finally:
        ray.shutdown()


# -- Caxton in process -------------------------------------------------------------------------
def caxton_in_process(wasm: bytes, n: int, warmup: int, *, message_log: bool = True,
                      durability: str = "normal"
                      ) -> tuple[list[float], list[float], dict[str, int]]:
    """(route→reply latencies, AgentInstance.handle latencies, info) in ns.

    ``message_log=False`` is a diagnostic, not a mode Caxton offers: it replaces the store's
    message_statements with a no-op to show what the message log costs the round trip.
    """
    from caxton.config import ServerConfig  # noqa: PLC0415
    from caxton.domain.acl import AclMessage, Performative  # noqa: PLC0415
    from caxton.domain.limits import ResourceLimits  # noqa: PLC0415
    from caxton.router.local import ClientInbox  # noqa: PLC0415
    from caxton.sandbox.instance import AgentInstance  # noqa: PLC0415
    from caxton.server import Runtime  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="caxton-bench-") as tmp:
        rt = Runtime.open(ServerConfig(data_dir=Path(tmp), durability=durability, workers=2))
        try:
            rt.host.deploy("echo", wasm, "1.0", ResourceLimits())
            if not message_log:
                rt.store.message_statements = lambda msg, durable: []  # type: ignore[method-assign]
            arrived = threading.Event()
            last: list[AclMessage] = []

            def on_reply(msg: AclMessage) -> None:
                last.append(msg)
                arrived.set()

            rt.router.register(CLIENT, ClientInbox(on_reply))
            routed: list[float] = []
            clock = time.perf_counter_ns
            route = rt.router.route
            for i in range(warmup + n):
                msg = AclMessage(performative=Performative.REQUEST, sender=CLIENT,
                                 receiver=("echo",), content={"n": i}, conversation_id="c1")
                arrived.clear()
                t0 = clock()
                route(msg)
                if not arrived.wait(5):
                    raise RuntimeError(f"no reply to message {i} within 5 s")
                if i >= warmup:
                    routed.append(clock() - t0)
            assert last[-1].content == {"n": warmup + n - 1}, last[-1]
            assert len(last) == warmup + n

            # The same sandbox call on this thread, without router, scheduler or store.
            direct = AgentInstance(rt.engine, rt.engine.compile(wasm), name="echo-direct",
                                   limits=ResourceLimits(), services=rt.host)
            direct.initialize()
            handled: list[float] = []
            for i in range(warmup + n):
                msg = AclMessage(performative=Performative.REQUEST, sender=CLIENT,
                                 receiver=("echo",), content={"n": i}, conversation_id="c1")
                t0 = clock()
                outcome = direct.handle(msg)
                if i >= warmup:
                    handled.append(clock() - t0)
            assert outcome.ok and outcome.sends[0].content == {"n": warmup + n - 1}
            direct.close()
            rt.store.writer.barrier().result(30)
            info = {"commits": rt.store.writer.commits, "routed": rt.router.routed}
        finally:
            rt.close()
    return routed, handled, info


# -- REST --------------------------------------------------------------------------------------
_HTTP_FLOOR_APP = textwrap.dedent("""
    import socket, sys, orjson, uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def echo(request: Request) -> Response:
        body = orjson.loads(await request.body())
        return Response(orjson.dumps({"message": body, "reply": body}),
                        media_type="application/json")

    app = Starlette(routes=[Route("/echo", echo, methods=["POST"])])
    # proto=IPPROTO_TCP, or asyncio does not set TCP_NODELAY on accepted connections and
    # every response (head and body written apart) waits ~40 ms for a delayed ACK
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    print(f"listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False)).run(sockets=[sock])
""")


class Child:
    """A server subprocess that prints `... listening on http://...` when ready."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, **(env or {})},
        )
        self.url = self._wait_url(30.0)

    def _wait_url(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        found: list[str] = []

        def read() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                if "listening on http://" in line:
                    found.append(line.split("listening on ", 1)[1].strip())
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout)
        if not found:
            self.stop()
            raise RuntimeError(f"server did not start within {timeout:g}s")
        if not found[0].startswith("http://127.0.0.1:"):
            self.stop()
            raise RuntimeError(f"server is not on 127.0.0.1: {found[0]}")
        return found[0]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def _client(url: str) -> httpx.Client:
    """An httpx client with its defaults: one keep-alive connection, reused."""
    import httpx  # noqa: PLC0415

    return httpx.Client(base_url=url, timeout=10.0)


def rest_roundtrip(wasm: bytes, n: int, warmup: int, durability: str) -> list[float]:
    with tempfile.TemporaryDirectory(prefix="caxton-bench-rest-") as tmp:
        server = c.CaxtonServer(tmp, env={"CAXTON_DURABILITY": durability})
        try:
            with server.http(timeout=10.0) as client:
                r = client.post("/api/v1/agents", json={
                    "name": "echo", "version": "1.0",
                    "module_base64": base64.b64encode(wasm).decode()})
                r.raise_for_status()
                return _time_posts(client, "/api/v1/messages?wait=true&timeout=5", n, warmup,
                                   lambda i: {"performative": "request", "receiver": ["echo"],
                                              "content": {"n": i}},
                                   lambda body, i: body["reply"]["content"] == {"n": i})
        finally:
            server.stop()


def http_floor(n: int, warmup: int) -> list[float]:
    server = Child([sys.executable, "-c", _HTTP_FLOOR_APP])
    try:
        with _client(server.url) as client:
            return _time_posts(client, "/echo", n, warmup,
                               lambda i: {"performative": "request", "receiver": ["echo"],
                                          "content": {"n": i}},
                               lambda body, i: body["reply"]["content"] == {"n": i})
    finally:
        server.stop()


def _time_posts(client: httpx.Client, path: str, n: int, warmup: int,
                body: Callable[[int], dict[str, Any]],
                check: Callable[[dict[str, Any], int], bool]) -> list[float]:
    out: list[float] = []
    clock = time.perf_counter_ns
    for i in range(warmup + n):
        payload = orjson.dumps(body(i))
        t0 = clock()
        r = client.post(path, content=payload, headers={"content-type": "application/json"})
        elapsed = clock() - t0
        if r.status_code != 200 or not check(r.json(), i):
            raise RuntimeError(f"bad answer {r.status_code}: {r.text[:200]}")
        if i >= warmup:
            out.append(elapsed)
    return out


# -- main --------------------------------------------------------------------------------------
def main() -> None:
    p = c.parser(__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, help="in-process round trips per measurement")
    p.add_argument("--rest-n", type=int, help="REST round trips per measurement")
    p.add_argument("--no-rest", action="store_true", help="skip the REST measurements")
    args = p.parse_args()
    n = args.n or (500 if args.quick else 5000)
    rest_n = args.rest_n or (100 if args.quick else 1000)
    warmup = max(50, n // 20)
    c.server_process()
    c.header("echo round trip", args)
    wasm = c.module_bytes("echo")

    t_start = time.perf_counter()
    rows: dict[str, list[float]] = {}
    routed, handled, info = caxton_in_process(wasm, n, warmup)
    rows["caxton in-process route -> reply"] = routed
    rows["caxton AgentInstance.handle (same thread)"] = handled
    rows["diagnostic: caxton route -> reply, message log off"] = caxton_in_process(
        wasm, n, warmup, message_log=False)[0]
    rows["naive wasmtime-py Func.__call__"] = naive_wasmtime(wasm, warmup + n)[warmup:]
    rows["SimpleQueue ping-pong (2 threads)"] = simplequeue_pingpong(warmup + 4 * n)[warmup:]
    rows["SimpleQueue there + Event back"] = simplequeue_event(warmup + 4 * n)[warmup:]
    ray_lat, ray_note = ray_echo(min(n, 2000))
    if ray_lat is not None:
        rows[f"Ray actor echo ({ray_note})"] = ray_lat

    stats = {name: c.summary(v) for name, v in rows.items()}
    ours = stats["caxton in-process route -> reply"]
    print(f"In process ({n} round trips after {warmup} warm-up; durability=normal, 2 workers; "
          f"{info['routed']} messages logged in {info['commits']} commits). Microseconds.")
    c.table(
        ["measurement", "n", "p50 us", "p90 us", "p99 us", "round trips/s", "caxton p50 / this",
         "caxton p99 / this"],
        [[name, s["n"], s["p50"] / 1e3, s["p90"] / 1e3, s["p99"] / 1e3, 1e9 / s["mean"],
          c.ratio(ours["p50"], s["p50"]), c.ratio(ours["p99"], s["p99"])]
         for name, s in stats.items()],
    )
    if ray_lat is None:
        print(f"Ray actor echo: skipped. {ray_note}.\n")
    print("Targets: local routing p50 < 100 us -> "
          f"{c.verdict(ours['p50'] / 1e3, c.TARGETS['route_p50_us'])}; "
          f"p99 < 1 ms -> {c.verdict(ours['p99'] / 1e3, c.TARGETS['route_p99_us'])}\n")

    if not args.no_rest:
        rest_rows: dict[str, list[float]] = {}
        rest_warm = max(20, rest_n // 10)
        rest_rows["caxton REST wait=true (durability=normal)"] = rest_roundtrip(
            wasm, rest_n, rest_warm, "normal")
        rest_rows["caxton REST wait=true (durability=full)"] = rest_roundtrip(
            wasm, rest_n, rest_warm, "full")
        rest_rows["bare Starlette+uvicorn JSON echo"] = http_floor(rest_n, rest_warm)
        rstats = {name: c.summary(v) for name, v in rest_rows.items()}
        base = rstats["caxton REST wait=true (durability=normal)"]
        print(f"REST ({rest_n} sequential requests after {rest_warm} warm-up, one httpx "
              "keep-alive connection to 127.0.0.1). Milliseconds. 'stalls' counts requests of "
              ">= 40 ms: the signature of Nagle + delayed ACK (a listening socket without "
              "TCP_NODELAY).")
        c.table(
            ["measurement", "n", "p50 ms", "p90 ms", "p99 ms", "requests/s", "stalls",
             "caxton(normal) p50 / this", "p99 / this"],
            [[name, s["n"], s["p50"] / 1e6, s["p90"] / 1e6, s["p99"] / 1e6, 1e9 / s["mean"],
              sum(x >= 40e6 for x in rest_rows[name]),
              c.ratio(base["p50"], s["p50"]), c.ratio(base["p99"], s["p99"])]
             for name, s in rstats.items()],
        )
    print(f"total {time.perf_counter() - t_start:.1f}s")


if __name__ == "__main__":
    main()
