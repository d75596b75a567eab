"""REST operations on API keys and the audit trail (admin only, see the permission table)."""

from __future__ import annotations

from starlette.responses import Response

from caxton.api.rest.common import JSON
from caxton.api.rest.models.security import (
    AuditList,
    AuditQuery,
    CreatedToken,
    NewToken,
    Token,
    TokenList,
)
from caxton.api.rest.operations import Body, Call, PathParam, RestApi, reply
from caxton.api.security import SecurityService

_BODY_LIMIT = 16 * 1024


def security_routes(api: RestApi, security: SecurityService) -> None:
    @api.operation("POST", "/api/v1/tokens", operation_id="createToken", tag="security",
                   summary="Create an API key (its token is in this answer only)",
                   bodies=(Body(NewToken, _BODY_LIMIT),),
                   responses=(reply(201, "Created.", CreatedToken),
                              reply(400, "A bad role, pattern or lifetime."),
                              reply(413, "The body is over its limit.")))
    async def create(call: Call) -> Response:
        body: NewToken = call.body
        created = await security.create_token(role=body.role, agents=body.agents,
                                              name=body.name, expires=body.expires)
        call.request.scope["caxton.target"] = created["id"]
        return JSON(created, status_code=201)

    @api.operation("GET", "/api/v1/tokens", operation_id="listTokens", tag="security",
                   summary="List API keys (never their secrets)",
                   responses=(reply(200, "Every key, revoked and expired ones too.",
                                    TokenList),))
    async def list_tokens(_: Call) -> Response:
        return JSON({"tokens": await security.list_tokens()})

    @api.operation("DELETE", "/api/v1/tokens/{key_id}", operation_id="revokeToken",
                   tag="security", path_params=(PathParam("key_id", "The key's id."),),
                   summary="Revoke an API key (refused from the next request on)",
                   responses=(reply(200, "Revoked (or already was).", Token),
                              reply(404, "No key with that id.")))
    async def revoke(call: Call) -> Response:
        call.request.scope["caxton.target"] = call.path["key_id"]
        return JSON(await security.revoke_token(call.path["key_id"]))

    @api.operation("GET", "/api/v1/audit", operation_id="listAudit", tag="security",
                   summary="The audit trail: mutating calls and refused credentials",
                   query=AuditQuery,
                   responses=(reply(200, "The newest matching events, oldest first.",
                                    AuditList),
                              reply(400, "A bad query parameter.")))
    async def audit(call: Call) -> Response:
        query: AuditQuery = call.query
        return JSON({"events": await security.audit_events(
            since=query.since, actor=query.actor, action=query.action, limit=query.limit)})
