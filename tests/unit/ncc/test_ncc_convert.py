"""Protobuf <-> model: every object checked on its own, bad ones named and held, the rest kept."""

import ipaddress

import pytest
from ncc_build import dest, lb, pb_lb, pb_partition, pb_service, service, vip, vlan, web

from seesaw.ncc import convert
from seesaw.ncc.dataplane import KernelState
from seesaw.ncc.model import LB_PARTITION, Kind, LBInterface, Stats, ref
from seesaw.pb import common_pb2, ncc_pb2


def test_a_valid_partition_converts_to_the_model():
    request, errors = convert.request_from_pb(ncc_pb2.ApplyRequest(partitions=[pb_partition()], replace_all=True))
    assert errors == []
    assert request.replace_all
    [part] = request.partitions
    assert part.name == "web"
    assert part.objects == web().objects
    assert part.held == frozenset()


def test_fwmark_and_ipv6_services():
    raw = ncc_pb2.Partition(
        name="m",
        services=[
            ncc_pb2.Service(family=common_pb2.AF_INET6, fwmark=257, scheduler="sh", flags=0x18),
            pb_service("2001:db8::1", backends=("2001:db8:1::1",)),
        ],
    )
    part, errors = convert.partition_from_pb(raw)
    assert errors == []
    keys = [str(spec.key) for spec in part.objects.values()]
    assert keys == ["FWM 257 (IPv6)", "TCP [2001:db8::1]:80", "TCP [2001:db8::1]:80 -> [2001:db8:1::1]:80"]


@pytest.mark.parametrize(
    ("fields", "kind", "key", "words"),
    [
        ({"address": "192.0.2.300"}, "service", "TCP 192.0.2.300:80", "bad IP address '192.0.2.300'"),
        ({"family": common_pb2.AF_INET6}, "service", "TCP 192.0.2.1:80", "is IPv4 but the service family is IPv6"),
        ({"family": common_pb2.AF_UNSPEC}, "service", "TCP 192.0.2.1:80", "AF_INET or AF_INET6"),
        ({"protocol": 1}, "service", "proto 1 192.0.2.1:80", "neither TCP nor UDP"),
        ({"port": 70000}, "service", "TCP 192.0.2.1:70000", "above 65535"),
        ({"fwmark": 5}, "service", "FWM 5", "a fwmark service has no address"),
        ({"scheduler": "fast"}, "service", "TCP 192.0.2.1:80", "unknown scheduler 'fast'; use one of"),
        ({"scheduler": ""}, "service", "TCP 192.0.2.1:80", "no scheduler"),
        ({"flags": 0x100}, "service", "TCP 192.0.2.1:80", "unknown flag bits 0x100"),
        ({"backends": ("10.0.0.1", "2001:db8::1")}, "destination", "TCP 192.0.2.1:80 -> [2001:db8::1]:80", "IPv6"),
        ({"backends": ("10.0.0.1", "10.0.0.x")}, "destination", "TCP 192.0.2.1:80 -> 10.0.0.x:80", "bad IP"),
        ({"weight": 2**31}, "destination", "TCP 192.0.2.1:80 -> 10.0.0.1:80", "above the kernel's maximum"),
    ],
)
def test_a_bad_service_or_destination_is_an_error_for_that_object_only(fields, kind, key, words):
    raw = ncc_pb2.Partition(name="web", services=[pb_service(**fields), pb_service("192.0.2.2")])
    part, errors = convert.partition_from_pb(raw)
    matching = [e for e in errors if e.kind == kind and e.key == key]
    assert matching, errors
    assert words in matching[0].message
    assert matching[0].partition == "web"
    good = service("192.0.2.2")
    assert ref(good) in part.objects
    assert ref(dest(good, "10.0.0.2")) in part.objects


def test_an_invalid_service_with_a_known_key_is_held_with_its_destinations():
    raw = ncc_pb2.Partition(name="web", services=[pb_service(scheduler="fast")])
    part, errors = convert.partition_from_pb(raw)
    assert part.objects == {}
    assert part.held == {ref(service())}
    assert "keep their previous state" in errors[0].message


def test_an_unparseable_service_is_not_held():
    part, errors = convert.partition_from_pb(ncc_pb2.Partition(name="web", services=[pb_service("bogus")]))
    assert part.objects == {} and part.held == frozenset()
    assert "destinations were not applied either" in errors[0].message


def test_a_bad_destination_is_held_when_its_key_is_known():
    part, _ = convert.partition_from_pb(ncc_pb2.Partition(name="w", services=[pb_service(weight=2**31)]))
    svc = service()
    assert part.held == {ref(dest(svc, "10.0.0.1")), ref(dest(svc, "10.0.0.2"))}
    assert ref(svc) in part.objects


def test_duplicates_keep_the_first():
    raw = ncc_pb2.Partition(name="web", services=[pb_service(), pb_service(scheduler="rr")])
    part, errors = convert.partition_from_pb(raw)
    assert part.objects[ref(service())].scheduler == "wrr"
    assert [e.message for e in errors] == ["listed twice; the first one was used"]


def test_a_partition_without_a_name_is_refused_whole():
    request, errors = convert.request_from_pb(ncc_pb2.ApplyRequest(partitions=[pb_partition(name="")]))
    assert request.partitions == ()
    assert "give every partition a unique name" in errors[0].message


def test_bad_vip_and_filter():
    raw = ncc_pb2.Partition(
        name="v",
        vips=[ncc_pb2.VIP(address="nope"), ncc_pb2.VIP(address="192.0.2.1", type=7)],
        filters=[ncc_pb2.VIPFilter(address="192.0.2.1", ports=[ncc_pb2.Port(protocol=1, port=1)])],
    )
    part, errors = convert.partition_from_pb(raw)
    assert part.objects == {}
    assert [(e.kind, e.key) for e in errors] == [("vip", "nope"), ("vip", "192.0.2.1"), ("filter", "192.0.2.1")]


def test_lb_interface_with_vlans():
    message = pb_lb(vlans=[ncc_pb2.VLAN(id=100, ipv4="198.51.100.10/24")])
    request, errors = convert.request_from_pb(ncc_pb2.ApplyRequest(lb=message, has_lb=True))
    assert errors == []
    [part] = request.partitions
    assert part.name == LB_PARTITION
    expected_lb = lb(up=True, dummy_interface="dummy0")
    assert part.objects == {ref(expected_lb): expected_lb, ref(vlan()): vlan()}
    assert expected_lb.vmac == "00:00:5e:00:01:3c"


def test_an_empty_lb_interface_releases_it_and_has_lb_false_leaves_it():
    request, _ = convert.request_from_pb(ncc_pb2.ApplyRequest(has_lb=True))
    assert [(p.name, dict(p.objects)) for p in request.partitions] == [(LB_PARTITION, {})]
    request, _ = convert.request_from_pb(ncc_pb2.ApplyRequest(lb=pb_lb()))
    assert request.partitions == ()


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"cluster_vip_ipv4": "203.0.113.1"}, "does not contain the cluster VIP 203.0.113.1"),
        ({"node_ipv4": "192.0.2.10"}, "with a prefix length"),
        ({"node_ipv4": "2001:db8::1/64"}, "node_ipv4 '2001:db8::1/64' is not an IPv4 address"),
        ({"cluster_vip_ipv6": "192.0.2.1"}, "cluster_vip_ipv6 '192.0.2.1' is not an IPv6 address"),
        ({"vrid": 0}, "vrid 0 is outside 1..255"),
        ({"routing_table": 254}, "routing table 254 is outside 1..250"),
        ({"node_interface": "eth0:1"}, "not a valid interface name"),
    ],
)
def test_a_bad_lb_interface_leaves_the_lb_partition_out(fields, words):
    request, errors = convert.request_from_pb(
        ncc_pb2.ApplyRequest(partitions=[pb_partition()], lb=pb_lb(**fields), has_lb=True)
    )
    assert [p.name for p in request.partitions] == ["web"]
    assert errors[0].kind == "lb" and words in errors[0].message
    assert "left as it was" in errors[0].message


def test_a_bad_vlan_is_held():
    message = pb_lb(vlans=[ncc_pb2.VLAN(id=100, ipv4="198.51.100.10"), ncc_pb2.VLAN(id=5000)])
    request, errors = convert.request_from_pb(ncc_pb2.ApplyRequest(lb=message, has_lb=True))
    assert [e.key for e in errors] == ["eth1.100", "eth1.5000"]
    assert request.partitions[0].held == {(Kind.VLAN, vlan().key), (Kind.VLAN, vlan(vlan_id=5000).key)}
    assert "outside 1..4094" in errors[1].message


def test_state_to_pb_groups_destinations_under_services_with_stats():
    svc = service()
    b, a = dest(svc, "10.0.0.2", weight=3), dest(svc, "10.0.0.1")
    the_lb = LBInterface("eth1", node_ipv4=ipaddress.IPv4Interface("192.0.2.10/24"), up=True)
    state = KernelState(
        {ref(s): s for s in (b, svc, a, vip(), the_lb, vlan())},
        {ref(svc): Stats(connections=7, bytes_in=100), ref(a): Stats(active_connections=2)},
    )
    reply = convert.state_to_pb("sim", state)
    assert reply.dataplane == "sim"
    [entry] = reply.services
    assert entry.service.address == "192.0.2.1" and entry.service.scheduler == "wrr"
    assert entry.stats.connections == 7 and entry.stats.bytes_in == 100
    assert [d.destination.address for d in entry.destinations] == ["10.0.0.1", "10.0.0.2"]
    assert entry.destinations[0].stats.active_connections == 2
    assert entry.destinations[1].destination.weight == 3
    assert [v.address for v in reply.vips] == ["192.0.2.1"]
    assert reply.lb.name == "eth1" and reply.lb.up and reply.lb.node_ipv4 == "192.0.2.10/24"
    assert [(v.id, v.ipv4) for v in reply.lb.vlans] == [(100, "198.51.100.10/24")]


def test_model_to_pb_round_trips():
    raw = pb_service(flags=1, timeout=300)
    key = convert.service_key_from_pb(raw)
    assert convert.service_to_pb(convert.service_from_pb(key, raw)) == ncc_pb2.Service(
        family=raw.family,
        protocol=raw.protocol,
        address=raw.address,
        port=raw.port,
        scheduler="wrr",
        flags=1,
        timeout=300,
    )
    back = convert.destination_to_pb(convert.destination_from_pb(key, raw.destinations[0]))
    assert back == raw.destinations[0]
    lb_message = pb_lb(vlans=[ncc_pb2.VLAN(id=7, ipv4="198.51.100.1/24", ipv6="2001:db8::1/64")])
    assert convert.lb_to_pb(convert.lb_from_pb(lb_message), [convert.vlan_from_pb("eth1", lb_message.vlans[0])]) == (
        lb_message
    )


def test_arp_targets_skip_bad_entries():
    message = ncc_pb2.ARPRequest(
        interfaces={
            "eth1": ncc_pb2.AddressList(addresses=["192.0.2.1", "bad"]),
            "a/b": ncc_pb2.AddressList(addresses=["192.0.2.2"]),
        }
    )
    targets, errors = convert.arp_targets(message)
    assert targets == [("eth1", ipaddress.ip_address("192.0.2.1"))]
    assert len(errors) == 2 and any("bad IP address 'bad'" in e for e in errors)


@pytest.mark.parametrize(
    "text",
    [
        "192.0.2.1",
        "0.0.0.0",
        "255.255.255.255",
        "2001:db8::1",
        "::ffff:192.0.2.1",
        "01.2.3.4",  # leading zeros: ipaddress refuses them (CVE-2021-29921), so must the fast path
        "1.2.3.04",
        "1.2.3",
        "1.2.3.256",
        "1.2.3.4 ",
        " 1.2.3.4",
        "0x1.2.3.4",
        "1.2.3.4/32",
        "",
        "fe80::1%eth0",
        "1.2.3.4\x00",
        "1.2.3.4\n",
        "\uff11.2.3.4",  # a fullwidth digit
    ],
)
def test_parse_address_agrees_with_ipaddress(text: str) -> None:
    """The IPv4 fast path (inet_pton) takes exactly what ipaddress.ip_address takes, to the same value."""
    convert.parse_address.cache_clear()
    try:
        expected = ipaddress.ip_address(text)
    except ValueError:
        with pytest.raises(convert.Invalid, match="bad IP address"):
            convert.parse_address(text)
        return
    got = convert.parse_address(text)
    assert got == expected and type(got) is type(expected)
