"""Typed access to the tables. Writes become statements for the group-commit writer; reads use
the calling thread's reader connection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from caxton.domain.acl import AclMessage, utc_now_iso
from caxton.domain.agent import AgentRecord
from caxton.domain.agent_permissions import AgentPermissions
from caxton.domain.lifecycle import AgentState
from caxton.domain.limits import ResourceLimits
from caxton.store import quarantine as q
from caxton.store.database import Readers
from caxton.store.writer import GroupCommitWriter, Statement


class AgentRepository:
    def __init__(self, writer: GroupCommitWriter, readers: Readers) -> None:
        self._writer = writer
        self._readers = readers

    def save(self, record: AgentRecord, module_bytes: bytes) -> None:
        """Store the artifact (once per hash) and the agent, durably, before returning."""
        self._writer.write([
            (
                "INSERT OR IGNORE INTO modules(hash, bytes, size, created_at) VALUES (?, ?, ?, ?)",
                (record.module_hash, module_bytes, len(module_bytes), utc_now_iso()),
            ),
            (
                "INSERT INTO agents(name, version, module_hash, limits, desired_state, deployed_at,"
                " permissions) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET"
                " version=excluded.version, module_hash=excluded.module_hash,"
                " limits=excluded.limits, desired_state=excluded.desired_state,"
                " deployed_at=excluded.deployed_at, permissions=excluded.permissions",
                (
                    record.name, record.version, record.module_hash,
                    orjson.dumps(record.limits.to_dict()).decode(), record.desired.value,
                    record.deployed_at,
                    None if record.permissions is None
                    else orjson.dumps(record.permissions.to_dict()).decode(),
                ),
            ),
        ])

    def set_desired(self, name: str, state: AgentState) -> None:
        self._writer.write([("UPDATE agents SET desired_state = ? WHERE name = ?",
                             (state.value, name))])

    def delete(self, name: str) -> None:
        """Remove the agent, its state, and artifacts no other agent uses."""
        self._writer.write([
            ("DELETE FROM agents WHERE name = ?", (name,)),
            ("DELETE FROM agent_state WHERE agent = ?", (name,)),
            ("DELETE FROM deliveries WHERE receiver = ?", (name,)),
            ("DELETE FROM modules WHERE hash NOT IN (SELECT module_hash FROM agents)", ()),
        ])

    def all(self) -> list[AgentRecord]:
        """Every stored agent; one whose row cannot be read comes back with ``damage`` set
        (and default limits) rather than stopping the others from loading."""
        rows = self._readers.get().execute(
            "SELECT name, version, module_hash, limits, desired_state, deployed_at, permissions"
            " FROM agents ORDER BY name"
        ).fetchall()
        records = []
        for row in rows:
            try:
                records.append(q.agent_record(*row))
            except q.UnreadableError as exc:
                q.warn("agents", str(row[0]), str(exc), "agent marked failed")
                # Fail closed: an agent whose permissions cannot be read gets none at all.
                records.append(AgentRecord(
                    name=str(row[0]), version=row[1] if isinstance(row[1], str) else "?",
                    module_hash=row[2] if isinstance(row[2], str) else "",
                    limits=ResourceLimits(), permissions=AgentPermissions(),
                    deployed_at=str(row[5]), damage=str(exc)))
        return records

    def module_bytes(self, module_hash: str) -> bytes | None:
        row = self._readers.get().execute(
            "SELECT bytes FROM modules WHERE hash = ?", (module_hash,)
        ).fetchone()
        return bytes(row[0]) if row else None


INSERT_MESSAGE = (
    "INSERT OR IGNORE INTO messages(message_id, conversation_id, sender, receivers, performative,"
    " created_at, body) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
UPSERT_CONVERSATION = (
    "INSERT INTO conversations(id, protocol, initiator, started_at, last_at, message_count)"
    " VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT(id) DO UPDATE SET last_at = excluded.last_at,"
    " message_count = message_count + 1, protocol = coalesce(protocol, excluded.protocol)"
)
ADD_PARTICIPANT = (
    "INSERT OR IGNORE INTO conversation_participants(conversation_id, participant) VALUES (?, ?)"
)


DONE_DELIVERY = "DELETE FROM deliveries WHERE message_id = ? AND receiver = ?"
ADD_DELIVERY = (
    "INSERT OR IGNORE INTO deliveries(message_id, receiver, status, attempts, updated_at)"
    " VALUES (?, ?, 'pending', 0, ?)"
)


def message_statements(msg: AclMessage, durable_receivers: tuple[str, ...] = ()
                       ) -> list[Statement]:
    """The rows that record one routed message, its conversation, and the deliveries still
    owed to local agents."""
    receivers = ",".join(msg.receiver)
    statements: list[Statement] = [(
        INSERT_MESSAGE,
        (msg.message_id, msg.conversation_id, msg.sender, receivers, msg.performative._value_,
         msg.timestamp, msg.to_wire()),
    )]
    if msg.conversation_id is not None:
        cid = msg.conversation_id
        statements.append((UPSERT_CONVERSATION,
                           (cid, msg.protocol, msg.sender, msg.timestamp, msg.timestamp)))
        statements.append((ADD_PARTICIPANT, (cid, msg.sender)))
        statements.extend((ADD_PARTICIPANT, (cid, r)) for r in msg.receiver)
    statements.extend((ADD_DELIVERY, (msg.message_id, r, msg.timestamp))
                      for r in durable_receivers)
    return statements


class StateRepository:
    """Per-agent key/value state (the ABI's state_get/put/delete)."""

    def __init__(self, writer: GroupCommitWriter, readers: Readers) -> None:
        self._writer = writer
        self._readers = readers

    def read(self, agent: str, key: str) -> bytes | None:
        row = self._readers.get().execute(
            "SELECT value FROM agent_state WHERE agent = ? AND key = ?", (agent, key)
        ).fetchone()
        return bytes(row[0]) if row else None

    def usage(self, agent: str) -> int:
        row = self._readers.get().execute(
            "SELECT coalesce(sum(length(CAST(key AS BLOB)) + length(value)), 0)"
            " FROM agent_state WHERE agent = ?", (agent,)).fetchone()
        return int(row[0])

    def keys(self, agent: str, prefix: str, limit: int) -> list[str]:
        # A range on the primary key rather than LIKE, which would treat % and _ specially.
        rows = self._readers.get().execute(
            "SELECT key FROM agent_state WHERE agent = ? AND key >= ? AND key < ?"
            " ORDER BY key LIMIT ?", (agent, prefix, prefix + "\U0010ffff", limit)
        ).fetchall()
        return [key for (key,) in rows]

    @staticmethod
    def statements(agent: str, writes: dict[str, bytes | None]) -> list[Statement]:
        out: list[Statement] = []
        for key, value in writes.items():
            if value is None:
                out.append(("DELETE FROM agent_state WHERE agent = ? AND key = ?", (agent, key)))
            else:
                out.append((
                    "INSERT INTO agent_state(agent, key, value) VALUES (?, ?, ?)"
                    " ON CONFLICT(agent, key) DO UPDATE SET value = excluded.value",
                    (agent, key, value),
                ))
        return out


@dataclass(frozen=True, slots=True)
class PendingDelivery:
    body: dict[str, Any]
    receiver: str
    attempts: int
    message_id: str = ""
    problem: str | None = None  # why the stored message cannot be read (then ``body`` is {})


@dataclass(frozen=True, slots=True)
class DeadLetter:
    message_id: str
    receiver: str
    attempts: int
    reason: str | None
    failed_at: str
    message: dict[str, Any]
    readable: bool = True  # False: the stored message could not be decoded (see ``message``)

    def to_dict(self) -> dict[str, Any]:
        return {"message_id": self.message_id, "receiver": self.receiver,
                "attempts": self.attempts, "reason": self.reason, "failed_at": self.failed_at,
                "message": self.message}


class DeliveryRepository:
    """Deliveries owed to local agents, and the dead letters that gave up."""

    def __init__(self, readers: Readers) -> None:
        self._readers = readers

    @staticmethod
    def done(message_id: str, receiver: str) -> Statement:
        return (DONE_DELIVERY, (message_id, receiver))

    @staticmethod
    def attempted(message_id: str, receiver: str, attempts: int, error: str) -> Statement:
        return ("UPDATE deliveries SET attempts = ?, last_error = ?, updated_at = ?"
                " WHERE message_id = ? AND receiver = ?",
                (attempts, error, utc_now_iso(), message_id, receiver))

    @staticmethod
    def dead(message_id: str, receiver: str, attempts: int, reason: str) -> Statement:
        return ("INSERT INTO deliveries(message_id, receiver, status, attempts, last_error,"
                " updated_at) VALUES (?, ?, 'dead', ?, ?, ?) ON CONFLICT(message_id, receiver)"
                " DO UPDATE SET status = 'dead', attempts = excluded.attempts,"
                " last_error = excluded.last_error, updated_at = excluded.updated_at",
                (message_id, receiver, attempts, reason, utc_now_iso()))

    @staticmethod
    def revive(message_id: str, receiver: str) -> Statement:
        return ("UPDATE deliveries SET status = 'pending', attempts = 0, updated_at = ?"
                " WHERE message_id = ? AND receiver = ? AND status = 'dead'",
                (utc_now_iso(), message_id, receiver))

    @staticmethod
    def purge(message_id: str | None = None) -> Statement:
        if message_id is None:
            return ("DELETE FROM deliveries WHERE status = 'dead'", ())
        return ("DELETE FROM deliveries WHERE status = 'dead' AND message_id = ?", (message_id,))

    def pending(self) -> list[PendingDelivery]:
        """What is owed, in the order it was accepted; a row whose message cannot be read
        comes back with ``problem`` set, for the caller to dead-letter."""
        rows = self._readers.get().execute(
            "SELECT d.message_id, m.body, d.receiver, d.attempts FROM deliveries d"
            " JOIN messages m ON m.message_id = d.message_id"
            " WHERE d.status = 'pending' ORDER BY m.seq"
        ).fetchall()
        out = []
        for message_id, body, receiver, attempts in rows:
            try:
                out.append(PendingDelivery(q.json_object(body, "message body"), receiver,
                                           attempts, message_id))
            except q.UnreadableError as exc:
                out.append(PendingDelivery({}, receiver, attempts, message_id, str(exc)))
        return out

    def dead_letters(self, *, receiver: str | None = None, message_id: str | None = None,
                     limit: int = 100) -> list[DeadLetter]:
        sql = ("SELECT d.message_id, d.receiver, d.attempts, d.last_error, d.updated_at, m.body"
               " FROM deliveries d JOIN messages m ON m.message_id = d.message_id"
               " WHERE d.status = 'dead'")
        params: list[Any] = []
        if receiver is not None:
            sql += " AND d.receiver = ?"
            params.append(receiver)
        if message_id is not None:
            sql += " AND d.message_id = ?"
            params.append(message_id)
        sql += " ORDER BY m.seq DESC LIMIT ?"
        params.append(limit)
        rows = self._readers.get().execute(sql, params).fetchall()
        return [DeadLetter(mid, rcv, att, err, at, *q.readable_body(mid, body, [rcv]))
                for mid, rcv, att, err, at, body in rows]

