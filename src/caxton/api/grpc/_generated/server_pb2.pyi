from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class GetStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ServerStatus(_message.Message):
    __slots__ = ("status", "uptime_s", "store", "agents_total", "agents_running")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    UPTIME_S_FIELD_NUMBER: _ClassVar[int]
    STORE_FIELD_NUMBER: _ClassVar[int]
    AGENTS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    AGENTS_RUNNING_FIELD_NUMBER: _ClassVar[int]
    status: str
    uptime_s: float
    store: str
    agents_total: int
    agents_running: int
    def __init__(self, status: _Optional[str] = ..., uptime_s: _Optional[float] = ..., store: _Optional[str] = ..., agents_total: _Optional[int] = ..., agents_running: _Optional[int] = ...) -> None: ...
