"""The ``accepted`` table: message ids their senders chose, kept for the de-duplication window.

Rows are written by a statement in the same group-commit transaction as the message they
accepted (no extra commit, no read on the way in); the unique key on ``message_id`` makes the
record of an id single. Reads happen at start-up (what the window still holds), and only for
senders that retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from caxton.store.database import Readers
from caxton.store.quarantine import UnreadableError, json_object
from caxton.store.writer import Statement

SINCE_SCHEMA = 5  # the migration that created the table

ACCEPT = (
    "INSERT INTO accepted(message_id, conversation_id, fingerprint, accepted_at)"
    " VALUES (?, ?, ?, ?) ON CONFLICT(message_id) DO NOTHING"
)


@dataclass(frozen=True, slots=True)
class AcceptedRow:
    message_id: str
    conversation_id: str | None
    fingerprint: str
    accepted_at: float


class AcceptanceRepository:
    def __init__(self, readers: Readers) -> None:
        self._readers = readers

    @staticmethod
    def accept(message_id: str, conversation_id: str | None, fingerprint: str,
               at: float) -> Statement:
        return (ACCEPT, (message_id, conversation_id, fingerprint, at))

    @staticmethod
    def prune(before: float) -> Statement:
        return ("DELETE FROM accepted WHERE accepted_at < ?", (before,))

    def recent(self, since: float, limit: int) -> list[AcceptedRow]:
        """Rows accepted at or after ``since``, up to ``limit`` of the newest, oldest first."""
        rows = self._readers.get().execute(
            "SELECT message_id, conversation_id, fingerprint, accepted_at FROM accepted"
            " WHERE accepted_at >= ? ORDER BY accepted_at DESC LIMIT ?", (since, limit)
        ).fetchall()
        return [AcceptedRow(*row) for row in reversed(rows)]

    def find(self, message_id: str) -> AcceptedRow | None:
        row = self._readers.get().execute(
            "SELECT message_id, conversation_id, fingerprint, accepted_at FROM accepted"
            " WHERE message_id = ?", (message_id,)).fetchone()
        return AcceptedRow(*row) if row else None

    def logged(self, message_id: str) -> dict[str, Any] | None:
        """The logged message with that id (pruned with its conversation after a while)."""
        row = self._readers.get().execute(
            "SELECT body FROM messages WHERE message_id = ?", (message_id,)).fetchone()
        return _body(row[0]) if row else None

    def reply(self, conversation_id: str, in_reply_to: str) -> dict[str, Any] | None:
        """The first logged answer to ``in_reply_to`` in the conversation, if any."""
        rows = self._readers.get().execute(
            "SELECT body FROM messages WHERE conversation_id = ? ORDER BY seq LIMIT 1000",
            (conversation_id,)).fetchall()
        for (body,) in rows:
            msg = _body(body)
            if msg is not None and msg.get("in_reply_to") == in_reply_to:
                return msg
        return None

    def issuing_key(self) -> bytes:
        row = self._readers.get().execute(
            "SELECT value FROM settings WHERE key = 'issued_id_key'").fetchone()
        return bytes.fromhex(row[0])


def _body(text: Any) -> dict[str, Any] | None:
    try:
        return json_object(text, "message body")
    except UnreadableError:
        return None  # quarantined elsewhere; here it is just not an answer
