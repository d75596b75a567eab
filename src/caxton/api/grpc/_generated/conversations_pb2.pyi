from . import acl_pb2 as _acl_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListConversationsRequest(_message.Message):
    __slots__ = ("limit", "participant")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    participant: str
    def __init__(self, limit: _Optional[int] = ..., participant: _Optional[str] = ...) -> None: ...

class ConversationSummary(_message.Message):
    __slots__ = ("conversation_id", "protocol", "initiator", "started_at", "last_at", "message_count", "participants", "status")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    INITIATOR_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_AT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    protocol: str
    initiator: str
    started_at: str
    last_at: str
    message_count: int
    participants: _containers.RepeatedScalarFieldContainer[str]
    status: str
    def __init__(self, conversation_id: _Optional[str] = ..., protocol: _Optional[str] = ..., initiator: _Optional[str] = ..., started_at: _Optional[str] = ..., last_at: _Optional[str] = ..., message_count: _Optional[int] = ..., participants: _Optional[_Iterable[str]] = ..., status: _Optional[str] = ...) -> None: ...

class ListConversationsResponse(_message.Message):
    __slots__ = ("conversations",)
    CONVERSATIONS_FIELD_NUMBER: _ClassVar[int]
    conversations: _containers.RepeatedCompositeFieldContainer[ConversationSummary]
    def __init__(self, conversations: _Optional[_Iterable[_Union[ConversationSummary, _Mapping]]] = ...) -> None: ...

class GetConversationRequest(_message.Message):
    __slots__ = ("conversation_id",)
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    def __init__(self, conversation_id: _Optional[str] = ...) -> None: ...

class Conversation(_message.Message):
    __slots__ = ("summary", "messages", "parties", "events")
    class PartiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: Party
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[Party, _Mapping]] = ...) -> None: ...
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    PARTIES_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    summary: ConversationSummary
    messages: _containers.RepeatedCompositeFieldContainer[_acl_pb2.AclMessage]
    parties: _containers.MessageMap[str, Party]
    events: _containers.RepeatedCompositeFieldContainer[ConversationEvent]
    def __init__(self, summary: _Optional[_Union[ConversationSummary, _Mapping]] = ..., messages: _Optional[_Iterable[_Union[_acl_pb2.AclMessage, _Mapping]]] = ..., parties: _Optional[_Mapping[str, Party]] = ..., events: _Optional[_Iterable[_Union[ConversationEvent, _Mapping]]] = ...) -> None: ...

class Party(_message.Message):
    __slots__ = ("kind", "state", "last", "deadline")
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    kind: str
    state: str
    last: str
    deadline: str
    def __init__(self, kind: _Optional[str] = ..., state: _Optional[str] = ..., last: _Optional[str] = ..., deadline: _Optional[str] = ...) -> None: ...

class ConversationEvent(_message.Message):
    __slots__ = ("at", "kind", "party", "message_id", "detail")
    AT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PARTY_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    at: str
    kind: str
    party: str
    message_id: str
    detail: str
    def __init__(self, at: _Optional[str] = ..., kind: _Optional[str] = ..., party: _Optional[str] = ..., message_id: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...
