"""Reading bgpd's running config: FRR 8's layout (captured from the anycast lab) and Quagga's."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from seesaw.ncc.bgp.running import parse

DATA = Path(__file__).resolve().parents[2] / "data" / "bgp"


def net(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(text)


def ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


def test_frr_running_config_from_the_lab() -> None:
    running = parse((DATA / "frr_running.txt").read_text())
    assert running.asn == 64512
    assert running.router_id == "10.99.7.2"
    assert running.group and running.group_remote_as == "64513"
    assert running.members == {ip("10.99.7.1"): "rtr1.lab."}
    assert running.others == frozenset()
    assert running.networks == {net("192.168.255.1/32"), net("192.168.255.254/32")}
    assert running.group_af[4] == {"route-map SEESAW-IN in", "route-map SEESAW-OUT out"}
    assert running.group_af[6] == {"activate", "route-map SEESAW-IN in", "route-map SEESAW-OUT out"}
    assert running.activated(4) and running.activated(6)
    assert running.route_maps == {"SEESAW-IN", "SEESAW-OUT"}


def test_empty_config_has_no_instance() -> None:
    running = parse("frr version 8.4.4\nfrr defaults traditional\n!\nhostname lb1\n!\nend\n")
    assert running.asn is None
    assert not running.group and not running.members and not running.networks
    assert running.activated(4) and not running.activated(6)


QUAGGA = """\
!
router bgp 64512
 bgp router-id 192.168.10.2
 network 192.168.255.1/32
 network 10.1.0.0/16
 neighbor SEESAW-PEERS peer-group
 neighbor SEESAW-PEERS remote-as 64513
 neighbor 192.168.0.252 peer-group SEESAW-PEERS
 neighbor 192.168.0.252 description au-syd-router1.example.com.
 neighbor 192.168.0.9 remote-as 64999
!
 address-family ipv6
 network 2015:cafe:ffff::1/128
 neighbor 2015:cafe::fe activate
 exit-address-family
!
route-map *SEESAW-ANNOUNCE permit 10
!
line vty
!
"""


def test_quagga_layout_hand_written_peers_are_the_operators() -> None:
    running = parse(QUAGGA)
    assert running.asn == 64512
    assert running.networks == {net("192.168.255.1/32"), net("10.1.0.0/16"), net("2015:cafe:ffff::1/128")}
    assert not running.group and running.members == {}
    assert running.others == {ip("192.168.0.252"), ip("192.168.0.9")}
    assert running.route_maps == {"*SEESAW-ANNOUNCE"}


def test_other_vrfs_and_families_are_not_read() -> None:
    text = """\
router bgp 64512
 neighbor SEESAW peer-group
 no bgp default ipv4-unicast
 address-family ipv4 multicast
  network 192.168.255.9/32
 exit-address-family
 address-family ipv4 unicast
  network 192.168.255.1/32 route-map SET-MED
  no neighbor SEESAW activate
 exit-address-family
exit
router bgp 65001 vrf blue
 neighbor 10.0.0.1 peer-group SEESAW
 address-family ipv4 unicast
  network 192.168.255.2/32
 exit-address-family
exit
"""
    running = parse(text)
    assert running.asn == 64512
    assert running.networks == {net("192.168.255.1/32")}
    assert running.members == {}
    assert not running.default_ipv4_unicast
    assert not running.activated(4)


def test_without_default_ipv4_unicast_an_explicit_activate_counts() -> None:
    text = "router bgp 1\n no bgp default ipv4-unicast\n address-family ipv4 unicast\n  neighbor SEESAW activate\n"
    assert parse(text).activated(4)
