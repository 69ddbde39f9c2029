from seesaw.pb import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Service(_message.Message):
    __slots__ = ("family", "protocol", "address", "port", "fwmark", "scheduler", "flags", "timeout", "destinations")
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    FWMARK_FIELD_NUMBER: _ClassVar[int]
    SCHEDULER_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    DESTINATIONS_FIELD_NUMBER: _ClassVar[int]
    family: _common_pb2.AddressFamily
    protocol: _common_pb2.IPProtocol
    address: str
    port: int
    fwmark: int
    scheduler: str
    flags: int
    timeout: int
    destinations: _containers.RepeatedCompositeFieldContainer[Destination]
    def __init__(self, family: _Optional[_Union[_common_pb2.AddressFamily, str]] = ..., protocol: _Optional[_Union[_common_pb2.IPProtocol, str]] = ..., address: _Optional[str] = ..., port: _Optional[int] = ..., fwmark: _Optional[int] = ..., scheduler: _Optional[str] = ..., flags: _Optional[int] = ..., timeout: _Optional[int] = ..., destinations: _Optional[_Iterable[_Union[Destination, _Mapping]]] = ...) -> None: ...

class Destination(_message.Message):
    __slots__ = ("address", "port", "forwarding", "weight", "upper_threshold", "lower_threshold")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    FORWARDING_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    UPPER_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    LOWER_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    address: str
    port: int
    forwarding: _common_pb2.Forwarding
    weight: int
    upper_threshold: int
    lower_threshold: int
    def __init__(self, address: _Optional[str] = ..., port: _Optional[int] = ..., forwarding: _Optional[_Union[_common_pb2.Forwarding, str]] = ..., weight: _Optional[int] = ..., upper_threshold: _Optional[int] = ..., lower_threshold: _Optional[int] = ...) -> None: ...

class VIP(_message.Message):
    __slots__ = ("address", "type")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    address: str
    type: _common_pb2.VIPType
    def __init__(self, address: _Optional[str] = ..., type: _Optional[_Union[_common_pb2.VIPType, str]] = ...) -> None: ...

class Port(_message.Message):
    __slots__ = ("protocol", "port")
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    protocol: _common_pb2.IPProtocol
    port: int
    def __init__(self, protocol: _Optional[_Union[_common_pb2.IPProtocol, str]] = ..., port: _Optional[int] = ...) -> None: ...

class VIPFilter(_message.Message):
    __slots__ = ("address", "ports", "fwmark", "nat")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PORTS_FIELD_NUMBER: _ClassVar[int]
    FWMARK_FIELD_NUMBER: _ClassVar[int]
    NAT_FIELD_NUMBER: _ClassVar[int]
    address: str
    ports: _containers.RepeatedCompositeFieldContainer[Port]
    fwmark: int
    nat: bool
    def __init__(self, address: _Optional[str] = ..., ports: _Optional[_Iterable[_Union[Port, _Mapping]]] = ..., fwmark: _Optional[int] = ..., nat: _Optional[bool] = ...) -> None: ...

class Partition(_message.Message):
    __slots__ = ("name", "services", "vips", "filters")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    VIPS_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    name: str
    services: _containers.RepeatedCompositeFieldContainer[Service]
    vips: _containers.RepeatedCompositeFieldContainer[VIP]
    filters: _containers.RepeatedCompositeFieldContainer[VIPFilter]
    def __init__(self, name: _Optional[str] = ..., services: _Optional[_Iterable[_Union[Service, _Mapping]]] = ..., vips: _Optional[_Iterable[_Union[VIP, _Mapping]]] = ..., filters: _Optional[_Iterable[_Union[VIPFilter, _Mapping]]] = ...) -> None: ...

class VLAN(_message.Message):
    __slots__ = ("id", "ipv4", "ipv6")
    ID_FIELD_NUMBER: _ClassVar[int]
    IPV4_FIELD_NUMBER: _ClassVar[int]
    IPV6_FIELD_NUMBER: _ClassVar[int]
    id: int
    ipv4: str
    ipv6: str
    def __init__(self, id: _Optional[int] = ..., ipv4: _Optional[str] = ..., ipv6: _Optional[str] = ...) -> None: ...

class LBInterface(_message.Message):
    __slots__ = ("name", "node_interface", "dummy_interface", "node_ipv4", "node_ipv6", "cluster_vip_ipv4", "cluster_vip_ipv6", "vrid", "use_vmac", "routing_table", "up", "vlans", "ha_since_unix_ms")
    NAME_FIELD_NUMBER: _ClassVar[int]
    NODE_INTERFACE_FIELD_NUMBER: _ClassVar[int]
    DUMMY_INTERFACE_FIELD_NUMBER: _ClassVar[int]
    NODE_IPV4_FIELD_NUMBER: _ClassVar[int]
    NODE_IPV6_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_VIP_IPV4_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_VIP_IPV6_FIELD_NUMBER: _ClassVar[int]
    VRID_FIELD_NUMBER: _ClassVar[int]
    USE_VMAC_FIELD_NUMBER: _ClassVar[int]
    ROUTING_TABLE_FIELD_NUMBER: _ClassVar[int]
    UP_FIELD_NUMBER: _ClassVar[int]
    VLANS_FIELD_NUMBER: _ClassVar[int]
    HA_SINCE_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    name: str
    node_interface: str
    dummy_interface: str
    node_ipv4: str
    node_ipv6: str
    cluster_vip_ipv4: str
    cluster_vip_ipv6: str
    vrid: int
    use_vmac: bool
    routing_table: int
    up: bool
    vlans: _containers.RepeatedCompositeFieldContainer[VLAN]
    ha_since_unix_ms: int
    def __init__(self, name: _Optional[str] = ..., node_interface: _Optional[str] = ..., dummy_interface: _Optional[str] = ..., node_ipv4: _Optional[str] = ..., node_ipv6: _Optional[str] = ..., cluster_vip_ipv4: _Optional[str] = ..., cluster_vip_ipv6: _Optional[str] = ..., vrid: _Optional[int] = ..., use_vmac: _Optional[bool] = ..., routing_table: _Optional[int] = ..., up: _Optional[bool] = ..., vlans: _Optional[_Iterable[_Union[VLAN, _Mapping]]] = ..., ha_since_unix_ms: _Optional[int] = ...) -> None: ...

class ApplyRequest(_message.Message):
    __slots__ = ("partitions", "lb", "has_lb", "replace_all", "dry_run", "bgp", "has_bgp")
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    LB_FIELD_NUMBER: _ClassVar[int]
    HAS_LB_FIELD_NUMBER: _ClassVar[int]
    REPLACE_ALL_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    BGP_FIELD_NUMBER: _ClassVar[int]
    HAS_BGP_FIELD_NUMBER: _ClassVar[int]
    partitions: _containers.RepeatedCompositeFieldContainer[Partition]
    lb: LBInterface
    has_lb: bool
    replace_all: bool
    dry_run: bool
    bgp: BGPConfig
    has_bgp: bool
    def __init__(self, partitions: _Optional[_Iterable[_Union[Partition, _Mapping]]] = ..., lb: _Optional[_Union[LBInterface, _Mapping]] = ..., has_lb: _Optional[bool] = ..., replace_all: _Optional[bool] = ..., dry_run: _Optional[bool] = ..., bgp: _Optional[_Union[BGPConfig, _Mapping]] = ..., has_bgp: _Optional[bool] = ...) -> None: ...

class BGPPeer(_message.Message):
    __slots__ = ("address", "description")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    address: str
    description: str
    def __init__(self, address: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class BGPConfig(_message.Message):
    __slots__ = ("enabled", "local_asn", "remote_asn", "router_id", "peers", "networks")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    LOCAL_ASN_FIELD_NUMBER: _ClassVar[int]
    REMOTE_ASN_FIELD_NUMBER: _ClassVar[int]
    ROUTER_ID_FIELD_NUMBER: _ClassVar[int]
    PEERS_FIELD_NUMBER: _ClassVar[int]
    NETWORKS_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    local_asn: int
    remote_asn: int
    router_id: str
    peers: _containers.RepeatedCompositeFieldContainer[BGPPeer]
    networks: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, enabled: _Optional[bool] = ..., local_asn: _Optional[int] = ..., remote_asn: _Optional[int] = ..., router_id: _Optional[str] = ..., peers: _Optional[_Iterable[_Union[BGPPeer, _Mapping]]] = ..., networks: _Optional[_Iterable[str]] = ...) -> None: ...

class PlanStep(_message.Message):
    __slots__ = ("op", "kind", "key", "partition", "detail")
    class Op(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ADD: _ClassVar[PlanStep.Op]
        UPDATE: _ClassVar[PlanStep.Op]
        DELETE: _ClassVar[PlanStep.Op]
    ADD: PlanStep.Op
    UPDATE: PlanStep.Op
    DELETE: PlanStep.Op
    OP_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    op: PlanStep.Op
    kind: str
    key: str
    partition: str
    detail: str
    def __init__(self, op: _Optional[_Union[PlanStep.Op, str]] = ..., kind: _Optional[str] = ..., key: _Optional[str] = ..., partition: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...

class ObjectError(_message.Message):
    __slots__ = ("kind", "key", "partition", "message")
    KIND_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    kind: str
    key: str
    partition: str
    message: str
    def __init__(self, kind: _Optional[str] = ..., key: _Optional[str] = ..., partition: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class ApplyResponse(_message.Message):
    __slots__ = ("plan", "errors", "writes", "generation")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    WRITES_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    plan: _containers.RepeatedCompositeFieldContainer[PlanStep]
    errors: _containers.RepeatedCompositeFieldContainer[ObjectError]
    writes: int
    generation: int
    def __init__(self, plan: _Optional[_Iterable[_Union[PlanStep, _Mapping]]] = ..., errors: _Optional[_Iterable[_Union[ObjectError, _Mapping]]] = ..., writes: _Optional[int] = ..., generation: _Optional[int] = ...) -> None: ...

class ServiceStats(_message.Message):
    __slots__ = ("service", "stats", "destinations")
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    DESTINATIONS_FIELD_NUMBER: _ClassVar[int]
    service: Service
    stats: _common_pb2.Stats
    destinations: _containers.RepeatedCompositeFieldContainer[DestinationStats]
    def __init__(self, service: _Optional[_Union[Service, _Mapping]] = ..., stats: _Optional[_Union[_common_pb2.Stats, _Mapping]] = ..., destinations: _Optional[_Iterable[_Union[DestinationStats, _Mapping]]] = ...) -> None: ...

class DestinationStats(_message.Message):
    __slots__ = ("destination", "stats")
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    destination: Destination
    stats: _common_pb2.Stats
    def __init__(self, destination: _Optional[_Union[Destination, _Mapping]] = ..., stats: _Optional[_Union[_common_pb2.Stats, _Mapping]] = ...) -> None: ...

class DataplaneState(_message.Message):
    __slots__ = ("dataplane", "services", "vips", "lb")
    DATAPLANE_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    VIPS_FIELD_NUMBER: _ClassVar[int]
    LB_FIELD_NUMBER: _ClassVar[int]
    dataplane: str
    services: _containers.RepeatedCompositeFieldContainer[ServiceStats]
    vips: _containers.RepeatedCompositeFieldContainer[VIP]
    lb: LBInterface
    def __init__(self, dataplane: _Optional[str] = ..., services: _Optional[_Iterable[_Union[ServiceStats, _Mapping]]] = ..., vips: _Optional[_Iterable[_Union[VIP, _Mapping]]] = ..., lb: _Optional[_Union[LBInterface, _Mapping]] = ...) -> None: ...

class StatusResponse(_message.Message):
    __slots__ = ("dataplane", "dataplane_reason", "generation", "writes_total", "drift_repairs_total", "apply_errors_total", "partitions")
    DATAPLANE_FIELD_NUMBER: _ClassVar[int]
    DATAPLANE_REASON_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    WRITES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    DRIFT_REPAIRS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    APPLY_ERRORS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    dataplane: str
    dataplane_reason: str
    generation: int
    writes_total: int
    drift_repairs_total: int
    apply_errors_total: int
    partitions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, dataplane: _Optional[str] = ..., dataplane_reason: _Optional[str] = ..., generation: _Optional[int] = ..., writes_total: _Optional[int] = ..., drift_repairs_total: _Optional[int] = ..., apply_errors_total: _Optional[int] = ..., partitions: _Optional[_Iterable[str]] = ...) -> None: ...

class BGPNeighbor(_message.Message):
    __slots__ = ("address", "asn", "local_asn", "router_id", "description", "state", "uptime_s", "peer_group", "updates_sent", "updates_received", "messages_sent", "messages_received")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ASN_FIELD_NUMBER: _ClassVar[int]
    LOCAL_ASN_FIELD_NUMBER: _ClassVar[int]
    ROUTER_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    UPTIME_S_FIELD_NUMBER: _ClassVar[int]
    PEER_GROUP_FIELD_NUMBER: _ClassVar[int]
    UPDATES_SENT_FIELD_NUMBER: _ClassVar[int]
    UPDATES_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_SENT_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    address: str
    asn: int
    local_asn: int
    router_id: str
    description: str
    state: str
    uptime_s: int
    peer_group: str
    updates_sent: int
    updates_received: int
    messages_sent: int
    messages_received: int
    def __init__(self, address: _Optional[str] = ..., asn: _Optional[int] = ..., local_asn: _Optional[int] = ..., router_id: _Optional[str] = ..., description: _Optional[str] = ..., state: _Optional[str] = ..., uptime_s: _Optional[int] = ..., peer_group: _Optional[str] = ..., updates_sent: _Optional[int] = ..., updates_received: _Optional[int] = ..., messages_sent: _Optional[int] = ..., messages_received: _Optional[int] = ...) -> None: ...

class BGPNeighborList(_message.Message):
    __slots__ = ("neighbors",)
    NEIGHBORS_FIELD_NUMBER: _ClassVar[int]
    neighbors: _containers.RepeatedCompositeFieldContainer[BGPNeighbor]
    def __init__(self, neighbors: _Optional[_Iterable[_Union[BGPNeighbor, _Mapping]]] = ...) -> None: ...

class ARPRequest(_message.Message):
    __slots__ = ("interfaces",)
    class InterfacesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: AddressList
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[AddressList, _Mapping]] = ...) -> None: ...
    INTERFACES_FIELD_NUMBER: _ClassVar[int]
    interfaces: _containers.MessageMap[str, AddressList]
    def __init__(self, interfaces: _Optional[_Mapping[str, AddressList]] = ...) -> None: ...

class AddressList(_message.Message):
    __slots__ = ("addresses",)
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    addresses: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, addresses: _Optional[_Iterable[str]] = ...) -> None: ...

class LBDownRequest(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class TakeoverRequest(_message.Message):
    __slots__ = ("leader_since_unix_ms", "raised_kit")
    LEADER_SINCE_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    RAISED_KIT_FIELD_NUMBER: _ClassVar[int]
    leader_since_unix_ms: int
    raised_kit: int
    def __init__(self, leader_since_unix_ms: _Optional[int] = ..., raised_kit: _Optional[int] = ...) -> None: ...

class TakeoverKit(_message.Message):
    __slots__ = ("interface", "index", "frames", "serial", "neighbours")
    INTERFACE_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    FRAMES_FIELD_NUMBER: _ClassVar[int]
    SERIAL_FIELD_NUMBER: _ClassVar[int]
    NEIGHBOURS_FIELD_NUMBER: _ClassVar[int]
    interface: str
    index: int
    frames: _containers.RepeatedScalarFieldContainer[bytes]
    serial: int
    neighbours: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, interface: _Optional[str] = ..., index: _Optional[int] = ..., frames: _Optional[_Iterable[bytes]] = ..., serial: _Optional[int] = ..., neighbours: _Optional[_Iterable[str]] = ...) -> None: ...

class TakeoverReply(_message.Message):
    __slots__ = ("raised", "reason")
    RAISED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    raised: bool
    reason: str
    def __init__(self, raised: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...
