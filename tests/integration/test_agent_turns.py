"""An agent's turn: many messages handled in a row, committed and routed together.

In process, with the real runtime (router, cell, sandbox, delivery, SQLite): the scheduler's
workers are stopped so that one ``AgentCell.run`` call is one whole turn over everything queued.
"""

from __future__ import annotations

import sqlite3
import threading

from tests.conftest import FIXTURES
from tests.integration.conftest import deploy_wat

from caxton.domain.acl import AclMessage, Performative
from caxton.router.local import ClientInbox
from caxton.server import Runtime

CLIENT = "_client-turns"


def _deploy(rt: Runtime, name: str, fixture: str) -> None:
    deploy_wat(rt, name, (FIXTURES / fixture).read_text())


def _requests(count: int, receiver: str) -> list[AclMessage]:
    return [AclMessage(performative=Performative.REQUEST, sender=CLIENT, receiver=(receiver,),
                       content=i) for i in range(count)]


def test_one_turn_reads_its_own_writes_commits_once_and_answers_in_order(runtime: Runtime
                                                                         ) -> None:
    rt = runtime
    _deploy(rt, "counter", "counter.wat")
    replies: list[AclMessage] = []
    rt.router.register(CLIENT, ClientInbox(replies.append))
    rt.scheduler.stop()  # from here this test runs the agent's turns itself
    cell = rt.host.get("counter")
    rt.router.route_batch(_requests(40, "counter"))
    assert cell.mailbox_depth == 40
    commits = rt.store.writer.commits
    cell.run()  # one turn: up to 64 messages
    assert cell.mailbox_depth == 0
    # Each handler read the count the one before it wrote, though nothing was committed yet.
    assert [m.content for m in replies] == list(range(1, 41))
    rt.store.writer.barrier().result(30)
    db = sqlite3.connect(rt.store.path)
    try:
        owed = db.execute("SELECT count(*) FROM deliveries WHERE receiver = 'counter'").fetchone()
        count = db.execute("SELECT value FROM agent_state WHERE agent = 'counter'").fetchone()
    finally:
        db.close()
    assert owed == (0,)  # every message settled with its effects
    assert int.from_bytes(count[0], "little") == 40
    assert rt.store.writer.commits - commits <= 3  # not one per message


def test_a_failure_in_a_turn_commits_what_came_before_it_first(runtime: Runtime) -> None:
    """Mail to an agent that fails: each failure's retry bookkeeping follows the successes
    handled before it in the same turn (here: none succeed; the turn still ends cleanly and
    every message is owed for its retry, none lost)."""
    rt = runtime
    _deploy(rt, "trap", "trap.wat")
    rt.scheduler.stop()
    cell = rt.host.get("trap")
    rt.router.route_batch(_requests(5, "trap"))
    cell.run()
    rt.store.writer.barrier().result(30)
    db = sqlite3.connect(rt.store.path)
    try:
        rows = db.execute("SELECT status, attempts FROM deliveries WHERE receiver = 'trap'"
                          ).fetchall()
    finally:
        db.close()
    assert sorted(rows) == [("pending", 1)] * 5  # each owed, its first attempt recorded
    assert cell.turn == [] and cell.stats.handled == 0


def test_turns_on_two_threads_for_two_agents_lose_nothing(runtime: Runtime) -> None:
    rt = runtime
    _deploy(rt, "a", "counter.wat")
    _deploy(rt, "b", "counter.wat")
    replies: list[AclMessage] = []
    lock = threading.Lock()

    def take(msg: AclMessage) -> None:
        with lock:
            replies.append(msg)

    rt.router.register(CLIENT, ClientInbox(take))
    rt.scheduler.stop()
    cells = [rt.host.get("a"), rt.host.get("b")]
    rt.router.route_batch(_requests(300, "a") + _requests(300, "b"))

    def drain(cell: object) -> None:
        while cell.mailbox_depth:  # type: ignore[attr-defined]
            cell.run()  # type: ignore[attr-defined]

    threads = [threading.Thread(target=drain, args=(cell,)) for cell in cells]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    by_agent = {name: [m.content for m in replies if m.sender == name] for name in ("a", "b")}
    assert by_agent == {"a": list(range(1, 301)), "b": list(range(1, 301))}
