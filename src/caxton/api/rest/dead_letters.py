"""REST routes for the dead-letter queue: list, show, replay, purge."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from caxton.api.rest.common import JSON, int_param
from caxton.api.service import CaxtonService


def dead_letter_routes(service: CaxtonService) -> list[Route]:
    async def list_letters(request: Request) -> JSON:
        """
        summary: List dead letters (messages that failed every delivery attempt)
        responses:
          200: {description: "Dead letters, newest first; filter with ?agent=."}
        """
        limit = int_param(request, "limit", 100, 1, 10_000)
        agent = request.query_params.get("agent")
        return JSON({"dead_letters": await service.dead_letters(agent=agent, limit=limit)})

    async def show_letter(request: Request) -> JSON:
        """
        summary: One dead letter (one entry per receiver that gave up on it)
        responses:
          200: {description: The dead letter.}
          404: {description: No dead letter with that message id.}
        """
        return JSON({"dead_letters": await service.dead_letter(
            request.path_params["message_id"])})

    async def replay_letter(request: Request) -> JSON:
        """
        summary: Deliver a dead letter again (its attempts start over)
        responses:
          200: {description: "Queued again; the count of receivers."}
          404: {description: "No such dead letter, or its agent is gone."}
        """
        count = await service.replay_dead_letter(request.path_params["message_id"])
        return JSON({"replayed": count})

    async def purge_letter(request: Request) -> JSON:
        """
        summary: Delete one dead letter
        responses:
          200: {description: Deleted.}
          404: {description: No such dead letter.}
        """
        return JSON({"purged": await service.purge_dead_letters(
            request.path_params["message_id"])})

    async def purge_all(_: Request) -> JSON:
        """
        summary: Delete every dead letter
        responses:
          200: {description: How many were deleted.}
        """
        return JSON({"purged": await service.purge_dead_letters()})

    return [
        Route("/api/v1/dead-letters", list_letters, methods=["GET"]),
        Route("/api/v1/dead-letters", purge_all, methods=["DELETE"]),
        Route("/api/v1/dead-letters/{message_id}", show_letter, methods=["GET"]),
        Route("/api/v1/dead-letters/{message_id}", purge_letter, methods=["DELETE"]),
        Route("/api/v1/dead-letters/{message_id}/replay", replay_letter, methods=["POST"]),
    ]
