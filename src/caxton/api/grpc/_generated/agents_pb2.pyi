from . import directory_pb2 as _directory_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetDeploymentRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeploymentError(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class Deployment(_message.Message):
    __slots__ = ("id", "name", "version", "module_bytes", "status", "stage", "stages", "progress", "started_at", "finished_at", "elapsed_s", "stage_s", "agent", "error")
    class StageSEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    MODULE_BYTES_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    STAGES_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_S_FIELD_NUMBER: _ClassVar[int]
    STAGE_S_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    version: str
    module_bytes: int
    status: str
    stage: str
    stages: _containers.RepeatedScalarFieldContainer[str]
    progress: float
    started_at: str
    finished_at: str
    elapsed_s: float
    stage_s: _containers.ScalarMap[str, float]
    agent: AgentView
    error: DeploymentError
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[str] = ..., module_bytes: _Optional[int] = ..., status: _Optional[str] = ..., stage: _Optional[str] = ..., stages: _Optional[_Iterable[str]] = ..., progress: _Optional[float] = ..., started_at: _Optional[str] = ..., finished_at: _Optional[str] = ..., elapsed_s: _Optional[float] = ..., stage_s: _Optional[_Mapping[str, float]] = ..., agent: _Optional[_Union[AgentView, _Mapping]] = ..., error: _Optional[_Union[DeploymentError, _Mapping]] = ...) -> None: ...

class LimitOverrides(_message.Message):
    __slots__ = ("fuel", "memory_bytes", "timeout_ms", "max_message_bytes", "max_host_calls", "max_sends_per_message")
    FUEL_FIELD_NUMBER: _ClassVar[int]
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    MAX_MESSAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_HOST_CALLS_FIELD_NUMBER: _ClassVar[int]
    MAX_SENDS_PER_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    fuel: int
    memory_bytes: int
    timeout_ms: int
    max_message_bytes: int
    max_host_calls: int
    max_sends_per_message: int
    def __init__(self, fuel: _Optional[int] = ..., memory_bytes: _Optional[int] = ..., timeout_ms: _Optional[int] = ..., max_message_bytes: _Optional[int] = ..., max_host_calls: _Optional[int] = ..., max_sends_per_message: _Optional[int] = ...) -> None: ...

class DeployAgentRequest(_message.Message):
    __slots__ = ("name", "module", "version", "limits", "services", "permissions")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODULE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    PERMISSIONS_FIELD_NUMBER: _ClassVar[int]
    name: str
    module: bytes
    version: str
    limits: LimitOverrides
    services: _containers.RepeatedCompositeFieldContainer[_directory_pb2.ServiceDescription]
    permissions: AgentPermissions
    def __init__(self, name: _Optional[str] = ..., module: _Optional[bytes] = ..., version: _Optional[str] = ..., limits: _Optional[_Union[LimitOverrides, _Mapping]] = ..., services: _Optional[_Iterable[_Union[_directory_pb2.ServiceDescription, _Mapping]]] = ..., permissions: _Optional[_Union[AgentPermissions, _Mapping]] = ...) -> None: ...

class AgentPermissions(_message.Message):
    __slots__ = ("host_functions", "messaging", "rate", "max_receivers", "tools")
    HOST_FUNCTIONS_FIELD_NUMBER: _ClassVar[int]
    MESSAGING_FIELD_NUMBER: _ClassVar[int]
    RATE_FIELD_NUMBER: _ClassVar[int]
    MAX_RECEIVERS_FIELD_NUMBER: _ClassVar[int]
    TOOLS_FIELD_NUMBER: _ClassVar[int]
    host_functions: _containers.RepeatedScalarFieldContainer[str]
    messaging: _containers.RepeatedScalarFieldContainer[str]
    rate: RateLimit
    max_receivers: int
    tools: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, host_functions: _Optional[_Iterable[str]] = ..., messaging: _Optional[_Iterable[str]] = ..., rate: _Optional[_Union[RateLimit, _Mapping]] = ..., max_receivers: _Optional[int] = ..., tools: _Optional[_Iterable[str]] = ...) -> None: ...

class RateLimit(_message.Message):
    __slots__ = ("messages_per_s", "burst")
    MESSAGES_PER_S_FIELD_NUMBER: _ClassVar[int]
    BURST_FIELD_NUMBER: _ClassVar[int]
    messages_per_s: float
    burst: int
    def __init__(self, messages_per_s: _Optional[float] = ..., burst: _Optional[int] = ...) -> None: ...

class ResourceLimits(_message.Message):
    __slots__ = ("fuel", "memory_bytes", "timeout_ms", "max_message_bytes", "max_host_calls", "max_sends_per_message")
    FUEL_FIELD_NUMBER: _ClassVar[int]
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    MAX_MESSAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_HOST_CALLS_FIELD_NUMBER: _ClassVar[int]
    MAX_SENDS_PER_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    fuel: int
    memory_bytes: int
    timeout_ms: int
    max_message_bytes: int
    max_host_calls: int
    max_sends_per_message: int
    def __init__(self, fuel: _Optional[int] = ..., memory_bytes: _Optional[int] = ..., timeout_ms: _Optional[int] = ..., max_message_bytes: _Optional[int] = ..., max_host_calls: _Optional[int] = ..., max_sends_per_message: _Optional[int] = ...) -> None: ...

class AgentStats(_message.Message):
    __slots__ = ("handled", "failed", "sent", "fuel_used", "last_error", "failures_by_kind", "sends_refused", "batched_messages")
    class FailuresByKindEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    HANDLED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    SENT_FIELD_NUMBER: _ClassVar[int]
    FUEL_USED_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    FAILURES_BY_KIND_FIELD_NUMBER: _ClassVar[int]
    SENDS_REFUSED_FIELD_NUMBER: _ClassVar[int]
    BATCHED_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    handled: int
    failed: int
    sent: int
    fuel_used: int
    last_error: str
    failures_by_kind: _containers.ScalarMap[str, int]
    sends_refused: int
    batched_messages: int
    def __init__(self, handled: _Optional[int] = ..., failed: _Optional[int] = ..., sent: _Optional[int] = ..., fuel_used: _Optional[int] = ..., last_error: _Optional[str] = ..., failures_by_kind: _Optional[_Mapping[str, int]] = ..., sends_refused: _Optional[int] = ..., batched_messages: _Optional[int] = ...) -> None: ...

class AgentView(_message.Message):
    __slots__ = ("name", "version", "state", "module_hash", "limits", "deployed_at", "mailbox_depth", "memory_bytes", "stats", "permissions", "hibernated")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    MODULE_HASH_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    DEPLOYED_AT_FIELD_NUMBER: _ClassVar[int]
    MAILBOX_DEPTH_FIELD_NUMBER: _ClassVar[int]
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    PERMISSIONS_FIELD_NUMBER: _ClassVar[int]
    HIBERNATED_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    state: str
    module_hash: str
    limits: ResourceLimits
    deployed_at: str
    mailbox_depth: int
    memory_bytes: int
    stats: AgentStats
    permissions: AgentPermissions
    hibernated: bool
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ..., state: _Optional[str] = ..., module_hash: _Optional[str] = ..., limits: _Optional[_Union[ResourceLimits, _Mapping]] = ..., deployed_at: _Optional[str] = ..., mailbox_depth: _Optional[int] = ..., memory_bytes: _Optional[int] = ..., stats: _Optional[_Union[AgentStats, _Mapping]] = ..., permissions: _Optional[_Union[AgentPermissions, _Mapping]] = ..., hibernated: _Optional[bool] = ...) -> None: ...

class ListAgentsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListAgentsResponse(_message.Message):
    __slots__ = ("agents",)
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    agents: _containers.RepeatedCompositeFieldContainer[AgentView]
    def __init__(self, agents: _Optional[_Iterable[_Union[AgentView, _Mapping]]] = ...) -> None: ...

class GetAgentRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class RemoveAgentRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class RemoveAgentResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StopAgentRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class StartAgentRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetAgentLogsRequest(_message.Message):
    __slots__ = ("name", "limit")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    name: str
    limit: int
    def __init__(self, name: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class LogLine(_message.Message):
    __slots__ = ("timestamp", "level", "message")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    timestamp: str
    level: int
    message: str
    def __init__(self, timestamp: _Optional[str] = ..., level: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class GetAgentLogsResponse(_message.Message):
    __slots__ = ("logs",)
    LOGS_FIELD_NUMBER: _ClassVar[int]
    logs: _containers.RepeatedCompositeFieldContainer[LogLine]
    def __init__(self, logs: _Optional[_Iterable[_Union[LogLine, _Mapping]]] = ...) -> None: ...
