"""Reading stored records one at a time, so that one unreadable row costs that row, not the
server: the loaders quarantine what fails here (a failed agent, a dead letter, a skipped
conversation or registration, each with the reason and a JSON warning in the log), and
``caxton server check`` lists it.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson
import structlog

from caxton.domain.acl import AclMessage, parse_message
from caxton.domain.agent import AgentRecord
from caxton.domain.agent_permissions import AgentPermissions, parse_permissions
from caxton.domain.lifecycle import AgentState
from caxton.domain.limits import ResourceLimits
from caxton.errors import CaxtonError

log = structlog.get_logger("caxton.store")
_ERRORS = (ValueError, TypeError, CaxtonError)


class UnreadableError(Exception):
    """A stored value cannot be decoded; the message says which and why."""


def json_object(value: Any, what: str) -> dict[str, Any]:
    try:
        obj = orjson.loads(value)
    except (orjson.JSONDecodeError, TypeError) as exc:
        raise UnreadableError(f"{what} is not valid JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise UnreadableError(f"{what} is not a JSON object")
    return obj


def agent_record(name: str, version: Any, module_hash: Any, limits: Any, desired: Any,
                 deployed_at: Any, permissions: Any = None) -> AgentRecord:
    """The agent a row of ``agents`` describes; UnreadableError names what is wrong."""
    try:
        parsed = ResourceLimits(**json_object(limits, "limits"))
    except UnreadableError:
        raise
    except _ERRORS as exc:
        raise UnreadableError(f"limits are out of range ({exc})") from None
    allowed = None if permissions is None else _permissions(permissions)
    try:
        state = AgentState(desired)
    except ValueError:
        raise UnreadableError(f"desired state {desired!r} is unknown") from None
    for value, column in ((version, "version"), (module_hash, "module_hash"),
                          (deployed_at, "deployed_at")):
        if not isinstance(value, str):
            raise UnreadableError(f"{column} is not text")
    return AgentRecord(name=name, version=version, module_hash=module_hash, limits=parsed,
                       permissions=allowed, desired=state, deployed_at=deployed_at)


def _permissions(value: Any) -> AgentPermissions:
    try:
        parsed = parse_permissions(json_object(value, "permissions"))
    except UnreadableError:
        raise
    except _ERRORS as exc:
        raise UnreadableError(f"permissions are invalid ({exc})") from None
    assert parsed is not None  # a JSON object, never null
    return parsed


def stored_message(body: Any) -> AclMessage:
    """A logged message as the router takes it (the sender is kept as it was written)."""
    obj = json_object(body, "message body")
    sender = obj.get("sender")
    try:
        return parse_message(obj, sender=sender if isinstance(sender, str) else "ams")
    except _ERRORS as exc:
        raise UnreadableError(f"message body is not a valid message ({exc})") from None


def readable_body(message_id: str, body: Any, receivers: list[str] | None = None
                  ) -> tuple[dict[str, Any], bool]:
    """A logged message's JSON form; for one that cannot be decoded, a stand-in that says so
    (so that listing a conversation or the dead letters still works), and False."""
    try:
        return json_object(body, "message body"), True
    except UnreadableError as exc:
        return {"message_id": message_id, "performative": "unknown", "sender": "",
                "receiver": receivers or [], "content": {"unreadable": str(exc)}}, False


def warn(table: str, key: str, reason: str, action: str) -> None:
    log.warning("unreadable row quarantined", table=table, key=key, reason=reason,
                action=action)


def decode_problems(conn: sqlite3.Connection) -> tuple[list[str], dict[str, int]]:
    """Every stored record that cannot be decoded (``caxton server check``), one line each,
    and how many rows of each kind were read."""
    problems: list[str] = []
    counts: dict[str, int] = {}

    def each(table: str, sql: str) -> list[tuple[Any, ...]]:
        rows = conn.execute(sql).fetchall()
        counts[table] = len(rows)
        return rows

    modules = {h for (h,) in conn.execute("SELECT hash FROM modules")}
    # A database from before migration 8 (checked without being opened) has no permissions.
    columns = {row[1] for row in conn.execute("PRAGMA table_info(agents)")}
    for row in each("agents", "SELECT name, version, module_hash, limits, desired_state,"
                              " deployed_at, permissions FROM agents" if "permissions" in columns
                    else "SELECT name, version, module_hash, limits, desired_state,"
                         " deployed_at, NULL FROM agents"):
        try:
            record = agent_record(*row)
        except UnreadableError as exc:
            problems.append(f"agents: agent {row[0]!r}: {exc}")
            continue
        if record.module_hash not in modules:
            problems.append(f"agents: agent {row[0]!r}: its module {record.module_hash[:12]} "
                            "is missing")
    for message_id, receiver, status, body in each(
            "deliveries", "SELECT d.message_id, d.receiver, d.status, m.body FROM deliveries d"
                          " LEFT JOIN messages m ON m.message_id = d.message_id"):
        if body is None:
            problems.append(f"deliveries: {status} message {message_id} to {receiver!r}: "
                            "the message is missing")
            continue
        try:
            stored_message(body)
        except UnreadableError as exc:
            problems.append(f"deliveries: {status} message {message_id} to {receiver!r}: {exc}")
    for message_id, body in each("messages", "SELECT message_id, body FROM messages"):
        try:
            json_object(body, "body")
        except UnreadableError as exc:
            problems.append(f"messages: {message_id}: {exc}")
    for cid, state in each("conversations", "SELECT id, state FROM conversations"
                                            " WHERE state IS NOT NULL"):
        try:
            json_object(state, "protocol state")
        except UnreadableError as exc:
            problems.append(f"conversations: {cid}: {exc}")
    for agent, description in each("directory", "SELECT agent, description FROM directory"):
        try:
            json_object(description, "description")
        except UnreadableError as exc:
            problems.append(f"directory: {agent}: {exc}")
    return problems, counts
