"""REST operations on messages and conversations: send (and wait), list, show."""

from __future__ import annotations

from starlette.responses import Response

from caxton.api.rest.common import JSON
from caxton.api.rest.models.messages import AclMessageIn, SendQuery, SendResult
from caxton.api.rest.models.records import Conversation, ConversationList, ConversationsQuery
from caxton.api.rest.operations import Body, Call, PathParam, RestApi, reply
from caxton.api.service import CaxtonService


def message_routes(api: RestApi, service: CaxtonService, *, max_request_bytes: int) -> None:
    @api.operation(
        "POST", "/api/v1/messages", operation_id="sendMessage", tag="messages",
        summary="Send an ACL message; with ?wait=true answer the first reply",
        description="Answered once the message is durably logged. A receiver with no agent "
                    "still gets the message routed (the conversation shows the platform's "
                    "failure), and the answer is 404.",
        query=SendQuery,
        bodies=(Body(AclMessageIn, max_request_bytes, error_code="invalid_message",
                     root="message", description="A FIPA-ACL message in JSON."),),
        responses=(
            reply(200, "The message and its first reply (wait).", SendResult),
            reply(202, "Accepted and durably logged (no wait), or a duplicate message_id.",
                  SendResult),
            reply(400, "Malformed JSON or an invalid field (named in the message)."),
            reply(404, "No agent by a receiver's name."),
            reply(409, "The message breaks its conversation's interaction protocol."),
            reply(413, "The body, or the message as JSON, is over max_request_bytes."),
            reply(429, "A receiver's mailbox is full."),
            reply(503, "The store is behind or a receiver cannot take messages now."),
            reply(504, "No reply within the timeout (wait)."),
        ))
    async def send_message(call: Call) -> Response:
        query: SendQuery = call.query
        result = await service.send(call.json, wait=query.wait, timeout=query.timeout)
        return JSON(result.to_dict(), status_code=200 if query.wait else 202)

    @api.operation("GET", "/api/v1/conversations", operation_id="listConversations",
                   tag="conversations", summary="List conversations, most recent first",
                   query=ConversationsQuery,
                   responses=(reply(200, "Conversation summaries.", ConversationList),))
    async def list_conversations(call: Call) -> Response:
        query: ConversationsQuery = call.query
        return JSON({"conversations": await service.list_conversations(
            limit=query.limit, participant=query.participant)})

    @api.operation("GET", "/api/v1/conversations/{conversation_id}",
                   operation_id="getConversation", tag="conversations",
                   summary="One conversation with its parties, events and messages in order",
                   path_params=(PathParam("conversation_id", "The conversation's id."),),
                   responses=(reply(200, "The conversation.", Conversation),
                              reply(404, "No such conversation.")))
    async def get_conversation(call: Call) -> Response:
        return JSON(await service.get_conversation(call.path["conversation_id"]))
