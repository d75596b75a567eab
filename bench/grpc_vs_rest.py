"""gRPC vs REST: send-and-wait to the echo agent through the two management APIs.

One real `caxton server start` subprocess (durability normal, 2 workers) serves both APIs, so
both transports run against the same server in the same run:

(a) sequential round trips, one at a time, p50/p99 in milliseconds:
    * REST: POST /api/v1/messages?wait=true with an httpx keep-alive client (the peer);
    * gRPC: MessageService/SendAndWait through the generated stub, request built by hand;
    * gRPC: caxton.client.CaxtonClient.send_and_wait (the typed client: dict in, dict out);
(b) throughput with 16 requests in flight from 16 threads: REST with one keep-alive client
    per thread; gRPC over one shared channel (HTTP/2 multiplexes the calls).

Authentication is on (the default): every call carries the admin API key the server wrote to
``<data-dir>/admin.token`` (an admin key is not rate limited). ``bench/auth.py`` measures what
that costs.

    python bench/grpc_vs_rest.py [--quick] [--n N] [--total N]
"""

from __future__ import annotations

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
    args = p.parse_args()
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
    print(f"total {time.perf_counter() - t_start:.1f}s")


if __name__ == "__main__":
    main()
