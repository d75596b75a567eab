"""Deployments (api/deployments.py) to and from their protobuf form, key for key as REST."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from caxton.api.grpc import convert
from caxton.api.grpc._generated import agents_pb2


def deployment_to_proto(view: Mapping[str, Any]) -> agents_pb2.Deployment:
    pb = agents_pb2.Deployment(
        id=view["id"], name=view["name"], version=view["version"],
        module_bytes=view["module_bytes"], status=view["status"], stage=view["stage"],
        stages=view["stages"], progress=view["progress"], started_at=view["started_at"],
        finished_at=view["finished_at"] or "", elapsed_s=view["elapsed_s"],
        stage_s=view["stage_s"])
    if view["agent"] is not None:
        pb.agent.CopyFrom(convert.agent_to_proto(view["agent"]))
    if view["error"] is not None:
        pb.error.CopyFrom(agents_pb2.DeploymentError(**view["error"]))
    return pb


def deployment_from_proto(pb: agents_pb2.Deployment) -> dict[str, Any]:
    """The same dictionary that GET /api/v1/deployments/{id} returns."""
    return {
        "id": pb.id, "name": pb.name, "version": pb.version, "module_bytes": pb.module_bytes,
        "status": pb.status, "stage": pb.stage, "stages": list(pb.stages),
        "progress": pb.progress, "started_at": pb.started_at,
        "finished_at": pb.finished_at or None, "elapsed_s": pb.elapsed_s,
        "stage_s": dict(pb.stage_s),
        "agent": convert.agent_from_proto(pb.agent) if pb.HasField("agent") else None,
        "error": ({"code": pb.error.code, "message": pb.error.message}
                  if pb.HasField("error") else None),
    }
