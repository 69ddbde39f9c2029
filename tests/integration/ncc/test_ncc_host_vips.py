"""VIPs and VLANs on a kernel without dummy and 802.1Q links (this machine's): lo fallback, clear per-object errors."""

import ipaddress
import logging
import os

import pytest
from ncc_host_lab import Node, lab
from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from seesaw.ncc.model import LB_PARTITION, VIP, VLAN, Partition, Request, VIPType, VLANKey

pytestmark = [pytest.mark.netns, pytest.mark.skipif(os.geteuid() != 0, reason="needs root in a network namespace")]


def kernel_has(kind: str) -> bool:
    with IPRoute() as ipr:
        try:
            ipr.link("add", ifname="probe-kind", kind=kind)
        except NetlinkError:
            return False
        ipr.link("del", index=ipr.link_lookup(ifname="probe-kind")[0])
        return True


def test_anycast_and_dedicated_vips_land_on_lo_and_the_log_says_why(caplog):
    if kernel_has("dummy"):
        pytest.skip("this kernel has dummy links (tests/kernel/qemu/test_lb_host.py covers dummy0)")
    with lab() as the_lab:
        node = Node(the_lab.node)
        vips = [
            VIP(ipaddress.ip_address("192.168.255.1"), VIPType.ANYCAST),
            VIP(ipaddress.ip_address("192.168.100.5"), VIPType.DEDICATED),
            VIP(ipaddress.ip_address("2015:cafe:ffff::1"), VIPType.ANYCAST),
        ]
        with caplog.at_level(logging.INFO, logger="seesaw.ncc.host"):
            outcome = node.apply(Request((Partition.of(LB_PARTITION, [the_lab.lb()]), Partition.of("dns", vips))))
        assert outcome.errors == ()
        assert {"192.168.255.1/32", "192.168.100.5/32", "2015:cafe:ffff::1/128"} <= the_lab.addresses(
            the_lab.node, "lo"
        )
        assert "anycast and dedicated VIPs go on lo: the kernel has no dummy link kind; modprobe dummy" in caplog.text
        again = node.restarted()
        assert again.apply(Request((Partition.of("dns", vips),))).writes == 0  # recognised on lo as NCC's


def test_a_vlan_the_kernel_cannot_make_fails_alone_with_the_fix():
    if kernel_has("vlan"):
        pytest.skip("this kernel has 802.1Q (tests/kernel/qemu/test_lb_host.py covers VLANs)")
    with lab() as the_lab:
        node = Node(the_lab.node)
        vlan = VLAN(VLANKey("lb-1", 100), ipaddress.IPv4Interface("10.1.0.2/24"))
        vip = VIP(ipaddress.ip_address("10.0.0.100"))
        outcome = node.apply(Request((Partition.of(LB_PARTITION, [the_lab.lb(), vlan]), Partition.of("web", [vip]))))
        (error,) = outcome.errors
        assert (error.kind, error.key) == ("vlan", "lb-1.100")
        assert (
            "cannot create lb-1.100: this kernel cannot make 802.1Q VLAN interfaces: run `modprobe 8021q`"
            in error.message
        )
        assert outcome.writes == 2  # the LB interface and the VIP still happened
        assert "10.0.0.100/24" in the_lab.addresses(the_lab.node, "lb-1")


def test_ipv6_cluster_vip_and_vips_survive_the_lb_going_down():
    with lab() as the_lab:
        node = Node(the_lab.node)
        lb = the_lab.lb(
            node_ipv6=ipaddress.IPv6Interface("2001:db8::2/64"),
            cluster_vip_ipv6=ipaddress.IPv6Address("2001:db8::10"),
            up=True,
        )
        vip = VIP(ipaddress.ip_address("2001:db8::100"))
        assert node.apply(Request((Partition.of(LB_PARTITION, [lb]), Partition.of("web", [vip])))).errors == ()
        want = {"10.0.0.10/24", "2001:db8::10/64", "2001:db8::100/64"}
        assert the_lab.addresses(the_lab.node, "lb-1") == want
        down = Partition.of(LB_PARTITION, [the_lab.lb(node_ipv6=lb.node_ipv6, cluster_vip_ipv6=lb.cluster_vip_ipv6)])
        assert node.apply(Request((down,))).errors == ()
        assert not the_lab.link(the_lab.node, "lb-1")["up"]
        assert the_lab.addresses(the_lab.node, "lb-1") == want
        assert node.audit() == 0
