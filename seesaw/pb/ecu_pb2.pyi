from seesaw.pb import common_pb2 as _common_pb2
from seesaw.pb import engine_pb2 as _engine_pb2
from seesaw.pb import ha_pb2 as _ha_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class WhoAmIReply(_message.Message):
    __slots__ = ("user", "role", "groups", "via", "granted_vservers")
    USER_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    VIA_FIELD_NUMBER: _ClassVar[int]
    GRANTED_VSERVERS_FIELD_NUMBER: _ClassVar[int]
    user: str
    role: str
    groups: _containers.RepeatedScalarFieldContainer[str]
    via: str
    granted_vservers: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, user: _Optional[str] = ..., role: _Optional[str] = ..., groups: _Optional[_Iterable[str]] = ..., via: _Optional[str] = ..., granted_vservers: _Optional[_Iterable[str]] = ...) -> None: ...
