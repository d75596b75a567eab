"""Agent-to-agent throughput: a client -> forwarder -> echo -> client pipeline, in process.

Every request goes to the `forwarder` agent, which sends it on to `echo` with reply_to set to
the client, and echo's `inform` comes back to the client's inbox: three routed (and logged)
messages and two agent calls per request, one of them agent to agent. A window of requests is
kept in flight; the figure is messages per second until the last reply is back, and until the
last message is committed to the message log ("durable"), for durability "normal" and "full"
(the group-commit writer, src/caxton/store/writer.py).

Peer in the same run: the same number of messages through a bare queue.SimpleQueue from one
thread to another. A diagnostic row reruns "normal" with the store's message_statements
replaced by a no-op (bench only, not a Caxton mode) to show what the message log costs.

With ``--permissions`` the forwarder is deployed with permissions (it may call ``send`` and
message ``echo``: docs/agent-permissions.md), so every message it sends is checked.

    python bench/agent_to_agent.py [--quick] [--requests N] [--window W] [--workers K]
                                   [--permissions]
"""

from __future__ import annotations

import queue
import tempfile
import threading
import time
from pathlib import Path

import _common as c

CLIENT = "_client-bench"


def pipeline(echo: bytes, forwarder: bytes, durability: str, requests: int, window: int,
             workers: int, *, message_log: bool = True, permissions: bool = False
             ) -> dict[str, float]:
    """Run the pipeline; ``message_log=False`` is a bench-only diagnostic (no message rows)."""
    from caxton.config import ServerConfig  # noqa: PLC0415
    from caxton.domain.acl import AclMessage, Performative  # noqa: PLC0415
    from caxton.domain.agent_permissions import parse_permissions  # noqa: PLC0415
    from caxton.domain.limits import ResourceLimits  # noqa: PLC0415
    from caxton.router.local import ClientInbox  # noqa: PLC0415
    from caxton.server import Runtime  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="caxton-bench-a2a-") as tmp:
        rt = Runtime.open(ServerConfig(data_dir=Path(tmp), durability=durability,
                                       workers=workers))
        try:
            rt.host.deploy("echo", echo, "1.0", ResourceLimits())
            declared = {"host_functions": ["send"], "messaging": ["echo"]} if permissions \
                else None
            rt.host.deploy("forwarder", forwarder, "1.0", ResourceLimits(),
                           permissions=parse_permissions(declared))
            if not message_log:
                rt.store.message_statements = lambda msg, durable: []  # type: ignore[method-assign]
            slots = threading.Semaphore(window)
            finished = threading.Event()
            state = {"replies": 0, "wrong": 0, "target": 0}
            lock = threading.Lock()

            def on_reply(msg: AclMessage) -> None:
                with lock:
                    state["replies"] += 1
                    if msg.performative is not Performative.INFORM or msg.sender != "echo":
                        state["wrong"] += 1
                    done = state["replies"] == state["target"]
                slots.release()
                if done:
                    finished.set()

            rt.router.register(CLIENT, ClientInbox(on_reply))

            def run(count: int) -> float:
                with lock:
                    state["replies"], state["target"] = 0, count
                finished.clear()
                route = rt.router.route
                t0 = time.perf_counter()
                for i in range(count):
                    if not slots.acquire(timeout=30):
                        raise RuntimeError("no reply for 30 s; the pipeline is stuck")
                    route(AclMessage(performative=Performative.REQUEST, sender=CLIENT,
                                     receiver=("forwarder",), content={"n": i},
                                     conversation_id=f"c{i}"))
                if not finished.wait(60):
                    raise RuntimeError(f"only {state['replies']} of {count} replies in 60 s")
                return time.perf_counter() - t0

            run(min(500, requests))  # warm-up
            rt.store.writer.barrier().result(60)
            routed0, commits0 = rt.router.routed, rt.store.writer.commits
            t0 = time.perf_counter()
            replied = run(requests)
            queue_ = getattr(rt.store.writer, "_queue", None)  # private: bench diagnostics only
            backlog = queue_.qsize() if queue_ is not None else -1
            rt.store.writer.barrier().result(120)
            durable = time.perf_counter() - t0
            routed = rt.router.routed - routed0
            commits = rt.store.writer.commits - commits0
            if state["wrong"]:
                raise RuntimeError(f"{state['wrong']} replies were not echo's inform")
            fwd, ech = rt.host.get("forwarder").stats, rt.host.get("echo").stats
            if fwd.failed or ech.failed:
                raise RuntimeError(f"agent failures: forwarder {fwd.failed}, echo {ech.failed}")
        finally:
            rt.close()
    return {"requests": requests, "routed": routed, "commits": commits, "replied_s": replied,
            "durable_s": durable, "backlog": backlog}


def simplequeue(count: int) -> float:
    """Seconds to pass ``count`` items from one thread to another through a SimpleQueue."""
    q: queue.SimpleQueue[int | None] = queue.SimpleQueue()
    done = threading.Event()

    def consume() -> None:
        while q.get() is not None:
            pass
        done.set()

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    t0 = time.perf_counter()
    put = q.put
    for i in range(count):
        put(i)
    put(None)
    done.wait(60)
    elapsed = time.perf_counter() - t0
    thread.join(5)
    return elapsed


def main() -> None:
    p = c.parser(__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, help="requests per measurement (3 messages each)")
    p.add_argument("--window", type=int, default=256, help="requests in flight")
    p.add_argument("--workers", type=int, default=2, help="agent worker threads")
    p.add_argument("--permissions", action="store_true",
                   help="deploy the forwarder with permissions (send, to echo only)")
    args = p.parse_args()
    requests = args.requests or (1500 if args.quick else 20_000)
    c.server_process()
    c.header("agent-to-agent throughput", args)
    echo, forwarder = c.module_bytes("echo"), c.module_bytes("forwarder")

    t_start = time.perf_counter()
    runs = {d: pipeline(echo, forwarder, d, requests, args.window, args.workers,
                        permissions=args.permissions)
            for d in ("normal", "full")}
    nolog = pipeline(echo, forwarder, "normal", requests, args.window, args.workers,
                     message_log=False, permissions=args.permissions)
    messages = runs["normal"]["routed"]
    peer_s = simplequeue(int(messages))

    rows = []
    base = messages / runs["normal"]["replied_s"]
    for durability, r in runs.items():
        assert r["routed"] == 3 * r["requests"], r
        for label, key in (("last reply", "replied_s"), ("all logged", "durable_s")):
            rate = r["routed"] / r[key]
            rows.append([f"caxton, durability={durability}, until {label}", int(r["routed"]),
                         r[key], rate, r["requests"] / r[key], r["routed"] / r["commits"],
                         int(r["backlog"]) if key == "replied_s" else "",
                         c.ratio(base, rate), c.ratio(rate, messages / peer_s)])
    rate = nolog["routed"] / nolog["replied_s"]
    rows.append(["diagnostic: message log off, until last reply", int(nolog["routed"]),
                 nolog["replied_s"], rate, nolog["requests"] / nolog["replied_s"], float("nan"), "",
                 c.ratio(base, rate), c.ratio(rate, messages / peer_s)])
    rows.append(["bare SimpleQueue, 1 producer -> 1 consumer thread", int(messages), peer_s,
                 messages / peer_s, float("nan"), float("nan"), "",
                 c.ratio(base, messages / peer_s), "1.00x"])
    print(f"{requests} requests, each client -> forwarder -> echo -> client (3 routed messages,"
          f" 1 agent-to-agent); {args.window} in flight; {args.workers} workers"
          f"{'; the forwarder with permissions' if args.permissions else ''}.")
    c.table(["measurement", "messages", "seconds", "msgs/s", "agent->agent msgs/s",
             "msgs/commit", "log backlog", "normal / this", "this / SimpleQueue"], rows)
    print("'log backlog': messages routed but not yet handed to SQLite when the last reply "
          "came back (the group-commit writer's queue has no bound). 'until all logged' is the "
          "rate the message log sustains.")
    print(f"total {time.perf_counter() - t_start:.1f}s")


if __name__ == "__main__":
    main()
