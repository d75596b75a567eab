from . import acl_pb2 as _acl_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SendMessageRequest(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: _acl_pb2.AclMessage
    def __init__(self, message: _Optional[_Union[_acl_pb2.AclMessage, _Mapping]] = ...) -> None: ...

class SendMessageResponse(_message.Message):
    __slots__ = ("message", "duplicate")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    message: _acl_pb2.AclMessage
    duplicate: bool
    def __init__(self, message: _Optional[_Union[_acl_pb2.AclMessage, _Mapping]] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class SendAndWaitRequest(_message.Message):
    __slots__ = ("message", "timeout_s")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    message: _acl_pb2.AclMessage
    timeout_s: float
    def __init__(self, message: _Optional[_Union[_acl_pb2.AclMessage, _Mapping]] = ..., timeout_s: _Optional[float] = ...) -> None: ...

class SendAndWaitResponse(_message.Message):
    __slots__ = ("message", "reply")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REPLY_FIELD_NUMBER: _ClassVar[int]
    message: _acl_pb2.AclMessage
    reply: _acl_pb2.AclMessage
    def __init__(self, message: _Optional[_Union[_acl_pb2.AclMessage, _Mapping]] = ..., reply: _Optional[_Union[_acl_pb2.AclMessage, _Mapping]] = ...) -> None: ...

class StreamMessagesRequest(_message.Message):
    __slots__ = ("agent", "performative")
    AGENT_FIELD_NUMBER: _ClassVar[int]
    PERFORMATIVE_FIELD_NUMBER: _ClassVar[int]
    agent: str
    performative: str
    def __init__(self, agent: _Optional[str] = ..., performative: _Optional[str] = ...) -> None: ...

class StreamMessagesResponse(_message.Message):
    __slots__ = ("message", "dropped")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    message: _acl_pb2.AclMessage
    dropped: int
    def __init__(self, message: _Optional[_Union[_acl_pb2.AclMessage, _Mapping]] = ..., dropped: _Optional[int] = ...) -> None: ...
