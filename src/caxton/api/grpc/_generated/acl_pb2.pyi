from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TraceContext(_message.Message):
    __slots__ = ("traceparent", "tracestate")
    TRACEPARENT_FIELD_NUMBER: _ClassVar[int]
    TRACESTATE_FIELD_NUMBER: _ClassVar[int]
    traceparent: str
    tracestate: str
    def __init__(self, traceparent: _Optional[str] = ..., tracestate: _Optional[str] = ...) -> None: ...

class AddressList(_message.Message):
    __slots__ = ("urls",)
    URLS_FIELD_NUMBER: _ClassVar[int]
    urls: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, urls: _Optional[_Iterable[str]] = ...) -> None: ...

class AclMessage(_message.Message):
    __slots__ = ("message_id", "performative", "sender", "receiver", "reply_to", "language", "encoding", "ontology", "protocol", "conversation_id", "reply_with", "in_reply_to", "reply_by", "timestamp", "trace_context", "user_params", "content_json", "addresses")
    class UserParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class AddressesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: AddressList
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[AddressList, _Mapping]] = ...) -> None: ...
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    PERFORMATIVE_FIELD_NUMBER: _ClassVar[int]
    SENDER_FIELD_NUMBER: _ClassVar[int]
    RECEIVER_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    ONTOLOGY_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    REPLY_WITH_FIELD_NUMBER: _ClassVar[int]
    IN_REPLY_TO_FIELD_NUMBER: _ClassVar[int]
    REPLY_BY_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    TRACE_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    USER_PARAMS_FIELD_NUMBER: _ClassVar[int]
    CONTENT_JSON_FIELD_NUMBER: _ClassVar[int]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    performative: str
    sender: str
    receiver: _containers.RepeatedScalarFieldContainer[str]
    reply_to: _containers.RepeatedScalarFieldContainer[str]
    language: str
    encoding: str
    ontology: str
    protocol: str
    conversation_id: str
    reply_with: str
    in_reply_to: str
    reply_by: str
    timestamp: str
    trace_context: TraceContext
    user_params: _containers.ScalarMap[str, str]
    content_json: str
    addresses: _containers.MessageMap[str, AddressList]
    def __init__(self, message_id: _Optional[str] = ..., performative: _Optional[str] = ..., sender: _Optional[str] = ..., receiver: _Optional[_Iterable[str]] = ..., reply_to: _Optional[_Iterable[str]] = ..., language: _Optional[str] = ..., encoding: _Optional[str] = ..., ontology: _Optional[str] = ..., protocol: _Optional[str] = ..., conversation_id: _Optional[str] = ..., reply_with: _Optional[str] = ..., in_reply_to: _Optional[str] = ..., reply_by: _Optional[str] = ..., timestamp: _Optional[str] = ..., trace_context: _Optional[_Union[TraceContext, _Mapping]] = ..., user_params: _Optional[_Mapping[str, str]] = ..., content_json: _Optional[str] = ..., addresses: _Optional[_Mapping[str, AddressList]] = ...) -> None: ...
