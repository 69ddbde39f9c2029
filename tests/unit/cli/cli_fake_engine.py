"""A real gRPC Engine server with canned replies, for the CLI tests.

It stands in for the engine's *state* only: the CLI under test talks to it over
a real Unix socket with the real generated stubs. Scenarios reproduce the
situations whose output the original Seesaw printed (seesaw-observed.md §3-§4)
or whose output the reference reconstructs (seesaw.md §8.3).
"""

from __future__ import annotations

import calendar
import time
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from seesaw.pb import common_pb2, engine_pb2, engine_pb2_grpc, ha_pb2, healthcheck_pb2, ncc_pb2


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int) -> int:
    return calendar.timegm((year, month, day, hour, minute, second))


@dataclass
class EngineState:
    cluster: engine_pb2.ClusterStatus = field(default_factory=engine_pb2.ClusterStatus)
    ha: ha_pb2.HAStatus = field(default_factory=ha_pb2.HAStatus)
    config: engine_pb2.ConfigStatus = field(default_factory=engine_pb2.ConfigStatus)
    vservers: engine_pb2.VserverList = field(default_factory=engine_pb2.VserverList)
    vlans: engine_pb2.VLANList = field(default_factory=engine_pb2.VLANList)
    bgp: engine_pb2.BGPNeighborList = field(default_factory=engine_pb2.BGPNeighborList)
    version: engine_pb2.Version = field(default_factory=engine_pb2.Version)
    source: str = "server"
    caller: engine_pb2.Caller = field(default_factory=engine_pb2.Caller)
    dataplane: engine_pb2.DataplaneView = field(default_factory=engine_pb2.DataplaneView)
    diff: engine_pb2.ConfigDiff = field(default_factory=engine_pb2.ConfigDiff)
    reply_message: str = ""
    delay: float = 0.0  # seconds every answer waits
    # method name -> (status code, details) to fail with
    failures: dict[str, tuple[grpc.StatusCode, str]] = field(default_factory=dict)
    # what the CLI asked for: (method, request)
    calls: list[tuple[str, object]] = field(default_factory=list)


class FakeEngine(engine_pb2_grpc.EngineServicer):
    def __init__(self, state: EngineState) -> None:
        self.state = state

    def _answer(self, method, request, context, reply):
        self.state.calls.append((method, request))
        if self.state.delay:
            time.sleep(self.state.delay)
        if method in self.state.failures:
            code, details = self.state.failures[method]
            context.abort(code, details)
        return reply

    def GetClusterStatus(self, request, context):
        return self._answer("GetClusterStatus", request, context, self.state.cluster)

    def GetHAStatus(self, request, context):
        return self._answer("GetHAStatus", request, context, self.state.ha)

    def GetConfigStatus(self, request, context):
        return self._answer("GetConfigStatus", request, context, self.state.config)

    def ListVservers(self, request, context):
        return self._answer("ListVservers", request, context, self.state.vservers)

    def ListVLANs(self, request, context):
        return self._answer("ListVLANs", request, context, self.state.vlans)

    def ListBGPNeighbors(self, request, context):
        return self._answer("ListBGPNeighbors", request, context, self.state.bgp)

    def GetVersion(self, request, context):
        return self._answer("GetVersion", request, context, self.state.version)

    def ReloadConfig(self, request, context):
        return self._answer("ReloadConfig", request, context, engine_pb2.ReloadReply(message=self.state.reply_message))

    def SetConfigSource(self, request, context):
        previous = self.state.source
        if request.source:
            self.state.source = request.source
        reply = engine_pb2.ConfigSourceReply(source=self.state.source, previous=previous)
        return self._answer("SetConfigSource", request, context, reply)

    def Override(self, request, context):
        return self._answer("Override", request, context, engine_pb2.OverrideReply(message=self.state.reply_message))

    def Failover(self, request, context):
        return self._answer("Failover", request, context, engine_pb2.FailoverReply(message=self.state.reply_message))

    def WhoAmI(self, request, context):
        return self._answer("WhoAmI", request, context, self.state.caller)

    def GetDataplane(self, request, context):
        return self._answer("GetDataplane", request, context, self.state.dataplane)

    def GetConfigDiff(self, request, context):
        return self._answer("GetConfigDiff", request, context, self.state.diff)


class EngineServer:
    """The fake engine served on `<dir>/engine.sock` by a real gRPC server."""

    def __init__(self, directory: Path, state: EngineState) -> None:
        self.path = directory / "engine.sock"
        self.state = state
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        engine_pb2_grpc.add_EngineServicer_to_server(FakeEngine(state), self.server)
        self.server.add_insecure_port(f"unix:{self.path}")

    def __enter__(self) -> EngineServer:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop(0).wait()


# -- scenarios --------------------------------------------------------------------------------------------------------

# seesaw-observed.md §3: node01 LEADER, test-vserver with two healthy backends. The CLI ran at 18:59:19.
OBSERVED_NOW = utc(2026, 11, 26, 18, 59, 19) + 0.9


def _dest(vserver: str, ip: str, port: int, proto: str, backend: str, **flags: bool) -> engine_pb2.Destination:
    state = {"enabled": True, "healthy": True, "active": True} | flags
    return engine_pb2.Destination(
        name=f"{vserver}/{ip}:{port}/{proto}", vserver=vserver, backend=backend, address=ip, port=port, **state
    )


def observed() -> EngineState:
    dests = [
        _dest("test-vserver", "192.168.37.71", 80, "TCP", "backend01.localdomain."),
        _dest("test-vserver", "192.168.37.72", 80, "TCP", "backend02.localdomain."),
    ]
    dests[0].checks.add(
        id=1,
        name="HTTP/80_0",
        type=healthcheck_pb2.CHECK_HTTP,
        mode=healthcheck_pb2.MODE_DSR,
        target="192.168.37.200",
        port=80,
        state=common_pb2.HEALTH_HEALTHY,
        message="HTTP 200 OK",
        latency_us=1234,
        checked_unix_ms=int((OBSERVED_NOW - 3.2) * 1000),
    )
    dests[1].checks.add(
        id=2,
        name="HTTP/80_0",
        type=healthcheck_pb2.CHECK_HTTP,
        mode=healthcheck_pb2.MODE_DSR,
        target="192.168.37.200",
        port=80,
        state=common_pb2.HEALTH_UNHEALTHY,
        message="connect: connection refused",
        latency_us=412,
        checked_unix_ms=int((OBSERVED_NOW - 65.5) * 1000),
    )
    service = engine_pb2.Service(
        family=common_pb2.AF_INET,
        protocol=common_pb2.IPPROTO_TCP,
        address="192.168.37.200",
        port=80,
        mode="DSR",
        scheduler="rr",
        enabled=True,
        healthy=True,
        active=True,
        low_watermark=0.0,
        high_watermark=0.0,
        current_watermark=1.0,
        destinations=dests,
    )
    vserver = engine_pb2.Vserver(
        name="test-vserver",
        hostname="lb-test.localdomain.",
        ipv4="192.168.37.200/24",
        enabled=True,
        config_enabled=True,
        override=common_pb2.OVERRIDE_DEFAULT,
        services=[service],
    )
    return EngineState(
        cluster=engine_pb2.ClusterStatus(
            version=2,
            site="test-cluster",
            nodes=[
                engine_pb2.Node(hostname="node01.localdomain.", ipv4="192.168.37.76/24", state=common_pb2.HA_LEADER)
            ],
        ),
        ha=ha_pb2.HAStatus(
            state=common_pb2.HA_LEADER,
            since_unix_ms=utc(2026, 11, 26, 18, 59, 3) * 1000,
            transitions=2,
            adverts_sent=33,
            adverts_received=0,
            last_update_unix_ms=utc(2026, 11, 26, 18, 59, 20) * 1000 + 250,
        ),
        config=engine_pb2.ConfigStatus(source="server"),
        vservers=engine_pb2.VserverList(vservers=[vserver]),
        version=engine_pb2.Version(version="0.1.0", engine_version=2, dataplane="nftables"),
    )


# seesaw-observed.md §4: node01 is BACKUP in a two-node cluster; its CLI ran at 19:01:10.
TWO_NODE_NOW = utc(2026, 11, 26, 19, 1, 10) + 0.4


def two_node_backup() -> EngineState:
    state = observed()
    state.cluster = engine_pb2.ClusterStatus(
        version=2,
        site="test-cluster",
        nodes=[
            # Listed out of order on purpose: the CLI sorts by IPv4.
            engine_pb2.Node(hostname="node02.localdomain.", ipv4="192.168.37.77/24", state=common_pb2.HA_LEADER),
            engine_pb2.Node(hostname="node01.localdomain.", ipv4="192.168.37.76/24", state=common_pb2.HA_BACKUP),
        ],
    )
    state.ha = ha_pb2.HAStatus(
        state=common_pb2.HA_BACKUP,
        since_unix_ms=utc(2026, 11, 26, 19, 0, 38) * 1000 + 120,
        transitions=1,
        adverts_sent=0,
        adverts_received=60,
        last_update_unix_ms=utc(2026, 11, 26, 19, 1, 8) * 1000,
    )
    return state


# seesaw.md §8.3: the reconstructed examples (au-syd).
REFERENCE_NOW = utc(2026, 11, 19, 6, 28, 32) + 0.5


def reference() -> EngineState:
    resolver = "dns.resolver@au-syd"
    proxy = "http.proxy@au-syd"
    tcp = engine_pb2.Service(
        family=common_pb2.AF_INET,
        protocol=common_pb2.IPPROTO_TCP,
        port=53,
        mode="DSR",
        scheduler="rr",
        enabled=True,
        healthy=True,
        active=True,
        low_watermark=0.3,
        high_watermark=0.3,
        current_watermark=1.0,
        destinations=[_dest(resolver, "192.168.12.1", 53, "TCP", "dns1-1.example.com.")],
    )
    udp = engine_pb2.Service(
        family=common_pb2.AF_INET,
        protocol=common_pb2.IPPROTO_UDP,
        port=53,
        mode="DSR",
        scheduler="rr",
        enabled=True,
        healthy=False,
        active=False,
        low_watermark=0.3,
        high_watermark=0.3,
        current_watermark=0.25,
        destinations=[_dest(resolver, "192.168.12.1", 53, "UDP", "dns1-1.example.com.", healthy=False, active=False)],
    )
    # The checks of dns1-1's destinations, shown by the detail views (`show destinations <one>`, `show backends
    # <one>`): a result, a failure with its message, and a check that has not run yet.
    tcp.destinations[0].checks.add(
        id=11,
        name="TCP/53_0",
        type=healthcheck_pb2.CHECK_TCP,
        mode=healthcheck_pb2.MODE_PLAIN,
        target="192.168.12.1",
        port=53,
        state=common_pb2.HEALTH_HEALTHY,
        message="TCP connect to 192.168.12.1:53 succeeded",
        latency_us=845,
        checked_unix_ms=int((REFERENCE_NOW - 4.1) * 1000),
    )
    udp.destinations[0].checks.add(
        id=12,
        name="DNS/53_0",
        type=healthcheck_pb2.CHECK_DNS,
        mode=healthcheck_pb2.MODE_DSR,
        target="192.168.255.1",
        port=53,
        state=common_pb2.HEALTH_UNHEALTHY,
        message="DNS A query for dns-anycast.example.com. timed out",
        latency_us=2_000_000,
        checked_unix_ms=int((REFERENCE_NOW - 12.7) * 1000),
    )
    udp.destinations[0].checks.add(
        id=13,
        name="PING_0",
        type=healthcheck_pb2.CHECK_ICMP_PING,
        mode=healthcheck_pb2.MODE_PLAIN,
        target="192.168.12.1",
        state=common_pb2.HEALTH_UNKNOWN,
    )
    resolver_vs = engine_pb2.Vserver(
        name=resolver,
        hostname="dns-anycast.example.com.",
        ipv4="192.168.255.1/24",
        enabled=True,
        config_enabled=True,
        services=[udp, tcp],  # out of order on purpose: the CLI sorts by (AF, proto, port)
    )
    proxy_vs = engine_pb2.Vserver(
        name=proxy,
        hostname="proxy.example.com.",
        ipv4="192.168.12.80/24",
        enabled=False,
        config_enabled=False,
        services=[
            engine_pb2.Service(
                family=common_pb2.AF_INET,
                protocol=common_pb2.IPPROTO_TCP,
                port=3128,
                mode="NAT",
                scheduler="wlc",
                persistence=300,
                destinations=[_dest(proxy, "192.168.12.2", 3128, "TCP", "dns1-2.example.com.")],
            )
        ],
    )
    radius_vs = engine_pb2.Vserver(
        name="radius.server@au-syd",
        hostname="radius.example.com.",
        ipv4="192.168.12.90/24",
        ipv6="2015:cafe:12::90/64",
        enabled=True,
        config_enabled=True,
        override=common_pb2.OVERRIDE_ENABLED,
        warnings=["no healthchecks configured"],
        services=[
            engine_pb2.Service(
                family=common_pb2.AF_INET,
                protocol=common_pb2.IPPROTO_UDP,
                port=1812,
                mode="DSR",
                scheduler="wrr",
                one_packet=True,
                enabled=True,
                destinations=[_dest("radius.server@au-syd", "192.168.12.2", 1812, "UDP", "dns1-2.example.com.")],
            )
        ],
    )
    return EngineState(
        cluster=engine_pb2.ClusterStatus(
            version=2,
            site="au-syd",
            nodes=[
                engine_pb2.Node(
                    hostname="seesaw1-2.example.com.",
                    ipv4="192.168.10.3/24",
                    ipv6="2015:cafe::3/64",
                    state=common_pb2.HA_BACKUP,
                ),
                engine_pb2.Node(
                    hostname="seesaw1-1.example.com.",
                    ipv4="192.168.10.2/24",
                    ipv6="2015:cafe::2/64",
                    state=common_pb2.HA_LEADER,
                    anycast_enabled=True,
                    bgp_enabled=True,
                    vservers_enabled=True,
                ),
            ],
        ),
        ha=ha_pb2.HAStatus(
            state=common_pb2.HA_LEADER,
            since_unix_ms=utc(2026, 11, 19, 4, 15, 27) * 1000,
            transitions=1,
            adverts_sent=15962,
            adverts_received=0,
            last_update_unix_ms=utc(2026, 11, 19, 6, 28, 30) * 1000,
        ),
        config=engine_pb2.ConfigStatus(
            last_update_unix=utc(2026, 11, 19, 4, 15, 27),
            attributes=[engine_pb2.Attribute(name="source", value="config-server-1")],
            warnings=[
                "http.proxy@au-syd: backend dns1-2.example.com. has no IPv6 address",
                "radius.server@au-syd: no healthchecks configured",
            ],
        ),
        vservers=engine_pb2.VserverList(vservers=[radius_vs, proxy_vs, resolver_vs]),
        vlans=engine_pb2.VLANList(
            vlans=[
                engine_pb2.VLAN(
                    id=512, hostname="seesaw1-vlan512.example.com.", ipv4="192.168.12.252/24", backends_ipv4=1
                ),
                engine_pb2.VLAN(
                    id=511,
                    hostname="seesaw1-vlan511.example.com.",
                    ipv4="192.168.11.252/24",
                    ipv6="2015:cafe:11::ff01/64",
                    backends_ipv4=2,
                ),
            ]
        ),
        bgp=engine_pb2.BGPNeighborList(
            neighbors=[
                engine_pb2.BGPNeighbor(
                    address="192.168.10.253",
                    router_id="192.168.10.253",
                    asn=64513,
                    description="core router 1",
                    state="Established",
                    uptime_s=2 * 3600 + 3 * 60 + 4,
                ),
                engine_pb2.BGPNeighbor(address="2015:cafe::fd", state="Active"),
            ]
        ),
        version=engine_pb2.Version(version="0.1.0", engine_version=2, dataplane="ipvs"),
    )


def many_vservers(count: int) -> EngineState:
    """`count` vservers with two backends each (for the start-up time test)."""
    state = observed()
    template = state.vservers.vservers[0]
    vservers = []
    for i in range(count):
        vserver = engine_pb2.Vserver()
        vserver.CopyFrom(template)
        vserver.name = f"vserver-{i:05d}"
        for dest in vserver.services[0].destinations:
            dest.vserver = vserver.name
            dest.name = f"{vserver.name}/{dest.address}:80/TCP"
        vservers.append(vserver)
    state.vservers = engine_pb2.VserverList(vservers=vservers)
    return state


def programmed() -> EngineState:
    """`observed()` with what NCC programmed for it, plus a persistent UDP, an IPv6 and a fwmark service."""
    state = observed()

    def service(proto: int, address: str, port: int, sched: str, *dests: tuple[str, int, int, int, int, int], **kw):
        return ncc_pb2.ServiceStats(
            service=ncc_pb2.Service(
                family=common_pb2.AF_INET6 if ":" in address else common_pb2.AF_INET,
                protocol=proto,
                address=address,
                port=port,
                scheduler=sched,
                **kw,
            ),
            destinations=[
                ncc_pb2.DestinationStats(
                    destination=ncc_pb2.Destination(address=a, port=p, forwarding=fwd, weight=w),
                    stats=common_pb2.Stats(active_connections=act, inactive_connections=inact),
                )
                for a, p, fwd, w, act, inact in dests
            ],
        )

    state.dataplane = engine_pb2.DataplaneView(
        connected=True,
        state=ncc_pb2.DataplaneState(
            dataplane="nftables",
            services=[
                service(
                    common_pb2.IPPROTO_UDP,
                    "192.168.37.200",
                    53,
                    "wrr",
                    ("192.168.37.72", 53, 0, 2, 0, 17),
                    flags=0x1,
                    timeout=120,
                ),
                service(
                    common_pb2.IPPROTO_TCP,
                    "192.168.37.200",
                    80,
                    "rr",
                    ("192.168.37.72", 80, common_pb2.FWD_ROUTE, 1, 3, 12),
                    ("192.168.37.71", 80, common_pb2.FWD_ROUTE, 1, 1024, 0),
                ),
                service(common_pb2.IPPROTO_TCP, "2001:db8::10", 443, "wlc", ("2001:db8::71", 443, 2, 5, 0, 0)),
                service(0, "", 0, "sh", ("192.168.37.71", 0, common_pb2.FWD_ROUTE, 1, 0, 0), fwmark=65537, flags=0x4),
            ],
        ),
        status=ncc_pb2.StatusResponse(
            dataplane="nftables", generation=12, writes_total=340, drift_repairs_total=2, apply_errors_total=0
        ),
    )
    return state
