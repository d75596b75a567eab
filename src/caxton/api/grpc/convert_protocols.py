"""The protocol drivers' requests, outcomes and events to and from protobuf (protocols.proto).

The JSON shapes (what ``caxton.api.drivers`` takes and returns, and REST carries) are the common
currency: the server turns requests into them, the client (``caxton.client.protocols``) turns
answers back into them, so both transports answer alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from caxton.api.grpc import convert
from caxton.api.grpc._generated import protocols_pb2
from caxton.errors import InvalidMessageError

_COPIED = ("conversation_id", "language", "ontology")


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _json_value(pb: Any, name: str) -> Any:
    if not pb.HasField(name):
        return None
    try:
        return orjson.loads(getattr(pb, name))
    except orjson.JSONDecodeError as exc:
        raise InvalidMessageError(name, f"is not valid JSON: {exc}") from None


def _common_to_json(pb: Any, out: dict[str, Any]) -> dict[str, Any]:
    for name in _COPIED:
        if pb.HasField(name):
            out[name] = getattr(pb, name)
    if pb.addresses:
        out["addresses"] = {name: list(urls.urls) for name, urls in pb.addresses.items()}
    for key, value in pb.user_params.items():
        if key[:2] not in ("X-", "x-"):
            raise InvalidMessageError("user_params", f"{key!r} is not an X- parameter name")
        out[key] = value
    return out


def _common_from_json(obj: Mapping[str, Any], pb: Any) -> None:
    for name in _COPIED:
        if obj.get(name) is not None:
            setattr(pb, name, obj[name])
    if obj.get("addresses") is not None:
        convert.transport_addresses(pb, obj["addresses"])
    for key, value in obj.items():
        if key[:2] in ("X-", "x-"):
            pb.user_params[key] = value


# -- Contract Net ------------------------------------------------------------------------------
def contract_net_request_to_json(pb: protocols_pb2.ContractNetRequest) -> dict[str, Any]:
    out: dict[str, Any] = {"receiver": list(pb.receiver),
                           "content": _json_value(pb, "content_json")}
    if pb.deadline_s:
        out["deadline_s"] = pb.deadline_s
    if pb.pick:
        out["pick"] = pb.pick
    if pb.HasField("result_timeout_s"):
        out["result_timeout_s"] = pb.result_timeout_s
    return _common_to_json(pb, out)


def contract_net_request_from_json(obj: Mapping[str, Any]) -> protocols_pb2.ContractNetRequest:
    receiver = obj.get("receiver") or []
    pb = protocols_pb2.ContractNetRequest(
        receiver=[receiver] if isinstance(receiver, str) else list(receiver),
        content_json=_json_text(obj.get("content")), deadline_s=obj.get("deadline_s") or 0.0,
        pick=obj.get("pick") or "")
    if obj.get("result_timeout_s") is not None:
        pb.result_timeout_s = obj["result_timeout_s"]
    _common_from_json(obj, pb)
    return pb


def outcome_to_proto(outcome: Mapping[str, Any]) -> protocols_pb2.ContractNetOutcome:
    pb = protocols_pb2.ContractNetOutcome(
        conversation_id=outcome["conversation_id"], protocol=outcome["protocol"],
        rule=outcome["rule"], reply_by=outcome["reply_by"], status=outcome["status"],
        elapsed_s=outcome["elapsed_s"])
    if outcome.get("winner") is not None:
        pb.winner = outcome["winner"]
        pb.proposal_json = _json_text(outcome.get("proposal"))
    result = outcome.get("result")
    if result is not None:
        pb.result.CopyFrom(protocols_pb2.ContractNetResult(
            performative=result["performative"], content_json=_json_text(result["content"]),
            after_s=result["after_s"], message_id=result["message_id"]))
    for p in outcome["participants"]:
        answer = protocols_pb2.ParticipantAnswer(agent=p["agent"], answer=p["answer"])
        for name in ("after_s", "message_id", "decision", "reason"):
            if p.get(name) is not None:
                setattr(answer, name, p[name])
        if p.get("message_id") is not None:
            answer.content_json = _json_text(p.get("content"))
        pb.participants.append(answer)
    return pb


def outcome_from_proto(pb: protocols_pb2.ContractNetOutcome) -> dict[str, Any]:
    result = None
    if pb.HasField("result"):
        result = {"performative": pb.result.performative,
                  "content": _json_value(pb.result, "content_json"),
                  "after_s": pb.result.after_s, "message_id": pb.result.message_id}
    return {
        "conversation_id": pb.conversation_id, "protocol": pb.protocol, "rule": pb.rule,
        "reply_by": pb.reply_by, "status": pb.status,
        "winner": pb.winner if pb.HasField("winner") else None,
        "proposal": _json_value(pb, "proposal_json"), "result": result,
        "participants": [{
            "agent": p.agent, "answer": p.answer,
            "after_s": p.after_s if p.HasField("after_s") else None,
            "content": _json_value(p, "content_json"),
            "message_id": p.message_id if p.HasField("message_id") else None,
            "decision": p.decision if p.HasField("decision") else None,
            "reason": p.reason if p.HasField("reason") else None,
        } for p in pb.participants],
        "elapsed_s": pb.elapsed_s,
    }


# -- subscribe ---------------------------------------------------------------------------------
def subscribe_request_to_json(pb: protocols_pb2.SubscribeRequest) -> dict[str, Any]:
    out: dict[str, Any] = {"receiver": pb.receiver, "content": _json_value(pb, "content_json")}
    if pb.count:
        out["count"] = pb.count
    if pb.HasField("cancel_timeout_s"):
        out["cancel_timeout_s"] = pb.cancel_timeout_s
    return _common_to_json(pb, out)


def subscribe_request_from_json(obj: Mapping[str, Any]) -> protocols_pb2.SubscribeRequest:
    pb = protocols_pb2.SubscribeRequest(receiver=obj.get("receiver") or "",
                                        content_json=_json_text(obj.get("content")),
                                        count=obj.get("count") or 0)
    if obj.get("cancel_timeout_s") is not None:
        pb.cancel_timeout_s = obj["cancel_timeout_s"]
    _common_from_json(obj, pb)
    return pb


def event_to_proto(event: Mapping[str, Any]) -> protocols_pb2.SubscriptionEvent:
    pb = protocols_pb2.SubscriptionEvent(event=event["event"],
                                         conversation_id=event["conversation_id"],
                                         after_s=event["after_s"])
    for name in ("message", "answer"):
        if event.get(name) is not None:
            getattr(pb, name).CopyFrom(convert.message_to_proto(event[name]))
    for name in ("outcome", "reason"):
        if event.get(name) is not None:
            setattr(pb, name, event[name])
    return pb


def event_from_proto(pb: protocols_pb2.SubscriptionEvent) -> dict[str, Any]:
    out: dict[str, Any] = {"event": pb.event, "conversation_id": pb.conversation_id,
                           "message": convert.message_from_proto(pb.message)
                           if pb.HasField("message") else None}
    if pb.event == "cancelled":
        out["answer"] = convert.message_from_proto(pb.answer) if pb.HasField("answer") else None
        out["outcome"] = pb.outcome if pb.HasField("outcome") else None
        if pb.HasField("reason"):
            out["reason"] = pb.reason
    out["after_s"] = pb.after_s
    return out
