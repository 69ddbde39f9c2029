"""What a lab is made of: hosts, addresses, vservers. Pure data, no I/O.

Two layouts:

`pair()`: the lab of `seesaw lab up` (two LB nodes, two backends, a client)::

    client   10.99.0.10/24 (what it sends from) + 10.99.1.254/24: it is also the
             router in front of the cluster, the LB nodes' default gateway
    lb1 lb2  node interface eth0 10.99.1.2/24, 10.99.1.3/24 (VRRP adverts go here);
             LB interface eth1 (up on the master only; carries the cluster VIP
             10.99.1.1 and the vserver VIPs)
    be1 be2  10.99.1.11/24, 10.99.1.12/24; the DSR VIP on lo (arp_ignore=1,
             arp_announce=2); replies from it go straight to the router (DSR),
             everything else via the cluster VIP (NAT replies pass the master)
    be3      10.99.1.13/24, set up and serving like be1 and be2 but not in
             cluster.pb: a spare to add with a config change

    vservers  web-dsr  10.99.1.200  TCP/80 (HTTP check), UDP/53 (DNS check)   DSR, rr, checks in DSR mode
              web-nat  10.99.1.201  TCP/8080 (HTTP check)                     NAT, rr

`tutorial()`: Seesaw's first deployment (reference seesaw-observed.md):
node01 192.168.37.76 with its LB interface, cluster VIP .80, `test-vserver`
on .200 TCP/80 (DSR, rr, HTTP check on port 80 in DSR mode), backend01/02 at
.71/.72 with the VIP on lo, and a client at .172, all on one subnet.

Every host has one `eth0` on the lab's bridge; LB nodes also have `eth1`.
Namespace names are `<prefix><host>`, and `<prefix>lan` holds the bridge.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass, field

DSR_TABLE = "100"  # backends' routing table for replies from the DSR VIPs


@dataclass(frozen=True)
class Check:
    """A healthcheck of a vserver entry (cluster.pb `Healthcheck`)."""

    type: str  # HTTP, DNS, TCP, UDP
    port: int
    mode: str = "PLAIN"  # PLAIN or DSR
    send: str = ""
    method: str = ""
    interval: int = 1
    timeout: int = 1


@dataclass(frozen=True)
class Entry:
    """One service of a vserver (cluster.pb `VserverEntry`)."""

    protocol: str  # TCP or UDP
    port: int
    check: Check | None = None
    scheduler: str = "RR"


@dataclass(frozen=True)
class VServer:
    name: str
    fqdn: str
    vip: ipaddress.IPv4Interface  # with the node network's prefix, as cluster.pb writes it
    mode: str  # DSR or NAT
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Host:
    """A namespace with one `eth0` on the bridge (and `eth1` for LB nodes)."""

    name: str
    mac: str
    ip: ipaddress.IPv4Interface
    fqdn: str = ""
    lb_mac: str = ""  # LB nodes: the MAC of eth1, their LB interface
    loopback: tuple[str, ...] = ()  # addresses on lo (backends: the DSR VIPs)
    setup: tuple[tuple[str, ...], ...] = ()  # further `ip` commands: addresses, routes, rules
    sysctls: tuple[str, ...] = ()  # "key=value"


@dataclass(frozen=True)
class Topology:
    name: str
    prefix: str  # namespace names are prefix + host name
    cluster_vip: ipaddress.IPv4Interface
    cluster_fqdn: str
    client: Host
    lbs: tuple[Host, ...]
    backends: tuple[Host, ...]  # in cluster.pb
    vservers: tuple[VServer, ...]
    source: ipaddress.IPv4Address  # the address the client's requests come from
    spares: tuple[Host, ...] = ()  # set up and serving like backends, but not in cluster.pb
    use_vmac: bool = True
    advert_interval_ms: int = 500
    advert_format: str = "seesaw"  # [ha] format: seesaw, or rfc5798 (VRRPv3 with the address list)
    realtime_priority: int = 0  # [ha] realtime_priority: seesaw-ha's SCHED_RR priority (0: none)
    ha_priorities: str = "seesaw"  # [ha] priorities: seesaw (255, 1) or adjacent (255, 254)
    engine_grace: float = 0.0  # seesaw-ha --engine-grace, seconds HA waits for a vanished engine (0: its default)
    ports: dict[str, tuple[int, ...]] = field(default_factory=dict)  # backend servers: kind -> ports

    @property
    def lan(self) -> str:
        return f"{self.prefix}lan"

    def ns(self, host: str) -> str:
        return f"{self.prefix}{host}"

    @property
    def hosts(self) -> tuple[Host, ...]:
        return (self.client, *self.lbs, *self.backends, *self.spares)

    @property
    def namespaces(self) -> tuple[str, ...]:
        """Every namespace of the lab, the bridge's last (it goes last on the way down)."""
        return (*(self.ns(h.name) for h in self.hosts), self.lan)

    def host(self, name: str) -> Host:
        for host in self.hosts:
            if host.name == name:
                return host
        raise KeyError(f"no host {name!r} in this lab (hosts: {', '.join(h.name for h in self.hosts)})")

    def vserver(self, name: str) -> VServer:
        for vserver in self.vservers:
            if vserver.name == name:
                return vserver
        raise KeyError(f"no vserver {name!r} in this lab (vservers: {', '.join(v.name for v in self.vservers)})")


def _mac(n: int) -> str:
    return f"02:99:00:00:00:{n:02x}"


_BACKEND_SYSCTLS = tuple(
    f"net.ipv4.conf.{conf}.{key}={value}"
    for conf in ("all", "eth0")
    for key, value in (("arp_ignore", 1), ("arp_announce", 2))
)


def pair(prefix: str = "sslab-") -> Topology:
    """Two LB nodes, two backends and a client (the `seesaw lab` lab)."""
    net = "10.99.1"
    router = f"{net}.254"
    client_net = "10.99.0.0/24"
    dsr = VServer(
        "web-dsr",
        "web-dsr.lab.seesaw.",
        ipaddress.IPv4Interface(f"{net}.200/24"),
        "DSR",
        (
            Entry("TCP", 80, Check("HTTP", 80, mode="DSR", send="/healthz")),
            Entry("UDP", 53, Check("DNS", 53, mode="DSR", send="check.lab.seesaw.", method="a")),
        ),
    )
    nat = VServer(
        "web-nat",
        "web-nat.lab.seesaw.",
        ipaddress.IPv4Interface(f"{net}.201/24"),
        "NAT",
        (Entry("TCP", 8080, Check("HTTP", 8080, send="/healthz")),),
    )
    dsr_vip = str(dsr.vip.ip)
    client = Host(
        "client",
        _mac(1),
        ipaddress.IPv4Interface("10.99.0.10/24"),
        fqdn="client.lab.seesaw.",
        setup=(
            ("addr", "add", f"{router}/24", "dev", "eth0", "noprefixroute"),
            # The cluster's network is on the link; requests to it leave from 10.99.0.10.
            ("route", "add", f"{net}.0/24", "dev", "eth0", "src", "10.99.0.10"),
        ),
    )
    lbs = tuple(
        Host(
            f"lb{i}",
            _mac(1 + i),
            ipaddress.IPv4Interface(f"{net}.{1 + i}/24"),
            fqdn=f"lb{i}.lab.seesaw.",
            lb_mac=_mac(0x10 + i),
            setup=(("route", "add", "default", "via", router, "dev", "eth0"),),
        )
        for i in (1, 2)
    )
    servers = tuple(
        Host(
            f"be{i}",
            _mac(0x20 + i),
            ipaddress.IPv4Interface(f"{net}.{10 + i}/24"),
            fqdn=f"be{i}.lab.seesaw.",
            loopback=(f"{dsr_vip}/32",),
            setup=(
                # NAT: replies go back through the master (the cluster VIP floats with it).
                ("route", "add", client_net, "via", f"{net}.1", "dev", "eth0", "onlink"),
                # DSR: replies from the VIP go straight to the router, bypassing the LB; those to the
                # LB nodes' own addresses (their DSR healthchecks come from there) straight to them.
                ("rule", "add", "from", dsr_vip, "table", DSR_TABLE),
                ("route", "add", "default", "via", router, "dev", "eth0", "table", DSR_TABLE),
                ("route", "add", f"{net}.0/24", "dev", "eth0", "table", DSR_TABLE),
            ),
            sysctls=_BACKEND_SYSCTLS,
        )
        for i in (1, 2, 3)
    )
    return Topology(
        name="pair",
        prefix=prefix,
        cluster_vip=ipaddress.IPv4Interface(f"{net}.1/24"),
        cluster_fqdn="seesaw-vip.lab.seesaw.",
        client=client,
        lbs=lbs,
        backends=servers[:2],
        vservers=(dsr, nat),
        source=ipaddress.IPv4Address("10.99.0.10"),
        spares=servers[2:],
        use_vmac=False,  # each node's own MAC: a failover visibly moves the client's neighbour entry
        advert_interval_ms=100,
        realtime_priority=50,  # as keepalived's vrrp_rt_priority: adverts on time on a busy machine
        ports={"http": (80, 8080), "dns": (53,)},
    )


def tutorial(prefix: str = "sstut-") -> Topology:
    """Seesaw's first deployment: one node, a DSR vserver on TCP/80, two backends, a client."""
    net = "192.168.37"
    vserver = VServer(
        "test-vserver",
        "lb-test.localdomain.",
        ipaddress.IPv4Interface(f"{net}.200/24"),
        "DSR",
        (Entry("TCP", 80, Check("HTTP", 80, mode="DSR")),),
    )
    node = Host(
        "node01",
        _mac(0x30),
        ipaddress.IPv4Interface(f"{net}.76/24"),
        fqdn="node01.localdomain.",
        lb_mac=_mac(0x31),
        setup=(("route", "add", "default", "via", f"{net}.1", "dev", "eth0"),),
    )
    backends = tuple(
        Host(
            f"backend0{i}",
            _mac(0x31 + i),
            ipaddress.IPv4Interface(f"{net}.{70 + i}/24"),
            fqdn=f"backend0{i}.localdomain.",
            loopback=(f"{vserver.vip.ip}/32",),
            sysctls=_BACKEND_SYSCTLS,
        )
        for i in (1, 2)
    )
    client = Host("client", _mac(0x3A), ipaddress.IPv4Interface(f"{net}.172/24"), fqdn="client.localdomain.")
    return Topology(
        name="tutorial",
        prefix=prefix,
        cluster_vip=ipaddress.IPv4Interface(f"{net}.80/24"),
        cluster_fqdn="seesaw-vip.localdomain.",
        client=client,
        lbs=(node,),
        backends=backends,
        vservers=(vserver,),
        source=client.ip.ip,
        ports={"http": (80,)},
    )


def consistent(topo: Topology) -> Topology:
    """`topo` with its DSR vservers' TCP services scheduled by mh (Maglev over source address and port).

    Both LB nodes then send each flow to the same backend, so a connection that straddles a failover (its
    SYN through the old master, its next segments through the new one) goes on, where rr lets each node
    pick on its own and the backend that gets the second half resets it. The failover tests and bench
    measure the failover, not that artefact of rr.
    """

    def entries(vserver: VServer) -> tuple[Entry, ...]:
        if vserver.mode != "DSR":
            return vserver.entries
        return tuple(dataclasses.replace(e, scheduler="MH") if e.protocol == "TCP" else e for e in vserver.entries)

    return dataclasses.replace(topo, vservers=tuple(dataclasses.replace(v, entries=entries(v)) for v in topo.vservers))


LAYOUTS = {"pair": pair, "tutorial": tutorial}
