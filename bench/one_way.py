"""One-way sends: how many fire-and-forget messages per second a real server accepts.

One `caxton server start` subprocess (2 workers) with a sink agent (takes every message, never
answers). Clients POST /api/v1/messages without ``wait`` from IN_FLIGHT threads, each with its
own httpx keep-alive client; a send is done when the server has logged it (202). Two kinds of
message in the same run, in alternating rounds:

    * plain: the server gives the message its id;
    * keyed: the client sets ``message_id`` (a fresh UUID per message), which the server
      remembers so that a retry of the same id is accepted once (exactly-once acceptance).

Run for durability full (the default) and normal. Then the same two kinds in process, through
``CaxtonService.send`` with IN_PROCESS sends in flight on one event loop (no HTTP in the way, so
the cost of remembering ids shows more plainly).

Authentication is on (the default): every REST call carries the admin API key the server wrote
to ``<data-dir>/admin.token`` (an admin key is not rate limited per token).

    python bench/one_way.py [--quick] [--total N] [--rounds N]
"""

from __future__ import annotations

import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import orjson

import _common as c

IN_PROCESS = 64

IN_FLIGHT = 16
SINK = c.SINK  # takes batches (handle_batch), as agents built with an SDK do


def _ids(count: int) -> list[str]:
    """Client message ids, made before the clock starts (os.urandom can cost tens of µs on a
    virtual machine: that is the client's cost, not the server's)."""
    return [uuid.uuid4().hex for _ in range(count)]


def rate(server: c.CaxtonServer, total: int, keyed: bool) -> float:
    """Accepted messages per second, IN_FLIGHT at a time."""
    local = threading.local()
    ids = _ids(total + IN_FLIGHT * 4)

    def one(i: int) -> None:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = server.http()
        body: dict[str, object] = {"performative": "inform", "receiver": ["sink"],
                                   "content": {"n": i}}
        if keyed:
            body["message_id"] = ids[i]
        r = client.post("/api/v1/messages", content=orjson.dumps(body),
                        headers={"content-type": "application/json"})
        if r.status_code != 202:
            raise RuntimeError(f"bad answer {r.status_code}: {r.text[:200]}")

    with ThreadPoolExecutor(IN_FLIGHT) as pool:
        list(pool.map(one, range(total, total + IN_FLIGHT * 4)))  # warm every connection
        started = time.perf_counter()
        list(pool.map(one, range(total)))
        return total / (time.perf_counter() - started)


def in_process(durability: str, total: int, rounds: int, deadline: float
               ) -> dict[bool, list[float]]:
    """Messages/s through ``CaxtonService.send`` (plain, keyed), rounds alternating."""
    import asyncio  # noqa: PLC0415

    from caxton.api.service import DeployRequest  # noqa: PLC0415
    from caxton.config import ServerConfig  # noqa: PLC0415
    from caxton.server import Runtime  # noqa: PLC0415

    c.server_process()
    figures: dict[bool, list[float]] = {False: [], True: []}
    with tempfile.TemporaryDirectory() as tmp:
        rt = Runtime.open(ServerConfig(data_dir=Path(tmp), durability=durability, workers=2,
                                       log_level="warning"))
        try:
            async def run(keyed: bool) -> float:
                gate = asyncio.Semaphore(IN_PROCESS)
                ids = _ids(total)

                async def one(i: int) -> None:
                    body: dict[str, object] = {"performative": "inform", "receiver": ["sink"],
                                               "content": {"n": i}}
                    if keyed:
                        body["message_id"] = ids[i]
                    async with gate:
                        await rt.service.send(body)

                started = time.perf_counter()
                await asyncio.gather(*(one(i) for i in range(total)))
                return total / (time.perf_counter() - started)

            async def all_rounds() -> None:
                await rt.service.deploy(DeployRequest(name="sink", module=SINK))
                await run(False)  # warm-up
                for _ in range(rounds):
                    for keyed in (False, True):
                        if time.monotonic() < deadline:
                            figures[keyed].append(await run(keyed))

            asyncio.run(all_rounds())
        finally:
            rt.close()
    return figures


def main() -> None:
    p = c.parser(__doc__.split("\n\n")[0])
    p.add_argument("--total", type=int, help="messages per round")
    p.add_argument("--rounds", type=int, help="rounds per kind of message")
    args = p.parse_args()
    total = args.total or (500 if args.quick else 4000)
    rounds = args.rounds or (1 if args.quick else 3)
    c.header("one-way sends to a sink over REST", args)
    rows = []
    for durability in ("full", "normal"):
        with tempfile.TemporaryDirectory() as tmp:
            server = c.CaxtonServer(tmp, env={"CAXTON_DURABILITY": durability})
            try:
                deployed = httpx.post(f"{server.url}/api/v1/agents?name=sink", content=SINK,
                                      headers=server.headers, timeout=30)
                if deployed.status_code != 201:
                    raise RuntimeError(f"deploy failed: {deployed.text}")
                figures: dict[bool, list[float]] = {False: [], True: []}
                deadline = time.monotonic() + (30 if args.quick else 240)
                for _ in range(rounds):
                    for keyed in (False, True):
                        if time.monotonic() < deadline:
                            figures[keyed].append(rate(server, total, keyed))
            finally:
                server.stop()
        plain, keyed_ = (c.summary(figures[False])["p50"], c.summary(figures[True])["p50"])
        rows.append((f"durability={durability}, plain (server ids)", plain,
                     f"{min(figures[False]):,.0f}-{max(figures[False]):,.0f}", "1.00x"))
        rows.append((f"durability={durability}, keyed (client message_id)", keyed_,
                     f"{min(figures[True]):,.0f}-{max(figures[True]):,.0f}",
                     c.ratio(keyed_, plain)))
    for durability in ("full", "normal"):
        figures = in_process(durability, total * 4, rounds,
                             time.monotonic() + (30 if args.quick else 120))
        plain, keyed_ = (c.summary(figures[False])["p50"], c.summary(figures[True])["p50"])
        rows.append((f"in process, durability={durability}, plain", plain,
                     f"{min(figures[False]):,.0f}-{max(figures[False]):,.0f}", "1.00x"))
        rows.append((f"in process, durability={durability}, keyed", keyed_,
                     f"{min(figures[True]):,.0f}-{max(figures[True]):,.0f}",
                     c.ratio(keyed_, plain)))
    c.table(["measurement", "msgs/s (median)", "range", "vs plain"], rows)
    print(f"   REST: {IN_FLIGHT} in flight, {total} messages per round; in process: "
          f"{IN_PROCESS} in flight, {total * 4} per round; {rounds} round(s) per kind")


if __name__ == "__main__":
    main()
