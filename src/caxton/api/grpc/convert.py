"""Protobuf messages to and from the JSON shapes the service layer and REST use.

Both sides of the wire use these: the server to turn requests into what ``CaxtonService`` takes
and its answers into protobuf, the client (``caxton.client``) to do the reverse. Keeping the
JSON shape as the common currency is what keeps gRPC and REST answers identical.

A message's shape errors that protobuf cannot even carry (``"receiver": 7``) are reported with
the same ``InvalidMessageError`` the server would raise; everything else is validated once, by
the server (``caxton.domain.acl.parse_message``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from caxton.api.grpc._generated import (
    acl_pb2,
    agents_pb2,
    conversations_pb2,
    dead_letters_pb2,
    server_pb2,
)
from caxton.api.grpc.convert_permissions import permissions_from_proto, permissions_to_proto
from caxton.errors import InvalidMessageError

# The JSON form's order: optional strings between receiver/reply_to and reply_by (acl.to_dict).
_STRINGS = ("language", "encoding", "ontology", "protocol", "conversation_id", "reply_with",
            "in_reply_to")
_LIMITS = ("fuel", "memory_bytes", "timeout_ms", "max_message_bytes", "max_host_calls",
           "max_sends_per_message")
_RATES = ("routed_per_s", "processed_per_s", "routed_total", "processed_total", "window_s")


# -- ACL messages ------------------------------------------------------------------------------
def message_from_proto(pb: acl_pb2.AclMessage) -> dict[str, Any]:
    """The JSON form of ``pb``: unset fields absent, members in wire order, content last."""
    out: dict[str, Any] = {}
    if pb.HasField("message_id"):
        out["message_id"] = pb.message_id
    if pb.performative:  # proto3 cannot tell "" from unset; both mean "missing"
        out["performative"] = pb.performative
    if pb.HasField("sender"):
        out["sender"] = pb.sender
    if pb.receiver:
        out["receiver"] = list(pb.receiver)
    if pb.reply_to:
        out["reply_to"] = list(pb.reply_to)
    if pb.addresses:
        out["addresses"] = {name: list(urls.urls) for name, urls in pb.addresses.items()}
    for name in _STRINGS:
        if pb.HasField(name):
            out[name] = getattr(pb, name)
    if pb.HasField("reply_by"):
        out["reply_by"] = pb.reply_by
    if pb.HasField("timestamp"):
        out["timestamp"] = pb.timestamp
    if pb.HasField("trace_context"):
        trace = {"traceparent": pb.trace_context.traceparent}
        if pb.trace_context.HasField("tracestate"):
            trace["tracestate"] = pb.trace_context.tracestate
        out["trace_context"] = trace
    for key, value in pb.user_params.items():
        if key[:2] not in ("X-", "x-"):
            raise InvalidMessageError("user_params", f"{key!r} is not an X- parameter name")
        out[key] = value
    out["content"] = None
    if pb.HasField("content_json"):
        try:
            out["content"] = orjson.loads(pb.content_json)
        except orjson.JSONDecodeError as exc:
            raise InvalidMessageError("content_json", f"is not valid JSON: {exc}") from None
    return out


def message_to_proto(obj: Mapping[str, Any]) -> acl_pb2.AclMessage:
    """``obj`` (a message in its JSON form) as protobuf."""
    if not isinstance(obj, Mapping):
        raise InvalidMessageError("message", "must be a JSON object")
    pb = acl_pb2.AclMessage()
    for key, value in obj.items():
        if key == "content":
            pb.content_json = orjson.dumps(value).decode()
        elif value is None:
            continue  # absent, as in the JSON form
        elif key in ("receiver", "reply_to"):
            getattr(pb, key).extend(_names(key, value))
        elif key == "trace_context":
            _trace_context(pb, value)
        elif key == "addresses":
            transport_addresses(pb, value)
        elif key[:2] in ("X-", "x-"):
            if not isinstance(value, str):
                raise InvalidMessageError(key, "user-defined parameters must be strings")
            pb.user_params[key] = value
        elif key in _STRINGS or key in ("message_id", "performative", "sender", "reply_by",
                                        "timestamp"):
            if not isinstance(value, str):
                raise InvalidMessageError(key, "must be a string")
            setattr(pb, key, value)
        else:
            raise InvalidMessageError(key, "unknown field")
    return pb


def _names(key: str, value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise InvalidMessageError(key, "must be an agent name or a list of agent names")


def transport_addresses(pb: Any, value: Any) -> None:
    """``{"agent": [URL, ...]}`` into ``pb.addresses`` (a map of AddressList)."""
    if not isinstance(value, Mapping):
        raise InvalidMessageError("addresses", "must be an object of agent name to URL list")
    for name, urls in value.items():
        if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
            raise InvalidMessageError("addresses", f"addresses of {name!r} must be a list of URLs")
        pb.addresses[name].urls.extend(urls)


def _trace_context(pb: acl_pb2.AclMessage, value: Any) -> None:
    if not isinstance(value, Mapping) or not isinstance(value.get("traceparent"), str):
        raise InvalidMessageError("trace_context", "must be an object with a 'traceparent'")
    pb.trace_context.traceparent = value["traceparent"]
    if isinstance(value.get("tracestate"), str):
        pb.trace_context.tracestate = value["tracestate"]


# -- agents ------------------------------------------------------------------------------------
def limits_from_proto(pb: agents_pb2.LimitOverrides) -> dict[str, int | None]:
    return {name: getattr(pb, name) if pb.HasField(name) else None for name in _LIMITS}


def limits_to_proto(limits: Mapping[str, int | None]) -> agents_pb2.LimitOverrides:
    return agents_pb2.LimitOverrides(**{k: v for k, v in limits.items() if v is not None})


def agent_to_proto(view: Mapping[str, Any]) -> agents_pb2.AgentView:
    """``view`` as ``CaxtonService.agent_view`` builds it."""
    stats = view["stats"]
    permissions = view.get("permissions")
    return agents_pb2.AgentView(
        name=view["name"], version=view["version"], state=view["state"],
        module_hash=view["module_hash"],
        limits=agents_pb2.ResourceLimits(**{k: view["limits"][k] for k in _LIMITS}),
        permissions=permissions_to_proto(permissions) if permissions is not None else None,
        deployed_at=view["deployed_at"], mailbox_depth=view["mailbox_depth"],
        memory_bytes=view["memory_bytes"], hibernated=view["hibernated"],
        stats=agents_pb2.AgentStats(
            handled=stats["handled"], failed=stats["failed"], sent=stats["sent"],
            fuel_used=stats["fuel_used"], last_error=stats["last_error"],
            failures_by_kind=stats["failures_by_kind"], sends_refused=stats["sends_refused"],
            batched_messages=stats["batched_messages"]),
    )


def agent_from_proto(pb: agents_pb2.AgentView) -> dict[str, Any]:
    """The same dictionary, key for key, that REST returns for an agent."""
    stats = pb.stats
    return {
        "name": pb.name, "version": pb.version, "state": pb.state,
        "module_hash": pb.module_hash,
        "limits": {k: getattr(pb.limits, k) for k in _LIMITS},
        "permissions": (permissions_from_proto(pb.permissions) if pb.HasField("permissions")
                        else None),
        "deployed_at": pb.deployed_at, "mailbox_depth": pb.mailbox_depth,
        "memory_bytes": pb.memory_bytes, "hibernated": pb.hibernated,
        "stats": {
            "handled": stats.handled, "failed": stats.failed, "sent": stats.sent,
            "fuel_used": stats.fuel_used,
            "last_error": stats.last_error if stats.HasField("last_error") else None,
            "failures_by_kind": dict(stats.failures_by_kind),
            "sends_refused": stats.sends_refused,
            "batched_messages": stats.batched_messages,
        },
    }


def log_line_from_proto(pb: agents_pb2.LogLine) -> dict[str, Any]:
    return {"timestamp": pb.timestamp, "level": pb.level, "message": pb.message}


# -- conversations -----------------------------------------------------------------------------
def summary_to_proto(row: Mapping[str, Any]) -> conversations_pb2.ConversationSummary:
    return conversations_pb2.ConversationSummary(
        conversation_id=row["conversation_id"], protocol=row["protocol"],
        initiator=row["initiator"], started_at=row["started_at"], last_at=row["last_at"],
        message_count=row["message_count"], participants=row["participants"],
        status=row.get("status"))


def summary_from_proto(pb: conversations_pb2.ConversationSummary) -> dict[str, Any]:
    return {
        "conversation_id": pb.conversation_id,
        "protocol": pb.protocol if pb.HasField("protocol") else None,
        "initiator": pb.initiator, "started_at": pb.started_at, "last_at": pb.last_at,
        "message_count": pb.message_count, "participants": list(pb.participants),
        "status": pb.status if pb.HasField("status") else None,
    }


def conversation_to_proto(conv: Mapping[str, Any]) -> conversations_pb2.Conversation:
    return conversations_pb2.Conversation(
        summary=summary_to_proto(conv),
        messages=[message_to_proto(m) for m in conv["messages"]],
        parties={name: conversations_pb2.Party(
            kind=p["kind"], state=p["state"], last=p.get("last"), deadline=p.get("deadline"))
            for name, p in conv.get("parties", {}).items()},
        events=[conversations_pb2.ConversationEvent(**e) for e in conv.get("events", [])])


def conversation_from_proto(pb: conversations_pb2.Conversation) -> dict[str, Any]:
    return {**summary_from_proto(pb.summary),
            "parties": {name: {"kind": p.kind, "state": p.state,
                               "last": p.last if p.HasField("last") else None,
                               "deadline": p.deadline if p.HasField("deadline") else None}
                        for name, p in pb.parties.items()},
            "events": [{"at": e.at, "kind": e.kind,
                        "party": e.party if e.HasField("party") else None,
                        "message_id": e.message_id if e.HasField("message_id") else None,
                        "detail": e.detail} for e in pb.events],
            "messages": [message_from_proto(m) for m in pb.messages]}


# -- dead letters ------------------------------------------------------------------------------
def dead_letter_to_proto(row: Mapping[str, Any]) -> dead_letters_pb2.DeadLetter:
    return dead_letters_pb2.DeadLetter(
        message_id=row["message_id"], receiver=row["receiver"], attempts=row["attempts"],
        reason=row["reason"], failed_at=row["failed_at"],
        message=message_to_proto(row["message"]))


def dead_letter_from_proto(pb: dead_letters_pb2.DeadLetter) -> dict[str, Any]:
    return {"message_id": pb.message_id, "receiver": pb.receiver, "attempts": pb.attempts,
            "reason": pb.reason if pb.HasField("reason") else None, "failed_at": pb.failed_at,
            "message": message_from_proto(pb.message)}


# -- server status -----------------------------------------------------------------------------
def status_to_proto(health: Mapping[str, Any], ready: Mapping[str, Any]
                    ) -> server_pb2.ServerStatus:
    checks = ready["checks"]
    rates = ready.get("messages")
    return server_pb2.ServerStatus(
        status=ready["status"], uptime_s=health["uptime_s"], store=checks["store"],
        agents_total=checks["agents"]["total"], agents_running=checks["agents"]["running"],
        messages=server_pb2.MessageRates(**{k: rates[k] for k in _RATES}) if rates else None)


def status_from_proto(pb: server_pb2.ServerStatus) -> tuple[dict[str, Any], dict[str, Any]]:
    """The bodies of REST's ``GET /health`` and ``GET /ready``."""
    health = {"status": "ok", "uptime_s": pb.uptime_s}
    ready: dict[str, Any] = {"status": pb.status, "checks": {
        "store": pb.store, "agents": {"total": pb.agents_total, "running": pb.agents_running}}}
    if pb.HasField("messages"):
        ready["messages"] = {k: getattr(pb.messages, k) for k in _RATES}
    return health, ready
