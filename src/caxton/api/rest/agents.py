"""REST operations on agents: deploy, list, show, logs, stop, start, remove."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from starlette.responses import Response

from caxton.api.rest.common import JSON, RequestError
from caxton.api.rest.models.agents import (
    AgentList,
    AgentLogs,
    AgentView,
    DeployBody,
    DeployQuery,
    LogsQuery,
)
from caxton.api.rest.operations import RAW, Body, Call, PathParam, RestApi, reply
from caxton.api.service import CaxtonService, DeployRequest

_LIMITS = ("fuel", "memory_bytes", "timeout_ms", "max_message_bytes", "max_host_calls",
           "max_sends_per_message")
NAME = PathParam("name", "The agent's name.")
NOT_FOUND = reply(404, "No such agent.")
_DEPLOYED = (reply(201, "Deployed and running.", AgentView),
             reply(400, "A bad name, version, limit, service or permission (the message names "
                        "it)."),
             reply(408, "The module upload took longer than deploy_upload_timeout_s."),
             reply(409, "A lifecycle change the agent's state does not allow now, or the "
                        "agents' memory limits would exceed max_total_memory_bytes."),
             reply(413, "The module is over max_module_bytes."),
             reply(422, "The module failed validation, or imports a host function its "
                        "permissions deny; the message says why."),
             reply(503, "The store or the directory cannot take the deployment now, too "
                        "many deploys are in progress (see Retry-After), or the operating "
                        "system has no memory for another sandbox (capacity_exhausted)."))


def deploy_bodies(max_module_bytes: int) -> tuple[Body, ...]:
    """What a deploy may send: JSON with the module in base64, or the raw module."""
    # base64 makes a module a third larger in a JSON body
    json_limit = max_module_bytes * 4 // 3 + 64 * 1024
    # A limit is named alone ("fuel"), as in the raw form's query and over gRPC.
    return (Body(DeployBody, json_limit, unnest=("limits",)),
            Body(RAW, max_module_bytes, media_type="application/wasm",
                 also=("application/octet-stream", "text/plain"), fallback=True))


def agent_routes(api: RestApi, service: CaxtonService, *, max_module_bytes: int,
                 upload_timeout_s: float = 120.0) -> None:
    @api.operation("GET", "/api/v1/agents", operation_id="listAgents", tag="agents",
                   summary="List agents",
                   responses=(reply(200, "Every deployed agent with state, version, limits "
                                         "and counters.", AgentList),))
    async def list_agents(_: Call) -> Response:
        return JSON({"agents": await service.list_agents()})

    @api.operation(
        "POST", "/api/v1/agents", operation_id="deployAgent", tag="agents",
        summary="Deploy an agent (or a new version of one)",
        description="Either a JSON body with the module in base64, or the raw module (binary, "
                    "WAT text or a component) as the body, with the settings as query "
                    "parameters (any Content-Type but JSON is read as a raw module).",
        query=DeployQuery,
        bodies=deploy_bodies(max_module_bytes),
        deferred_body=True, responses=_DEPLOYED)
    async def deploy_agent(call: Call) -> Response:
        async def read() -> DeployRequest:
            # Runs once the deploy has its slot: only then is the body read, and within a
            # deadline, so that a client trickling its upload cannot hold the slot for ever.
            try:
                async with asyncio.timeout(upload_timeout_s):
                    full = await call.with_body()
            except TimeoutError:
                raise RequestError(408, "request_timeout", f"the module upload took longer "
                                   f"than {upload_timeout_s:g}s (config deploy_upload_timeout_s)"
                                   ) from None
            return deploy_request(full)

        return JSON(await service.deploy_read(read), status_code=201)


    @api.operation("GET", "/api/v1/agents/{name}", operation_id="getAgent", tag="agents",
                   summary="Show one agent", path_params=(NAME,),
                   responses=(reply(200, "The agent.", AgentView), NOT_FOUND))
    async def get_agent(call: Call) -> Response:
        return JSON(await service.get_agent(call.path["name"]))

    @api.operation("GET", "/api/v1/agents/{name}/logs", operation_id="getAgentLogs",
                   tag="agents", path_params=(NAME,), query=LogsQuery,
                   summary="Recent log lines the agent wrote through the host's log function",
                   responses=(reply(200, "Log lines, oldest first.", AgentLogs), NOT_FOUND))
    async def agent_logs(call: Call) -> Response:
        query: LogsQuery = call.query
        return JSON({"logs": await service.agent_logs(call.path["name"], query.limit)})

    @api.operation("DELETE", "/api/v1/agents/{name}", operation_id="removeAgent", tag="agents",
                   summary="Remove an agent (drains its mailbox first)", path_params=(NAME,),
                   responses=(reply(204, "Removed.", None), NOT_FOUND,
                              reply(503, "The store cannot take the change now.")))
    async def remove_agent(call: Call) -> Response:
        await service.remove_agent(call.path["name"])
        return Response(status_code=204)

    @api.operation("POST", "/api/v1/agents/{name}/stop", operation_id="stopAgent",
                   tag="agents", path_params=(NAME,),
                   summary="Stop an agent after it drains its mailbox",
                   responses=(reply(200, "Stopped.", AgentView), NOT_FOUND,
                              reply(409, "The agent's state does not allow stopping.")))
    async def stop_agent(call: Call) -> Response:
        return JSON(await service.stop_agent(call.path["name"]))

    @api.operation("POST", "/api/v1/agents/{name}/start", operation_id="startAgent",
                   tag="agents", path_params=(NAME,),
                   summary="Start a stopped or failed agent",
                   responses=(reply(200, "Running.", AgentView), NOT_FOUND,
                              reply(409, "The agent's state does not allow starting."),
                              reply(422, "The module no longer loads, or its stored record "
                                         "cannot be read (deploy it again).")))
    async def start_agent(call: Call) -> Response:
        return JSON(await service.start_agent(call.path["name"]))


def deploy_request(call: Call) -> DeployRequest:
    """The deploy a checked call asks for (JSON with ``module_base64``, or the raw module)."""
    if isinstance(call.body, DeployBody):
        body = call.body
        limits = {k: getattr(body.limits, k) for k in _LIMITS} if body.limits else {}
        request = DeployRequest(name=body.name, module=body.module_base64,
                                version=body.version, limits=limits,
                                services=call.json.get("services"),
                                permissions=call.json.get("permissions"))
    else:
        query: DeployQuery = call.query
        if query.name is None:
            raise RequestError(400, "invalid_parameter", "query parameter 'name' is "
                               "required with a raw module", field="name")
        request = DeployRequest(name=query.name, module=call.body, version=query.version,
                                limits={k: getattr(query, k) for k in _LIMITS},
                                services=_json_parameter(query.services, "services"),
                                permissions=_json_parameter(query.permissions, "permissions"))
    return request


def _json_parameter(text: str | None, name: str) -> Any:
    """A query parameter holding JSON, parsed (None when absent)."""
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise RequestError(400, "invalid_parameter", f"query parameter '{name}' must be JSON",
                           field=name) from None
