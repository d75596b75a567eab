"""REST operations on the dead-letter queue: list, show, replay, purge."""

from __future__ import annotations

from starlette.responses import Response

from caxton.api.rest.common import JSON
from caxton.api.rest.models.records import DeadLetterList, DeadLettersQuery, Purged, Replayed
from caxton.api.rest.operations import Call, PathParam, RestApi, reply
from caxton.api.service import CaxtonService

MESSAGE_ID = PathParam("message_id", "The dead message's id.")
NOT_FOUND = reply(404, "No dead letter with that message id.")


def dead_letter_routes(api: RestApi, service: CaxtonService) -> None:
    @api.operation("GET", "/api/v1/dead-letters", operation_id="listDeadLetters",
                   tag="dead-letters", query=DeadLettersQuery,
                   summary="List dead letters (messages that failed every delivery attempt)",
                   responses=(reply(200, "Dead letters, newest first.", DeadLetterList),))
    async def list_letters(call: Call) -> Response:
        query: DeadLettersQuery = call.query
        return JSON({"dead_letters": await service.dead_letters(agent=query.agent,
                                                                limit=query.limit)})

    @api.operation("DELETE", "/api/v1/dead-letters", operation_id="purgeDeadLetters",
                   tag="dead-letters", summary="Delete every dead letter",
                   responses=(reply(200, "How many were deleted.", Purged),))
    async def purge_all(_: Call) -> Response:
        return JSON({"purged": await service.purge_dead_letters()})

    @api.operation("GET", "/api/v1/dead-letters/{message_id}", operation_id="getDeadLetter",
                   tag="dead-letters", path_params=(MESSAGE_ID,),
                   summary="One dead letter (one entry per receiver that gave up on it)",
                   responses=(reply(200, "The dead letter.", DeadLetterList), NOT_FOUND))
    async def show_letter(call: Call) -> Response:
        return JSON({"dead_letters": await service.dead_letter(call.path["message_id"])})

    @api.operation("DELETE", "/api/v1/dead-letters/{message_id}",
                   operation_id="purgeDeadLetter", tag="dead-letters",
                   path_params=(MESSAGE_ID,), summary="Delete one dead letter",
                   responses=(reply(200, "Deleted.", Purged), NOT_FOUND))
    async def purge_letter(call: Call) -> Response:
        return JSON({"purged": await service.purge_dead_letters(call.path["message_id"])})

    @api.operation("POST", "/api/v1/dead-letters/{message_id}/replay",
                   operation_id="replayDeadLetter", tag="dead-letters",
                   path_params=(MESSAGE_ID,),
                   summary="Deliver a dead letter again (its attempts start over)",
                   responses=(reply(200, "Queued again.", Replayed),
                              reply(404, "No such dead letter, or its agent is gone.")))
    async def replay_letter(call: Call) -> Response:
        return JSON({"replayed": await service.replay_dead_letter(call.path["message_id"])})
