from seesaw.pb import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CheckType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHECK_UNSPECIFIED: _ClassVar[CheckType]
    CHECK_ICMP_PING: _ClassVar[CheckType]
    CHECK_UDP: _ClassVar[CheckType]
    CHECK_TCP: _ClassVar[CheckType]
    CHECK_HTTP: _ClassVar[CheckType]
    CHECK_HTTPS: _ClassVar[CheckType]
    CHECK_DNS: _ClassVar[CheckType]
    CHECK_TCP_TLS: _ClassVar[CheckType]
    CHECK_RADIUS: _ClassVar[CheckType]
    CHECK_GRPC: _ClassVar[CheckType]

class CheckMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODE_PLAIN: _ClassVar[CheckMode]
    MODE_DSR: _ClassVar[CheckMode]
    MODE_TUN: _ClassVar[CheckMode]
CHECK_UNSPECIFIED: CheckType
CHECK_ICMP_PING: CheckType
CHECK_UDP: CheckType
CHECK_TCP: CheckType
CHECK_HTTP: CheckType
CHECK_HTTPS: CheckType
CHECK_DNS: CheckType
CHECK_TCP_TLS: CheckType
CHECK_RADIUS: CheckType
CHECK_GRPC: CheckType
MODE_PLAIN: CheckMode
MODE_DSR: CheckMode
MODE_TUN: CheckMode

class CheckConfig(_message.Message):
    __slots__ = ("id", "name", "type", "mode", "target", "port", "mark", "interval_ms", "timeout_ms", "retries", "send", "receive", "code", "method", "proxy", "tls_verify", "host_header", "backend", "description")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    MARK_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    RETRIES_FIELD_NUMBER: _ClassVar[int]
    SEND_FIELD_NUMBER: _ClassVar[int]
    RECEIVE_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PROXY_FIELD_NUMBER: _ClassVar[int]
    TLS_VERIFY_FIELD_NUMBER: _ClassVar[int]
    HOST_HEADER_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    id: int
    name: str
    type: CheckType
    mode: CheckMode
    target: str
    port: int
    mark: int
    interval_ms: int
    timeout_ms: int
    retries: int
    send: str
    receive: str
    code: int
    method: str
    proxy: bool
    tls_verify: bool
    host_header: str
    backend: str
    description: str
    def __init__(self, id: _Optional[int] = ..., name: _Optional[str] = ..., type: _Optional[_Union[CheckType, str]] = ..., mode: _Optional[_Union[CheckMode, str]] = ..., target: _Optional[str] = ..., port: _Optional[int] = ..., mark: _Optional[int] = ..., interval_ms: _Optional[int] = ..., timeout_ms: _Optional[int] = ..., retries: _Optional[int] = ..., send: _Optional[str] = ..., receive: _Optional[str] = ..., code: _Optional[int] = ..., method: _Optional[str] = ..., proxy: _Optional[bool] = ..., tls_verify: _Optional[bool] = ..., host_header: _Optional[str] = ..., backend: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class CheckSet(_message.Message):
    __slots__ = ("full", "upsert", "remove", "recheck")
    FULL_FIELD_NUMBER: _ClassVar[int]
    UPSERT_FIELD_NUMBER: _ClassVar[int]
    REMOVE_FIELD_NUMBER: _ClassVar[int]
    RECHECK_FIELD_NUMBER: _ClassVar[int]
    full: bool
    upsert: _containers.RepeatedCompositeFieldContainer[CheckConfig]
    remove: _containers.RepeatedScalarFieldContainer[int]
    recheck: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, full: _Optional[bool] = ..., upsert: _Optional[_Iterable[_Union[CheckConfig, _Mapping]]] = ..., remove: _Optional[_Iterable[int]] = ..., recheck: _Optional[_Iterable[int]] = ...) -> None: ...

class CheckResult(_message.Message):
    __slots__ = ("id", "state", "message", "latency_us", "checked_unix_ms", "successes", "failures", "consecutive_failures")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    LATENCY_US_FIELD_NUMBER: _ClassVar[int]
    CHECKED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    SUCCESSES_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    CONSECUTIVE_FAILURES_FIELD_NUMBER: _ClassVar[int]
    id: int
    state: _common_pb2.HealthState
    message: str
    latency_us: int
    checked_unix_ms: int
    successes: int
    failures: int
    consecutive_failures: int
    def __init__(self, id: _Optional[int] = ..., state: _Optional[_Union[_common_pb2.HealthState, str]] = ..., message: _Optional[str] = ..., latency_us: _Optional[int] = ..., checked_unix_ms: _Optional[int] = ..., successes: _Optional[int] = ..., failures: _Optional[int] = ..., consecutive_failures: _Optional[int] = ...) -> None: ...

class ResultBatch(_message.Message):
    __slots__ = ("results", "full_resync")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    FULL_RESYNC_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[CheckResult]
    full_resync: bool
    def __init__(self, results: _Optional[_Iterable[_Union[CheckResult, _Mapping]]] = ..., full_resync: _Optional[bool] = ...) -> None: ...

class CheckStatus(_message.Message):
    __slots__ = ("config", "last")
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    config: CheckConfig
    last: CheckResult
    def __init__(self, config: _Optional[_Union[CheckConfig, _Mapping]] = ..., last: _Optional[_Union[CheckResult, _Mapping]] = ...) -> None: ...

class CheckStatusList(_message.Message):
    __slots__ = ("checks",)
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    checks: _containers.RepeatedCompositeFieldContainer[CheckStatus]
    def __init__(self, checks: _Optional[_Iterable[_Union[CheckStatus, _Mapping]]] = ...) -> None: ...

class WatchChecksRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ReportAck(_message.Message):
    __slots__ = ("accepted",)
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    accepted: int
    def __init__(self, accepted: _Optional[int] = ...) -> None: ...
