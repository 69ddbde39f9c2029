from seesaw.pb import common_pb2 as _common_pb2
from seesaw.pb import engine_pb2 as _engine_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Override(_message.Message):
    __slots__ = ("target", "name", "state")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    target: _engine_pb2.OverrideRequest.Target
    name: str
    state: _common_pb2.OverrideState
    def __init__(self, target: _Optional[_Union[_engine_pb2.OverrideRequest.Target, str]] = ..., name: _Optional[str] = ..., state: _Optional[_Union[_common_pb2.OverrideState, str]] = ...) -> None: ...

class ConfigVersion(_message.Message):
    __slots__ = ("generation", "last_updated")
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    LAST_UPDATED_FIELD_NUMBER: _ClassVar[int]
    generation: int
    last_updated: int
    def __init__(self, generation: _Optional[int] = ..., last_updated: _Optional[int] = ...) -> None: ...

class Note(_message.Message):
    __slots__ = ("type", "overrides", "config", "session")
    class Type(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        HEARTBEAT: _ClassVar[Note.Type]
        DESYNC: _ClassVar[Note.Type]
        CONFIG_UPDATE: _ClassVar[Note.Type]
        OVERRIDE: _ClassVar[Note.Type]
    HEARTBEAT: Note.Type
    DESYNC: Note.Type
    CONFIG_UPDATE: Note.Type
    OVERRIDE: Note.Type
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OVERRIDES_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    type: Note.Type
    overrides: _containers.RepeatedCompositeFieldContainer[Override]
    config: ConfigVersion
    session: int
    def __init__(self, type: _Optional[_Union[Note.Type, str]] = ..., overrides: _Optional[_Iterable[_Union[Override, _Mapping]]] = ..., config: _Optional[_Union[ConfigVersion, _Mapping]] = ..., session: _Optional[int] = ...) -> None: ...

class WatchRequest(_message.Message):
    __slots__ = ("node",)
    NODE_FIELD_NUMBER: _ClassVar[int]
    node: str
    def __init__(self, node: _Optional[str] = ...) -> None: ...

class ConfigRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ConfigReply(_message.Message):
    __slots__ = ("cluster", "version", "origin", "hostname")
    CLUSTER_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    cluster: bytes
    version: ConfigVersion
    origin: str
    hostname: str
    def __init__(self, cluster: _Optional[bytes] = ..., version: _Optional[_Union[ConfigVersion, _Mapping]] = ..., origin: _Optional[str] = ..., hostname: _Optional[str] = ...) -> None: ...
