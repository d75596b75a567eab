"""Models of API keys (``/api/v1/tokens``) and the audit trail (``/api/v1/audit``)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

Role = Literal["admin", "operator", "developer", "viewer"]
Pattern = Annotated[str, msgspec.Meta(min_length=1, max_length=256, examples=["team-a-*"])]


class NewToken(msgspec.Struct, forbid_unknown_fields=True):
    role: Role
    agents: Annotated[list[Pattern], msgspec.Meta(
        min_length=1, max_length=64,
        description="Agent-name patterns the grant is scoped to (default: every agent)")] = \
        msgspec.field(default_factory=lambda: ["*"])
    name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    expires: Annotated[str, msgspec.Meta(
        max_length=32, description="A lifetime such as 30d, 12h or 1w; none: never",
        examples=["30d"])] | None = None


class Token(msgspec.Struct):
    id: str
    name: str
    role: str
    agents: list[str]
    created_by: str
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    active: bool


class CreatedToken(Token):
    token: Annotated[str, msgspec.Meta(description="The API key: shown this once, never again")]


class TokenList(msgspec.Struct):
    tokens: list[Token]


class AuditQuery(msgspec.Struct, forbid_unknown_fields=True):
    since: Annotated[str, msgspec.Meta(
        max_length=40, description="Only events at or after this UTC time (ISO 8601)")] | None \
        = None
    actor: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    action: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 100


class AuditEvent(msgspec.Struct):
    seq: int
    at: str
    actor: str
    source: str
    action: str
    target: str
    outcome: str
    status: int
    detail: str


class AuditList(msgspec.Struct):
    events: list[AuditEvent]
