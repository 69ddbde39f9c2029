"""The LB interface on a real kernel: VMAC, cluster VIP, policy routing, up/down, GARP, any interface name."""

import ipaddress
import os

import pytest
from ncc_host_lab import CLUSTER_VIP, GATEWAY, Node, inside, lab, sh, wait_for

from seesaw.ncc.kernel.host import HostNetwork
from seesaw.ncc.model import LB_PARTITION, VIP, Partition, Request

pytestmark = [pytest.mark.netns, pytest.mark.skipif(os.geteuid() != 0, reason="needs root in a network namespace")]

VMAC = "00:00:5e:00:01:3c"


def lb_request(lb, *vips):
    partitions = [Partition.of(LB_PARTITION, [lb])]
    if vips:
        partitions.append(Partition.of("web", vips))
    return Request(tuple(partitions))


@pytest.mark.parametrize(("lb_name", "node_name", "bridge"), [("lb-1", "node0", False), ("enp0s3", "br-x", True)])
def test_init_up_down_with_vmac_cluster_vip_rules_and_table_routes(lb_name, node_name, bridge):
    # Seesaw v2 refused `lb-1` (P9) and found no default route through `br-x` or `enp0s3` (P4)
    with lab(lb_name, node_name, node_bridge=bridge) as the_lab:
        own_mac = the_lab.link(the_lab.node, lb_name)["mac"]
        node = Node(the_lab.node)
        outcome = node.apply(lb_request(the_lab.lb()))
        assert outcome.errors == ()
        link = the_lab.link(the_lab.node, lb_name)
        assert (link["up"], link["mac"]) == (False, VMAC)  # the backup keeps it down
        assert link["alias"].startswith(f"seesaw-ncc lb node={node_name} ")
        assert the_lab.addresses(the_lab.node, lb_name) == {f"{CLUSTER_VIP}/24"}
        assert the_lab.rules(2) == {(None, str(CLUSTER_VIP)), (str(CLUSTER_VIP), None)}

        assert node.apply(lb_request(the_lab.lb(up=True))).errors == ()
        assert the_lab.link(the_lab.node, lb_name)["up"]
        assert the_lab.table(2) == {("10.0.0.0/24", None, lb_name), ("0.0.0.0/0", GATEWAY, lb_name)}

        assert node.apply(lb_request(the_lab.lb(up=False))).errors == ()
        assert not the_lab.link(the_lab.node, lb_name)["up"]
        assert the_lab.addresses(the_lab.node, lb_name) == {f"{CLUSTER_VIP}/24"}  # kept while down

        assert node.apply(Request((Partition(LB_PARTITION),))).errors == ()  # removed: its own MAC comes back
        link = the_lab.link(the_lab.node, lb_name)
        assert (link["mac"], link["alias"]) == (own_mac, None)
        assert the_lab.addresses(the_lab.node, lb_name) == set()
        assert the_lab.rules(2) == set()


def test_after_up_a_clients_neighbour_entry_moves_to_the_vmac():
    with lab() as the_lab:
        node = Node(the_lab.node)
        node.apply(lb_request(the_lab.lb()))
        # the client still has the address at the old master's MAC
        sh(f"ip -n {the_lab.client} neigh replace {CLUSTER_VIP} lladdr 02:00:00:00:00:99 dev eth0 nud stale")
        assert the_lab.client_neighbour(str(CLUSTER_VIP)) == "02:00:00:00:00:99"
        assert node.apply(lb_request(the_lab.lb(up=True))).errors == ()
        assert wait_for(lambda: the_lab.client_neighbour(str(CLUSTER_VIP)) == VMAC, timeout=1.0)


def test_a_gratuitous_arp_on_request_and_a_unicast_vip_reachable_from_the_client():
    with lab() as the_lab:
        node = Node(the_lab.node)
        vip = VIP(ipaddress.ip_address("10.0.0.100"))
        assert node.apply(lb_request(the_lab.lb(up=True), vip)).errors == ()
        assert the_lab.rules(2) >= {("10.0.0.100", None)}
        sh(f"ip -n {the_lab.client} neigh replace 10.0.0.100 lladdr 02:00:00:00:00:98 dev eth0 nud stale")
        with inside(the_lab.node):
            HostNetwork().send_gratuitous_arp("lb-1", vip.address)
        assert wait_for(lambda: the_lab.client_neighbour("10.0.0.100") == VMAC, timeout=1.0)
        assert the_lab.client_reaches("10.0.0.100")


def test_without_a_default_route_up_fails_with_the_fix_and_still_comes_up():
    with lab() as the_lab:
        sh(f"ip -n {the_lab.node} route del default")
        node = Node(the_lab.node)
        (error,) = node.apply(lb_request(the_lab.lb(up=True))).errors
        assert error.kind == "lb" and "no IPv4 default route in the main table" in error.message
        assert "ip route add default via <gateway in 10.0.0.0/24> dev node0" in error.message
        assert the_lab.link(the_lab.node, "lb-1")["up"]
        assert the_lab.table(2) == {("10.0.0.0/24", None, "lb-1")}


def test_a_missing_lb_interface_fails_alone_naming_what_exists():
    with lab() as the_lab:
        node = Node(the_lab.node)
        (error,) = node.apply(lb_request(the_lab.lb(name="eth1"))).errors
        assert "no such network interface 'eth1' (the LB interface, [interface] lb)" in error.message
        assert "lb-1, lo, node0" in error.message
