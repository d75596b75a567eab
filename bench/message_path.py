"""Where a one-way message's CPU goes: each stage of the message path timed alone, one thread.

The real runtime objects (``caxton.server.Runtime``: router, conversation manager, cascade
guard, agent cell, WASM sandbox, delivery, group-commit writer on a real SQLite file), but no
threads: the workers and the writer are stopped, and this script runs their steps itself, in
turn, so each stage's time is its own (no GIL hand-offs, no waiting). Messages of ~100 bytes
to a WASM sink agent (it takes every message and answers nothing), durability full.

    routing   Router.route_batch: guard, conversation observer, log rows, hand to the mailbox
    handling  AgentCell.run: the sandbox call per message, then the turn's commit rows
    writing   the group-commit writer: compaction and one SQLite transaction per batch

    python bench/message_path.py [--quick] [--total N] [--batch N]
"""

from __future__ import annotations

import asyncio
import queue
import tempfile
import time
from pathlib import Path

import _common as c


def measure(total: int, batch: int, rounds: int, *, conversations: bool = False,
            single: bool = False) -> dict[str, list[float]]:
    from caxton.api.service import DeployRequest  # noqa: PLC0415
    from caxton.config import ServerConfig  # noqa: PLC0415
    from caxton.domain.acl import AclMessage, Performative  # noqa: PLC0415
    from caxton.server import Runtime  # noqa: PLC0415

    c.server_process()
    figures: dict[str, list[float]] = {"message": [], "routing": [], "handling": [],
                                       "writing": []}
    with tempfile.TemporaryDirectory() as tmp:
        rt = Runtime.open(ServerConfig(data_dir=Path(tmp), durability="full", workers=1,
                                       log_level="warning", mailbox_capacity=10 ** 7))
        try:
            sink = c.SINK_SINGLE if single else c.SINK
            asyncio.run(rt.service.deploy(DeployRequest(name="sink", module=sink)))
            rt.scheduler.stop()  # from here on this thread runs the agent's turns
            writer = rt.store.writer
            writer.close()  # ... and the writer's transactions
            cell = rt.host.get("sink")
            for _ in range(rounds + 1):  # the first round warms up
                t0 = time.perf_counter()
                messages = [AclMessage(performative=Performative.INFORM, sender="client",
                                       receiver=("sink",), content={"n": i, "pad": "x" * 40})
                            for i in range(total)]
                if conversations:  # as the API does for a message that names none
                    for msg in messages:
                        msg.conversation_id = msg.message_id
                t1 = time.perf_counter()
                for i in range(0, total, batch):
                    rt.router.route_batch(messages[i:i + batch])
                t2 = time.perf_counter()
                while cell.mailbox_depth:
                    cell.run()
                t3 = time.perf_counter()
                pending = []
                while True:
                    try:
                        pending.append(writer._queue.get_nowait())
                    except queue.Empty:
                        break
                for i in range(0, len(pending), 2000):
                    writer._commit(pending[i:i + 2000])
                t4 = time.perf_counter()
                for name, seconds in (("message", t1 - t0), ("routing", t2 - t1),
                                      ("handling", t3 - t2), ("writing", t4 - t3)):
                    figures[name].append(seconds / total * 1e6)
            for values in figures.values():
                del values[0]
        finally:
            rt.close()
    return figures


def main() -> None:
    p = c.parser(__doc__.split("\n\n")[0])
    p.add_argument("--total", type=int, help="messages per round")
    p.add_argument("--batch", type=int, default=100, help="messages per route_batch call")
    p.add_argument("--single", action="store_true",
                   help="a sink without handle_batch: one sandbox call per message")
    p.add_argument("--conversations", action="store_true",
                   help="each message in a conversation of its own, as the API sends them")
    args = p.parse_args()
    total = args.total or (2000 if args.quick else 20000)
    rounds = 1 if args.quick else 5
    c.header("the message path, stage by stage, one thread", args)
    figures = measure(total, args.batch, rounds, conversations=args.conversations,
                      single=args.single)
    all_stages = [sum(stage) for stage in zip(*figures.values(), strict=True)]
    rows = [(name, c.summary(values)["p50"], f"{min(values):.1f}-{max(values):.1f}")
            for name, values in (*figures.items(), ("total", all_stages))]
    what = "in its own conversation" if args.conversations else "no conversation"
    c.table([f"stage (one-way message to a WASM sink, {what})", "µs/message (median)",
             "range"], rows)
    total_us = c.summary(all_stages)["p50"]
    print(f"   one core's ceiling at this cost: {1e6 / total_us:,.0f} messages/s "
          f"({total} messages per round, {rounds} round(s), route_batch of {args.batch})")


if __name__ == "__main__":
    main()
