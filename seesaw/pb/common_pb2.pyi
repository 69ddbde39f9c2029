from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class HaState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HA_UNKNOWN: _ClassVar[HaState]
    HA_BACKUP: _ClassVar[HaState]
    HA_DISABLED: _ClassVar[HaState]
    HA_ERROR: _ClassVar[HaState]
    HA_LEADER: _ClassVar[HaState]
    HA_SHUTDOWN: _ClassVar[HaState]

class HealthState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HEALTH_UNKNOWN: _ClassVar[HealthState]
    HEALTH_UNHEALTHY: _ClassVar[HealthState]
    HEALTH_HEALTHY: _ClassVar[HealthState]

class OverrideState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OVERRIDE_DEFAULT: _ClassVar[OverrideState]
    OVERRIDE_DISABLED: _ClassVar[OverrideState]
    OVERRIDE_ENABLED: _ClassVar[OverrideState]

class AddressFamily(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AF_UNSPEC: _ClassVar[AddressFamily]
    AF_INET: _ClassVar[AddressFamily]
    AF_INET6: _ClassVar[AddressFamily]

class IPProtocol(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IPPROTO_ANY: _ClassVar[IPProtocol]
    IPPROTO_TCP: _ClassVar[IPProtocol]
    IPPROTO_UDP: _ClassVar[IPProtocol]

class Forwarding(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FWD_MASQ: _ClassVar[Forwarding]
    FWD_LOCAL: _ClassVar[Forwarding]
    FWD_TUNNEL: _ClassVar[Forwarding]
    FWD_ROUTE: _ClassVar[Forwarding]
    FWD_BYPASS: _ClassVar[Forwarding]

class VIPType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VIP_UNICAST: _ClassVar[VIPType]
    VIP_ANYCAST: _ClassVar[VIPType]
    VIP_DEDICATED: _ClassVar[VIPType]
HA_UNKNOWN: HaState
HA_BACKUP: HaState
HA_DISABLED: HaState
HA_ERROR: HaState
HA_LEADER: HaState
HA_SHUTDOWN: HaState
HEALTH_UNKNOWN: HealthState
HEALTH_UNHEALTHY: HealthState
HEALTH_HEALTHY: HealthState
OVERRIDE_DEFAULT: OverrideState
OVERRIDE_DISABLED: OverrideState
OVERRIDE_ENABLED: OverrideState
AF_UNSPEC: AddressFamily
AF_INET: AddressFamily
AF_INET6: AddressFamily
IPPROTO_ANY: IPProtocol
IPPROTO_TCP: IPProtocol
IPPROTO_UDP: IPProtocol
FWD_MASQ: Forwarding
FWD_LOCAL: Forwarding
FWD_TUNNEL: Forwarding
FWD_ROUTE: Forwarding
FWD_BYPASS: Forwarding
VIP_UNICAST: VIPType
VIP_ANYCAST: VIPType
VIP_DEDICATED: VIPType

class Stats(_message.Message):
    __slots__ = ("connections", "packets_in", "packets_out", "bytes_in", "bytes_out", "cps", "pps_in", "pps_out", "bps_in", "bps_out", "active_connections", "inactive_connections", "persistent_connections")
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    PACKETS_IN_FIELD_NUMBER: _ClassVar[int]
    PACKETS_OUT_FIELD_NUMBER: _ClassVar[int]
    BYTES_IN_FIELD_NUMBER: _ClassVar[int]
    BYTES_OUT_FIELD_NUMBER: _ClassVar[int]
    CPS_FIELD_NUMBER: _ClassVar[int]
    PPS_IN_FIELD_NUMBER: _ClassVar[int]
    PPS_OUT_FIELD_NUMBER: _ClassVar[int]
    BPS_IN_FIELD_NUMBER: _ClassVar[int]
    BPS_OUT_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    INACTIVE_CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    PERSISTENT_CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    connections: int
    packets_in: int
    packets_out: int
    bytes_in: int
    bytes_out: int
    cps: int
    pps_in: int
    pps_out: int
    bps_in: int
    bps_out: int
    active_connections: int
    inactive_connections: int
    persistent_connections: int
    def __init__(self, connections: _Optional[int] = ..., packets_in: _Optional[int] = ..., packets_out: _Optional[int] = ..., bytes_in: _Optional[int] = ..., bytes_out: _Optional[int] = ..., cps: _Optional[int] = ..., pps_in: _Optional[int] = ..., pps_out: _Optional[int] = ..., bps_in: _Optional[int] = ..., bps_out: _Optional[int] = ..., active_connections: _Optional[int] = ..., inactive_connections: _Optional[int] = ..., persistent_connections: _Optional[int] = ...) -> None: ...

class Empty(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
