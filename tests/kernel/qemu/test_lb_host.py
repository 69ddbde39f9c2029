"""The host part and the kernel dataplanes on Debian's stock kernel (qemu guest): dummy0, VLANs, IPVS + nftables.

Runs only inside scripts/run-in-vm (tests/kernel/conftest.py skips it elsewhere). Each test builds a node in
the fresh `netns`: a node NIC eth0 (10.0.0.2/24, default via 10.0.0.1) and an LB NIC lb-1 (veths), and runs
NCC's pieces inside it (setns for this thread).
"""

from __future__ import annotations

import contextlib
import ipaddress
import subprocess
from collections.abc import Iterator

from pyroute2 import IPRoute
from pyroute2 import netns as pyroute2_netns

from seesaw.common.clock import FakeClock
from seesaw.ncc.kernel.composite import KernelDataplane
from seesaw.ncc.kernel.host import HostNetwork
from seesaw.ncc.model import (
    LB_PARTITION,
    VIP,
    VLAN,
    Destination,
    DestinationKey,
    Forwarding,
    LBInterface,
    Partition,
    Protocol,
    Request,
    Service,
    ServiceKey,
    VIPFilter,
    VIPType,
    VLANKey,
    ref,
)
from seesaw.ncc.reconciler import Reconciler
from seesaw.ncc.select import ipvs_dataplane
from seesaw.ncc.steps import Step


def ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


def sh(ns: str, *commands: str) -> str:
    out = ""
    for command in commands:
        done = subprocess.run(f"ip netns exec {ns} {command}", shell=True, check=True, capture_output=True, text=True)
        out += done.stdout
    return out


@contextlib.contextmanager
def inside(ns: str) -> Iterator[None]:
    pyroute2_netns.pushns(ns)
    try:
        yield
    finally:
        pyroute2_netns.popns()


def build_node(ns: str) -> None:
    sh(
        ns,
        "ip link add eth0 type veth peer name eth0-peer",
        "ip link add lb-1 type veth peer name lb-1-peer",
        "ip link set eth0 up",
        "ip link set eth0-peer up",
        "ip link set lb-1-peer up",
        "ip addr add 10.0.0.2/24 dev eth0",
        "ip route add default via 10.0.0.1 dev eth0",
    )


def the_lb(up: bool = False) -> LBInterface:
    return LBInterface(
        name="lb-1",
        node_interface="eth0",
        dummy_interface="dummy0",
        node_ipv4=ipaddress.IPv4Interface("10.0.0.2/24"),
        cluster_vip_ipv4=ipaddress.IPv4Address("10.0.0.10"),
        up=up,
    )


def test_an_anycast_vip_lands_on_a_dummy0_ncc_creates(netns: str) -> None:
    build_node(netns)
    anycast = VIP(ip("192.168.255.1"), VIPType.ANYCAST)
    dedicated = VIP(ip("192.168.100.5"), VIPType.DEDICATED)
    with inside(netns):
        host = HostNetwork()
        steps = [Step.add(LB_PARTITION, the_lb()), Step.add("dns", anycast), Step.add("dns", dedicated)]
        assert [r.error for r in host.apply(steps)] == [None, None, None]
        found = host.read().objects
    assert found[ref(anycast)] == anycast and found[ref(dedicated)] == dedicated
    with IPRoute(netns=netns) as ipr:
        (link,) = ipr.get_links(ifname="dummy0")
        assert link.get("IFLA_LINKINFO").get("IFLA_INFO_KIND") == "dummy"
        assert link["flags"] & 1
        on_dummy = {f"{m.get('IFA_ADDRESS')}/{m['prefixlen']}" for m in ipr.get_addr(index=link["index"])}
    assert {"192.168.255.1/32", "192.168.100.5/32"} <= on_dummy


def test_a_vlan_is_made_with_its_address_sysctls_and_vips(netns: str) -> None:
    build_node(netns)
    vlan = VLAN(VLANKey("lb-1", 100), ipaddress.IPv4Interface("10.1.0.2/24"))
    vip = VIP(ip("10.1.0.200"))
    with inside(netns):
        host = HostNetwork()
        steps = [Step.add(LB_PARTITION, the_lb(up=True)), Step.add(LB_PARTITION, vlan), Step.add("web", vip)]
        assert [r.error for r in host.apply(steps)] == [None, None, None]
        found = host.read().objects
        with open("/proc/sys/net/ipv4/conf/lb-1.100/arp_ignore") as sysctl:
            assert sysctl.read().strip() == "1"
    assert found[ref(vlan)] == vlan and found[ref(vip)] == vip
    with IPRoute(netns=netns) as ipr:
        (link,) = ipr.get_links(ifname="lb-1.100")
        info = link.get("IFLA_LINKINFO")
        assert info.get("IFLA_INFO_KIND") == "vlan" and info.get("IFLA_INFO_DATA").get("IFLA_VLAN_ID") == 100
        assert link["flags"] & 1  # up, as the LB interface is
        addresses = {f"{m.get('IFA_ADDRESS')}/{m['prefixlen']}" for m in ipr.get_addr(index=link["index"])}
    assert {"10.1.0.2/24", "10.1.0.200/24"} <= addresses
    with inside(netns):
        assert HostNetwork().apply([Step.delete(LB_PARTITION, vlan)])[0].ok
    with IPRoute(netns=netns) as ipr:
        assert ipr.link_lookup(ifname="lb-1.100") == []


def test_the_ipvs_dataplane_applies_a_desired_state_end_to_end_and_adopts_it(netns: str) -> None:
    build_node(netns)
    service = Service(ServiceKey.ip(Protocol.TCP, ip("10.0.0.100"), 80), scheduler="wrr")
    dests = [
        Destination(DestinationKey(service.key, ip("10.0.1.11"), 80), Forwarding.MASQ, weight=3),
        Destination(DestinationKey(service.key, ip("10.0.1.12"), 80), Forwarding.MASQ, weight=1),
    ]
    vip_filter = VIPFilter(ip("10.0.0.100"), frozenset({(Protocol.TCP, 80)}), nat=True)
    request = Request(
        (
            Partition.of(LB_PARTITION, [the_lb(up=True)]),
            Partition.of("web", [VIP(ip("10.0.0.100")), service, *dests, vip_filter]),
        )
    )
    with inside(netns):
        dataplane = ipvs_dataplane()
        assert isinstance(dataplane, KernelDataplane)
        assert [type(p).__name__ for p in dataplane.parts] == ["IPVSServices", "HostNetwork", "NftFilters"]
        reconciler = Reconciler("ipvs", "test", FakeClock())
        reconciler.observe(dataplane.read())
        plan = reconciler.plan(request)
        outcome = reconciler.commit(plan, dataplane.apply(plan.steps))
        assert outcome.errors == () and outcome.writes == 6
        # a restarted NCC reads it all back as asked: nothing to do
        again = Reconciler("ipvs", "test", FakeClock())
        again.observe(dataplane.read())
        assert again.plan(request).steps == ()
        dataplane.close()
    listing = sh(netns, "ipvsadm -Ln")
    assert "TCP  10.0.0.100:80 wrr" in listing
    assert "10.0.1.11:80" in listing and "Masq    3" in listing
    assert "10.0.0.100" in sh(netns, "nft list ruleset")
