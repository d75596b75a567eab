"""The directory's table: registrations as rows, written through the group-commit writer.

The directory itself lives in memory (``caxton.runtime.directory``); this table is what it is
restored from when the server starts.
"""

from __future__ import annotations

import orjson

from caxton.domain.acl import utc_now_iso
from caxton.domain.directory import AgentDescription, parse_description
from caxton.errors import CaxtonError
from caxton.store.database import Readers
from caxton.store.quarantine import warn
from caxton.store.writer import Statement

UPSERT = (
    "INSERT INTO directory(agent, description, source, lease, updated_at) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT(agent) DO UPDATE SET description = excluded.description,"
    " source = excluded.source, lease = excluded.lease, updated_at = excluded.updated_at"
)
DELETE = "DELETE FROM directory WHERE agent = ?"


class DirectoryRepository:
    def __init__(self, readers: Readers) -> None:
        self._readers = readers

    @staticmethod
    def save(description: AgentDescription, source: str) -> Statement:
        return (UPSERT, (description.agent, orjson.dumps(description.to_dict()).decode(),
                         source, description.lease, utc_now_iso()))

    @staticmethod
    def delete(agent: str) -> Statement:
        return (DELETE, (agent,))

    def all(self) -> list[tuple[AgentDescription, str]]:
        """Every stored registration with its source, by agent name."""
        rows = self._readers.get().execute(
            "SELECT agent, description, source FROM directory ORDER BY agent").fetchall()
        out = []
        for agent, text, source in rows:
            try:
                out.append((_load(text), source))
            except (ValueError, TypeError, KeyError, CaxtonError) as exc:
                # One unreadable registration must not take the directory down.
                warn("directory", str(agent), f"description: {exc}", "not restored")
        return out


def _load(text: str) -> AgentDescription:
    obj = orjson.loads(text)
    lease = obj.pop("lease", None)
    description = parse_description(obj)
    return AgentDescription(description.agent, description.services, description.protocols,
                            description.ontologies, description.languages, lease)
