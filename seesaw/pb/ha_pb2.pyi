from seesaw.pb import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class HAConfig(_message.Message):
    __slots__ = ("enabled", "local_address", "remote_address", "interface", "priority", "vrid", "advert_interval_ms", "preempt", "format", "addresses", "unicast_peers", "takeover_skew", "handover_hold_ms", "realtime_priority")
    class AdvertFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        SEESAW: _ClassVar[HAConfig.AdvertFormat]
        RFC5798: _ClassVar[HAConfig.AdvertFormat]
    SEESAW: HAConfig.AdvertFormat
    RFC5798: HAConfig.AdvertFormat
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    LOCAL_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    REMOTE_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    INTERFACE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    VRID_FIELD_NUMBER: _ClassVar[int]
    ADVERT_INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    PREEMPT_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    UNICAST_PEERS_FIELD_NUMBER: _ClassVar[int]
    TAKEOVER_SKEW_FIELD_NUMBER: _ClassVar[int]
    HANDOVER_HOLD_MS_FIELD_NUMBER: _ClassVar[int]
    REALTIME_PRIORITY_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    local_address: str
    remote_address: str
    interface: str
    priority: int
    vrid: int
    advert_interval_ms: int
    preempt: bool
    format: HAConfig.AdvertFormat
    addresses: _containers.RepeatedScalarFieldContainer[str]
    unicast_peers: _containers.RepeatedScalarFieldContainer[str]
    takeover_skew: bool
    handover_hold_ms: int
    realtime_priority: int
    def __init__(self, enabled: _Optional[bool] = ..., local_address: _Optional[str] = ..., remote_address: _Optional[str] = ..., interface: _Optional[str] = ..., priority: _Optional[int] = ..., vrid: _Optional[int] = ..., advert_interval_ms: _Optional[int] = ..., preempt: _Optional[bool] = ..., format: _Optional[_Union[HAConfig.AdvertFormat, str]] = ..., addresses: _Optional[_Iterable[str]] = ..., unicast_peers: _Optional[_Iterable[str]] = ..., takeover_skew: _Optional[bool] = ..., handover_hold_ms: _Optional[int] = ..., realtime_priority: _Optional[int] = ...) -> None: ...

class HAStatus(_message.Message):
    __slots__ = ("state", "since_unix_ms", "transitions", "adverts_sent", "adverts_received", "last_update_unix_ms", "last_takeover_ms", "adverts_dropped", "master_address", "handing_over", "link_fault", "checks_set_aside")
    class AdvertsDroppedEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    STATE_FIELD_NUMBER: _ClassVar[int]
    SINCE_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    TRANSITIONS_FIELD_NUMBER: _ClassVar[int]
    ADVERTS_SENT_FIELD_NUMBER: _ClassVar[int]
    ADVERTS_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    LAST_UPDATE_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_TAKEOVER_MS_FIELD_NUMBER: _ClassVar[int]
    ADVERTS_DROPPED_FIELD_NUMBER: _ClassVar[int]
    MASTER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    HANDING_OVER_FIELD_NUMBER: _ClassVar[int]
    LINK_FAULT_FIELD_NUMBER: _ClassVar[int]
    CHECKS_SET_ASIDE_FIELD_NUMBER: _ClassVar[int]
    state: _common_pb2.HaState
    since_unix_ms: int
    transitions: int
    adverts_sent: int
    adverts_received: int
    last_update_unix_ms: int
    last_takeover_ms: int
    adverts_dropped: _containers.ScalarMap[str, int]
    master_address: str
    handing_over: bool
    link_fault: str
    checks_set_aside: int
    def __init__(self, state: _Optional[_Union[_common_pb2.HaState, str]] = ..., since_unix_ms: _Optional[int] = ..., transitions: _Optional[int] = ..., adverts_sent: _Optional[int] = ..., adverts_received: _Optional[int] = ..., last_update_unix_ms: _Optional[int] = ..., last_takeover_ms: _Optional[int] = ..., adverts_dropped: _Optional[_Mapping[str, int]] = ..., master_address: _Optional[str] = ..., handing_over: _Optional[bool] = ..., link_fault: _Optional[str] = ..., checks_set_aside: _Optional[int] = ...) -> None: ...

class HAReport(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: HAStatus
    def __init__(self, status: _Optional[_Union[HAStatus, _Mapping]] = ...) -> None: ...

class HACommand(_message.Message):
    __slots__ = ("config", "failover", "stopping")
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    FAILOVER_FIELD_NUMBER: _ClassVar[int]
    STOPPING_FIELD_NUMBER: _ClassVar[int]
    config: HAConfig
    failover: bool
    stopping: bool
    def __init__(self, config: _Optional[_Union[HAConfig, _Mapping]] = ..., failover: _Optional[bool] = ..., stopping: _Optional[bool] = ...) -> None: ...
