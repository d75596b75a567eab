"""Exactly-once acceptance of the message ids senders choose, for every way in (REST, gRPC and
the MTP's ``/acc`` all come through here).

A sender unsure whether a send went through sends it again with the same ``message_id``, often
several times at once. ``AcceptanceLedger.admit`` decides, for each send of an id, whether it is
the first (a ``Ticket``: route the message with ``ticket.record`` in the same transaction) or a
repeat (an ``Accepted``: answer with the first acceptance, deliver nothing).

Why the decision is made here, before routing, and not by the store's unique key alone: the
router hands a message to its receivers without waiting for the commit, and the conversation
manager reads it before it is logged, so a duplicate found at commit time would already have
been delivered. The ledger makes the decision atomically instead: every entry point runs on the
one event loop, and between looking an id up and reserving it there is no ``await``. It holds
every id of the de-duplication window, loaded from the ``accepted`` table at start-up and kept
in step with it; the table (unique on ``message_id``, written in the message's own
transaction, so nothing extra to commit and nothing to read per message) is what makes the
decision outlive a restart. Only when memory cannot hold the whole window (more ids than
``dedup_memory``, or just after upgrading a data dir that predates the table) does an unknown id
cost a read of the table.

Messages sent without an id get one from ``issue``, which ``was_issued`` recognises (a MAC
under a key the data dir keeps): a client that sends such a message again, as the server handed
it back, is retrying too, and is looked up in the message log, at no cost to first sends.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from caxton.domain.acl import AclMessage, parse_message
from caxton.domain.idempotency import issue_id, was_issued
from caxton.errors import CaxtonError, MessageIdConflictError, StoreError
from caxton.store.acceptances import AcceptanceRepository
from caxton.store.writer import Statement

log = structlog.get_logger("caxton.acceptance")
_PRUNE_EVERY_S = 60.0


class _Abandoned(Exception):  # noqa: N818 - a signal between the ledger's own coroutines
    """The first send of an id ended before routing it: the next claimant takes over."""


@dataclass(eq=False, slots=True)
class _Entry:
    fingerprint: str | None  # None: only the message log knew the id (its content unknown)
    conversation_id: str | None
    at: float
    # Settles when the first send's transaction commits, with its message (None when the id
    # was accepted by an earlier run of the server); fails if that write failed.
    logged: asyncio.Future[AclMessage | None] | None = None
    reply: asyncio.Future[AclMessage] | None = None  # the first send's awaited answer
    missing: str | None = None  # why the first send was answered "no such agent"
    done: bool = False  # the first send has answered its sender


@dataclass(frozen=True, slots=True)
class Accepted:
    """An earlier acceptance of the same id: what to answer a repeat with."""

    message: AclMessage  # the message as first accepted (its id, conversation, receivers)
    missing: str | None  # the first send's "no agent named ..." answer, if it had one
    reply: asyncio.Future[AclMessage] | None  # the answer the first send waits for, if it does


class Ticket:
    """The right (and duty) to route the first send of an id."""

    def __init__(self, ledger: AcceptanceLedger, key: str, entry: _Entry) -> None:
        self._ledger = ledger
        self._key = key
        self._entry = entry
        self._routed = False

    def record(self, msg: AclMessage) -> Statement:
        """The ``accepted`` row, to write in the same transaction as ``msg``."""
        self._entry.conversation_id = msg.conversation_id
        return AcceptanceRepository.accept(self._key, msg.conversation_id,
                                           self._entry.fingerprint or "", self._entry.at)

    def routed(self) -> None:
        """The message and its row were handed to the router: the write will be reported
        through ``committed``, whatever happens to the sender's request."""
        self._routed = True

    def committed(self, msg: AclMessage, error: BaseException | None) -> None:
        """The message's transaction ended (call on the event loop)."""
        self._ledger.settle(self._key, self._entry, msg, error)

    def awaits(self, reply: asyncio.Future[AclMessage]) -> None:
        """The first send waits for this answer; repeats that wait share it."""
        self._entry.reply = reply

    def missing(self, reason: str) -> None:
        self._entry.missing = reason

    def release(self) -> None:
        """Done with the ticket: if the message was never routed, give the id back; else let
        go of the message and its reply (memory holds ids for a day, not messages: later
        repeats read the first send back from the message log)."""
        if not self._routed:
            self._ledger.abandon(self._key, self._entry)
        else:
            self._entry.done = True
            self._ledger.trim(self._entry)


class AcceptanceLedger:
    def __init__(self, repository: AcceptanceRepository,
                 submit: Callable[[list[Statement]], None], *, window_s: float,
                 capacity: int, clock: Callable[[], float] = time.time,
                 barrier: Callable[[], concurrent.futures.Future[None]] | None = None) -> None:
        self._repo = repository
        self._submit = submit
        self._barrier = barrier  # a future for "all writes submitted so far are committed"
        self._window_s = window_s
        self._capacity = capacity
        self._clock = clock
        self._entries: collections.OrderedDict[str, _Entry] = collections.OrderedDict()
        # Until then an id not in memory may still be in the table (memory overflowed, or the
        # table is younger than the data dir): look it up before admitting it.
        self._partial_until = 0.0
        self._pruned_at = 0.0
        self._key = b""  # signs issued ids; read from the store by ``prime``
        self.lookups = 0  # table reads for ids memory did not know (for tests and metrics)

    def __len__(self) -> int:
        return len(self._entries)

    def prime(self, *, upgraded: bool = False) -> None:
        """Load the window's ids from the table (at start-up, before serving). ``upgraded``:
        the table was just created in a data dir with older messages, which it does not list."""
        self._key = self._repo.issuing_key()
        now = self._clock()
        rows = self._repo.recent(now - self._window_s, self._capacity)
        for row in rows:
            self._entries[row.message_id] = _Entry(row.fingerprint or None, row.conversation_id,
                                                   row.accepted_at)
        if upgraded or len(rows) >= self._capacity:
            self._partial_until = now + self._window_s

    def issue(self, fresh: str | None = None) -> str:
        """An id for a message its sender gave none (``fresh``: a new random id to build it
        from)."""
        return issue_id(self._key, fresh)

    async def admit(self, msg: AclMessage, fingerprint: str) -> Ticket | Accepted:
        """The first send of ``msg.message_id`` gets a ``Ticket``; a repeat, once the first
        is logged, gets the first ``Accepted``. Raises MessageIdConflictError when the id was
        first accepted for a different message, StoreError when the first send's write
        failed."""
        key = msg.message_id
        while True:
            self._expire()
            entry = self._entries.get(key)
            if entry is None:
                entry = _Entry(fingerprint, msg.conversation_id, self._clock())
                entry.logged = asyncio.get_running_loop().create_future()
                self._entries[key] = entry  # reserved: repeats from here on wait for it
                if self._clock() >= self._partial_until and not was_issued(key, self._key):
                    return Ticket(self, key, entry)
                if not await self._known_before(key, entry):
                    return Ticket(self, key, entry)
            try:
                first = await asyncio.shield(entry.logged) if entry.logged else None
            except _Abandoned:
                continue
            if entry.fingerprint is not None and entry.fingerprint != fingerprint:
                raise MessageIdConflictError(
                    f"message_id {key!r} was accepted for a different message; a retry must "
                    "repeat the message unchanged, a new message needs a new id")
            if first is None:
                first = await self._logged(key, entry, msg)
            return Accepted(first, entry.missing, entry.reply)

    async def reply(self, accepted: Accepted, timeout: float) -> AclMessage | None:
        """The answer to the first send: the one it waited for (waiting up to ``timeout`` for
        it), else the first answer the conversation log holds, else None."""
        if accepted.reply is not None:
            return await asyncio.wait_for(asyncio.shield(accepted.reply), timeout)
        first = accepted.message
        if first.conversation_id is None:
            return None
        found = await asyncio.to_thread(self._repo.reply, first.conversation_id,
                                        first.reply_key)
        if found is None and self._barrier is not None:
            # The first send may have had its reply a moment ago, routed but not yet
            # committed: once everything submitted so far is, look again.
            await asyncio.wrap_future(self._barrier())
            found = await asyncio.to_thread(self._repo.reply, first.conversation_id,
                                            first.reply_key)
        return _message(found)

    # -- the ticket's reports ----------------------------------------------------------------
    def settle(self, key: str, entry: _Entry, msg: AclMessage,
               error: BaseException | None) -> None:
        assert entry.logged is not None
        if error is not None:
            # Not accepted after all: forget the id, so that the sender's retry can succeed.
            if self._entries.get(key) is entry:
                del self._entries[key]
            if not entry.logged.done():
                entry.logged.set_exception(StoreError(f"could not log the message: {error}"))
                entry.logged.exception()  # retrieved: no "never retrieved" warning
        elif not entry.logged.done():
            entry.logged.set_result(msg)
        self.trim(entry)

    def trim(self, entry: _Entry) -> None:
        """Once the first send is logged and answered, keep only the id's facts: repeats
        already waiting hold the futures themselves."""
        if entry.done and entry.logged is not None and entry.logged.done():
            entry.logged = entry.reply = None

    def abandon(self, key: str, entry: _Entry) -> None:
        if self._entries.get(key) is entry:
            del self._entries[key]
        if entry.logged is not None and not entry.logged.done():
            entry.logged.set_exception(_Abandoned())
            entry.logged.exception()

    # -- inside ------------------------------------------------------------------------------
    async def _known_before(self, key: str, entry: _Entry) -> bool:
        """Whether the table (or, for ids accepted before it existed, the message log) has
        ``key``; if so ``entry`` becomes that earlier acceptance."""
        self.lookups += 1
        try:
            row = await asyncio.to_thread(self._repo.find, key)
            body = None if row is not None else await asyncio.to_thread(self._repo.logged, key)
        except (CaxtonError, OSError) as exc:
            self.abandon(key, entry)
            raise StoreError(f"cannot look up message id {key!r}: {exc}") from exc
        except BaseException:
            self.abandon(key, entry)
            raise
        if row is None and body is None:
            return False
        assert entry.logged is not None
        if row is not None:
            entry.fingerprint, entry.conversation_id = row.fingerprint or None, row.conversation_id
        else:
            entry.fingerprint, entry.conversation_id = None, _text(body, "conversation_id")
        entry.logged.set_result(None)
        return True

    async def _logged(self, key: str, entry: _Entry, repeat: AclMessage) -> AclMessage:
        """The first send of ``key`` as the message log holds it; if the log no longer does,
        the repeat itself under the first send's conversation id."""
        try:
            found = _message(await asyncio.to_thread(self._repo.logged, key))
        except (CaxtonError, OSError):
            found = None
        if found is not None:
            return found
        repeat.conversation_id = entry.conversation_id
        repeat._wire = None
        return repeat

    def _expire(self) -> None:
        """Forget ids older than the window, and the oldest beyond capacity (then memory no
        longer holds the whole window: look unknown ids up until the forgotten ones age out).
        Prunes the table alike, at most once a minute."""
        now = self._clock()
        horizon = now - self._window_s
        entries = self._entries
        while entries:
            key, oldest = next(iter(entries.items()))
            if oldest.logged is not None and not oldest.logged.done():
                break  # still in flight: kept whatever its age
            if oldest.at < horizon:
                del entries[key]
            elif len(entries) > self._capacity:
                del entries[key]
                self._partial_until = max(self._partial_until, oldest.at + self._window_s)
            else:
                break
        if now - self._pruned_at >= _PRUNE_EVERY_S:
            self._pruned_at = now
            self._submit([AcceptanceRepository.prune(horizon)])


def _message(body: dict[str, object] | None) -> AclMessage | None:
    if body is None:
        return None
    try:
        return parse_message(body)
    except CaxtonError:
        log.warning("logged message cannot be read back", message_id=body.get("message_id"))
        return None


def _text(body: dict[str, object] | None, name: str) -> str | None:
    value = body.get(name) if body is not None else None
    return value if isinstance(value, str) else None
