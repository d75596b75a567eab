"""Conversation tracking rows: protocol state, the events beside the messages, and pruning.

State writes are statements for the group-commit writer, so they commit in the same transaction
as the message that caused them. Reads use the calling thread's reader connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from caxton.store.database import Readers
from caxton.store.quarantine import UnreadableError, json_object, readable_body, warn
from caxton.store.writer import Statement

# An upsert rather than an update: the conversation's row may not exist yet in this transaction
# (compaction reorders message rows), and ``revision`` keeps an older state from overwriting a
# newer one that two routing threads submitted the other way round.
SAVE_STATE = (
    "INSERT INTO conversations(id, protocol, initiator, started_at, last_at, message_count,"
    " status, state, revision) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
    " status = excluded.status, state = excluded.state, revision = excluded.revision,"
    " protocol = coalesce(conversations.protocol, excluded.protocol)"
    " WHERE excluded.revision > conversations.revision"
)
ADD_EVENT = (
    "INSERT INTO conversation_events(conversation_id, at, kind, party, message_id, detail)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True, slots=True)
class OpenConversation:
    id: str
    state: dict[str, Any]
    last_at: str
    revision: int
    status: str = "open"


@dataclass(frozen=True, slots=True)
class ConversationEvent:
    at: str
    kind: str
    party: str | None
    message_id: str | None
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at, "kind": self.kind, "party": self.party,
                "message_id": self.message_id, "detail": self.detail}


class Jsonable(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


class _Json:
    """A value that becomes JSON text only when SQLite binds it (``__conform__``): on the
    writer thread, and only for the saves that survive batch compaction."""

    __slots__ = ("value",)

    def __init__(self, value: Jsonable | dict[str, Any]) -> None:
        self.value = value

    def __conform__(self, protocol: object) -> str:
        value = self.value
        return orjson.dumps(value if isinstance(value, dict) else value.to_dict()).decode()

    def __str__(self) -> str:
        return self.__conform__(None)


def save_state(cid: str, *, protocol: str, initiator: str, at: str, status: str,
               state: Jsonable | dict[str, Any], revision: int) -> Statement:
    return (SAVE_STATE, (cid, protocol, initiator, at, at, status, _Json(state), revision))


def add_event(cid: str, *, at: str, kind: str, party: str | None, message_id: str | None,
              detail: str) -> Statement:
    return (ADD_EVENT, (cid, at, kind, party, message_id, detail))


def prune(before: str) -> list[Statement]:
    """Forget conversations with no activity since ``before``, with their messages (except
    those still owed to an agent or kept as dead letters)."""
    return [
        ("DELETE FROM messages WHERE conversation_id IN (SELECT id FROM conversations"
         " WHERE last_at < ?) AND message_id NOT IN (SELECT message_id FROM deliveries)",
         (before,)),
        ("DELETE FROM conversation_events WHERE conversation_id IN (SELECT id FROM"
         " conversations WHERE last_at < ?)", (before,)),
        ("DELETE FROM conversation_participants WHERE conversation_id IN (SELECT id FROM"
         " conversations WHERE last_at < ?)", (before,)),
        ("DELETE FROM conversations WHERE last_at < ?", (before,)),
    ]


class ConversationLog:
    """Reads of what the statements above wrote."""

    def __init__(self, readers: Readers) -> None:
        self._readers = readers

    def open(self, recently_closed: int = 0) -> list[OpenConversation]:
        """Every open tracked conversation, then up to ``recently_closed`` ended ones, the
        most recent last."""
        conn = self._readers.get()
        rows = conn.execute(
            "SELECT id, state, last_at, revision, status FROM conversations"
            " WHERE status = 'open' AND state IS NOT NULL").fetchall()
        if recently_closed:
            rows += reversed(conn.execute(
                "SELECT id, state, last_at, revision, status FROM conversations"
                " WHERE status IN ('done', 'expired') AND state IS NOT NULL"
                " ORDER BY last_at DESC LIMIT ?", (recently_closed,)).fetchall())
        out = []
        for cid, state, last_at, revision, status in rows:
            try:
                out.append(OpenConversation(cid, json_object(state, "protocol state"), last_at,
                                            revision, status))
            except UnreadableError as exc:
                warn("conversations", cid, str(exc), "not tracked")
        return out

    def state(self, cid: str) -> tuple[str | None, dict[str, Any] | None]:
        row = self._readers.get().execute(
            "SELECT status, state FROM conversations WHERE id = ?", (cid,)).fetchone()
        if row is None:
            return None, None
        return row[0], (orjson.loads(row[1]) if row[1] is not None else None)

    def events(self, cid: str, limit: int = 1000) -> list[ConversationEvent]:
        rows = self._readers.get().execute(
            "SELECT at, kind, party, message_id, detail FROM conversation_events"
            " WHERE conversation_id = ? ORDER BY seq LIMIT ?", (cid, limit)).fetchall()
        return [ConversationEvent(*row) for row in rows]

    def counts(self) -> dict[tuple[str, str], int]:
        """Tracked conversations by (protocol, status), for metrics."""
        rows = self._readers.get().execute(
            "SELECT protocol, status, count(*) FROM conversations WHERE status IS NOT NULL"
            " GROUP BY protocol, status").fetchall()
        return {(protocol or "", status): n for protocol, status, n in rows}


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    id: str
    protocol: str | None
    initiator: str
    started_at: str
    last_at: str
    message_count: int
    participants: tuple[str, ...]
    status: str | None = None  # open | done | expired; None when no known protocol is followed

    def to_dict(self) -> dict[str, Any]:
        return {
            "conversation_id": self.id, "protocol": self.protocol, "initiator": self.initiator,
            "started_at": self.started_at, "last_at": self.last_at,
            "message_count": self.message_count, "participants": list(self.participants),
            "status": self.status,
        }


class ConversationRepository:
    def __init__(self, readers: Readers) -> None:
        self._readers = readers

    def recent(
        self, *, limit: int = 100, participant: str | None = None
    ) -> list[ConversationSummary]:
        conn = self._readers.get()
        if participant is None:
            rows = conn.execute(
                "SELECT id, protocol, initiator, started_at, last_at, message_count, status"
                " FROM conversations ORDER BY last_at DESC LIMIT ?", (limit,)
            ).fetchall()
        else:
            rows = conn.execute(
                "SELECT c.id, c.protocol, c.initiator, c.started_at, c.last_at, c.message_count,"
                " c.status FROM conversations c JOIN conversation_participants p"
                " ON p.conversation_id = c.id WHERE p.participant = ?"
                " ORDER BY c.last_at DESC LIMIT ?", (participant, limit)
            ).fetchall()
        return [self._summary(row) for row in rows]

    def get(self, conversation_id: str) -> ConversationSummary | None:
        row = self._readers.get().execute(
            "SELECT id, protocol, initiator, started_at, last_at, message_count, status"
            " FROM conversations WHERE id = ?", (conversation_id,)
        ).fetchone()
        return self._summary(row) if row else None

    def messages(self, conversation_id: str, *, limit: int = 1000) -> list[dict[str, Any]]:
        rows = self._readers.get().execute(
            "SELECT message_id, body FROM messages WHERE conversation_id = ? ORDER BY seq"
            " LIMIT ?", (conversation_id, limit),
        ).fetchall()
        return [readable_body(message_id, body)[0] for message_id, body in rows]

    def _summary(self, row: tuple[Any, ...]) -> ConversationSummary:
        participants = self._readers.get().execute(
            "SELECT participant FROM conversation_participants WHERE conversation_id = ?"
            " ORDER BY participant", (row[0],)
        ).fetchall()
        cid, protocol, initiator, started_at, last_at, count, status = row
        return ConversationSummary(cid, protocol, initiator, started_at, last_at, count,
                                   tuple(p for (p,) in participants), status)
