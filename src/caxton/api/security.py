"""API keys and the audit trail, as every API offers them (REST ``/api/v1/tokens`` and
``/api/v1/audit``, the CLI's ``caxton tokens`` and ``caxton audit``)."""

from __future__ import annotations

from typing import Any

from caxton.api.platforms import _Commit
from caxton.errors import InvalidMessageError
from caxton.security.api_keys import parse_duration
from caxton.security.audit import AuditTrail
from caxton.security.context import caller
from caxton.security.key_book import KeyBook


class SecurityService:
    def __init__(self, keys: KeyBook, audit: AuditTrail) -> None:
        self.keys = keys
        self.audit = audit

    async def create_token(self, *, role: str, agents: list[str] | None = None, name: str = "",
                           expires: str | None = None) -> dict[str, Any]:
        """A new API key: its record plus ``token``, which is shown this once."""
        try:
            expires_in_s = parse_duration(expires) if expires else None
        except ValueError as exc:
            raise InvalidMessageError("expires", str(exc)) from None
        who = caller()
        stored = _Commit()
        record, token = self.keys.create(role, agents=agents, name=name,
                                         expires_in_s=expires_in_s,
                                         created_by=who.actor if who else "",
                                         on_commit=stored.done)
        await stored.wait()
        return {**record.to_dict(), "token": token}

    async def list_tokens(self) -> list[dict[str, Any]]:
        return [record.to_dict() for record in self.keys.list()]

    async def revoke_token(self, key_id: str) -> dict[str, Any]:
        stored = _Commit()
        record = self.keys.revoke(key_id, on_commit=stored.done)
        await stored.wait()
        return record.to_dict()

    async def audit_events(self, *, since: str | None, actor: str | None,
                           action: str | None, limit: int) -> list[dict[str, Any]]:
        return self.audit.list(since=since, actor=actor, action=action, limit=limit)
