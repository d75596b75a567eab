"""The acceptance ledger over a real store: one first send per id however many arrive at once,
repeats answered with the first acceptance, ids given back when the first send fails."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from caxton.api.acceptance import AcceptanceLedger, Accepted, Ticket
from caxton.domain.acl import AclMessage, Performative
from caxton.domain.idempotency import fingerprint, issue_id, was_issued
from caxton.errors import MessageIdConflictError, StoreError
from caxton.store.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path, durability="normal")
    yield opened
    opened.close()


def _ledger(store: Store, **kw: float) -> AcceptanceLedger:
    ledger = AcceptanceLedger(store.acceptances, store.submit,
                              window_s=kw.get("window_s", 3600.0),
                              capacity=int(kw.get("capacity", 1000)))
    ledger.prime()
    return ledger


def _msg(message_id: str = "m-1", content: object = 1) -> AclMessage:
    return AclMessage(performative=Performative.INFORM, sender="client", receiver=("a",),
                      content=content, message_id=message_id, conversation_id="c-1")


async def _commit(store: Store, ticket: Ticket, msg: AclMessage) -> None:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def on_commit(error: BaseException | None) -> None:
        loop.call_soon_threadsafe(ticket.committed, msg, error)
        loop.call_soon_threadsafe(done.set_result, None)

    store.submit([ticket.record(msg), *store.message_statements(msg, ())], on_commit)
    await done


def test_eight_at_once_get_one_ticket_and_seven_repeats(store: Store) -> None:
    async def run_with_commit() -> None:
        ledger = _ledger(store)
        msg = _msg("m-2")
        waiting = [asyncio.ensure_future(ledger.admit(_msg("m-2"), fingerprint(msg)))
                   for _ in range(8)]
        await asyncio.sleep(0)
        first = waiting[0]
        ticket = await first
        assert isinstance(ticket, Ticket)
        assert not any(w.done() for w in waiting[1:])  # repeats wait for the commit
        await _commit(store, ticket, msg)
        repeats = await asyncio.gather(*waiting[1:])
        assert all(isinstance(r, Accepted) and r.message is msg for r in repeats)
        assert store.acceptances.find("m-2") is not None

    asyncio.run(run_with_commit())


def test_a_first_send_that_is_never_routed_gives_the_id_back(store: Store) -> None:
    async def run() -> None:
        ledger = _ledger(store)
        msg = _msg()
        ticket = await ledger.admit(msg, fingerprint(msg))
        assert isinstance(ticket, Ticket)
        waiter = asyncio.ensure_future(ledger.admit(_msg(), fingerprint(msg)))
        await asyncio.sleep(0)
        ticket.release()  # refused before routing (say, the mailbox was full)
        taken_over = await waiter
        assert isinstance(taken_over, Ticket)  # the retry is the first send now

    asyncio.run(run())


def test_a_failed_write_fails_the_waiting_repeats_and_frees_the_id(store: Store) -> None:
    async def run() -> None:
        ledger = _ledger(store)
        msg = _msg()
        ticket = await ledger.admit(msg, fingerprint(msg))
        assert isinstance(ticket, Ticket)
        waiter = asyncio.ensure_future(ledger.admit(_msg(), fingerprint(msg)))
        await asyncio.sleep(0)
        ticket.record(msg)
        ticket.committed(msg, OSError("disk full"))
        with pytest.raises(StoreError, match="disk full"):
            await waiter
        assert isinstance(await ledger.admit(_msg(), fingerprint(msg)), Ticket)

    asyncio.run(run())


def test_the_same_id_for_another_message_is_a_conflict(store: Store) -> None:
    async def run() -> None:
        ledger = _ledger(store)
        msg = _msg()
        ticket = await ledger.admit(msg, fingerprint(msg))
        assert isinstance(ticket, Ticket)
        await _commit(store, ticket, msg)
        other = _msg(content=2)
        with pytest.raises(MessageIdConflictError):
            await ledger.admit(other, fingerprint(other))

    asyncio.run(run())


def test_a_restart_remembers_and_an_overflow_looks_up(store: Store) -> None:
    async def first_run() -> None:
        ledger = _ledger(store)
        for n in range(5):
            msg = _msg(f"id-{n}")
            ticket = await ledger.admit(msg, fingerprint(msg))
            assert isinstance(ticket, Ticket)
            await _commit(store, ticket, msg)

    async def second_run() -> None:
        ledger = _ledger(store, capacity=2)  # the window holds 5: the oldest 3 are looked up
        assert len(ledger) == 2
        for n in (4, 3, 0, 1, 2):  # the newest two from memory, the others from the table
            msg = _msg(f"id-{n}")
            assert isinstance(await ledger.admit(msg, fingerprint(msg)), Accepted)
        assert ledger.lookups == 3
        fresh = _msg("id-new")
        assert isinstance(await ledger.admit(fresh, fingerprint(fresh)), Ticket)

    asyncio.run(first_run())
    asyncio.run(second_run())


def test_old_ids_leave_memory_and_the_table_after_the_window(store: Store) -> None:
    now = [1000.0]
    ledger = AcceptanceLedger(store.acceptances, store.submit, window_s=60.0, capacity=100,
                              clock=lambda: now[0])
    ledger.prime()

    async def run() -> None:
        msg = _msg()
        ticket = await ledger.admit(msg, fingerprint(msg))
        assert isinstance(ticket, Ticket)
        await _commit(store, ticket, msg)
        now[0] += 61
        again = await ledger.admit(_msg(), fingerprint(msg))
        assert isinstance(again, Ticket)  # out of the window: a new message
        store.writer.barrier().result(10)
        assert store.acceptances.find("m-1") is None  # pruned from the table as well

    asyncio.run(run())


def test_issued_ids_are_recognised_and_others_are_not() -> None:
    key = bytes(range(16))
    issued = {issue_id(key) for _ in range(100)}
    assert len(issued) == 100 and all(len(i) == 32 and was_issued(i, key) for i in issued)
    some = next(iter(issued))
    assert not was_issued(some, bytes(16))  # another data dir's key
    assert not was_issued(some[:-1] + ("0" if some[-1] != "0" else "1"), key)
    assert not any(was_issued(i, key) for i in ("", "x" * 32, "é" * 32, "0" * 31))
    fresh = "0123456789abcdef" * 2
    signed = issue_id(key, fresh)
    assert signed[:24] == fresh[:24] and was_issued(signed, key) and not was_issued(fresh, key)


def test_fingerprint_ignores_what_the_platform_fills_in() -> None:
    a, b = _msg(), _msg()
    b.timestamp, b.message_id, b.trace_context = "2030-01-01T00:00:00Z", "other", {"x": "y"}
    assert fingerprint(a) == fingerprint(b)
    b.sender = "_client-123"
    assert fingerprint(a) != fingerprint(b)
    assert fingerprint(a, sender_given=False) == fingerprint(b, sender_given=False)
    assert fingerprint(a) != fingerprint(_msg(content=2))


def test_memory_lets_go_of_an_answered_message_and_reads_it_back(store: Store) -> None:
    async def run() -> None:
        ledger = _ledger(store)
        msg = _msg(content={"big": "x" * 1000})
        ticket = await ledger.admit(msg, fingerprint(msg))
        assert isinstance(ticket, Ticket)
        await _commit(store, ticket, msg)
        ticket.routed()
        ticket.release()  # the first send answered its client
        again = await ledger.admit(_msg(content={"big": "x" * 1000}), fingerprint(msg))
        assert isinstance(again, Accepted)
        assert again.message is not msg  # read back from the message log...
        assert again.message.to_dict() == msg.to_dict()  # ...the same message

    asyncio.run(run())


def test_a_route_that_raises_gives_the_id_back(store: Store) -> None:
    async def run() -> None:
        ledger = _ledger(store)
        msg = _msg()
        ticket = await ledger.admit(msg, fingerprint(msg))
        assert isinstance(ticket, Ticket)
        waiter = asyncio.ensure_future(ledger.admit(_msg(), fingerprint(msg)))
        await asyncio.sleep(0)
        ticket.record(msg)  # the row was built, but routing failed before routed()
        ticket.release()
        assert isinstance(await asyncio.wait_for(waiter, 5), Ticket)

    asyncio.run(run())


def test_after_upgrading_an_older_data_dir_its_logged_ids_are_still_repeats(
        tmp_path: Path) -> None:
    old = Store(tmp_path, durability="normal")
    msg = _msg("sent-before-the-upgrade")
    old.writer.write(old.message_statements(msg, ()))
    old.close()
    conn = sqlite3.connect(tmp_path / "caxton.db")  # back to schema 4: no accepted table
    conn.executescript("DROP TABLE accepted; DROP TABLE settings; DROP TABLE platforms;"
                       " DROP TABLE api_keys; DROP TABLE audit;"
                       " ALTER TABLE agents DROP COLUMN permissions; PRAGMA user_version = 4;")
    conn.close()

    upgraded = Store(tmp_path, durability="normal")
    try:
        assert upgraded.acceptances_upgraded and upgraded.schema_version >= 5
        ledger = AcceptanceLedger(upgraded.acceptances, upgraded.submit, window_s=3600.0,
                                  capacity=1000)
        ledger.prime(upgraded=upgraded.acceptances_upgraded)

        async def run() -> None:
            again = await ledger.admit(_msg("sent-before-the-upgrade"), fingerprint(msg))
            assert isinstance(again, Accepted) and again.message.to_dict() == msg.to_dict()
            assert isinstance(await ledger.admit(_msg("new"), fingerprint(msg)), Ticket)
            assert ledger.lookups == 2  # memory cannot vouch for the old ids for a while

        asyncio.run(run())
    finally:
        upgraded.close()


def test_a_repeat_finds_a_reply_still_on_its_way_to_the_log(store: Store) -> None:
    """The first send got its reply and answered, but the reply's row is not committed yet
    (replies reach the waiting client before the writer commits them). Without the barrier
    the look-up finds nothing here (the writer is kept busy)."""
    ledger = AcceptanceLedger(store.acceptances, store.submit, window_s=3600.0,
                              capacity=1000, barrier=store.writer.barrier)
    ledger.prime()

    async def run() -> AclMessage | None:
        msg = _msg()
        ticket = await ledger.admit(msg, fingerprint(msg))
        assert isinstance(ticket, Ticket)
        await _commit(store, ticket, msg)
        ticket.routed()
        ticket.release()
        answer = AclMessage(performative=Performative.INFORM, sender="a",
                            receiver=("client",), conversation_id="c-1",
                            in_reply_to=msg.message_id, content="the reply")
        store.writer.submit([("SELECT 1 FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL"
                              " SELECT i + 1 FROM n WHERE i < 300000) SELECT count(*) FROM n)",
                              ())])  # keep the writer busy for a moment
        store.submit(store.message_statements(answer, ()))
        again = await ledger.admit(_msg(), fingerprint(msg))
        assert isinstance(again, Accepted)
        return await ledger.reply(again, 5.0)

    found = asyncio.run(run())
    assert found is not None and found.content == "the reply"
