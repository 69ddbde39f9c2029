"""rtnetlink messages of the host part (bytes), read back field by field by pyroute2's decoder (and header bytes
by hand)."""

import ipaddress
import socket
import struct

from pyroute2.netlink import NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST
from pyroute2.netlink.rtnl import RTM_DELRULE, RTM_NEWADDR, RTM_NEWLINK, RTM_NEWROUTE, RTM_NEWRULE
from pyroute2.netlink.rtnl.fibmsg import fibmsg
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
from pyroute2.netlink.rtnl.rtmsg import rtmsg

from seesaw.ncc.kernel import host_messages as hm
from seesaw.ncc.kernel.host_routes import cluster_vip_rules, vip_rule
from seesaw.ncc.kernel.host_snapshot import RT_SCOPE_LINK, Nexthop, Route

NLMSG_HEADER = struct.Struct("=IHHII")


def wire(message):
    assert isinstance(message, bytes)
    return message


def decoded(cls, data):
    message = cls(data)
    message.decode()
    return message


def header(data):
    length, msg_type, flags, _, _ = NLMSG_HEADER.unpack_from(data)
    assert length == len(data)
    return msg_type, flags


def test_cluster_vip_rules_are_to_and_from_the_vip_in_table_t():
    to_rule, from_rule = cluster_vip_rules(ipaddress.IPv4Address("10.0.0.10"), 2)
    data = wire(hm.rule(to_rule))
    assert header(data) == (RTM_NEWRULE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL)
    family, dst_len, src_len, tos, table, _, _, action, flags = struct.unpack_from("=BBBBBBBBI", data, 16)
    assert (family, dst_len, src_len, tos, table, action, flags) == (socket.AF_INET, 32, 0, 0, 2, 1, 0)
    message = decoded(fibmsg, data)
    assert message.get("FRA_DST") == "10.0.0.10"
    assert message.get("FRA_SRC") is None
    assert message.get("FRA_TABLE") == 2
    assert message.get("FRA_PRIORITY") == 32765
    assert message.get("FRA_PROTOCOL") == hm.PROTO
    message = decoded(fibmsg, wire(hm.rule(from_rule)))
    assert (message["src_len"], message.get("FRA_SRC"), message.get("FRA_DST")) == (32, "10.0.0.10", None)


def test_a_rule_delete_names_the_rule_without_claiming_a_protocol():
    data = wire(hm.rule(vip_rule(ipaddress.IPv4Address("10.0.0.100"), 7), delete=True))
    assert header(data) == (RTM_DELRULE, NLM_F_REQUEST | NLM_F_ACK)
    message = decoded(fibmsg, data)
    assert (message.get("FRA_SRC"), message.get("FRA_TABLE"), message.get("FRA_PROTOCOL")) == ("10.0.0.100", 7, None)


def test_a_table_above_255_goes_in_the_attribute_only():
    rule = vip_rule(ipaddress.IPv4Address("10.0.0.100"), 1000)
    message = decoded(fibmsg, wire(hm.rule(rule)))
    assert (message["table"], message.get("FRA_TABLE")) == (0, 1000)


def test_table_routes_on_link_via_gateway_and_ecmp():
    on_link = Route(socket.AF_INET, 2, ipaddress.ip_network("10.0.0.0/24"), (Nexthop(None, 5),), scope=RT_SCOPE_LINK)
    data = wire(hm.route(on_link))
    assert header(data) == (RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE)
    family, dst_len, _, _, table, proto, scope, kind = struct.unpack_from("=BBBBBBBB", data, 16)
    assert (family, dst_len, table, proto, scope, kind) == (socket.AF_INET, 24, 2, hm.PROTO, RT_SCOPE_LINK, 1)
    message = decoded(rtmsg, data)
    assert (message.get("RTA_DST"), message.get("RTA_OIF"), message.get("RTA_GATEWAY")) == ("10.0.0.0", 5, None)

    gw = Route(socket.AF_INET, 2, ipaddress.ip_network("0.0.0.0/0"), (Nexthop(ipaddress.ip_address("10.0.0.1"), 5),))
    message = decoded(rtmsg, wire(hm.route(gw)))
    assert message["dst_len"] == 0 and message.get("RTA_DST") is None
    assert (message.get("RTA_GATEWAY"), message.get("RTA_OIF"), message.get("RTA_TABLE")) == ("10.0.0.1", 5, 2)

    hops = (Nexthop(ipaddress.ip_address("10.0.0.1"), 5), Nexthop(ipaddress.ip_address("10.0.0.3"), 5))
    message = decoded(rtmsg, wire(hm.route(Route(socket.AF_INET, 2, ipaddress.ip_network("0.0.0.0/0"), hops))))
    multipath = message.get("RTA_MULTIPATH")
    assert [(hop["oif"], hop.get("RTA_GATEWAY")) for hop in multipath] == [(5, "10.0.0.1"), (5, "10.0.0.3")]
    assert message.get("RTA_GATEWAY") is None


def test_addresses_replace_idempotently_and_carry_seesaws_protocol():
    data = wire(hm.address(3, ipaddress.ip_interface("10.0.0.10/24")))
    assert header(data) == (RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE)
    family, prefixlen, _, scope, index = struct.unpack_from("=BBBBI", data, 16)
    assert (family, prefixlen, scope, index) == (socket.AF_INET, 24, 0, 3)
    message = decoded(ifaddrmsg, data)
    assert (message.get("IFA_LOCAL"), message.get("IFA_BROADCAST")) == ("10.0.0.10", "10.0.0.255")
    assert message.get("IFA_PROTO") == hm.PROTO

    v6 = decoded(ifaddrmsg, wire(hm.address(3, ipaddress.ip_interface("2001:db8::10/64"))))
    assert (v6["family"], v6.get("IFA_ADDRESS"), v6.get("IFA_LOCAL")) == (socket.AF_INET6, "2001:db8::10", None)
    assert v6.get("IFA_FLAGS") & 0x02  # IFA_F_NODAD: usable at once

    gone = decoded(ifaddrmsg, wire(hm.address(1, ipaddress.ip_interface("192.168.255.1/32"), delete=True)))
    assert gone.get("IFA_PROTO") is None and gone.get("IFA_BROADCAST") is None


def test_link_changes_touch_only_what_is_given():
    message = decoded(ifinfmsg, wire(hm.link_set(4, up=False, mac="00:00:5e:00:01:3c")))
    assert message["header"]["type"] == RTM_NEWLINK
    assert (message["index"], message["change"], message["flags"]) == (4, 1, 0)
    assert message.get("IFLA_ADDRESS") == "00:00:5e:00:01:3c"
    assert message.get("IFLA_IFALIAS") is None
    only_alias = decoded(ifinfmsg, wire(hm.link_set(4, alias="seesaw-ncc lb")))
    assert (only_alias["change"], only_alias.get("IFLA_IFALIAS")) == (0, "seesaw-ncc lb")


def test_a_vlan_is_made_on_its_lower_link_with_its_id():
    message = decoded(ifinfmsg, wire(hm.link_add("lb-1.100", "vlan", parent=4, vlan_id=100)))
    assert message.get("IFLA_IFNAME") == "lb-1.100"
    assert message.get("IFLA_LINK") == 4
    info = message.get("IFLA_LINKINFO")
    assert info.get("IFLA_INFO_KIND") == "vlan"
    assert info.get("IFLA_INFO_DATA").get("IFLA_VLAN_ID") == 100
