from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ServerStatus(_message.Message):
    __slots__ = ("status", "uptime_s", "store", "agents_total", "agents_running", "messages")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    UPTIME_S_FIELD_NUMBER: _ClassVar[int]
    STORE_FIELD_NUMBER: _ClassVar[int]
    AGENTS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    AGENTS_RUNNING_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    status: str
    uptime_s: float
    store: str
    agents_total: int
    agents_running: int
    messages: MessageRates
    def __init__(self, status: _Optional[str] = ..., uptime_s: _Optional[float] = ..., store: _Optional[str] = ..., agents_total: _Optional[int] = ..., agents_running: _Optional[int] = ..., messages: _Optional[_Union[MessageRates, _Mapping]] = ...) -> None: ...

class MessageRates(_message.Message):
    __slots__ = ("routed_per_s", "processed_per_s", "routed_total", "processed_total", "window_s")
    ROUTED_PER_S_FIELD_NUMBER: _ClassVar[int]
    PROCESSED_PER_S_FIELD_NUMBER: _ClassVar[int]
    ROUTED_TOTAL_FIELD_NUMBER: _ClassVar[int]
    PROCESSED_TOTAL_FIELD_NUMBER: _ClassVar[int]
    WINDOW_S_FIELD_NUMBER: _ClassVar[int]
    routed_per_s: float
    processed_per_s: float
    routed_total: int
    processed_total: int
    window_s: float
    def __init__(self, routed_per_s: _Optional[float] = ..., processed_per_s: _Optional[float] = ..., routed_total: _Optional[int] = ..., processed_total: _Optional[int] = ..., window_s: _Optional[float] = ...) -> None: ...
