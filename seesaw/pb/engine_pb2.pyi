from seesaw.pb import common_pb2 as _common_pb2
from seesaw.pb import ha_pb2 as _ha_pb2
from seesaw.pb import healthcheck_pb2 as _healthcheck_pb2
from seesaw.pb import ncc_pb2 as _ncc_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Node(_message.Message):
    __slots__ = ("hostname", "ipv4", "ipv6", "priority", "state", "anycast_enabled", "bgp_enabled", "vservers_enabled", "local")
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    IPV4_FIELD_NUMBER: _ClassVar[int]
    IPV6_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ANYCAST_ENABLED_FIELD_NUMBER: _ClassVar[int]
    BGP_ENABLED_FIELD_NUMBER: _ClassVar[int]
    VSERVERS_ENABLED_FIELD_NUMBER: _ClassVar[int]
    LOCAL_FIELD_NUMBER: _ClassVar[int]
    hostname: str
    ipv4: str
    ipv6: str
    priority: int
    state: _common_pb2.HaState
    anycast_enabled: bool
    bgp_enabled: bool
    vservers_enabled: bool
    local: bool
    def __init__(self, hostname: _Optional[str] = ..., ipv4: _Optional[str] = ..., ipv6: _Optional[str] = ..., priority: _Optional[int] = ..., state: _Optional[_Union[_common_pb2.HaState, str]] = ..., anycast_enabled: _Optional[bool] = ..., bgp_enabled: _Optional[bool] = ..., vservers_enabled: _Optional[bool] = ..., local: _Optional[bool] = ...) -> None: ...

class ClusterStatus(_message.Message):
    __slots__ = ("version", "site", "nodes", "cluster_vip_ipv4", "cluster_vip_ipv6")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SITE_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_VIP_IPV4_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_VIP_IPV6_FIELD_NUMBER: _ClassVar[int]
    version: int
    site: str
    nodes: _containers.RepeatedCompositeFieldContainer[Node]
    cluster_vip_ipv4: str
    cluster_vip_ipv6: str
    def __init__(self, version: _Optional[int] = ..., site: _Optional[str] = ..., nodes: _Optional[_Iterable[_Union[Node, _Mapping]]] = ..., cluster_vip_ipv4: _Optional[str] = ..., cluster_vip_ipv6: _Optional[str] = ...) -> None: ...

class Attribute(_message.Message):
    __slots__ = ("name", "value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: str
    def __init__(self, name: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class ConfigStatus(_message.Message):
    __slots__ = ("last_update_unix", "attributes", "warnings", "source", "generation", "loaded_unix_ms", "last_error", "last_error_unix_ms", "path", "reloads_total", "reload_errors_total", "origin", "last_check_unix_ms")
    LAST_UPDATE_UNIX_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    LOADED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    RELOADS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    RELOAD_ERRORS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    LAST_CHECK_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    last_update_unix: int
    attributes: _containers.RepeatedCompositeFieldContainer[Attribute]
    warnings: _containers.RepeatedScalarFieldContainer[str]
    source: str
    generation: int
    loaded_unix_ms: int
    last_error: str
    last_error_unix_ms: int
    path: str
    reloads_total: int
    reload_errors_total: int
    origin: str
    last_check_unix_ms: int
    def __init__(self, last_update_unix: _Optional[int] = ..., attributes: _Optional[_Iterable[_Union[Attribute, _Mapping]]] = ..., warnings: _Optional[_Iterable[str]] = ..., source: _Optional[str] = ..., generation: _Optional[int] = ..., loaded_unix_ms: _Optional[int] = ..., last_error: _Optional[str] = ..., last_error_unix_ms: _Optional[int] = ..., path: _Optional[str] = ..., reloads_total: _Optional[int] = ..., reload_errors_total: _Optional[int] = ..., origin: _Optional[str] = ..., last_check_unix_ms: _Optional[int] = ...) -> None: ...

class CheckState(_message.Message):
    __slots__ = ("id", "name", "type", "mode", "target", "port", "state", "message", "latency_us", "checked_unix_ms")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    LATENCY_US_FIELD_NUMBER: _ClassVar[int]
    CHECKED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    id: int
    name: str
    type: _healthcheck_pb2.CheckType
    mode: _healthcheck_pb2.CheckMode
    target: str
    port: int
    state: _common_pb2.HealthState
    message: str
    latency_us: int
    checked_unix_ms: int
    def __init__(self, id: _Optional[int] = ..., name: _Optional[str] = ..., type: _Optional[_Union[_healthcheck_pb2.CheckType, str]] = ..., mode: _Optional[_Union[_healthcheck_pb2.CheckMode, str]] = ..., target: _Optional[str] = ..., port: _Optional[int] = ..., state: _Optional[_Union[_common_pb2.HealthState, str]] = ..., message: _Optional[str] = ..., latency_us: _Optional[int] = ..., checked_unix_ms: _Optional[int] = ...) -> None: ...

class Destination(_message.Message):
    __slots__ = ("name", "vserver", "backend", "address", "port", "weight", "enabled", "healthy", "active", "checks", "stats", "override")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VSERVER_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    HEALTHY_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    OVERRIDE_FIELD_NUMBER: _ClassVar[int]
    name: str
    vserver: str
    backend: str
    address: str
    port: int
    weight: int
    enabled: bool
    healthy: bool
    active: bool
    checks: _containers.RepeatedCompositeFieldContainer[CheckState]
    stats: _common_pb2.Stats
    override: _common_pb2.OverrideState
    def __init__(self, name: _Optional[str] = ..., vserver: _Optional[str] = ..., backend: _Optional[str] = ..., address: _Optional[str] = ..., port: _Optional[int] = ..., weight: _Optional[int] = ..., enabled: _Optional[bool] = ..., healthy: _Optional[bool] = ..., active: _Optional[bool] = ..., checks: _Optional[_Iterable[_Union[CheckState, _Mapping]]] = ..., stats: _Optional[_Union[_common_pb2.Stats, _Mapping]] = ..., override: _Optional[_Union[_common_pb2.OverrideState, str]] = ...) -> None: ...

class Service(_message.Message):
    __slots__ = ("family", "protocol", "address", "port", "fwmark", "mode", "scheduler", "one_packet", "persistence", "enabled", "healthy", "active", "low_watermark", "high_watermark", "current_watermark", "destinations", "stats")
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    FWMARK_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    SCHEDULER_FIELD_NUMBER: _ClassVar[int]
    ONE_PACKET_FIELD_NUMBER: _ClassVar[int]
    PERSISTENCE_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    HEALTHY_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    LOW_WATERMARK_FIELD_NUMBER: _ClassVar[int]
    HIGH_WATERMARK_FIELD_NUMBER: _ClassVar[int]
    CURRENT_WATERMARK_FIELD_NUMBER: _ClassVar[int]
    DESTINATIONS_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    family: _common_pb2.AddressFamily
    protocol: _common_pb2.IPProtocol
    address: str
    port: int
    fwmark: int
    mode: str
    scheduler: str
    one_packet: bool
    persistence: int
    enabled: bool
    healthy: bool
    active: bool
    low_watermark: float
    high_watermark: float
    current_watermark: float
    destinations: _containers.RepeatedCompositeFieldContainer[Destination]
    stats: _common_pb2.Stats
    def __init__(self, family: _Optional[_Union[_common_pb2.AddressFamily, str]] = ..., protocol: _Optional[_Union[_common_pb2.IPProtocol, str]] = ..., address: _Optional[str] = ..., port: _Optional[int] = ..., fwmark: _Optional[int] = ..., mode: _Optional[str] = ..., scheduler: _Optional[str] = ..., one_packet: _Optional[bool] = ..., persistence: _Optional[int] = ..., enabled: _Optional[bool] = ..., healthy: _Optional[bool] = ..., active: _Optional[bool] = ..., low_watermark: _Optional[float] = ..., high_watermark: _Optional[float] = ..., current_watermark: _Optional[float] = ..., destinations: _Optional[_Iterable[_Union[Destination, _Mapping]]] = ..., stats: _Optional[_Union[_common_pb2.Stats, _Mapping]] = ...) -> None: ...

class VIPStatus(_message.Message):
    __slots__ = ("address", "type", "healthy", "active")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    HEALTHY_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    address: str
    type: _common_pb2.VIPType
    healthy: bool
    active: bool
    def __init__(self, address: _Optional[str] = ..., type: _Optional[_Union[_common_pb2.VIPType, str]] = ..., healthy: _Optional[bool] = ..., active: _Optional[bool] = ...) -> None: ...

class Vserver(_message.Message):
    __slots__ = ("name", "hostname", "ipv4", "ipv6", "enabled", "config_enabled", "override", "services", "warnings", "vips", "use_fwm")
    NAME_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    IPV4_FIELD_NUMBER: _ClassVar[int]
    IPV6_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    CONFIG_ENABLED_FIELD_NUMBER: _ClassVar[int]
    OVERRIDE_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    VIPS_FIELD_NUMBER: _ClassVar[int]
    USE_FWM_FIELD_NUMBER: _ClassVar[int]
    name: str
    hostname: str
    ipv4: str
    ipv6: str
    enabled: bool
    config_enabled: bool
    override: _common_pb2.OverrideState
    services: _containers.RepeatedCompositeFieldContainer[Service]
    warnings: _containers.RepeatedScalarFieldContainer[str]
    vips: _containers.RepeatedCompositeFieldContainer[VIPStatus]
    use_fwm: bool
    def __init__(self, name: _Optional[str] = ..., hostname: _Optional[str] = ..., ipv4: _Optional[str] = ..., ipv6: _Optional[str] = ..., enabled: _Optional[bool] = ..., config_enabled: _Optional[bool] = ..., override: _Optional[_Union[_common_pb2.OverrideState, str]] = ..., services: _Optional[_Iterable[_Union[Service, _Mapping]]] = ..., warnings: _Optional[_Iterable[str]] = ..., vips: _Optional[_Iterable[_Union[VIPStatus, _Mapping]]] = ..., use_fwm: _Optional[bool] = ...) -> None: ...

class VserverList(_message.Message):
    __slots__ = ("vservers",)
    VSERVERS_FIELD_NUMBER: _ClassVar[int]
    vservers: _containers.RepeatedCompositeFieldContainer[Vserver]
    def __init__(self, vservers: _Optional[_Iterable[_Union[Vserver, _Mapping]]] = ...) -> None: ...

class Backend(_message.Message):
    __slots__ = ("hostname", "ipv4", "ipv6", "weight", "enabled", "in_service", "override", "destinations")
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    IPV4_FIELD_NUMBER: _ClassVar[int]
    IPV6_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    IN_SERVICE_FIELD_NUMBER: _ClassVar[int]
    OVERRIDE_FIELD_NUMBER: _ClassVar[int]
    DESTINATIONS_FIELD_NUMBER: _ClassVar[int]
    hostname: str
    ipv4: str
    ipv6: str
    weight: int
    enabled: bool
    in_service: bool
    override: _common_pb2.OverrideState
    destinations: _containers.RepeatedCompositeFieldContainer[Destination]
    def __init__(self, hostname: _Optional[str] = ..., ipv4: _Optional[str] = ..., ipv6: _Optional[str] = ..., weight: _Optional[int] = ..., enabled: _Optional[bool] = ..., in_service: _Optional[bool] = ..., override: _Optional[_Union[_common_pb2.OverrideState, str]] = ..., destinations: _Optional[_Iterable[_Union[Destination, _Mapping]]] = ...) -> None: ...

class BackendList(_message.Message):
    __slots__ = ("backends",)
    BACKENDS_FIELD_NUMBER: _ClassVar[int]
    backends: _containers.RepeatedCompositeFieldContainer[Backend]
    def __init__(self, backends: _Optional[_Iterable[_Union[Backend, _Mapping]]] = ...) -> None: ...

class VLAN(_message.Message):
    __slots__ = ("id", "hostname", "ipv4", "ipv6", "backends_ipv4", "backends_ipv6", "vips_ipv4", "vips_ipv6")
    ID_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    IPV4_FIELD_NUMBER: _ClassVar[int]
    IPV6_FIELD_NUMBER: _ClassVar[int]
    BACKENDS_IPV4_FIELD_NUMBER: _ClassVar[int]
    BACKENDS_IPV6_FIELD_NUMBER: _ClassVar[int]
    VIPS_IPV4_FIELD_NUMBER: _ClassVar[int]
    VIPS_IPV6_FIELD_NUMBER: _ClassVar[int]
    id: int
    hostname: str
    ipv4: str
    ipv6: str
    backends_ipv4: int
    backends_ipv6: int
    vips_ipv4: int
    vips_ipv6: int
    def __init__(self, id: _Optional[int] = ..., hostname: _Optional[str] = ..., ipv4: _Optional[str] = ..., ipv6: _Optional[str] = ..., backends_ipv4: _Optional[int] = ..., backends_ipv6: _Optional[int] = ..., vips_ipv4: _Optional[int] = ..., vips_ipv6: _Optional[int] = ...) -> None: ...

class VLANList(_message.Message):
    __slots__ = ("vlans",)
    VLANS_FIELD_NUMBER: _ClassVar[int]
    vlans: _containers.RepeatedCompositeFieldContainer[VLAN]
    def __init__(self, vlans: _Optional[_Iterable[_Union[VLAN, _Mapping]]] = ...) -> None: ...

class BGPNeighbor(_message.Message):
    __slots__ = ("address", "router_id", "asn", "description", "state", "uptime_s")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ROUTER_ID_FIELD_NUMBER: _ClassVar[int]
    ASN_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    UPTIME_S_FIELD_NUMBER: _ClassVar[int]
    address: str
    router_id: str
    asn: int
    description: str
    state: str
    uptime_s: int
    def __init__(self, address: _Optional[str] = ..., router_id: _Optional[str] = ..., asn: _Optional[int] = ..., description: _Optional[str] = ..., state: _Optional[str] = ..., uptime_s: _Optional[int] = ...) -> None: ...

class BGPNeighborList(_message.Message):
    __slots__ = ("neighbors",)
    NEIGHBORS_FIELD_NUMBER: _ClassVar[int]
    neighbors: _containers.RepeatedCompositeFieldContainer[BGPNeighbor]
    def __init__(self, neighbors: _Optional[_Iterable[_Union[BGPNeighbor, _Mapping]]] = ...) -> None: ...

class Version(_message.Message):
    __slots__ = ("version", "engine_version", "dataplane")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ENGINE_VERSION_FIELD_NUMBER: _ClassVar[int]
    DATAPLANE_FIELD_NUMBER: _ClassVar[int]
    version: str
    engine_version: int
    dataplane: str
    def __init__(self, version: _Optional[str] = ..., engine_version: _Optional[int] = ..., dataplane: _Optional[str] = ...) -> None: ...

class ReloadReply(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: str
    def __init__(self, message: _Optional[str] = ...) -> None: ...

class ReloadRequest(_message.Message):
    __slots__ = ("force",)
    FORCE_FIELD_NUMBER: _ClassVar[int]
    force: bool
    def __init__(self, force: _Optional[bool] = ...) -> None: ...

class VserverChange(_message.Message):
    __slots__ = ("name", "kind", "details")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        CHANGED: _ClassVar[VserverChange.Kind]
        ADDED: _ClassVar[VserverChange.Kind]
        REMOVED: _ClassVar[VserverChange.Kind]
    CHANGED: VserverChange.Kind
    ADDED: VserverChange.Kind
    REMOVED: VserverChange.Kind
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: VserverChange.Kind
    details: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[VserverChange.Kind, str]] = ..., details: _Optional[_Iterable[str]] = ...) -> None: ...

class ConfigDiff(_message.Message):
    __slots__ = ("source", "origin", "changed", "metadata_only", "running_last_updated", "candidate_last_updated", "vservers", "cluster", "refusals", "steps", "step_limit")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    METADATA_ONLY_FIELD_NUMBER: _ClassVar[int]
    RUNNING_LAST_UPDATED_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_LAST_UPDATED_FIELD_NUMBER: _ClassVar[int]
    VSERVERS_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_FIELD_NUMBER: _ClassVar[int]
    REFUSALS_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    STEP_LIMIT_FIELD_NUMBER: _ClassVar[int]
    source: str
    origin: str
    changed: bool
    metadata_only: bool
    running_last_updated: int
    candidate_last_updated: int
    vservers: _containers.RepeatedCompositeFieldContainer[VserverChange]
    cluster: _containers.RepeatedScalarFieldContainer[str]
    refusals: _containers.RepeatedScalarFieldContainer[str]
    steps: int
    step_limit: int
    def __init__(self, source: _Optional[str] = ..., origin: _Optional[str] = ..., changed: _Optional[bool] = ..., metadata_only: _Optional[bool] = ..., running_last_updated: _Optional[int] = ..., candidate_last_updated: _Optional[int] = ..., vservers: _Optional[_Iterable[_Union[VserverChange, _Mapping]]] = ..., cluster: _Optional[_Iterable[str]] = ..., refusals: _Optional[_Iterable[str]] = ..., steps: _Optional[int] = ..., step_limit: _Optional[int] = ...) -> None: ...

class ConfigSourceRequest(_message.Message):
    __slots__ = ("source",)
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    source: str
    def __init__(self, source: _Optional[str] = ...) -> None: ...

class ConfigSourceReply(_message.Message):
    __slots__ = ("source", "previous")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_FIELD_NUMBER: _ClassVar[int]
    source: str
    previous: str
    def __init__(self, source: _Optional[str] = ..., previous: _Optional[str] = ...) -> None: ...

class OverrideRequest(_message.Message):
    __slots__ = ("target", "name", "state")
    class Target(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        VSERVER: _ClassVar[OverrideRequest.Target]
        BACKEND: _ClassVar[OverrideRequest.Target]
        DESTINATION: _ClassVar[OverrideRequest.Target]
    VSERVER: OverrideRequest.Target
    BACKEND: OverrideRequest.Target
    DESTINATION: OverrideRequest.Target
    TARGET_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    target: OverrideRequest.Target
    name: str
    state: _common_pb2.OverrideState
    def __init__(self, target: _Optional[_Union[OverrideRequest.Target, str]] = ..., name: _Optional[str] = ..., state: _Optional[_Union[_common_pb2.OverrideState, str]] = ...) -> None: ...

class OverrideReply(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: str
    def __init__(self, message: _Optional[str] = ...) -> None: ...

class FailoverReply(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: str
    def __init__(self, message: _Optional[str] = ...) -> None: ...

class Caller(_message.Message):
    __slots__ = ("user", "role", "groups", "uid", "via", "granted_vservers")
    USER_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    UID_FIELD_NUMBER: _ClassVar[int]
    VIA_FIELD_NUMBER: _ClassVar[int]
    GRANTED_VSERVERS_FIELD_NUMBER: _ClassVar[int]
    user: str
    role: str
    groups: _containers.RepeatedScalarFieldContainer[str]
    uid: int
    via: str
    granted_vservers: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, user: _Optional[str] = ..., role: _Optional[str] = ..., groups: _Optional[_Iterable[str]] = ..., uid: _Optional[int] = ..., via: _Optional[str] = ..., granted_vservers: _Optional[_Iterable[str]] = ...) -> None: ...

class DataplaneView(_message.Message):
    __slots__ = ("connected", "error", "state", "status")
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    connected: bool
    error: str
    state: _ncc_pb2.DataplaneState
    status: _ncc_pb2.StatusResponse
    def __init__(self, connected: _Optional[bool] = ..., error: _Optional[str] = ..., state: _Optional[_Union[_ncc_pb2.DataplaneState, _Mapping]] = ..., status: _Optional[_Union[_ncc_pb2.StatusResponse, _Mapping]] = ...) -> None: ...
