"""gRPC vs REST: send-and-wait to the echo agent through the two management APIs.

One real `caxton server start` subprocess (durability normal, 2 workers) serves both APIs, so
both transports run against the same server in the same run:

(a) sequential round trips, one at a time, p50/p99 in milliseconds:
    * REST: POST /api/v1/messages?wait=true with an httpx keep-alive client (the peer);
    * gRPC: MessageService/SendAndWait through the generated stub, request built by hand;
    * gRPC: caxton.client.CaxtonClient.send_and_wait (the typed client: dict in, dict out);
(b) throughput with 16 requests in flight from 16 threads: REST with one keep-alive client
    per thread; gRPC over one shared channel (HTTP/2 multiplexes the calls);
(c) when `wrk` and `h2load` are installed (Debian: apt-get install wrk nghttp2-client), the
    same send-and-wait from those C load generators, 1 and 64 requests in flight (`--in-flight`),
    with the server's CPU time per request: the Python clients of (a) and (b) share the two
    cores with the server and cap what they can measure.

Authentication is on (the default): every call carries the admin API key the server wrote to
``<data-dir>/admin.token`` (an admin key is not rate limited). ``bench/auth.py`` measures what
that costs.

    python bench/grpc_vs_rest.py [--quick] [--n N] [--total N] [--in-flight 1,64] [--seconds S]
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import grpc
import httpx
import orjson

import _common as c
from caxton.api.grpc._generated import acl_pb2, messages_pb2, messages_pb2_grpc
from caxton.client import CaxtonClient

IN_FLIGHT = 16


# -- one request each way ----------------------------------------------------------------------
def rest_call(client: httpx.Client) -> Callable[[int], None]:
    def call(i: int) -> None:
        body = orjson.dumps({"performative": "request", "receiver": ["echo"],
                             "content": {"n": i}})
        r = client.post("/api/v1/messages?wait=true&timeout=5", content=body,
                        headers={"content-type": "application/json"})
        if r.status_code != 200 or r.json()["reply"]["content"] != {"n": i}:
            raise RuntimeError(f"bad REST answer {r.status_code}: {r.text[:200]}")
    return call


def stub_call(stub: messages_pb2_grpc.MessageServiceStub, token: str) -> Callable[[int], None]:
    metadata = [("authorization", f"Bearer {token}")] if token else None

    def call(i: int) -> None:
        content = orjson.dumps({"n": i}).decode()
        answer = stub.SendAndWait(messages_pb2.SendAndWaitRequest(
            message=acl_pb2.AclMessage(performative="request", receiver=["echo"],
                                       content_json=content), timeout_s=5), timeout=30,
            metadata=metadata)
        if orjson.loads(answer.reply.content_json) != {"n": i}:
            raise RuntimeError("bad gRPC answer")
    return call


def client_call(client: CaxtonClient) -> Callable[[int], None]:
    def call(i: int) -> None:
        result = client.send_and_wait({"performative": "request", "receiver": ["echo"],
                                       "content": {"n": i}}, timeout=5)
        if result["reply"] is None or result["reply"]["content"] != {"n": i}:
            raise RuntimeError("bad client answer")
    return call


# -- C load generators -------------------------------------------------------------------------
WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = '{"performative":"request","receiver":["echo"],"content":{"n":1}}'
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer " .. os.getenv("CAXTON_BENCH_TOKEN")
done = function(summary, latency, requests)
  io.write(string.format("P50 %d P99 %d ERR %d\\n", latency:percentile(50),
           latency:percentile(99), summary.errors.status + summary.errors.connect
           + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def server_cpu_s(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()  # noqa: SIM115
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def c_load(server: c.CaxtonServer, tmp: str, in_flight: int, seconds: int
           ) -> dict[str, tuple[float, float, float, float]]:
    """wrk (REST) and h2load (gRPC): name -> (req/s, p50 ms, p99 or max ms, server CPU us/req).

    h2load prints no percentiles: its column is the mean, and max for p99."""
    out: dict[str, tuple[float, float, float, float]] = {}
    script = os.path.join(tmp, "post.lua")
    with open(script, "w") as f:
        f.write(WRK_SCRIPT)
    request = messages_pb2.SendAndWaitRequest(message=acl_pb2.AclMessage(
        performative="request", receiver=["echo"], content_json='{"n":1}'), timeout_s=5)
    body = request.SerializeToString()
    frame = os.path.join(tmp, "grpc.bin")
    with open(frame, "wb") as f:
        f.write(b"\0" + struct.pack(">I", len(body)) + body)  # one gRPC message frame
    pid = server.proc.pid
    before = server_cpu_s(pid)
    text = subprocess.run(
        ["wrk", "-t1", f"-c{in_flight}", f"-d{seconds}s", "-s", script,
         f"{server.url}/api/v1/messages?wait=true&timeout=5"], capture_output=True, text=True,
        env={**os.environ, "CAXTON_BENCH_TOKEN": server.token}, check=True).stdout
    cpu = server_cpu_s(pid) - before
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    p50, p99, errors = (int(x) for x in re.search(  # type: ignore[union-attr]
        r"P50 (\d+) P99 (\d+) ERR (\d+)", text).groups())
    if errors or "Non-2xx" in text:
        raise RuntimeError(f"wrk saw errors:\n{text}")
    out["REST wrk"] = (rate, p50 / 1000, p99 / 1000, cpu / (rate * seconds) * 1e6)
    before = server_cpu_s(pid)
    text = subprocess.run(
        ["h2load", "-c1", f"-m{in_flight}", "-D", str(seconds), "-d", frame,
         "-H", "content-type: application/grpc", "-H", "te: trailers",
         "-H", f"authorization: Bearer {server.token}",
         f"http://{server.target}/caxton.v1.MessageService/SendAndWait"],
        capture_output=True, text=True, check=True).stdout
    cpu = server_cpu_s(pid) - before
    rate = float(re.search(r"finished in \S+, ([\d.]+) req/s", text).group(1))  # type: ignore[union-attr]
    done = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded", text)
    if done is None or done.group(2) != done.group(3):
        raise RuntimeError(f"h2load saw failures:\n{text}")
    times = re.search(r"time for request:\s+\S+\s+(\S+)\s+(\S+)", text)
    assert times is not None
    out["gRPC h2load (mean, max)"] = (rate, _ms(times.group(2)), _ms(times.group(1)),
                                      cpu / (rate * seconds) * 1e6)
    return out


def _ms(value: str) -> float:
    number = float(re.sub(r"[a-z]+$", "", value))
    return number / 1000 if value.endswith("us") else number * 1000 if value.endswith(
        "s") and not value.endswith("ms") else number


# -- measurements ------------------------------------------------------------------------------
def sequential(call: Callable[[int], None], n: int, warmup: int) -> list[float]:
    out: list[float] = []
    clock = time.perf_counter_ns
    for i in range(warmup + n):
        t0 = clock()
        call(i)
        if i >= warmup:
            out.append(clock() - t0)
    return out


def concurrent(make_call: Callable[[], Callable[[int], None]], total: int,
               in_flight: int = IN_FLIGHT) -> float:
    """Requests per second with ``in_flight`` threads, each with the call make_call gives it."""
    local = threading.local()

    def one(i: int) -> None:
        call = getattr(local, "call", None)
        if call is None:
            call = local.call = make_call()
        call(i)

    with ThreadPoolExecutor(in_flight) as pool:
        list(pool.map(one, range(in_flight * 4)))  # warm every thread's connection
        started = time.perf_counter()
        list(pool.map(one, range(total)))
        return total / (time.perf_counter() - started)


def main() -> None:
    p = c.parser(__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, help="sequential round trips per transport")
    p.add_argument("--total", type=int, help="requests per throughput measurement")
    p.add_argument("--in-flight", default="1,64",
                   help="requests in flight for the C load generators (comma-separated)")
    p.add_argument("--seconds", type=int, help="seconds per C load generator run")
    args = p.parse_args()
    seconds = args.seconds or (2 if args.quick else 8)
    have_c = bool(shutil.which("wrk") and shutil.which("h2load"))
    c_rows: list[list[object]] = []
    n = args.n or (150 if args.quick else 2000)
    total = args.total or (400 if args.quick else 4000)
    warmup = max(20, n // 10)
    c.header("gRPC vs REST: send-and-wait to echo", args)
    wasm = c.module_bytes("echo")
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="caxton-bench-grpc-") as tmp:
        server = c.CaxtonServer(tmp, env={"CAXTON_DURABILITY": "normal"})
        clients: list[httpx.Client] = []
        try:
            with CaxtonClient(server.target, token=server.token) as client, \
                    grpc.insecure_channel(server.target) as channel, \
                    server.http() as http:
                client.deploy("echo", wasm)
                stub = messages_pb2_grpc.MessageServiceStub(channel)
                rows = {
                    "REST httpx keep-alive (peer)": sequential(rest_call(http), n, warmup),
                    "gRPC generated stub": sequential(stub_call(stub, server.token), n, warmup),
                    "gRPC caxton.client": sequential(client_call(client), n, warmup),
                }

                def rest_per_thread() -> Callable[[int], None]:
                    own: httpx.Client = server.http()
                    clients.append(own)
                    return rest_call(own)

                rates = {
                    "REST httpx keep-alive (peer)": concurrent(rest_per_thread, total),
                    "gRPC generated stub": concurrent(lambda: stub_call(stub, server.token),
                                                      total),
                    "gRPC caxton.client": concurrent(lambda: client_call(client), total),
                }
                for flight in (int(x) for x in args.in_flight.split(",") if have_c):
                    for name, (rate, p50, p99, cpu) in c_load(server, tmp, flight,
                                                              seconds).items():
                        c_rows.append([name, flight, rate, p50, p99, cpu])
        finally:
            for own in clients:
                own.close()
            server.stop()

    stats = {name: c.summary(v) for name, v in rows.items()}
    rest = stats["REST httpx keep-alive (peer)"]
    rest_rate = rates["REST httpx keep-alive (peer)"]
    print(f"Sequential round trips ({n} after {warmup} warm-up) and throughput with "
          f"{IN_FLIGHT} in flight ({total} requests), one server, durability=normal. "
          "Milliseconds.")
    c.table(
        ["measurement", "n", "p50 ms", "p90 ms", "p99 ms", "sequential/s", "REST p50 / this",
         "REST p99 / this", f"{IN_FLIGHT} in flight/s", "this / REST"],
        [[name, s["n"], s["p50"] / 1e6, s["p90"] / 1e6, s["p99"] / 1e6, 1e9 / s["mean"],
          c.ratio(rest["p50"], s["p50"]), c.ratio(rest["p99"], s["p99"]), rates[name],
          c.ratio(rates[name], rest_rate)]
         for name, s in stats.items()],
    )
    if c_rows:
        print(f"C load generators, {seconds} s each, against the same server (the p99 column "
              "of h2load is its max). Server CPU: all its threads, per request.")
        c.table(["load generator", "in flight", "req/s", "p50 ms", "p99 ms",
                 "server CPU us/req"], c_rows)
    else:
        print("wrk / h2load not installed: no C load generator rows "
              "(apt-get install wrk nghttp2-client)")
    print(f"total {time.perf_counter() - t_start:.1f}s")


if __name__ == "__main__":
    main()
