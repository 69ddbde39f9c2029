"""Healthcheck identity and status, as the engine's state machines see them.

A `CheckKey` names one check of one destination the way Seesaw v2 keys it:
the VIP and backend it is about, the service it belongs to (port/protocol 0
for vserver-level checks, shared by every service of that VIP and backend),
and the healthcheck's mode, type, port and generated name. `CheckStatus` is
the last result the healthcheck daemon reported for it.

`healthcheck_problems` says what is wrong with a healthcheck definition the
engine cannot turn into a checker: such a definition is refused with the
config, never silently dropped (Seesaw dropped it and left the backend
unhealthy forever).
"""

from __future__ import annotations

from dataclasses import dataclass

from seesaw.config.model import Healthcheck, HealthcheckMode, HealthcheckType, IPAddress
from seesaw.pb import common_pb2

# DNS query types the checker answers (others could never succeed).
DNS_QUERY_TYPES = frozenset({"A", "AAAA"})
RADIUS_RESPONSES = frozenset({"", "accept", "reject", "challenge", "any"})


@dataclass(frozen=True)
class CheckKey:
    vserver_ip: IPAddress | None
    backend_ip: IPAddress
    service_port: int
    service_protocol: int  # IP protocol number, 0 for vserver-level checks
    mode: HealthcheckMode
    type: HealthcheckType
    port: int  # the healthcheck's port
    name: str

    def dedup(self) -> CheckKey:
        """The part of the key that decides which checker runs.

        The name never matters. A PLAIN check probes the backend directly, so
        the VIP and service do not matter either and one checker serves every
        vserver that checks that backend the same way. DSR and TUN checks go
        to the VIP through IPVS, so they stay per VIP and service.
        """
        if self.mode == HealthcheckMode.PLAIN:
            return CheckKey(None, self.backend_ip, 0, 0, self.mode, self.type, self.port, "")
        return CheckKey(
            self.vserver_ip,
            self.backend_ip,
            self.service_port,
            self.service_protocol,
            self.mode,
            self.type,
            self.port,
            "",
        )

    def __str__(self) -> str:
        proto = {6: "TCP", 17: "UDP"}.get(self.service_protocol, str(self.service_protocol))
        return (
            f"{self.vserver_ip}:{self.service_port}/{proto} backend {self.backend_ip} "
            f"{self.mode.name} {self.type.name} port {self.port} ({self.name})"
        )


@dataclass(frozen=True)
class CheckStatus:
    """The last reported result of a check."""

    state: int = common_pb2.HEALTH_UNKNOWN  # a common_pb2.HealthState value
    message: str = ""
    latency_us: int = 0
    checked_unix_ms: int = 0

    @property
    def healthy(self) -> bool:
        return self.state == common_pb2.HEALTH_HEALTHY


UNKNOWN = CheckStatus()
HEALTHY = CheckStatus(common_pb2.HEALTH_HEALTHY)
UNHEALTHY = CheckStatus(common_pb2.HEALTH_UNHEALTHY)


def healthcheck_problems(hc: Healthcheck) -> list[str]:
    """Why this healthcheck could never run, one sentence each; empty if it can."""
    problems: list[str] = []
    where = f"healthcheck {hc.name}"
    if hc.interval <= 0:
        problems.append(f"{where}: interval must be at least 1 second (got {hc.interval:g})")
    if hc.timeout <= 0:
        problems.append(f"{where}: timeout must be at least 1 second (got {hc.timeout:g})")
    if hc.retries < 0:
        problems.append(f"{where}: retries must not be negative (got {hc.retries})")
    if hc.type != HealthcheckType.ICMP_PING and not 0 < hc.port < 65536:
        problems.append(f"{where}: port must be 1..65535 (got {hc.port}); set `port` on the healthcheck")
    if hc.type == HealthcheckType.ICMP_PING and hc.mode != HealthcheckMode.PLAIN:
        problems.append(f"{where}: ICMP_PING checks only work in PLAIN mode, not {hc.mode.name}; remove `mode`")
    if hc.type == HealthcheckType.DNS:
        if hc.method.upper() not in DNS_QUERY_TYPES:
            problems.append(
                f"{where}: DNS checks need `method` set to a query type (A or AAAA), got {hc.method or 'nothing'!r}"
            )
        if not hc.send:
            problems.append(f"{where}: DNS checks need `send` set to the name to query")
    if hc.type == HealthcheckType.RADIUS:
        if len(hc.send.split(":")) != 3:
            problems.append(f'{where}: RADIUS checks need `send` as "<user>:<password>:<secret>"')
        if hc.receive not in RADIUS_RESPONSES:
            problems.append(f"{where}: RADIUS `receive` must be accept, reject, challenge or any, got {hc.receive!r}")
    return problems
