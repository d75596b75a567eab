from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Platform(_message.Message):
    __slots__ = ("name", "urls", "source")
    NAME_FIELD_NUMBER: _ClassVar[int]
    URLS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    urls: _containers.RepeatedScalarFieldContainer[str]
    source: str
    def __init__(self, name: _Optional[str] = ..., urls: _Optional[_Iterable[str]] = ..., source: _Optional[str] = ...) -> None: ...

class ListPlatformsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPlatformsResponse(_message.Message):
    __slots__ = ("platforms",)
    PLATFORMS_FIELD_NUMBER: _ClassVar[int]
    platforms: _containers.RepeatedCompositeFieldContainer[Platform]
    def __init__(self, platforms: _Optional[_Iterable[_Union[Platform, _Mapping]]] = ...) -> None: ...

class AddPlatformRequest(_message.Message):
    __slots__ = ("name", "urls")
    NAME_FIELD_NUMBER: _ClassVar[int]
    URLS_FIELD_NUMBER: _ClassVar[int]
    name: str
    urls: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., urls: _Optional[_Iterable[str]] = ...) -> None: ...

class AddPlatformResponse(_message.Message):
    __slots__ = ("platform", "created")
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    platform: Platform
    created: bool
    def __init__(self, platform: _Optional[_Union[Platform, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class RemovePlatformRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class RemovePlatformResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
