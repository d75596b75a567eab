"""/api/v1/deployments: deploys that answer 202 at once and run on in the server.

The body is what ``POST /api/v1/agents`` takes; the answer is a deployment to follow with
``GET /api/v1/deployments/{id}`` or its server-sent event stream (docs/agents.md, "Slow
deploys").
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
from starlette.responses import Response, StreamingResponse

from caxton.api.rest.agents import deploy_bodies, deploy_request
from caxton.api.rest.common import JSON
from caxton.api.rest.models.agents import DeployQuery
from caxton.api.rest.models.deployments import Deployment, DeploymentList, StartedDeployment
from caxton.api.rest.operations import SSE, Call, PathParam, Reply, RestApi, reply
from caxton.api.service import CaxtonService

ID = PathParam("deployment_id", "The deployment's id, or an agent's name for its latest one.")
NOT_FOUND = reply(404, "No such deployment (or finished long ago).")


def deployment_routes(api: RestApi, service: CaxtonService, *, max_module_bytes: int) -> None:
    @api.operation(
        "POST", "/api/v1/deployments", operation_id="startDeployment", tag="deployments",
        summary="Start deploying an agent; answers at once while the deploy runs on",
        description="The body is what POST /api/v1/agents takes. The answer is the deployment "
                    "with a Location header; follow it with GET /api/v1/deployments/{id}.",
        query=DeployQuery, bodies=deploy_bodies(max_module_bytes),
        responses=(reply(202, "Accepted; the deploy runs on in the server.",
                         StartedDeployment),
                   reply(400, "A bad name, version, limit, service or permission (the "
                              "message names it)."),
                   reply(409, "This agent has a deployment in progress already."),
                   reply(413, "The module is over max_module_bytes."),
                   reply(429, "As many deployments as the server runs at once are in "
                              "progress.")))
    async def start_deployment(call: Call) -> Response:
        view = service.start_deployment(deploy_request(call))
        url = f"/api/v1/deployments/{view['id']}"
        return JSON({**view, "status_url": url}, status_code=202, headers={"Location": url})

    @api.operation("GET", "/api/v1/deployments", operation_id="listDeployments",
                   tag="deployments",
                   summary="Recent deployments, newest first (running and last finished)",
                   responses=(reply(200, "Deployments.", DeploymentList),))
    async def list_deployments(_: Call) -> Response:
        return JSON({"deployments": service.deployments.list()})

    @api.operation("GET", "/api/v1/deployments/{deployment_id}", operation_id="getDeployment",
                   tag="deployments", path_params=(ID,),
                   summary="One deployment: its stage, progress, and the agent or the error",
                   responses=(reply(200, "The deployment.", Deployment), NOT_FOUND))
    async def get_deployment(call: Call) -> Response:
        return JSON(service.deployments.get(call.path["deployment_id"]))

    @api.operation(
        "GET", "/api/v1/deployments/{deployment_id}/events", operation_id="watchDeployment",
        tag="deployments", path_params=(ID,),
        summary="A deployment's progress as server-sent events, until it finishes",
        description="One event now, one at each stage (and every second while a stage runs), "
                    "and the last when the deployment has succeeded or failed; then the stream "
                    "ends.",
        responses=(Reply(200, "A text/event-stream; each event's data is a Deployment.",
                         media_type=SSE, events=Deployment), NOT_FOUND))
    async def watch_deployment(call: Call) -> Response:
        snapshots = service.deployments.watch(call.path["deployment_id"])
        first = await anext(snapshots)  # an unknown id is a 404, not an empty stream

        async def events() -> AsyncIterator[bytes]:
            yield b"data: " + orjson.dumps(first) + b"\n\n"
            async for snapshot in snapshots:
                yield b"data: " + orjson.dumps(snapshot) + b"\n\n"

        return StreamingResponse(events(), media_type=SSE,
                                 headers={"Cache-Control": "no-store"})
