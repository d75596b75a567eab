from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ServiceDescription(_message.Message):
    __slots__ = ("name", "type", "protocols", "ontologies", "languages", "ownership", "properties")
    class PropertiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _struct_pb2.Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    PROTOCOLS_FIELD_NUMBER: _ClassVar[int]
    ONTOLOGIES_FIELD_NUMBER: _ClassVar[int]
    LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    OWNERSHIP_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: str
    protocols: _containers.RepeatedScalarFieldContainer[str]
    ontologies: _containers.RepeatedScalarFieldContainer[str]
    languages: _containers.RepeatedScalarFieldContainer[str]
    ownership: str
    properties: _containers.MessageMap[str, _struct_pb2.Value]
    def __init__(self, name: _Optional[str] = ..., type: _Optional[str] = ..., protocols: _Optional[_Iterable[str]] = ..., ontologies: _Optional[_Iterable[str]] = ..., languages: _Optional[_Iterable[str]] = ..., ownership: _Optional[str] = ..., properties: _Optional[_Mapping[str, _struct_pb2.Value]] = ...) -> None: ...

class AgentDescription(_message.Message):
    __slots__ = ("agent", "services", "protocols", "ontologies", "languages", "lease", "lease_s")
    AGENT_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    PROTOCOLS_FIELD_NUMBER: _ClassVar[int]
    ONTOLOGIES_FIELD_NUMBER: _ClassVar[int]
    LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    LEASE_FIELD_NUMBER: _ClassVar[int]
    LEASE_S_FIELD_NUMBER: _ClassVar[int]
    agent: str
    services: _containers.RepeatedCompositeFieldContainer[ServiceDescription]
    protocols: _containers.RepeatedScalarFieldContainer[str]
    ontologies: _containers.RepeatedScalarFieldContainer[str]
    languages: _containers.RepeatedScalarFieldContainer[str]
    lease: str
    lease_s: float
    def __init__(self, agent: _Optional[str] = ..., services: _Optional[_Iterable[_Union[ServiceDescription, _Mapping]]] = ..., protocols: _Optional[_Iterable[str]] = ..., ontologies: _Optional[_Iterable[str]] = ..., languages: _Optional[_Iterable[str]] = ..., lease: _Optional[str] = ..., lease_s: _Optional[float] = ...) -> None: ...

class RegisterRequest(_message.Message):
    __slots__ = ("description",)
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    description: AgentDescription
    def __init__(self, description: _Optional[_Union[AgentDescription, _Mapping]] = ...) -> None: ...

class ModifyRequest(_message.Message):
    __slots__ = ("description",)
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    description: AgentDescription
    def __init__(self, description: _Optional[_Union[AgentDescription, _Mapping]] = ...) -> None: ...

class DeregisterRequest(_message.Message):
    __slots__ = ("agent",)
    AGENT_FIELD_NUMBER: _ClassVar[int]
    agent: str
    def __init__(self, agent: _Optional[str] = ...) -> None: ...

class DeregisterResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SearchRequest(_message.Message):
    __slots__ = ("template", "max_results")
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    MAX_RESULTS_FIELD_NUMBER: _ClassVar[int]
    template: AgentDescription
    max_results: int
    def __init__(self, template: _Optional[_Union[AgentDescription, _Mapping]] = ..., max_results: _Optional[int] = ...) -> None: ...

class SearchResponse(_message.Message):
    __slots__ = ("agents",)
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    agents: _containers.RepeatedCompositeFieldContainer[AgentDescription]
    def __init__(self, agents: _Optional[_Iterable[_Union[AgentDescription, _Mapping]]] = ...) -> None: ...
