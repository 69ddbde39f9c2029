"""The takeover's plain rtnetlink socket (seesaw.ncc.kernel.host_rtnl) on a real kernel: it reads a link and its
addresses as pyroute2 does, sets it up and down, says why not; and a takeover goes through it."""

import errno
import logging
import os
import threading
import time

import pytest
from ncc_host_lab import CLUSTER_VIP, Node, inside, lab, sh, wait_for
from pyroute2 import IPRoute

from seesaw.ncc.kernel.host_rtnl import RTMGRP_LINK, Rtnl, RtnlError
from seesaw.ncc.kernel.host_snapshot import read_addresses, read_snapshot
from seesaw.ncc.model import LB_PARTITION, Partition, Request
from seesaw.ncc.steps import Op, Step

VMAC = "00:00:5e:00:01:3c"

pytestmark = [pytest.mark.netns, pytest.mark.skipif(os.geteuid() != 0, reason="needs root in a network namespace")]


def test_one_link_and_its_addresses_as_pyroute2_reads_them():
    with lab() as the_lab:
        sh(
            f"ip -n {the_lab.node} addr add 10.0.0.77/24 dev lb-1",
            f"ip -n {the_lab.node} addr add 2001:db8::77/64 dev lb-1 nodad",
            f"ip -n {the_lab.node} link set lb-1 alias 'some words'",
        )
        with inside(the_lab.node):
            with IPRoute() as ipr:
                full = read_addresses(ipr, read_snapshot(ipr, detail=False))
            with Rtnl() as rtnl:
                one = rtnl.link_snapshot("lb-1")
                (index,) = one.links
                with pytest.raises(RtnlError) as missing:
                    rtnl.link_snapshot("no-such-link")
        expected = full.link("lb-1")
        assert expected is not None and index == expected.index
        got = one.links[index]
        assert (got.name, got.up, got.running, got.mac, got.alias) == (
            expected.name,
            expected.up,
            expected.running,
            expected.mac,
            "some words",
        )
        assert sorted(map(str, one.addresses)) == sorted(map(str, full.addresses_of(index)))
        assert {str(a.interface) for a in one.addresses} >= {"10.0.0.77/24", "2001:db8::77/64"}
        assert missing.value.errno == errno.ENODEV


def test_set_up_and_down_and_the_kernels_refusal():
    with lab() as the_lab:
        with inside(the_lab.node), Rtnl() as rtnl:
            index = next(iter(rtnl.link_snapshot("lb-1").links))
            rtnl.set_up(index)
            assert rtnl.link_snapshot("lb-1").links[index].up
            rtnl.set_up(index, up=False)
            assert not rtnl.link_snapshot("lb-1").links[index].up
            with pytest.raises(RtnlError) as refused:
                rtnl.set_up(999_999)
        assert refused.value.errno == errno.ENODEV


def test_wait_running_sees_the_carrier_come():
    with lab() as the_lab:
        sh(f"ip -n {the_lab.lan} link set v-lb down")  # the far end down: lb-1 up but without carrier
        with inside(the_lab.node), Rtnl(groups=RTMGRP_LINK) as rtnl:
            index = next(iter(rtnl.link_snapshot("lb-1").links))
            rtnl.set_up(index)
            started = time.monotonic()
            assert rtnl.wait_running("lb-1", 0.2) is False
            assert time.monotonic() - started >= 0.2
            later = threading.Timer(0.1, sh, (f"ip -n {the_lab.lan} link set v-lb up",))
            later.start()
            started = time.monotonic()
            assert rtnl.wait_running("lb-1", 3.0) is True
            took = time.monotonic() - started
            later.join()
            assert 0.1 <= took < 2.0, f"{took:.3f} s"
            assert rtnl.wait_running("lb-1", 0.0) is True  # running already: at once


def test_a_takeover_is_link_up_and_the_burst_on_the_plain_socket(caplog: pytest.LogCaptureFixture):
    with lab() as the_lab:
        node = Node(the_lab.node)
        node.apply(Request((Partition.of(LB_PARTITION, [the_lab.lb()]),)))
        # the client last heard of the VIP elsewhere (a gratuitous ARP updates an entry, never makes one)
        sh(f"ip -n {the_lab.client} neigh replace {CLUSTER_VIP} lladdr 02:00:00:00:00:99 dev eth0 nud stale")
        with caplog.at_level(logging.INFO, logger="seesaw.ncc.host"):
            assert node.apply(Request((Partition.of(LB_PARTITION, [the_lab.lb(up=True)]),))).errors == ()
        said = [r.getMessage() for r in caplog.records]
        assert "lb-1: link up (takeover)" in said, said
        assert not [m for m in said if "fast takeover path not taken" in m], said
        assert wait_for(lambda: the_lab.client_neighbour(str(CLUSTER_VIP)) == VMAC)


def test_the_express_lane_raises_and_announces_and_the_apply_after_it_finds_it_done(caplog: pytest.LogCaptureFixture):
    """runner.py's express lane: the fast path alone (a read held the dataplane), then the Apply as usual."""
    with lab() as the_lab:
        node = Node(the_lab.node)
        node.apply(Request((Partition.of(LB_PARTITION, [the_lab.lb()]),)))
        sh(f"ip -n {the_lab.client} neigh replace {CLUSTER_VIP} lladdr 02:00:00:00:00:99 dev eth0 nud stale")
        with caplog.at_level(logging.INFO, logger="seesaw.ncc.host"), inside(the_lab.node):
            node.dataplane.express([Step(Op.UPDATE, LB_PARTITION, the_lab.lb(up=True), the_lab.lb())])
        assert wait_for(lambda: the_lab.client_neighbour(str(CLUSTER_VIP)) == VMAC)
        with caplog.at_level(logging.INFO, logger="seesaw.ncc.host"):
            assert node.apply(Request((Partition.of(LB_PARTITION, [the_lab.lb(up=True)]),))).errors == ()
        said = [r.getMessage() for r in caplog.records]
        assert said.count("lb-1: link up (takeover)") == 1, said  # the express lane's; the Apply found it up
        assert node.audit() == 0
