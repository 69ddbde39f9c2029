"""A takeover's gratuitous ARP on a real kernel: the burst at once when the LB interface comes up, repeated a
moment later, and never repeated by a node that has stepped down since."""

import os
import time

import pytest
from ncc_host_lab import CLUSTER_VIP, Node, lab, sh, wait_for

from seesaw.ncc.kernel.composite import KernelDataplane
from seesaw.ncc.kernel.host import HostNetwork
from seesaw.ncc.kernel.host_reannounce import Reannouncer
from seesaw.ncc.model import LB_PARTITION, Partition, Request

pytestmark = [pytest.mark.netns, pytest.mark.skipif(os.geteuid() != 0, reason="needs root in a network namespace")]

VMAC = "00:00:5e:00:01:3c"
ELSEWHERE = "02:00:00:00:00:99"  # the old master, as the client last heard of it
REPEATS = (1.5, 2.0)  # slow enough to tell the first burst from the repeats, even on a loaded machine


def slow_repeats(node: Node) -> Node:
    node.dataplane = KernelDataplane("host", [HostNetwork(reannouncer=Reannouncer(delays=REPEATS))])
    return node


def lb_request(lb):
    return Request((Partition.of(LB_PARTITION, [lb]),))


def moved_elsewhere(the_lab) -> None:
    sh(f"ip -n {the_lab.client} neigh replace {CLUSTER_VIP} lladdr {ELSEWHERE} dev eth0 nud stale")


def test_the_burst_goes_out_as_the_link_comes_up_and_again_shortly_after():
    with lab() as the_lab:
        node = slow_repeats(Node(the_lab.node))
        node.apply(lb_request(the_lab.lb()))
        moved_elsewhere(the_lab)
        started = time.monotonic()
        assert node.apply(lb_request(the_lab.lb(up=True))).errors == ()
        assert wait_for(lambda: the_lab.client_neighbour(str(CLUSTER_VIP)) == VMAC, timeout=1.4)
        took = time.monotonic() - started
        assert took < REPEATS[0], f"{took:.3f} s: a repeat, not the first burst"
        moved_elsewhere(the_lab)  # e.g. the first burst met a switch port that was not forwarding yet
        assert wait_for(lambda: the_lab.client_neighbour(str(CLUSTER_VIP)) == VMAC, timeout=2.5)


def test_a_node_that_stepped_down_repeats_nothing():
    with lab() as the_lab:
        node = slow_repeats(Node(the_lab.node))
        node.apply(lb_request(the_lab.lb()))
        assert node.apply(lb_request(the_lab.lb(up=True))).errors == ()
        assert node.apply(lb_request(the_lab.lb(up=False))).errors == ()  # HA said BACKUP right away
        moved_elsewhere(the_lab)  # the new master's announcement
        time.sleep(REPEATS[-1] + 0.2)
        assert the_lab.client_neighbour(str(CLUSTER_VIP)) == ELSEWHERE
