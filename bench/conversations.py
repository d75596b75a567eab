"""Conversations per second, with the conversation manager tracking protocols on and off.

(a) fipa-request: a client request to the WAT echo agent and its inform (2 routed messages),
    a window of conversations in flight, each with a fresh conversation id, routed in process.
(b) fipa-contract-net through the Contract Net driver (caxton.api.drivers): one cfp to 10
    bidders (the Rust example bidder, rates 1 to 10), 10 proposals, the best accepted and 9
    rejected, the winner's inform; the bidders also report to a ledger agent, which confirms
    (42 routed messages per conversation). A few driver runs in flight on the event loop.

Peer in the same run: the same work with tracking off (``router.observer = None``, so nothing
checks the protocol and no state is written), alternating with the tracked rounds in one
runtime. Each figure is the median over the rounds; the ratio is tracked / untracked.

    python bench/conversations.py [--quick] [--rounds N]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import _common as c

CLIENT = "_client-bench"
BIDDERS = 10
BIDDER_MODULES = ("rust/bidder.wasm", "zig/bidder.wasm", "go/bidder.wasm")
AGENTS = c.ROOT / "examples" / "agents"


def bidder_module() -> tuple[str, bytes]:
    """A built example bidder (building the Rust one if none is there)."""
    for rel in BIDDER_MODULES:
        if (AGENTS / rel).exists():
            return rel, (AGENTS / rel).read_bytes()
    subprocess.run(["bash", str(c.ROOT / "scripts" / "build-examples.sh"), "rust", "c"],
                   check=True, env={**os.environ, "PYTHON": sys.executable})
    return BIDDER_MODULES[0], (AGENTS / BIDDER_MODULES[0]).read_bytes()


def ledger_module() -> bytes:
    path = AGENTS / "c" / "ledger.wasm"
    if not path.exists():
        subprocess.run(["bash", str(c.ROOT / "scripts" / "build-examples.sh"), "c"], check=True,
                       env={**os.environ, "PYTHON": sys.executable})
    return path.read_bytes()


def request_round(rt: Any, count: int, window: int) -> float:
    """Seconds for ``count`` request -> inform conversations with ``window`` in flight."""
    from caxton.domain.acl import AclMessage, Performative  # noqa: PLC0415
    from caxton.domain.ids import new_id  # noqa: PLC0415
    from caxton.router.local import ClientInbox  # noqa: PLC0415

    slots = threading.Semaphore(window)
    finished = threading.Event()
    lock = threading.Lock()
    state = {"replies": 0, "wrong": 0}

    def on_reply(msg: AclMessage) -> None:
        with lock:
            state["replies"] += 1
            state["wrong"] += msg.performative is not Performative.INFORM
            done = state["replies"] == count
        slots.release()
        if done:
            finished.set()

    rt.router.register(CLIENT, ClientInbox(on_reply))
    route = rt.router.route
    started = time.perf_counter()
    for i in range(count):
        if not slots.acquire(timeout=30):
            raise RuntimeError("no reply for 30 s")
        route(AclMessage(performative=Performative.REQUEST, sender=CLIENT, receiver=("echo",),
                         protocol="fipa-request", conversation_id=new_id(), content=i))
    if not finished.wait(60):
        raise RuntimeError(f"only {state['replies']} of {count} replies in 60 s")
    elapsed = time.perf_counter() - started
    rt.router.unregister(CLIENT)
    if state["wrong"]:
        raise RuntimeError(f"{state['wrong']} replies were not inform")
    return elapsed


async def contract_net_round(rt: Any, count: int, window: int) -> float:
    """Seconds for ``count`` driver-run Contract Nets with ``window`` in flight."""
    from caxton.api.drivers import ContractNetRequest, drivers_of  # noqa: PLC0415

    drivers = drivers_of(rt.service)
    request = ContractNetRequest.from_json({
        "receiver": [f"bidder-{i}" for i in range(BIDDERS)], "deadline_s": 30,
        "result_timeout_s": 30, "content": {"task": "bench", "size": 3}})
    slots = asyncio.Semaphore(window)

    async def one() -> None:
        async with slots:
            outcome = await drivers.contract_net(request)
        if outcome["status"] != "done" or outcome["winner"] != "bidder-0":
            raise RuntimeError(f"unexpected outcome: {outcome['status']}, {outcome['winner']}")

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(count)))
    return time.perf_counter() - started


def settle(rt: Any, timeout: float = 10.0) -> None:
    """Wait until every agent's mailbox is empty (the ledger's confirms trail the outcome)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(cell.mailbox_depth == 0 for cell in rt.host.all()):
            break
        time.sleep(0.005)
    time.sleep(0.02)


def measure(args: Any) -> dict[str, dict[str, list[float]]]:
    from caxton.config import ServerConfig  # noqa: PLC0415
    from caxton.domain.limits import ResourceLimits  # noqa: PLC0415
    from caxton.server import Runtime  # noqa: PLC0415

    requests, cnets = (400, 20) if args.quick else (3000, 150)
    rounds = args.rounds or (2 if args.quick else 5)
    budget = 25.0 if args.quick else 240.0  # stop adding rounds past this many seconds
    rel, bidder = bidder_module()
    print(f"   bidders: {BIDDERS} x examples/agents/{rel}; {requests} request conversations "
          f"(64 in flight) and {cnets} contract nets (4 in flight) per round, {rounds} rounds")
    results: dict[str, dict[str, list[float]]] = {
        kind: {"on": [], "off": [], "msgs_on": [], "msgs_off": []} for kind in ("req", "cnet")}
    with tempfile.TemporaryDirectory(prefix="caxton-bench-conv-") as tmp:
        rt = Runtime.open(ServerConfig(data_dir=Path(tmp), durability="normal", workers=2))
        try:
            rt.host.deploy("echo", c.module_bytes("echo"), "1", ResourceLimits())
            rt.host.deploy("ledger", ledger_module(), "1", ResourceLimits())
            for i in range(BIDDERS):
                rt.host.deploy(f"bidder-{i}", bidder, "1", ResourceLimits())
                # rates 1 to 10: bidder-0 is always the cheapest
                rt.router.route(_rate(f"bidder-{i}", i + 1))
            settle(rt)
            manager = rt.router.observer
            request_round(rt, min(300, requests), 64)  # warm-up
            asyncio.run(contract_net_round(rt, 4, 4))
            started = time.monotonic()
            for r in range(rounds):
                order = ("on", "off") if r % 2 == 0 else ("off", "on")
                for mode in order:
                    rt.router.observer = manager if mode == "on" else None
                    for kind in ("req", "cnet"):
                        settle(rt)
                        before = rt.router.routed
                        if kind == "req":
                            seconds, n = request_round(rt, requests, 64), requests
                        else:
                            seconds, n = asyncio.run(contract_net_round(rt, cnets, 4)), cnets
                        results[kind][mode].append(n / seconds)
                        results[kind][f"msgs_{mode}"].append((rt.router.routed - before)
                                                             / seconds)
                if time.monotonic() - started > budget:
                    print(f"   (stopped after {r + 1} rounds: over the {budget:g} s budget)")
                    break
            rt.router.observer = manager
        finally:
            rt.close()
    return results


def _rate(name: str, rate: int) -> Any:
    from caxton.domain.acl import AclMessage, Performative  # noqa: PLC0415

    return AclMessage(performative=Performative.REQUEST, sender="_client-setup", receiver=(name,),
                      content={"rate": rate})


def main() -> None:
    p = c.parser(__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=0, help="tracked/untracked round pairs")
    args = p.parse_args()
    c.header("conversations per second, tracking on vs off", args)
    c.server_process()
    results = measure(args)
    rows = []
    for kind, title in (("req", "fipa-request, request -> inform (echo)"),
                        ("cnet", f"fipa-contract-net, {BIDDERS} bidders, via the driver")):
        got = results[kind]
        on, off = statistics.median(got["on"]), statistics.median(got["off"])
        spread = (f"{min(got['on']):,.0f}-{max(got['on']):,.0f} / "
                  f"{min(got['off']):,.0f}-{max(got['off']):,.0f}")
        rows.append([title, on, off, c.ratio(on, off), statistics.median(got["msgs_on"]),
                     statistics.median(got["msgs_off"]), spread])
    c.table(["conversation", "conv/s tracked", "conv/s untracked", "tracked/untracked",
             "msgs/s tracked", "msgs/s untracked", "range tracked / untracked"], rows)
    print("Tracked: the conversation manager checks every message against the protocol and "
          "writes the conversation's state in the same transaction. Medians over the rounds.")


if __name__ == "__main__":
    main()
