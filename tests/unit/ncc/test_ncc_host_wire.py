"""The host part's rtnetlink reading (host_wire) against pyroute2's encoder, and the socket's answer handling
(host_rtnl.Rtnl) against a scripted kernel: interrupted dumps asked again, errors, a table not made yet."""

from __future__ import annotations

import errno
import ipaddress
import socket
import struct

import pytest
from pyroute2.netlink.rtnl.fibmsg import fibmsg
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
from pyroute2.netlink.rtnl.rtmsg import rtmsg

from seesaw.common.rtnetlink import HEADER, NLM_F_DUMP_INTR, NLMSG_DONE, NLMSG_ERROR
from seesaw.ncc.kernel import host_messages as hm
from seesaw.ncc.kernel import host_rtnl
from seesaw.ncc.kernel.host_rtnl import Rtnl, RtnlError
from seesaw.ncc.kernel.host_snapshot import Nexthop, Route, Rule
from seesaw.ncc.kernel.host_wire import parse_link, parse_route, parse_rule


def encoded(message: object) -> bytes:
    message.encode()  # type: ignore[attr-defined]
    return bytes(message.data)  # type: ignore[attr-defined]


def test_a_vlan_link_as_pyroute2_writes_it():
    message = ifinfmsg()
    message["index"] = 9
    message["flags"] = 0x1 | 0x40
    message["attrs"] = [
        ("IFLA_IFNAME", "eth1.100"),
        ("IFLA_ADDRESS", "02:00:00:00:00:0a"),
        ("IFLA_LINK", 3),
        ("IFLA_IFALIAS", "seesaw"),
        (
            "IFLA_LINKINFO",
            {"attrs": [("IFLA_INFO_KIND", "vlan"), ("IFLA_INFO_DATA", {"attrs": [("IFLA_VLAN_ID", 100)]})]},
        ),
    ]
    data = encoded(message)
    link = parse_link(data, HEADER.size, len(data))
    assert (link.index, link.name, link.kind, link.vlan_id, link.parent) == (9, "eth1.100", "vlan", 100, 3)
    assert (link.up, link.running, link.mac, link.alias) == (True, True, "02:00:00:00:00:0a", "seesaw")


def test_an_ecmp_route_in_a_table_above_255_as_pyroute2_writes_it():
    message = rtmsg()
    message["family"] = socket.AF_INET
    message["dst_len"] = 24
    message["table"] = 252
    message["proto"] = 83
    message["attrs"] = [
        ("RTA_TABLE", 1000),
        ("RTA_DST", "192.0.2.0"),
        ("RTA_PRIORITY", 7),
        (
            "RTA_MULTIPATH",
            [
                {"oif": 5, "hops": 0, "flags": 0, "attrs": [("RTA_GATEWAY", "10.0.0.1")]},
                {"oif": 6, "hops": 0, "flags": 0, "attrs": [("RTA_GATEWAY", "10.0.0.3")]},
            ],
        ),
    ]
    data = encoded(message)
    route = parse_route(data, HEADER.size, len(data))
    hops = (Nexthop(ipaddress.ip_address("10.0.0.1"), 5), Nexthop(ipaddress.ip_address("10.0.0.3"), 6))
    assert route == Route(socket.AF_INET, 1000, ipaddress.ip_network("192.0.2.0/24"), hops, 7, 83, 0)


def test_our_own_rule_and_route_messages_read_back_the_same():
    """host_messages' writes and host_wire's reading agree (a rule to the VIP, a default route via a gateway)."""
    rule = Rule(socket.AF_INET, 2, 32765, None, ipaddress.ip_network("10.0.0.10/32"), hm.PROTO)
    data = hm.rule(rule)
    assert parse_rule(data, HEADER.size, len(data)) == rule
    gateway = (Nexthop(ipaddress.ip_address("10.0.0.1"), 5),)
    route = Route(socket.AF_INET, 2, ipaddress.ip_network("0.0.0.0/0"), gateway, 0, hm.PROTO, 0)
    data = hm.route(route)
    assert parse_route(data, HEADER.size, len(data)) == route
    assert decoded_rule_table(hm.rule(Rule(socket.AF_INET, 1000, 1, ipaddress.ip_network("10.0.0.9/32")))) == 1000


def decoded_rule_table(data: bytes) -> int:
    message = fibmsg(data)
    message.decode()
    return message.get("FRA_TABLE")


class ScriptedKernel:
    """A netlink socket that answers each request with the next of `answers` (lists of (type, flags, body))."""

    def __init__(self, answers: list[list[tuple[int, int, bytes]]]) -> None:
        self.answers = answers
        self.requests: list[bytes] = []
        self.pending: list[bytes] = []

    def send(self, data: bytes) -> int:
        self.requests.append(data)
        sequence = HEADER.unpack_from(data)[3]
        parts = [
            HEADER.pack(HEADER.size + len(body), kind, flags, sequence, 0) + body
            for kind, flags, body in self.answers.pop(0)
        ]
        self.pending.append(b"".join(parts))
        return len(data)

    def recv(self, size: int) -> bytes:
        return self.pending.pop(0)

    def close(self) -> None:
        pass


LINK = encoded(ifinfmsg())[HEADER.size :]  # an empty link message's body
DONE = (NLMSG_DONE, 0x2, struct.pack("=i", 0))


def scripted(answers: list[list[tuple[int, int, bytes]]]) -> tuple[Rtnl, ScriptedKernel]:
    rtnl = Rtnl()
    rtnl.close()
    kernel = ScriptedKernel(answers)
    rtnl._sock = kernel  # type: ignore[assignment]
    return rtnl, kernel


def test_an_interrupted_dump_is_asked_again():
    interrupted = (16, 0x2 | NLM_F_DUMP_INTR, LINK)
    rtnl, kernel = scripted([[interrupted, interrupted, DONE], [(16, 0x2, LINK), DONE]])
    assert len(rtnl.links()) == 1
    assert len(kernel.requests) == 2


def test_a_dump_that_keeps_changing_is_an_error():
    interrupted = (16, 0x2 | NLM_F_DUMP_INTR, LINK)
    rtnl, _ = scripted([[interrupted, DONE]] * host_rtnl.DUMP_TRIES)
    with pytest.raises(RtnlError) as raised:
        rtnl.links()
    assert raised.value.errno == errno.EINTR


def test_refusals_carry_the_kernels_errno_and_a_missing_table_has_no_routes():
    refused = (NLMSG_ERROR, 0, struct.pack("=i", -errno.EEXIST) + b"\0" * 16)
    missing_table = (NLMSG_ERROR, 0, struct.pack("=i", -errno.ENOENT) + b"\0" * 16)
    rtnl, kernel = scripted([[refused], [missing_table]])
    with pytest.raises(RtnlError) as raised:
        rtnl.call(hm.link_delete(4))
    assert raised.value.errno == errno.EEXIST
    assert rtnl.routes(socket.AF_INET, 7) == []
    assert HEADER.unpack_from(kernel.requests[0])[2] & 0x4  # the write asked for an ack
