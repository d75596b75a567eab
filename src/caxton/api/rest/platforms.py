"""REST operations on the platform address book: where agents ``NAME@PLATFORM`` are reached."""

from __future__ import annotations

from starlette.responses import Response

from caxton.api.platforms import platforms_of
from caxton.api.rest.common import JSON
from caxton.api.rest.models.platforms import Platform, PlatformList, PlatformUrls
from caxton.api.rest.operations import Body, Call, PathParam, RestApi, reply
from caxton.api.service import CaxtonService

_BODY_LIMIT = 64 * 1024
NAME = PathParam("name", "The platform's FIPA name (what follows '@' in its agents' names).")
NOT_FOUND = reply(404, "Not in the address book.")
CONFIGURED = reply(409, "The platform is set in the server config.")


def platform_routes(api: RestApi, service: CaxtonService) -> None:
    @api.operation("GET", "/api/v1/platforms", operation_id="listPlatforms", tag="platforms",
                   summary="List the platform address book",
                   responses=(reply(200, "Every platform with its MTP URLs and source (config "
                                         "or api).", PlatformList),))
    async def list_platforms(_: Call) -> Response:
        return JSON({"platforms": await platforms_of(service).list()})

    @api.operation("GET", "/api/v1/platforms/{name:path}", operation_id="getPlatform",
                   tag="platforms", path_params=(NAME,),
                   summary="One platform of the address book",
                   responses=(reply(200, "The platform.", Platform), NOT_FOUND))
    async def get(call: Call) -> Response:
        return JSON(await platforms_of(service).get(call.path["name"]))

    @api.operation(
        "PUT", "/api/v1/platforms/{name:path}", operation_id="putPlatform", tag="platforms",
        path_params=(NAME,), summary="Add a platform to the address book, or replace its URLs",
        description="Messages to NAME@<platform> without addresses of their own go to these "
                    "FIPA HTTP MTP addresses.",
        bodies=(Body(PlatformUrls, _BODY_LIMIT),),
        responses=(reply(201, "Added.", Platform), reply(200, "Its URLs replaced.", Platform),
                   reply(400, "A bad name or URL, or this server's own platform name."),
                   reply(404, "No platform name in the path."), CONFIGURED,
                   reply(413, "The body is over its limit.")))
    async def put(call: Call) -> Response:
        body: PlatformUrls = call.body
        entry, created = await platforms_of(service).add(call.path["name"], body.urls)
        return JSON(entry, status_code=201 if created else 200)

    @api.operation("DELETE", "/api/v1/platforms/{name:path}", operation_id="removePlatform",
                   tag="platforms", path_params=(NAME,),
                   summary="Remove a platform from the address book",
                   responses=(reply(204, "Removed.", None), NOT_FOUND, CONFIGURED))
    async def remove(call: Call) -> Response:
        await platforms_of(service).remove(call.path["name"])
        return Response(status_code=204)
