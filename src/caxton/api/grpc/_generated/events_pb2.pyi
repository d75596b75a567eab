from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StreamEventsRequest(_message.Message):
    __slots__ = ("agent", "kind")
    AGENT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    agent: str
    kind: str
    def __init__(self, agent: _Optional[str] = ..., kind: _Optional[str] = ...) -> None: ...

class AgentEvent(_message.Message):
    __slots__ = ("at", "kind", "agent", "version", "module_hash", "state", "reason", "old_version", "old_module_hash")
    AT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    MODULE_HASH_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    OLD_VERSION_FIELD_NUMBER: _ClassVar[int]
    OLD_MODULE_HASH_FIELD_NUMBER: _ClassVar[int]
    at: str
    kind: str
    agent: str
    version: str
    module_hash: str
    state: str
    reason: str
    old_version: str
    old_module_hash: str
    def __init__(self, at: _Optional[str] = ..., kind: _Optional[str] = ..., agent: _Optional[str] = ..., version: _Optional[str] = ..., module_hash: _Optional[str] = ..., state: _Optional[str] = ..., reason: _Optional[str] = ..., old_version: _Optional[str] = ..., old_module_hash: _Optional[str] = ...) -> None: ...

class StreamEventsResponse(_message.Message):
    __slots__ = ("event", "dropped")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    event: AgentEvent
    dropped: int
    def __init__(self, event: _Optional[_Union[AgentEvent, _Mapping]] = ..., dropped: _Optional[int] = ...) -> None: ...
