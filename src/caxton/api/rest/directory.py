"""REST operations on the directory facilitator (FIPA DF): register, modify, deregister,
search."""

from __future__ import annotations

from starlette.responses import Response

from caxton.api.directory import directory_of
from caxton.api.rest.common import JSON
from caxton.api.rest.models.directory import (
    DirectoryQuery,
    Registration,
    RegistrationList,
    RegistrationUpdate,
    RegistrationView,
    SearchBody,
)
from caxton.api.rest.operations import Body, Call, PathParam, RestApi, reply
from caxton.api.service import CaxtonService

_BODY_LIMIT = 1024 * 1024
AGENT = PathParam("agent", "The registered agent's name.")
NOT_REGISTERED = reply(404, "The agent is not registered.")
NO_DIRECTORY = reply(503, "The directory cannot take the change now.")


def _description(model: type) -> Body:
    return Body(model, _BODY_LIMIT, error_code="invalid_message", root="description")


def directory_routes(api: RestApi, service: CaxtonService) -> None:
    @api.operation("GET", "/api/v1/directory", operation_id="listRegistrations",
                   tag="directory", summary="List directory registrations, by agent name",
                   query=DirectoryQuery,
                   responses=(reply(200, "Every live registration.", RegistrationList),))
    async def list_registrations(call: Call) -> Response:
        query: DirectoryQuery = call.query
        return JSON({"agents": await directory_of(service).search({}, query.limit)})

    @api.operation("POST", "/api/v1/directory", operation_id="register", tag="directory",
                   summary="Register an agent's description (FIPA DF register)",
                   bodies=(_description(Registration),),
                   responses=(reply(201, "Registered.", RegistrationView),
                              reply(400, "An invalid description; the message names the field."),
                              reply(409, "The agent is registered already (modify it)."),
                              NO_DIRECTORY))
    async def register(call: Call) -> Response:
        return JSON(await directory_of(service).register(call.json), status_code=201)

    @api.operation("POST", "/api/v1/directory/search", operation_id="searchDirectory",
                   tag="directory", summary="Search the directory (FIPA DF search)",
                   bodies=(Body(SearchBody, _BODY_LIMIT, error_code="invalid_message"),),
                   responses=(reply(200, "The matching registrations, by agent name.",
                                    RegistrationList),))
    async def search(call: Call) -> Response:
        body: SearchBody = call.body
        found = await directory_of(service).search(call.json.get("template"),
                                                   body.max_results)
        return JSON({"agents": found})

    @api.operation("GET", "/api/v1/directory/{agent:path}", operation_id="getRegistration",
                   tag="directory", summary="One agent's registration", path_params=(AGENT,),
                   responses=(reply(200, "The registration.", RegistrationView),
                              NOT_REGISTERED))
    async def get(call: Call) -> Response:
        return JSON(await directory_of(service).get(call.path["agent"]))

    @api.operation("PUT", "/api/v1/directory/{agent:path}", operation_id="modifyRegistration",
                   tag="directory", summary="Replace an agent's registration (FIPA DF modify)",
                   path_params=(AGENT,), bodies=(_description(RegistrationUpdate),),
                   responses=(reply(200, "The new registration.", RegistrationView),
                              NOT_REGISTERED, NO_DIRECTORY))
    async def modify(call: Call) -> Response:
        return JSON(await directory_of(service).modify(call.json, call.path["agent"]))

    @api.operation("DELETE", "/api/v1/directory/{agent:path}", operation_id="deregister",
                   tag="directory", summary="Deregister an agent (FIPA DF deregister)",
                   path_params=(AGENT,),
                   responses=(reply(204, "Deregistered.", None), NOT_REGISTERED, NO_DIRECTORY))
    async def deregister(call: Call) -> Response:
        await directory_of(service).deregister(call.path["agent"])
        return Response(status_code=204)
