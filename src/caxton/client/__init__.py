"""A small typed Python client for Caxton's gRPC management API.

    from caxton.client import CaxtonClient

    with CaxtonClient("127.0.0.1:50051") as client:
        client.deploy("echo", open("echo.wasm", "rb").read())
        result = client.send_and_wait({"performative": "request", "receiver": ["echo"],
                                       "content": {"hello": "world"}})
        print(result["reply"]["content"])
        with client.stream_messages(agent="echo") as stream:
            for message in stream:
                ...

A server with TLS on: ``CaxtonClient(target, tls=ClientTls(ca_file=Path("ca.crt")))``, plus
``cert_file`` and ``key_file`` for a client certificate. ``AsyncCaxtonClient`` has the same
methods as coroutines. Answers are the JSON shapes REST
returns (``caxton.client.types``); failures raise the server's own error classes from
``caxton.errors`` (re-exported here), plus ``ServerUnreachableError``.
"""

from caxton.client._common import DEFAULT_TARGET
from caxton.client.aio import AsyncCaxtonClient, AsyncMessageStream
from caxton.client.errors import ServerUnreachableError
from caxton.client.events import AsyncEventStream, Event, EventStream
from caxton.client.sync import CaxtonClient, MessageStream
from caxton.client.types import (
    AgentView,
    Conversation,
    ConversationSummary,
    DeadLetter,
    LogLine,
    Message,
    Permissions,
    SendResult,
    ServerStatus,
)
from caxton.errors import (
    AgentNotFoundError,
    AgentUnavailableError,
    CaxtonError,
    ConversationNotFoundError,
    DeadLetterNotFoundError,
    IllegalTransitionError,
    InvalidAgentNameError,
    InvalidMessageError,
    InvalidPermissionsError,
    MailboxFullError,
    ModuleRejectedError,
    PayloadTooLargeError,
    ReplyTimeoutError,
    StoreError,
)
from caxton.security.client_tls import ClientTls

__all__ = [
    "DEFAULT_TARGET",
    "AgentNotFoundError",
    "AgentUnavailableError",
    "AgentView",
    "AsyncCaxtonClient",
    "AsyncEventStream",
    "AsyncMessageStream",
    "CaxtonClient",
    "CaxtonError",
    "ClientTls",
    "Conversation",
    "ConversationNotFoundError",
    "ConversationSummary",
    "DeadLetter",
    "DeadLetterNotFoundError",
    "Event",
    "EventStream",
    "IllegalTransitionError",
    "InvalidAgentNameError",
    "InvalidMessageError",
    "InvalidPermissionsError",
    "LogLine",
    "MailboxFullError",
    "Message",
    "MessageStream",
    "ModuleRejectedError",
    "PayloadTooLargeError",
    "Permissions",
    "ReplyTimeoutError",
    "SendResult",
    "ServerStatus",
    "ServerUnreachableError",
    "StoreError",
]
