"""Restarting NCC adopts the host network as it is (no write, no flap); the audit repairs changes behind its back."""

import ipaddress
import os

import pytest
from ncc_host_lab import CLUSTER_VIP, Node, lab, sh

from seesaw.ncc.model import LB_PARTITION, VIP, Partition, Request, VIPType

pytestmark = [pytest.mark.netns, pytest.mark.skipif(os.geteuid() != 0, reason="needs root in a network namespace")]


def desired(the_lab):
    vips = [
        VIP(ipaddress.ip_address("10.0.0.100")),
        VIP(ipaddress.ip_address("10.0.0.101")),
        VIP(ipaddress.ip_address("192.168.255.7"), VIPType.ANYCAST),
    ]
    return Request((Partition.of(LB_PARTITION, [the_lab.lb(up=True)]), Partition.of("web", vips)))


def test_a_restarted_ncc_adopts_everything_with_zero_writes_and_no_link_flap():
    with lab() as the_lab:
        node = Node(the_lab.node)
        first = node.apply(desired(the_lab))
        assert first.errors == () and first.writes == 4
        before = the_lab.link(the_lab.node, "lb-1")
        assert before["up"]

        again = node.restarted()
        outcome = again.apply(desired(the_lab))
        assert outcome.steps == () and outcome.writes == 0
        after = the_lab.link(the_lab.node, "lb-1")
        assert after["up"] and after["carrier_changes"] == before["carrier_changes"]
        assert again.audit() == 0


def test_even_without_its_journal_a_restarted_ncc_writes_nothing_for_what_is_in_place():
    with lab() as the_lab:
        Node(the_lab.node).apply(desired(the_lab))
        fresh = Node(the_lab.node)  # no desired state handed back: it only reads the kernel
        outcome = fresh.apply(desired(the_lab))
        assert outcome.steps == () and outcome.writes == 0


def test_the_audit_repairs_rules_addresses_and_routes_removed_behind_its_back():
    with lab() as the_lab:
        node = Node(the_lab.node)
        node.apply(desired(the_lab))
        sh(
            f"ip -n {the_lab.node} rule del from 10.0.0.100 lookup 2",
            f"ip -n {the_lab.node} rule del to {CLUSTER_VIP} lookup 2",
            f"ip -n {the_lab.node} addr del 192.168.255.7/32 dev lo",
            f"ip -n {the_lab.node} route flush table 2",
        )
        assert node.audit() == 3  # the LB interface (rule + routes), VIP 10.0.0.100, VIP 192.168.255.7
        assert the_lab.rules(2) >= {("10.0.0.100", None), (None, str(CLUSTER_VIP))}
        assert "192.168.255.7/32" in the_lab.addresses(the_lab.node, "lo")
        assert ("0.0.0.0/0", "10.0.0.1", "lb-1") in the_lab.table(2)
        assert node.audit() == 0
        assert node.reconciler.drift_repairs_total == 3


def test_removing_a_partition_removes_only_its_vips():
    with lab() as the_lab:
        node = Node(the_lab.node)
        node.apply(desired(the_lab))
        sh(f"ip -n {the_lab.node} addr add 10.0.0.77/24 dev node0")  # not NCC's
        outcome = node.apply(Request((Partition("web"),)))
        assert outcome.errors == () and outcome.writes == 3
        assert the_lab.addresses(the_lab.node, "lb-1") == {"10.0.0.10/24"}
        assert "192.168.255.7/32" not in the_lab.addresses(the_lab.node, "lo")
        assert the_lab.rules(2) == {(None, "10.0.0.10"), ("10.0.0.10", None)}
        assert the_lab.addresses(the_lab.node, "node0") == {"10.0.0.2/24", "10.0.0.77/24"}
