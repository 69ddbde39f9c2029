"""Hand-made configs shared by the engine tests (Seesaw's engine/vserver_test.go
fixtures, in this project's model), and loaders for the compat testdata."""

from __future__ import annotations

import dataclasses
import ipaddress
from pathlib import Path

from seesaw.config import load_cluster_file
from seesaw.config.model import (
    VIP,
    Backend,
    Cluster,
    Healthcheck,
    HealthcheckMode,
    HealthcheckType,
    Host,
    HostStatus,
    LBMode,
    Node,
    Protocol,
    Scheduler,
    VIPType,
    Vserver,
    VserverEntry,
)
from seesaw.config.model import HAState as ModelHAState
from seesaw.config.settings import Settings
from seesaw.engine.checks import CheckKey

TESTDATA = Path(__file__).resolve().parents[2] / "data" / "compat" / "engine" / "testdata"


def ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


def hc(port: int, mode: HealthcheckMode = HealthcheckMode.PLAIN) -> Healthcheck:
    return Healthcheck(name=f"TCP/{port}_0", type=HealthcheckType.TCP, mode=mode, port=port)


HC1, HC2, HC3, HC4, VSERVER_HC = hc(1), hc(2), hc(3), hc(4), hc(5)


def backend(num: int, enabled: bool = True) -> Backend:
    last = num + 9
    return Backend(
        host=Host(
            hostname=f"dns1-{num}.example.com",
            ipv4=ipaddress.IPv4Interface(f"1.1.1.{last}/32"),
            ipv6=ipaddress.IPv6Interface(f"2012::{last}/128"),
            status=HostStatus.PRODUCTION,
        ),
        weight=num,
        enabled=enabled,
    )


VSERVER_HOST = Host(
    hostname="dns-vip1.example.com",
    ipv4=ipaddress.IPv4Interface("192.168.255.1/24"),
    ipv6=ipaddress.IPv6Interface("2012::1/64"),
    status=HostStatus.PRODUCTION,
)


def vserver_config(**changes: object) -> Vserver:
    """Seesaw's `vserverConfig`: anycast v4 + unicast v6, UDP/53 and TCP/8053, two backends."""
    udp = VserverEntry(
        port=53,
        protocol=Protocol.UDP,
        scheduler=Scheduler.WRR,
        mode=LBMode.DSR,
        healthchecks={HC1.name: HC1, HC2.name: HC2},
    )
    tcp = VserverEntry(
        port=8053,
        protocol=Protocol.TCP,
        scheduler=Scheduler.WRR,
        mode=LBMode.DSR,
        healthchecks={HC3.name: HC3, HC4.name: HC4},
        low_watermark=0.1,
        high_watermark=0.2,
    )
    b1, b2 = backend(1), backend(2)
    base = Vserver(
        name="dns.resolver@au-syd",
        host=VSERVER_HOST,
        entries={"53/UDP": udp, "8053/TCP": tcp},
        backends={b1.hostname: b1, b2.hostname: b2},
        healthchecks={VSERVER_HC.name: VSERVER_HC},
        vips={
            "192.168.255.1 (Anycast)": VIP(ip("192.168.255.1"), VIPType.ANYCAST),
            "2012::1 (Unicast)": VIP(ip("2012::1"), VIPType.UNICAST),
        },
        enabled=True,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def with_watermarks(cfg: Vserver, low: float, high: float) -> Vserver:
    entries = {k: dataclasses.replace(e, low_watermark=low, high_watermark=high) for k, e in cfg.entries.items()}
    return dataclasses.replace(cfg, entries=entries)


def load(name: str, site: str = "au-syd") -> Cluster:
    return load_cluster_file(TESTDATA / name, site)


def load_vserver(name: str, vserver: str = "dns.resolver@au-syd") -> Vserver:
    return load(name).vservers[vserver]


NODE_IP = "10.0.0.2"


def node(ipv4: str = NODE_IP, hostname: str = "seesaw1-1.example.com.", priority: int = 255) -> Node:
    return Node(
        host=Host(hostname=hostname, ipv4=ipaddress.IPv4Interface(f"{ipv4}/24"), status=HostStatus.PRODUCTION),
        priority=priority,
        state=ModelHAState.UNKNOWN,
        anycast_enabled=False,
        bgp_enabled=False,
        vservers_enabled=True,
    )


def settings(**changes: object) -> Settings:
    base = Settings(
        cluster_name="au-syd",
        node_ipv4=ipaddress.IPv4Address(NODE_IP),
        vip_ipv4=ipaddress.IPv4Address("10.0.0.1"),
        lb_interface="eth1",
        node_interface="eth0",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def cluster(*vservers: Vserver, nodes: tuple[Node, ...] | None = None, **changes: object) -> Cluster:
    nodes = nodes if nodes is not None else (node(), node("10.0.0.3", "seesaw1-2.example.com.", 1))
    base = Cluster(
        site="au-syd",
        vip=Host(hostname="seesaw-vip1.example.com.", ipv4=ipaddress.IPv4Interface("10.0.0.1/24")),
        nodes={n.hostname: n for n in nodes},
        vservers={v.name: v for v in vservers},
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def key(
    vip: str,
    backend_ip: str,
    hc_port: int,
    name: str,
    service_port: int = 0,
    proto: int = 0,
    mode: HealthcheckMode = HealthcheckMode.PLAIN,
    type_: HealthcheckType = HealthcheckType.TCP,
) -> CheckKey:
    return CheckKey(ip(vip), ip(backend_ip), service_port, proto, mode, type_, hc_port, name)
