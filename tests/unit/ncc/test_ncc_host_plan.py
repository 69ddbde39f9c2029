"""The host part's pure core: kernel snapshot -> objects (adoption, drift) and step -> operations."""

import dataclasses
import errno
import ipaddress
import socket

import pytest

from seesaw.ncc.kernel import host_messages as hm
from seesaw.ncc.kernel.host_observe import observe
from seesaw.ncc.kernel.host_plan import (
    AddAddress,
    AddRule,
    Announce,
    CreateLink,
    DeleteAddress,
    DeleteLink,
    DeleteRule,
    EnsureDummy,
    Fail,
    PlanError,
    ReplaceRoute,
    SetLink,
    SetSysctls,
    plan_step,
)
from seesaw.ncc.kernel.host_record import decode_lb, decode_vlan, encode_lb, encode_vlan
from seesaw.ncc.kernel.host_routes import cluster_vip_rules, table_routes, vip_rule
from seesaw.ncc.kernel.host_snapshot import MAIN_TABLE, Address, Link, Nexthop, Route, Snapshot
from seesaw.ncc.model import VIP, VLAN, LBInterface, VIPType, VLANKey, ref
from seesaw.ncc.steps import Step

LO, NODE, LB, VLAN_LINK, DUMMY = 1, 2, 3, 4, 5
OWN_MAC = "02:99:00:00:00:02"
ANY = ipaddress.ip_network("0.0.0.0/0")


def ip(text):
    return ipaddress.ip_address(text)


def iface(text):
    return ipaddress.ip_interface(text)


def the_lb(**kw):
    base = dict(
        name="lb-1",
        node_interface="enp0s3",
        dummy_interface="dummy0",
        node_ipv4=iface("10.0.0.2/24"),
        node_ipv6=iface("2001:db8::2/64"),
        cluster_vip_ipv4=ip("10.0.0.10"),
        cluster_vip_ipv6=ip("2001:db8::10"),
        vrid=60,
        use_vmac=True,
        routing_table=2,
        up=True,
    )
    return LBInterface(**{**base, **kw})


def fresh_host(dummy=False):
    """A host before NCC: node NIC with its address and default route, an LB NIC with its own MAC, down."""
    links = {
        LO: Link(LO, "lo", "", True, True, "00:00:00:00:00:00"),
        NODE: Link(NODE, "enp0s3", "", True, True, "02:99:00:00:00:01"),
        LB: Link(LB, "lb-1", "veth", False, False, OWN_MAC),
    }
    if dummy:
        links[DUMMY] = Link(DUMMY, "dummy0", "dummy", True, True, "aa:00:00:00:00:05")
    return Snapshot(
        links=links,
        addresses=[Address(LO, iface("127.0.0.1/8"), 254), Address(NODE, iface("10.0.0.2/24"))],
        routes=[Route(socket.AF_INET, MAIN_TABLE, ANY, (Nexthop(ip("10.0.0.1"), NODE),))],
    )


def applied_host(lb, vips=(), vlan=None):
    """The host as it stands once `lb` (and unicast VIPs on it, and one VLAN) are applied."""
    snap = fresh_host(dummy=True)
    mac = lb.vmac if lb.use_vmac else OWN_MAC
    alias = encode_lb(dataclasses.replace(lb, up=False), OWN_MAC)
    snap.links[LB] = Link(LB, "lb-1", "veth", lb.up, lb.up, mac, alias=alias)
    snap.addresses += [Address(LB, iface("10.0.0.10/24")), Address(LB, iface("2001:db8::10/64"))]
    snap.rules += list(cluster_vip_rules(lb.cluster_vip_ipv4, lb.routing_table))
    for vip in vips:
        snap.addresses.append(Address(LB, iface(f"{vip}/24")))
        snap.rules.append(vip_rule(ip(vip), lb.routing_table))
    if vlan is not None:
        alias = encode_vlan(vlan.ipv4, vlan.ipv6)
        snap.links[VLAN_LINK] = Link(VLAN_LINK, str(vlan.key), "vlan", lb.up, lb.up, mac, LB, vlan.key.id, alias)
        snap.addresses.append(Address(VLAN_LINK, vlan.ipv4))
    if lb.up:
        snap.routes += list(table_routes(lb, LB, snap).routes)
    return snap


# ---------------------------------------------------------------- adoption and drift


def test_an_applied_lb_reads_back_equal_so_a_restart_adopts_it_without_a_write():
    lb = the_lb()
    vlan = VLAN(VLANKey("lb-1", 100), iface("10.1.0.2/24"))
    snap = applied_host(lb, vips=["10.0.0.100"], vlan=vlan)
    snap.addresses += [
        Address(VLAN_LINK, iface("10.1.0.200/24")),
        Address(DUMMY, iface("192.168.255.1/32")),
        Address(LO, iface("192.168.100.5/32"), proto=hm.PROTO),
        Address(LO, iface("10.9.9.9/32")),  # someone else's: not NCC's protocol
    ]
    found = observe(snap)
    assert found[ref(lb)] == lb
    assert found[ref(vlan)] == vlan
    assert found[ref(VIP(ip("10.0.0.100")))] == VIP(ip("10.0.0.100"), VIPType.UNICAST)
    assert found[ref(VIP(ip("10.1.0.200")))] == VIP(ip("10.1.0.200"), VIPType.UNICAST)
    assert found[ref(VIP(ip("192.168.255.1")))].type is VIPType.ANYCAST
    assert found[ref(VIP(ip("192.168.100.5")))].type is VIPType.DEDICATED
    assert (VIP.kind, ip("10.9.9.9")) not in found
    assert (VIP.kind, ip("10.0.0.10")) not in found  # the cluster VIP is the LB interface's, not a VIP


@pytest.mark.parametrize(
    "tamper, field, seen",
    [
        (lambda s: s.rules.pop(0), "cluster_vip_ipv4", None),  # `to <VIP> lookup 2` deleted
        (lambda s: s.addresses.remove(Address(LB, iface("10.0.0.10/24"))), "cluster_vip_ipv4", None),
        (lambda s: s.links.update({LB: dataclasses.replace(s.links[LB], mac=OWN_MAC)}), "use_vmac", False),
        (lambda s: s.links.update({LB: dataclasses.replace(s.links[LB], up=False)}), "up", False),
        (lambda s: s.routes.pop(), "up", False),  # table 2 lost its default route
        (lambda s: s.routes.pop(0), "up", False),  # the main table has no default any more
    ],
)
def test_drift_behind_ncc_shows_as_a_difference(tamper, field, seen):
    lb = the_lb()
    snap = applied_host(lb)
    tamper(snap)
    assert getattr(observe(snap)[ref(lb)], field) == seen


def test_a_unicast_vip_without_its_source_rule_is_not_there():
    lb = the_lb()
    snap = applied_host(lb, vips=["10.0.0.100"])
    snap.rules.remove(vip_rule(ip("10.0.0.100"), 2))
    assert (VIP.kind, ip("10.0.0.100")) not in observe(snap)


def test_records_round_trip_and_foreign_aliases_are_not_ours():
    lb = the_lb(up=False)
    record = decode_lb("lb-1", encode_lb(lb, OWN_MAC))
    assert record is not None and record.lb == lb and record.mac == OWN_MAC
    assert decode_lb("lb-1", "uplink to rack 4") is None
    assert decode_lb("lb-1", "seesaw-ncc lb vrid=x") is None
    assert decode_vlan(encode_vlan(iface("10.1.0.2/24"), None)).ipv4 == iface("10.1.0.2/24")


# ---------------------------------------------------------------- LB interface steps


def test_first_set_up_sets_vmac_record_sysctls_cluster_vip_rules_dummy_and_comes_up():
    lb = the_lb()
    ops = plan_step(Step.add("", lb), fresh_host())
    assert ops[0] == SetLink("lb-1", mac="00:00:5e:00:01:3c")  # the link is down already: no flap needed
    assert isinstance(ops[1], SetLink) and ops[1].alias.startswith("seesaw-ncc lb node=enp0s3 dummy=dummy0")
    assert "mac=02:99:00:00:00:02" in ops[1].alias  # the MAC to restore later
    assert isinstance(ops[2], SetSysctls)
    assert AddAddress("lb-1", iface("10.0.0.10/24")) in ops
    assert AddAddress("lb-1", iface("2001:db8::10/64")) in ops
    assert [op.rule for op in ops if isinstance(op, AddRule)] == list(cluster_vip_rules(ip("10.0.0.10"), 2))
    assert EnsureDummy("dummy0") in ops
    up = ops.index(SetLink("lb-1", up=True))
    routes = [op.route for op in ops if isinstance(op, ReplaceRoute)]
    assert [(r.dst, r.nexthops) for r in routes] == [
        (ipaddress.ip_network("10.0.0.0/24"), (Nexthop(None, LB),)),
        (ANY, (Nexthop(ip("10.0.0.1"), LB),)),
    ]
    (announce,) = [op for op in ops if isinstance(op, Announce)]
    assert ops.index(announce) > up
    assert announce == Announce("lb-1", (ip("10.0.0.10"), ip("2001:db8::10")), burst=True)


def test_an_up_lb_that_must_change_its_mac_goes_down_first():
    snap = fresh_host()
    snap.links[LB] = dataclasses.replace(snap.links[LB], up=True, running=True)
    ops = plan_step(Step.add("", the_lb(up=False)), snap)
    assert ops[:2] == [SetLink("lb-1", up=False), SetLink("lb-1", mac="00:00:5e:00:01:3c")]
    assert SetLink("lb-1", up=True) not in ops


def test_going_down_puts_back_the_ipv6_addresses_the_kernel_drops():
    lb = the_lb()
    snap = applied_host(lb)
    ops = plan_step(Step.update("", lb, dataclasses.replace(lb, up=False)), snap)
    down = ops.index(SetLink("lb-1", up=False))
    assert ops[down + 1 :] == [AddAddress("lb-1", iface("2001:db8::10/64"))]
    assert not any(isinstance(op, (ReplaceRoute, Announce)) for op in ops)


def test_coming_up_without_a_default_route_does_the_rest_and_then_fails_with_the_fix():
    lb = the_lb(up=False)
    snap = applied_host(lb)
    snap.routes.clear()
    ops = plan_step(Step.update("", lb, dataclasses.replace(lb, up=True)), snap)
    assert SetLink("lb-1", up=True) in ops
    assert isinstance(ops[-1], Fail) and ops[-1].errno == errno.ENETUNREACH
    assert "no IPv4 default route" in ops[-1].message


def test_a_new_cluster_vip_replaces_the_old_one():
    old = the_lb()
    snap = applied_host(old)
    new = dataclasses.replace(old, cluster_vip_ipv4=ip("10.0.0.11"))
    ops = plan_step(Step.update("", old, new), snap)
    assert DeleteAddress("lb-1", iface("10.0.0.10/24")) in ops
    assert {op.rule for op in ops if isinstance(op, DeleteRule)} == set(cluster_vip_rules(ip("10.0.0.10"), 2))
    assert AddAddress("lb-1", iface("10.0.0.11/24")) in ops
    assert {op.rule for op in ops if isinstance(op, AddRule)} == set(cluster_vip_rules(ip("10.0.0.11"), 2))


def test_a_new_routing_table_moves_the_vip_rules_too():
    old = the_lb()
    snap = applied_host(old, vips=["10.0.0.100"])
    ops = plan_step(Step.update("", old, dataclasses.replace(old, routing_table=3)), snap)
    assert DeleteRule(vip_rule(ip("10.0.0.100"), 2)) in ops
    assert AddRule(vip_rule(ip("10.0.0.100"), 3)) in ops


@pytest.mark.parametrize(
    "lb, message",
    [
        (the_lb(name="eth1"), "no such network interface 'eth1' (the LB interface, [interface] lb); this host has "),
        (the_lb(node_interface="eth0"), "no such network interface 'eth0' (the node interface, [interface] node)"),
        (the_lb(node_interface="lb-1"), "lb-1 is both the node and the LB interface"),
    ],
)
def test_wrong_interface_names_fail_the_step_and_say_what_exists(lb, message):
    with pytest.raises(PlanError) as err:
        plan_step(Step.add("", lb), fresh_host())
    assert message in str(err.value)
    if "no such" in message:
        assert err.value.errno == errno.ENODEV
        assert "enp0s3, lb-1, lo" in str(err.value)


def test_removing_the_lb_restores_its_own_mac_and_forgets_the_record():
    lb = the_lb(up=False)
    ops = plan_step(Step.delete("", lb), applied_host(lb))
    assert DeleteAddress("lb-1", iface("10.0.0.10/24")) in ops
    assert {op.rule for op in ops if isinstance(op, DeleteRule)} == set(cluster_vip_rules(ip("10.0.0.10"), 2))
    assert ops[-2:] == [SetLink("lb-1", mac=OWN_MAC), SetLink("lb-1", alias="")]


# ---------------------------------------------------------------- VLANs and VIPs


def test_a_vlan_is_created_on_the_lb_with_its_record_sysctls_address_and_the_lb_state():
    lb = the_lb(up=False)
    vlan = VLAN(VLANKey("lb-1", 100), iface("10.1.0.2/24"))
    ops = plan_step(Step.add("", vlan), applied_host(lb))
    assert ops[0] == CreateLink("lb-1.100", "vlan", parent="lb-1", vlan_id=100)
    assert ops[1] == SetLink("lb-1.100", alias=encode_vlan(vlan.ipv4, None))  # not taken at creation
    assert isinstance(ops[2], SetSysctls) and ops[2].sysctls[0].path[3] == "lb-1.100"
    assert ops[3:] == [AddAddress("lb-1.100", iface("10.1.0.2/24")), SetLink("lb-1.100", up=False)]
    assert plan_step(Step.delete("", vlan), applied_host(lb, vlan=vlan)) == [DeleteLink("lb-1.100")]


def test_a_foreign_interface_with_the_vlans_name_is_not_taken_over():
    snap = applied_host(the_lb())
    snap.links[9] = Link(9, "lb-1.100", "veth")
    with pytest.raises(PlanError, match="exists but is not VLAN 100 on lb-1: remove or rename it"):
        plan_step(Step.add("", VLAN(VLANKey("lb-1", 100), iface("10.1.0.2/24"))), snap)


def test_unicast_vips_go_where_their_subnet_is():
    lb = the_lb()
    vlan = VLAN(VLANKey("lb-1", 100), iface("10.1.0.2/24"))
    snap = applied_host(lb, vlan=vlan)
    on_lb = plan_step(Step.add("p", VIP(ip("10.0.0.100"))), snap)
    assert on_lb == [
        AddAddress("lb-1", iface("10.0.0.100/24")),
        AddRule(vip_rule(ip("10.0.0.100"), 2)),
        Announce("lb-1", (ip("10.0.0.100"),)),
    ]
    on_vlan = plan_step(Step.add("p", VIP(ip("10.1.0.200"))), snap)
    assert on_vlan == [AddAddress("lb-1.100", iface("10.1.0.200/24")), Announce("lb-1.100", (ip("10.1.0.200"),))]
    assert plan_step(Step.add("p", VIP(ip("2001:db8::100"))), snap) == [
        AddAddress("lb-1", iface("2001:db8::100/64")),
        Announce("lb-1", (ip("2001:db8::100"),)),
    ]


@pytest.mark.parametrize(
    "address, code, message",
    [
        ("10.5.0.1", errno.EADDRNOTAVAIL, "no subnet of the LB interface or its VLANs holds unicast VIP 10.5.0.1"),
        ("10.0.0.10", errno.EEXIST, "address already in use as the cluster VIP of lb-1"),  # Seesaw issue #46
    ],
)
def test_a_unicast_vip_that_cannot_go_anywhere_fails_alone(address, code, message):
    with pytest.raises(PlanError) as err:
        plan_step(Step.add("p", VIP(ip(address))), applied_host(the_lb()))
    assert err.value.errno == code and message in str(err.value)


def test_anycast_vips_go_on_the_dummy_when_there_is_one_else_on_lo():
    anycast = VIP(ip("192.168.255.1"), VIPType.ANYCAST)
    assert plan_step(Step.add("p", anycast), applied_host(the_lb())) == [
        AddAddress("dummy0", iface("192.168.255.1/32"))
    ]
    without_dummy = applied_host(the_lb())
    del without_dummy.links[DUMMY]
    assert plan_step(Step.add("p", anycast), without_dummy) == [AddAddress("lo", iface("192.168.255.1/32"))]


def test_a_vip_is_removed_from_wherever_it_is_with_its_rule():
    snap = applied_host(the_lb(), vips=["10.0.0.100"])
    assert plan_step(Step.delete("p", VIP(ip("10.0.0.100"))), snap) == [
        DeleteAddress("lb-1", iface("10.0.0.100/24")),
        DeleteRule(vip_rule(ip("10.0.0.100"), 2)),
    ]
    moved = plan_step(Step.update("p", VIP(ip("10.0.0.100")), VIP(ip("10.0.0.100"), VIPType.DEDICATED)), snap)
    assert moved == [
        DeleteAddress("lb-1", iface("10.0.0.100/24")),
        DeleteRule(vip_rule(ip("10.0.0.100"), 2)),
        AddAddress("dummy0", iface("10.0.0.100/32")),
    ]
