"""The takeover's plain rtnetlink socket (seesaw.ncc.kernel.host_rtnl) on a real kernel: it reads a link and its
addresses as pyroute2 does, sets it up and down, says why not; and a takeover goes through it."""

import asyncio
import errno
import logging
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from ncc_host_lab import CLIENT_IP, CLUSTER_VIP, Node, inside, lab, sh, wait_for
from pyroute2 import IPRoute

from seesaw.common.rtnetlink import RTMGRP_LINK
from seesaw.ha import lb_raise
from seesaw.ha.lb_takeover import LBTakeover
from seesaw.ncc.kernel.host_rtnl import Rtnl, RtnlError
from seesaw.ncc.kernel.host_snapshot import read_addresses, read_snapshot
from seesaw.ncc.model import LB_PARTITION, Partition, Request
from seesaw.ncc.steps import Op, Step
from seesaw.pb import ncc_pb2

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
            step = Step(Op.UPDATE, LB_PARTITION, the_lab.lb(up=True), the_lab.lb())
            node.dataplane.express([step], neighbours=[CLIENT_IP])  # no kit: NCC raised it, resolves them too
        assert wait_for(lambda: the_lab.client_neighbour(str(CLUSTER_VIP)) == VMAC)

        def resolved() -> str:
            return subprocess.run(
                ["ip", "-n", the_lab.node, "neigh", "show", CLIENT_IP, "dev", "lb-1"], capture_output=True, text=True
            ).stdout

        assert wait_for(lambda: "lladdr" in resolved()), resolved()  # once the link ran, before any packet of ours
        with caplog.at_level(logging.INFO, logger="seesaw.ncc.host"):
            assert node.apply(Request((Partition.of(LB_PARTITION, [the_lab.lb(up=True)]),))).errors == ()
        said = [r.getMessage() for r in caplog.records]
        assert said.count("lb-1: link up (takeover)") == 1, said  # the express lane's; the Apply found it up
        assert node.audit() == 0


def test_a_takeover_kit_carried_out_by_ha_moves_the_client_and_ncc_finds_it_done(caplog: pytest.LogCaptureFixture):
    """The host part's kit (while down), carried out by HA's own code (seesaw.ha.lb_takeover, lb_raise: link up,
    the burst, again once the link runs), no NCC in between; then NCC's bookkeeping (express with `raised`: the
    burst's repeats, no second link up) and the engine's Apply after it, which finds it all done."""
    with lab() as the_lab:
        node = Node(the_lab.node)
        node.apply(Request((Partition.of(LB_PARTITION, [the_lab.lb()]),)))
        sh(f"ip -n {the_lab.client} neigh replace {CLUSTER_VIP} lladdr 02:00:00:00:00:99 dev eth0 nud stale")
        with inside(the_lab.node):
            kit = node.dataplane.takeover_kit(the_lab.lb())
            assert kit is not None and kit.interface == "lb-1" and kit.index == socket.if_nametoindex("lb-1")
            assert kit.frames and len(kit.frames) % 2 == 0  # the burst: a request and a reply per address
            with pytest.raises(OSError) as wrong:
                lb_raise.set_link_up("lb-1", kit.index + 100)  # a link made again meanwhile: left alone
            assert wrong.value.errno == errno.ENODEV

            async def lead() -> None:
                takeover = LBTakeover(Path("/nonexistent/ncc.sock"), call_timeout=0.1)  # no NCC: HA alone
                takeover.kit = ncc_pb2.TakeoverKit(
                    interface=kit.interface, index=kit.index, frames=kit.frames, serial=1, neighbours=[CLIENT_IP]
                )
                takeover.takeover(1_000)
                await asyncio.sleep(0.3)  # the running link's burst, within RUNNING_WAIT
                await takeover.close()

            asyncio.run(lead())
        assert the_lab.link(the_lab.node, "lb-1")["up"]
        assert wait_for(lambda: the_lab.client_neighbour(str(CLUSTER_VIP)) == VMAC)
        # the kit's neighbours were resolved on lb-1 once it ran, before any packet of ours asked for them
        resolved = subprocess.run(
            ["ip", "-n", the_lab.node, "neigh", "show", CLIENT_IP, "dev", "lb-1"], capture_output=True, text=True
        ).stdout
        assert "lladdr" in resolved, resolved
        with caplog.at_level(logging.INFO, logger="seesaw.ncc.host"), inside(the_lab.node):
            assert node.dataplane.takeover_kit(the_lab.lb()) is None  # up: no kit
            assert node.dataplane.express([Step(Op.UPDATE, LB_PARTITION, the_lab.lb(up=True), the_lab.lb())], True)
        with caplog.at_level(logging.INFO, logger="seesaw.ncc.host"):
            assert node.apply(Request((Partition.of(LB_PARTITION, [the_lab.lb(up=True)]),))).errors == ()
        said = [r.getMessage() for r in caplog.records]
        assert "lb-1: link up (takeover)" not in said, said  # HA raised it; NCC announced and recorded
        assert node.audit() == 0
