from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Protocol(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TCP: _ClassVar[Protocol]
    UDP: _ClassVar[Protocol]
TCP: Protocol
UDP: Protocol

class Host(_message.Message):
    __slots__ = ("fqdn", "ipv4", "ipv6", "status")
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        PRODUCTION: _ClassVar[Host.Status]
        TESTING: _ClassVar[Host.Status]
        BUILDING: _ClassVar[Host.Status]
        STANDBY: _ClassVar[Host.Status]
        FAILURE: _ClassVar[Host.Status]
        DISABLED: _ClassVar[Host.Status]
        PROPOSED: _ClassVar[Host.Status]
    PRODUCTION: Host.Status
    TESTING: Host.Status
    BUILDING: Host.Status
    STANDBY: Host.Status
    FAILURE: Host.Status
    DISABLED: Host.Status
    PROPOSED: Host.Status
    FQDN_FIELD_NUMBER: _ClassVar[int]
    IPV4_FIELD_NUMBER: _ClassVar[int]
    IPV6_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    fqdn: str
    ipv4: str
    ipv6: str
    status: Host.Status
    def __init__(self, fqdn: _Optional[str] = ..., ipv4: _Optional[str] = ..., ipv6: _Optional[str] = ..., status: _Optional[_Union[Host.Status, str]] = ...) -> None: ...

class Backend(_message.Message):
    __slots__ = ("host", "weight")
    HOST_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    host: Host
    weight: int
    def __init__(self, host: _Optional[_Union[Host, _Mapping]] = ..., weight: _Optional[int] = ...) -> None: ...

class Vlan(_message.Message):
    __slots__ = ("vlan_id", "host")
    VLAN_ID_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    vlan_id: int
    host: Host
    def __init__(self, vlan_id: _Optional[int] = ..., host: _Optional[_Union[Host, _Mapping]] = ...) -> None: ...

class Healthcheck(_message.Message):
    __slots__ = ("type", "interval", "timeout", "port", "send", "receive", "code", "mode", "method", "proxy", "tls_verify", "retries", "host_header")
    class Type(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ICMP_PING: _ClassVar[Healthcheck.Type]
        UDP: _ClassVar[Healthcheck.Type]
        TCP: _ClassVar[Healthcheck.Type]
        HTTP: _ClassVar[Healthcheck.Type]
        HTTPS: _ClassVar[Healthcheck.Type]
        DNS: _ClassVar[Healthcheck.Type]
        TCP_TLS: _ClassVar[Healthcheck.Type]
        RADIUS: _ClassVar[Healthcheck.Type]
        GRPC: _ClassVar[Healthcheck.Type]
    ICMP_PING: Healthcheck.Type
    UDP: Healthcheck.Type
    TCP: Healthcheck.Type
    HTTP: Healthcheck.Type
    HTTPS: Healthcheck.Type
    DNS: Healthcheck.Type
    TCP_TLS: Healthcheck.Type
    RADIUS: Healthcheck.Type
    GRPC: Healthcheck.Type
    class Mode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        PLAIN: _ClassVar[Healthcheck.Mode]
        DSR: _ClassVar[Healthcheck.Mode]
        TUN: _ClassVar[Healthcheck.Mode]
    PLAIN: Healthcheck.Mode
    DSR: Healthcheck.Mode
    TUN: Healthcheck.Mode
    TYPE_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    SEND_FIELD_NUMBER: _ClassVar[int]
    RECEIVE_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PROXY_FIELD_NUMBER: _ClassVar[int]
    TLS_VERIFY_FIELD_NUMBER: _ClassVar[int]
    RETRIES_FIELD_NUMBER: _ClassVar[int]
    HOST_HEADER_FIELD_NUMBER: _ClassVar[int]
    type: Healthcheck.Type
    interval: int
    timeout: int
    port: int
    send: str
    receive: str
    code: int
    mode: Healthcheck.Mode
    method: str
    proxy: bool
    tls_verify: bool
    retries: int
    host_header: str
    def __init__(self, type: _Optional[_Union[Healthcheck.Type, str]] = ..., interval: _Optional[int] = ..., timeout: _Optional[int] = ..., port: _Optional[int] = ..., send: _Optional[str] = ..., receive: _Optional[str] = ..., code: _Optional[int] = ..., mode: _Optional[_Union[Healthcheck.Mode, str]] = ..., method: _Optional[str] = ..., proxy: _Optional[bool] = ..., tls_verify: _Optional[bool] = ..., retries: _Optional[int] = ..., host_header: _Optional[str] = ...) -> None: ...

class VserverEntry(_message.Message):
    __slots__ = ("protocol", "port", "scheduler", "mode", "persistence", "quiescent", "server_low_watermark", "server_high_watermark", "lthreshold", "uthreshold", "healthcheck", "one_packet")
    class Scheduler(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        RR: _ClassVar[VserverEntry.Scheduler]
        WRR: _ClassVar[VserverEntry.Scheduler]
        LC: _ClassVar[VserverEntry.Scheduler]
        WLC: _ClassVar[VserverEntry.Scheduler]
        SH: _ClassVar[VserverEntry.Scheduler]
        MH: _ClassVar[VserverEntry.Scheduler]
    RR: VserverEntry.Scheduler
    WRR: VserverEntry.Scheduler
    LC: VserverEntry.Scheduler
    WLC: VserverEntry.Scheduler
    SH: VserverEntry.Scheduler
    MH: VserverEntry.Scheduler
    class Mode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        DSR: _ClassVar[VserverEntry.Mode]
        NAT: _ClassVar[VserverEntry.Mode]
        TUN: _ClassVar[VserverEntry.Mode]
    DSR: VserverEntry.Mode
    NAT: VserverEntry.Mode
    TUN: VserverEntry.Mode
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    SCHEDULER_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    PERSISTENCE_FIELD_NUMBER: _ClassVar[int]
    QUIESCENT_FIELD_NUMBER: _ClassVar[int]
    SERVER_LOW_WATERMARK_FIELD_NUMBER: _ClassVar[int]
    SERVER_HIGH_WATERMARK_FIELD_NUMBER: _ClassVar[int]
    LTHRESHOLD_FIELD_NUMBER: _ClassVar[int]
    UTHRESHOLD_FIELD_NUMBER: _ClassVar[int]
    HEALTHCHECK_FIELD_NUMBER: _ClassVar[int]
    ONE_PACKET_FIELD_NUMBER: _ClassVar[int]
    protocol: Protocol
    port: int
    scheduler: VserverEntry.Scheduler
    mode: VserverEntry.Mode
    persistence: int
    quiescent: bool
    server_low_watermark: float
    server_high_watermark: float
    lthreshold: int
    uthreshold: int
    healthcheck: _containers.RepeatedCompositeFieldContainer[Healthcheck]
    one_packet: bool
    def __init__(self, protocol: _Optional[_Union[Protocol, str]] = ..., port: _Optional[int] = ..., scheduler: _Optional[_Union[VserverEntry.Scheduler, str]] = ..., mode: _Optional[_Union[VserverEntry.Mode, str]] = ..., persistence: _Optional[int] = ..., quiescent: _Optional[bool] = ..., server_low_watermark: _Optional[float] = ..., server_high_watermark: _Optional[float] = ..., lthreshold: _Optional[int] = ..., uthreshold: _Optional[int] = ..., healthcheck: _Optional[_Iterable[_Union[Healthcheck, _Mapping]]] = ..., one_packet: _Optional[bool] = ...) -> None: ...

class AccessGrant(_message.Message):
    __slots__ = ("grantee", "role", "type")
    class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ADMIN: _ClassVar[AccessGrant.Role]
        OPS: _ClassVar[AccessGrant.Role]
    ADMIN: AccessGrant.Role
    OPS: AccessGrant.Role
    class Type(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        USER: _ClassVar[AccessGrant.Type]
        GROUP: _ClassVar[AccessGrant.Type]
    USER: AccessGrant.Type
    GROUP: AccessGrant.Type
    GRANTEE_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    grantee: str
    role: AccessGrant.Role
    type: AccessGrant.Type
    def __init__(self, grantee: _Optional[str] = ..., role: _Optional[_Union[AccessGrant.Role, str]] = ..., type: _Optional[_Union[AccessGrant.Type, str]] = ...) -> None: ...

class AccessGroup(_message.Message):
    __slots__ = ("name", "member")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    name: str
    member: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., member: _Optional[_Iterable[str]] = ...) -> None: ...

class Vserver(_message.Message):
    __slots__ = ("name", "entry_address", "rp", "use_fwm", "vserver_entry", "healthcheck", "access_grant", "warning", "backend")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ENTRY_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    RP_FIELD_NUMBER: _ClassVar[int]
    USE_FWM_FIELD_NUMBER: _ClassVar[int]
    VSERVER_ENTRY_FIELD_NUMBER: _ClassVar[int]
    HEALTHCHECK_FIELD_NUMBER: _ClassVar[int]
    ACCESS_GRANT_FIELD_NUMBER: _ClassVar[int]
    WARNING_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    name: str
    entry_address: Host
    rp: str
    use_fwm: bool
    vserver_entry: _containers.RepeatedCompositeFieldContainer[VserverEntry]
    healthcheck: _containers.RepeatedCompositeFieldContainer[Healthcheck]
    access_grant: _containers.RepeatedCompositeFieldContainer[AccessGrant]
    warning: _containers.RepeatedScalarFieldContainer[str]
    backend: _containers.RepeatedCompositeFieldContainer[Backend]
    def __init__(self, name: _Optional[str] = ..., entry_address: _Optional[_Union[Host, _Mapping]] = ..., rp: _Optional[str] = ..., use_fwm: _Optional[bool] = ..., vserver_entry: _Optional[_Iterable[_Union[VserverEntry, _Mapping]]] = ..., healthcheck: _Optional[_Iterable[_Union[Healthcheck, _Mapping]]] = ..., access_grant: _Optional[_Iterable[_Union[AccessGrant, _Mapping]]] = ..., warning: _Optional[_Iterable[str]] = ..., backend: _Optional[_Iterable[_Union[Backend, _Mapping]]] = ...) -> None: ...

class MisconfiguredVserver(_message.Message):
    __slots__ = ("name", "error_message")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    name: str
    error_message: str
    def __init__(self, name: _Optional[str] = ..., error_message: _Optional[str] = ...) -> None: ...

class Attribute(_message.Message):
    __slots__ = ("name", "value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: str
    def __init__(self, name: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class Metadata(_message.Message):
    __slots__ = ("last_updated", "attribute")
    LAST_UPDATED_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTE_FIELD_NUMBER: _ClassVar[int]
    last_updated: int
    attribute: _containers.RepeatedCompositeFieldContainer[Attribute]
    def __init__(self, last_updated: _Optional[int] = ..., attribute: _Optional[_Iterable[_Union[Attribute, _Mapping]]] = ...) -> None: ...

class Cluster(_message.Message):
    __slots__ = ("seesaw_vip", "node", "vmac", "bgp_local_asn", "bgp_remote_asn", "bgp_peer", "vserver", "vlan", "misconfigured_vserver", "metadata", "dedicated_vip_subnet", "access_groups")
    SEESAW_VIP_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    VMAC_FIELD_NUMBER: _ClassVar[int]
    BGP_LOCAL_ASN_FIELD_NUMBER: _ClassVar[int]
    BGP_REMOTE_ASN_FIELD_NUMBER: _ClassVar[int]
    BGP_PEER_FIELD_NUMBER: _ClassVar[int]
    VSERVER_FIELD_NUMBER: _ClassVar[int]
    VLAN_FIELD_NUMBER: _ClassVar[int]
    MISCONFIGURED_VSERVER_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    DEDICATED_VIP_SUBNET_FIELD_NUMBER: _ClassVar[int]
    ACCESS_GROUPS_FIELD_NUMBER: _ClassVar[int]
    seesaw_vip: Host
    node: _containers.RepeatedCompositeFieldContainer[Host]
    vmac: str
    bgp_local_asn: int
    bgp_remote_asn: int
    bgp_peer: _containers.RepeatedCompositeFieldContainer[Host]
    vserver: _containers.RepeatedCompositeFieldContainer[Vserver]
    vlan: _containers.RepeatedCompositeFieldContainer[Vlan]
    misconfigured_vserver: _containers.RepeatedCompositeFieldContainer[MisconfiguredVserver]
    metadata: Metadata
    dedicated_vip_subnet: _containers.RepeatedScalarFieldContainer[str]
    access_groups: _containers.RepeatedCompositeFieldContainer[AccessGroup]
    def __init__(self, seesaw_vip: _Optional[_Union[Host, _Mapping]] = ..., node: _Optional[_Iterable[_Union[Host, _Mapping]]] = ..., vmac: _Optional[str] = ..., bgp_local_asn: _Optional[int] = ..., bgp_remote_asn: _Optional[int] = ..., bgp_peer: _Optional[_Iterable[_Union[Host, _Mapping]]] = ..., vserver: _Optional[_Iterable[_Union[Vserver, _Mapping]]] = ..., vlan: _Optional[_Iterable[_Union[Vlan, _Mapping]]] = ..., misconfigured_vserver: _Optional[_Iterable[_Union[MisconfiguredVserver, _Mapping]]] = ..., metadata: _Optional[_Union[Metadata, _Mapping]] = ..., dedicated_vip_subnet: _Optional[_Iterable[str]] = ..., access_groups: _Optional[_Iterable[_Union[AccessGroup, _Mapping]]] = ...) -> None: ...
