"""The host part's plain rtnetlink socket (seesaw.ncc.kernel.host_rtnl) on a real kernel: it reads the host network
as pyroute2 does, a link and its addresses alone, sets a link up and down, says why not; and a takeover goes through
it."""

import asyncio
import errno
import ipaddress
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
from seesaw.ncc.kernel import host_messages as hm
from seesaw.ncc.kernel.host_rtnl import Rtnl, RtnlError
from seesaw.ncc.kernel.host_snapshot import MAIN_TABLE, Address, Link, Nexthop, Route, Rule, Snapshot, read_snapshot
from seesaw.ncc.model import LB_PARTITION, Partition, Request
from seesaw.ncc.steps import Op, Step
from seesaw.pb import ncc_pb2

VMAC = "00:00:5e:00:01:3c"

pytestmark = [pytest.mark.netns, pytest.mark.skipif(os.geteuid() != 0, reason="needs root in a network namespace")]


def pyroute2_snapshot(tables: frozenset[int]) -> Snapshot:
    """The host network as pyroute2 decodes it (an independent reading of the same dumps), as host_snapshot's
    values: the reference the plain socket's reading is held to."""

    def network(text: str | None, length: int) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
        if not text or (not length and text in ("0.0.0.0", "::")):
            return None
        return ipaddress.ip_network(f"{text}/{length}", strict=False)

    def gateway(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        return ipaddress.ip_address(text) if text else None

    snapshot = Snapshot()
    with IPRoute() as ipr:
        for m in ipr.get_links():
            info = m.get("IFLA_LINKINFO")
            kind = (info.get("IFLA_INFO_KIND") if info is not None else None) or ""
            data = info.get("IFLA_INFO_DATA") if info is not None else None
            vlan_id = (data.get("IFLA_VLAN_ID") if kind == "vlan" and data is not None else 0) or 0
            snapshot.links[m["index"]] = Link(
                m["index"],
                m.get("IFLA_IFNAME") or "",
                kind,
                bool(m["flags"] & 1),
                bool(m["flags"] & 0x40),
                (m.get("IFLA_ADDRESS") or "").lower(),
                m.get("IFLA_LINK") or 0,
                vlan_id,
                m.get("IFLA_IFALIAS") or "",
            )
        for m in ipr.get_addr():
            text = m.get("IFA_LOCAL") or m.get("IFA_ADDRESS")
            interface = ipaddress.ip_interface(f"{text.split('%')[0]}/{m['prefixlen']}")
            snapshot.addresses.append(Address(m["index"], interface, m["scope"], m.get("IFA_PROTO") or 0))
        for m in ipr.get_rules(family=socket.AF_INET):
            snapshot.rules.append(
                Rule(
                    m["family"],
                    m.get("FRA_TABLE") or m["table"],
                    m.get("FRA_PRIORITY") or 0,
                    network(m.get("FRA_SRC"), m["src_len"]),
                    network(m.get("FRA_DST"), m["dst_len"]),
                    m.get("FRA_PROTOCOL") or 0,
                )
            )
        for m in ipr.get_routes(family=socket.AF_INET):
            table = m.get("RTA_TABLE") or m["table"]
            if table not in tables | {MAIN_TABLE} or (table == MAIN_TABLE and m["dst_len"]):
                continue
            multipath = m.get("RTA_MULTIPATH")
            if multipath:
                hops = tuple(Nexthop(gateway(hop.get("RTA_GATEWAY")), hop["oif"]) for hop in multipath)
            else:
                hops = (Nexthop(gateway(m.get("RTA_GATEWAY")), m.get("RTA_OIF") or 0),)
            dst = ipaddress.ip_network(f"{m.get('RTA_DST') or '0.0.0.0'}/{m['dst_len']}", strict=False)
            snapshot.routes.append(
                Route(m["family"], table, dst, hops, m.get("RTA_PRIORITY") or 0, m["proto"], m["scope"])
            )
    return snapshot


def test_the_snapshot_reads_what_pyroute2_reads():
    """Links (an alias, a bridge, veths), IPv4 and IPv6 addresses (one with a protocol), policy rules (to, from,
    a table above 255), routes in the main table and NCC's (on-link, via a gateway, ECMP, a metric): the plain
    socket's reading of every field, against pyroute2's."""
    with lab() as the_lab:
        n = the_lab.node
        sh(
            f"ip -n {n} addr add 10.0.0.77/24 dev lb-1",
            f"ip -n {n} link set lb-1 up",
            f"ip -n {n} addr add 2001:db8::77/64 dev lb-1 nodad",
            f"ip -n {n} link set lb-1 alias 'some words'",
            f"ip -n {n} link add br-x type bridge",
            f"ip -n {n} rule add to 10.0.0.10/32 lookup 7 priority 100 proto 83",
            f"ip -n {n} rule add from 10.0.0.100 lookup 1000 priority 101",
            f"ip -n {n} route add 10.0.0.0/24 dev lb-1 table 7 proto 83",
            f"ip -n {n} route add default via 10.0.0.1 dev lb-1 table 7 metric 5",
            f"ip -n {n} route add 192.0.2.0/24 table 1000 nexthop via 10.0.0.1 dev lb-1 nexthop via 10.0.0.3 dev lb-1",
            f"ip -n {n} route add default via 10.0.0.3 dev lb-1 metric 200",
        )
        tables = frozenset({7, 1000, 9})  # 9: no such table (the kernel says ENOENT to its dump)
        with inside(n):
            with Rtnl() as rtnl:  # an address of NCC's own, with its protocol (iproute2 6.1 cannot say one)
                rtnl.call(hm.address(socket.if_nametoindex("lb-1"), ipaddress.ip_interface("10.0.0.78/32")))
            expected = pyroute2_snapshot(tables)
            with Rtnl() as rtnl:
                got = read_snapshot(rtnl, tables)
                links_only = read_snapshot(rtnl, tables, detail=False)
        assert got.links == expected.links
        assert links_only.links == expected.links and not links_only.addresses and not links_only.routes
        assert got.link("lb-1") is not None and got.link("lb-1").alias == "some words"
        assert got.link("br-x") is not None and got.link("br-x").kind == "bridge"
        assert sorted(map(str, got.addresses)) == sorted(map(str, expected.addresses))
        assert any(a.proto == 83 and str(a.interface) == "10.0.0.78/32" for a in got.addresses)
        assert sorted(map(str, got.rules)) == sorted(map(str, expected.rules))
        assert {(r.table, str(r.dst or r.src)) for r in got.rules if r.priority in (100, 101)} == {
            (7, "10.0.0.10/32"),
            (1000, "10.0.0.100/32"),
        }
        assert sorted(map(str, got.routes)) == sorted(map(str, expected.routes))
        assert len(got.table_routes(7)) == 2 and len(got.table_routes(1000)[0].nexthops) == 2
        assert [r.metric for r in got.defaults()] == [m for m in sorted(r.metric for r in expected.defaults())]


def test_one_link_and_its_addresses_alone():
    with lab() as the_lab:
        sh(
            f"ip -n {the_lab.node} addr add 10.0.0.77/24 dev lb-1",
            f"ip -n {the_lab.node} addr add 2001:db8::77/64 dev lb-1 nodad",
            f"ip -n {the_lab.node} link set lb-1 alias 'some words'",
        )
        with inside(the_lab.node), Rtnl() as rtnl:
            full = read_snapshot(rtnl)
            one = rtnl.link_snapshot("lb-1")
            (index,) = one.links
            with pytest.raises(RtnlError) as missing:
                rtnl.link_snapshot("no-such-link")
            assert rtnl.link("no-such-link") is None
        assert one.links[index] == full.link("lb-1")
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
