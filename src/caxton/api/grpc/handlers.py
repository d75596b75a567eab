"""The gRPC services: thin handlers over ``CaxtonService``, like the REST routes beside them.

Each handler converts its request into what the service layer takes, calls it, and converts the
answer back. Errors are turned into statuses in one place (``status.to_status``) by the
``rpc`` decorator, so no handler deals with them.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar, cast

import grpc
import structlog

from caxton.api.grpc import convert, convert_deployments, convert_directory
from caxton.api.grpc._generated import (
    agents_pb2,
    conversations_pb2,
    dead_letters_pb2,
    messages_pb2,
    server_pb2,
)
from caxton.api.grpc.convert_permissions import permissions_from_proto
from caxton.api.grpc.status import to_status
from caxton.api.service import CaxtonService, DeployRequest
from caxton.errors import CaxtonError, InvalidMessageError

log = structlog.get_logger("caxton.api.grpc")

Context = grpc.aio.ServicerContext[Any, Any]
_F = TypeVar("_F", bound=Callable[..., Any])
StreamItem = messages_pb2.StreamMessagesResponse
DEFAULT_WAIT_S = 30.0


def rpc(method: _F) -> _F:
    """Abort the call with the mapped status when ``method`` raises (unary or streaming)."""

    async def fail(exc: Exception, context: Context) -> None:
        if not isinstance(exc, CaxtonError):
            log.exception("grpc handler failed", method=method.__name__)
        await context.abort_with_status(to_status(exc))

    if inspect.isasyncgenfunction(method):
        @functools.wraps(method)
        async def stream(self: object, request: object, context: Context) -> AsyncIterator[Any]:
            try:
                async for item in method(self, request, context):
                    yield item
            except grpc.aio.AbortError:
                raise
            except Exception as exc:
                await fail(exc, context)

        return cast(_F, stream)

    @functools.wraps(method)
    async def unary(self: object, request: object, context: Context) -> Any:
        try:
            return await cast(Awaitable[Any], method(self, request, context))
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await fail(exc, context)

    return cast(_F, unary)


def _limit(value: int, default: int, high: int) -> int:
    if value == 0:
        return default
    if not 1 <= value <= high:
        raise InvalidMessageError("limit", f"must be an integer from 1 to {high}")
    return value


class AgentHandlers:
    """caxton.v1.AgentService"""

    def __init__(self, service: CaxtonService) -> None:
        self._service = service

    @rpc
    async def DeployAgent(self, request: agents_pb2.DeployAgentRequest, context: Context
                          ) -> agents_pb2.AgentView:
        view = await self._service.deploy(_deploy_request(request))
        return convert.agent_to_proto(view)

    @rpc
    async def StartDeployment(self, request: agents_pb2.DeployAgentRequest, context: Context
                              ) -> agents_pb2.Deployment:
        view = self._service.start_deployment(_deploy_request(request))
        return convert_deployments.deployment_to_proto(view)

    @rpc
    async def GetDeployment(self, request: agents_pb2.GetDeploymentRequest, context: Context
                            ) -> agents_pb2.Deployment:
        return convert_deployments.deployment_to_proto(
            self._service.deployments.get(request.id))

    @rpc
    async def WatchDeployment(self, request: agents_pb2.GetDeploymentRequest, context: Context
                              ) -> AsyncIterator[agents_pb2.Deployment]:
        async for view in self._service.deployments.watch(request.id):
            yield convert_deployments.deployment_to_proto(view)

    @rpc
    async def ListAgents(self, request: agents_pb2.ListAgentsRequest, context: Context
                         ) -> agents_pb2.ListAgentsResponse:
        views = await self._service.list_agents()
        return agents_pb2.ListAgentsResponse(agents=[convert.agent_to_proto(v) for v in views])

    @rpc
    async def GetAgent(self, request: agents_pb2.GetAgentRequest, context: Context
                       ) -> agents_pb2.AgentView:
        return convert.agent_to_proto(await self._service.get_agent(request.name))

    @rpc
    async def RemoveAgent(self, request: agents_pb2.RemoveAgentRequest, context: Context
                          ) -> agents_pb2.RemoveAgentResponse:
        await self._service.remove_agent(request.name)
        return agents_pb2.RemoveAgentResponse()

    @rpc
    async def StopAgent(self, request: agents_pb2.StopAgentRequest, context: Context
                        ) -> agents_pb2.AgentView:
        return convert.agent_to_proto(await self._service.stop_agent(request.name))

    @rpc
    async def StartAgent(self, request: agents_pb2.StartAgentRequest, context: Context
                         ) -> agents_pb2.AgentView:
        return convert.agent_to_proto(await self._service.start_agent(request.name))

    @rpc
    async def GetAgentLogs(self, request: agents_pb2.GetAgentLogsRequest, context: Context
                           ) -> agents_pb2.GetAgentLogsResponse:
        lines = await self._service.agent_logs(request.name, _limit(request.limit, 100, 1000))
        return agents_pb2.GetAgentLogsResponse(logs=[agents_pb2.LogLine(**line)
                                                     for line in lines])


def _deploy_request(request: agents_pb2.DeployAgentRequest) -> DeployRequest:
    return DeployRequest(
        name=request.name, module=request.module, version=request.version or "0.1.0",
        limits=convert.limits_from_proto(request.limits),
        services=[convert_directory.service_from_proto(s, request=True)
                  for s in request.services],
        permissions=(permissions_from_proto(request.permissions)
                     if request.HasField("permissions") else None))


class MessageHandlers:
    """caxton.v1.MessageService"""

    def __init__(self, service: CaxtonService) -> None:
        self._service = service

    @rpc
    async def SendMessage(self, request: messages_pb2.SendMessageRequest, context: Context
                          ) -> messages_pb2.SendMessageResponse:
        result = await self._service.send(convert.message_from_proto(request.message))
        return messages_pb2.SendMessageResponse(
            message=convert.message_to_proto(result.message.to_dict()),
            duplicate=result.duplicate)

    @rpc
    async def SendAndWait(self, request: messages_pb2.SendAndWaitRequest, context: Context
                          ) -> messages_pb2.SendAndWaitResponse:
        timeout = request.timeout_s or DEFAULT_WAIT_S
        remaining = context.time_remaining()
        if remaining is not None and remaining < timeout:
            timeout = remaining  # the client stops listening then: waiting longer is waste
        result = await self._service.send(convert.message_from_proto(request.message),
                                          wait=True, timeout=timeout)
        # wait=True returns a reply or raises, except for a repeat of a message id whose
        # first send had no reply to share: then the answer is the acceptance alone.
        return messages_pb2.SendAndWaitResponse(
            message=convert.message_to_proto(result.message.to_dict()),
            reply=(convert.message_to_proto(result.reply.to_dict())
                   if result.reply is not None else None))

    @rpc
    async def StreamMessages(self, request: messages_pb2.StreamMessagesRequest,
                             context: Context) -> AsyncIterator[StreamItem]:
        watch = self._service.watch_messages(agent=request.agent or None,
                                             performative=request.performative or None)
        try:
            # Headers now tell the client that the watch is in place: what is routed from
            # here on reaches it (the client waits for them before it sends anything).
            await context.send_initial_metadata(())
            async for msg in watch:
                yield StreamItem(
                    message=convert.message_to_proto(msg.to_dict()), dropped=watch.dropped)
        finally:
            watch.close()


class ConversationHandlers:
    """caxton.v1.ConversationService"""

    def __init__(self, service: CaxtonService) -> None:
        self._service = service

    @rpc
    async def ListConversations(self, request: conversations_pb2.ListConversationsRequest,
                                context: Context) -> conversations_pb2.ListConversationsResponse:
        participant = request.participant if request.HasField("participant") else None
        rows = await self._service.list_conversations(
            limit=_limit(request.limit, 100, 10_000), participant=participant)
        return conversations_pb2.ListConversationsResponse(
            conversations=[convert.summary_to_proto(r) for r in rows])

    @rpc
    async def GetConversation(self, request: conversations_pb2.GetConversationRequest,
                              context: Context) -> conversations_pb2.Conversation:
        conv = await self._service.get_conversation(request.conversation_id)
        return convert.conversation_to_proto(conv)


class DeadLetterHandlers:
    """caxton.v1.DeadLetterService"""

    def __init__(self, service: CaxtonService) -> None:
        self._service = service

    @rpc
    async def ListDeadLetters(self, request: dead_letters_pb2.ListDeadLettersRequest,
                              context: Context) -> dead_letters_pb2.ListDeadLettersResponse:
        agent = request.agent if request.HasField("agent") else None
        rows = await self._service.dead_letters(agent=agent,
                                                limit=_limit(request.limit, 100, 10_000))
        return dead_letters_pb2.ListDeadLettersResponse(
            dead_letters=[convert.dead_letter_to_proto(r) for r in rows])

    @rpc
    async def GetDeadLetter(self, request: dead_letters_pb2.GetDeadLetterRequest,
                            context: Context) -> dead_letters_pb2.GetDeadLetterResponse:
        rows = await self._service.dead_letter(request.message_id)
        return dead_letters_pb2.GetDeadLetterResponse(
            dead_letters=[convert.dead_letter_to_proto(r) for r in rows])

    @rpc
    async def ReplayDeadLetter(self, request: dead_letters_pb2.ReplayDeadLetterRequest,
                               context: Context) -> dead_letters_pb2.ReplayDeadLetterResponse:
        count = await self._service.replay_dead_letter(request.message_id)
        return dead_letters_pb2.ReplayDeadLetterResponse(replayed=count)

    @rpc
    async def PurgeDeadLetters(self, request: dead_letters_pb2.PurgeDeadLettersRequest,
                               context: Context) -> dead_letters_pb2.PurgeDeadLettersResponse:
        message_id = request.message_id if request.HasField("message_id") else None
        return dead_letters_pb2.PurgeDeadLettersResponse(
            purged=await self._service.purge_dead_letters(message_id))


class ServerHandlers:
    """caxton.v1.ServerService"""

    def __init__(self, service: CaxtonService) -> None:
        self._service = service

    @rpc
    async def GetStatus(self, request: server_pb2.GetStatusRequest, context: Context
                        ) -> server_pb2.ServerStatus:
        return convert.status_to_proto(self._service.health(), self._service.readiness())
