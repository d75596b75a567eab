"""The one permission table: every REST operation and gRPC method names the permission it
needs, and every role the permissions it grants. Pure data; a test walks it, so a route or RPC
that is not here cannot be served (the REST API refuses to register it, the gRPC guard denies
it) and has no auth tests.
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    open = "open"  # no credential needed: liveness, readiness, the API document, the MTP
    server_read = "server.read"
    metrics_read = "metrics.read"
    agents_read = "agents.read"
    agents_logs = "agents.logs"
    agents_deploy = "agents.deploy"
    agents_control = "agents.control"  # stop, start
    agents_remove = "agents.remove"
    messages_send = "messages.send"  # as an anonymous client (_client-...) or an agent in scope
    messages_read = "messages.read"  # the message stream, conversations and their messages
    events_read = "events.read"
    dead_letters_read = "dead_letters.read"
    dead_letters_manage = "dead_letters.manage"  # replay, purge
    directory_read = "directory.read"
    directory_manage = "directory.manage"
    platforms_read = "platforms.read"
    platforms_manage = "platforms.manage"
    protocols_run = "protocols.run"  # Contract Net, subscribe drivers
    tokens_manage = "tokens.manage"
    audit_read = "audit.read"


class Role(StrEnum):
    viewer = "viewer"
    developer = "developer"
    operator = "operator"
    admin = "admin"


P = Permission
_VIEWER = frozenset({P.server_read, P.metrics_read, P.agents_read, P.agents_logs,
                     P.messages_read, P.events_read, P.dead_letters_read, P.directory_read,
                     P.platforms_read})
_DEVELOPER = _VIEWER | {P.agents_deploy, P.agents_control, P.agents_remove, P.messages_send,
                        P.directory_manage, P.protocols_run}
_OPERATOR = _DEVELOPER | {P.dead_letters_manage, P.platforms_manage}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.viewer: _VIEWER,
    Role.developer: _DEVELOPER,
    Role.operator: _OPERATOR,
    Role.admin: _OPERATOR | {P.tokens_manage, P.audit_read},
}
for _role in Role:  # the open permission needs no grant, but every role has it
    ROLE_PERMISSIONS[_role] |= {P.open}

# Permissions a grant's agent patterns narrow: the call's target agent must match one.
SCOPED = frozenset({P.agents_read, P.agents_logs, P.agents_deploy, P.agents_control,
                    P.agents_remove, P.messages_send, P.directory_manage})

# REST operations by operationId (see caxton.api.rest); the path parameter that names the
# target agent, where there is one, is in REST_TARGETS.
REST: dict[str, Permission] = {
    "health": P.open,
    "ready": P.open,
    "openapi": P.open,
    "receiveMtpMessage": P.open,  # other platforms: checked by the MTP's own sender rules
    "metrics": P.metrics_read,
    "listAgents": P.agents_read,
    "deployAgent": P.agents_deploy,
    "getAgent": P.agents_read,
    "getAgentLogs": P.agents_logs,
    "removeAgent": P.agents_remove,
    "stopAgent": P.agents_control,
    "startAgent": P.agents_control,
    "startDeployment": P.agents_deploy,
    "listDeployments": P.agents_read,
    "getDeployment": P.agents_read,
    "watchDeployment": P.agents_read,
    "sendMessage": P.messages_send,
    "listConversations": P.messages_read,
    "getConversation": P.messages_read,
    "streamMessages": P.messages_read,
    "listDeadLetters": P.dead_letters_read,
    "purgeDeadLetters": P.dead_letters_manage,
    "getDeadLetter": P.dead_letters_read,
    "purgeDeadLetter": P.dead_letters_manage,
    "replayDeadLetter": P.dead_letters_manage,
    "listRegistrations": P.directory_read,
    "register": P.directory_manage,
    "searchDirectory": P.directory_read,
    "getRegistration": P.directory_read,
    "modifyRegistration": P.directory_manage,
    "deregister": P.directory_manage,
    "listPlatforms": P.platforms_read,
    "getPlatform": P.platforms_read,
    "putPlatform": P.platforms_manage,
    "removePlatform": P.platforms_manage,
    "runContractNet": P.protocols_run,
    "subscribe": P.protocols_run,
    "cancelSubscription": P.protocols_run,
    "streamEvents": P.events_read,
    "createToken": P.tokens_manage,
    "listTokens": P.tokens_manage,
    "revokeToken": P.tokens_manage,
    "listAudit": P.audit_read,
}
REST_TARGETS: dict[str, str] = {  # operationId -> the path parameter naming the agent
    "getAgent": "name", "getAgentLogs": "name", "removeAgent": "name", "stopAgent": "name",
    "startAgent": "name", "modifyRegistration": "agent", "deregister": "agent",
}

_A, _M, _C, _D = ("caxton.v1.AgentService", "caxton.v1.MessageService",
                  "caxton.v1.ConversationService", "caxton.v1.DeadLetterService")
GRPC: dict[str, Permission] = {
    f"/{_A}/DeployAgent": P.agents_deploy,
    f"/{_A}/ListAgents": P.agents_read,
    f"/{_A}/GetAgent": P.agents_read,
    f"/{_A}/RemoveAgent": P.agents_remove,
    f"/{_A}/StopAgent": P.agents_control,
    f"/{_A}/StartAgent": P.agents_control,
    f"/{_A}/GetAgentLogs": P.agents_logs,
    f"/{_A}/StartDeployment": P.agents_deploy,
    f"/{_A}/GetDeployment": P.agents_read,
    f"/{_A}/WatchDeployment": P.agents_read,
    f"/{_M}/SendMessage": P.messages_send,
    f"/{_M}/SendAndWait": P.messages_send,
    f"/{_M}/StreamMessages": P.messages_read,
    f"/{_C}/ListConversations": P.messages_read,
    f"/{_C}/GetConversation": P.messages_read,
    f"/{_D}/ListDeadLetters": P.dead_letters_read,
    f"/{_D}/GetDeadLetter": P.dead_letters_read,
    f"/{_D}/ReplayDeadLetter": P.dead_letters_manage,
    f"/{_D}/PurgeDeadLetters": P.dead_letters_manage,
    "/caxton.v1.ServerService/GetStatus": P.server_read,
    "/caxton.v1.DirectoryService/Register": P.directory_manage,
    "/caxton.v1.DirectoryService/Modify": P.directory_manage,
    "/caxton.v1.DirectoryService/Deregister": P.directory_manage,
    "/caxton.v1.DirectoryService/Search": P.directory_read,
    "/caxton.v1.EventService/StreamEvents": P.events_read,
    "/caxton.v1.ProtocolService/ContractNet": P.protocols_run,
    "/caxton.v1.ProtocolService/Subscribe": P.protocols_run,
    "/caxton.v1.ProtocolService/CancelSubscription": P.protocols_run,
    "/caxton.v1.PlatformService/ListPlatforms": P.platforms_read,
    "/caxton.v1.PlatformService/AddPlatform": P.platforms_manage,
    "/caxton.v1.PlatformService/RemovePlatform": P.platforms_manage,
    # standard services: probes and tooling, like /health
    "/grpc.health.v1.Health/Check": P.open,
    "/grpc.health.v1.Health/Watch": P.open,
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": P.server_read,
}
GRPC_TARGETS: dict[str, str] = {  # method -> the request field naming the agent
    f"/{_A}/GetAgent": "name", f"/{_A}/RemoveAgent": "name", f"/{_A}/StopAgent": "name",
    f"/{_A}/StartAgent": "name", f"/{_A}/GetAgentLogs": "name",
}


# What only reads: calls needing one of these are not audited (unless refused).
READ_ONLY = frozenset({P.open, P.server_read, P.metrics_read, P.agents_read, P.agents_logs,
                       P.messages_read, P.events_read, P.dead_letters_read, P.directory_read,
                       P.platforms_read, P.audit_read})


def mutating(method: str) -> bool:
    """Whether a REST method changes state (audited; JSON bodies only from browsers)."""
    return method not in ("GET", "HEAD", "OPTIONS")
