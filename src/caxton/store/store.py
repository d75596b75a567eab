"""The store facade: one object the composition root opens and closes."""

from __future__ import annotations

from pathlib import Path

from caxton.domain.acl import AclMessage
from caxton.store import integrity
from caxton.store.acceptances import SINCE_SCHEMA, AcceptanceRepository
from caxton.store.compaction import compact
from caxton.store.conversation_log import ConversationLog, ConversationRepository
from caxton.store.database import DB_FILE, Readers, connect, latest_version, migrate
from caxton.store.repositories import (
    AgentRepository,
    DeliveryRepository,
    StateRepository,
    message_statements,
)
from caxton.store.writer import GroupCommitWriter, OnCommit, Statement


class Store:
    def __init__(self, data_dir: Path, *, durability: str = "full", init: bool = False
                 ) -> None:
        """Open (or create) the data dir's database. Raises DataDirDamagedError, before
        writing anything, for a file that is empty, not Caxton's, or fails its quick check
        (``init``: an empty or foreign file is moved aside and a new database begun)."""
        self.path = data_dir / DB_FILE
        if integrity.preflight(data_dir, DB_FILE, init=init):
            integrity.opening_check(self.path, known_version=latest_version())
        synchronous = "FULL" if durability == "full" else "NORMAL"
        self._conn = connect(self.path, synchronous=synchronous)
        self.schema_before = int(self._conn.execute("PRAGMA user_version").fetchone()[0])
        self.schema_version = migrate(self._conn)
        self.writer = GroupCommitWriter(self._conn, compact=compact)
        self.readers = Readers(self.path)
        self.agents = AgentRepository(self.writer, self.readers)
        self.conversations = ConversationRepository(self.readers)
        self.conversation_log = ConversationLog(self.readers)
        self.state = StateRepository(self.writer, self.readers)
        self.deliveries = DeliveryRepository(self.readers)
        self.acceptances = AcceptanceRepository(self.readers)
        self.writer.start()

    @property
    def acceptances_upgraded(self) -> bool:
        """Whether this start created the ``accepted`` table in an older data dir (whose
        earlier messages it does not list)."""
        return 0 < self.schema_before < SINCE_SCHEMA

    def message_statements(self, msg: AclMessage, durable_receivers: tuple[str, ...]
                           ) -> list[Statement]:
        return message_statements(msg, durable_receivers)

    @property
    def backlog(self) -> int:
        """Submissions waiting for the writer (for back-pressure at the API)."""
        return self.writer.backlog

    def submit(self, statements: list[Statement], on_commit: OnCommit | None = None) -> None:
        self.writer.submit(statements, on_commit)

    def close(self) -> None:
        self.writer.close()
        self.readers.close()
        self._conn.close()
