"""Port of Seesaw v2's engine/config/config_test.go, against the same testdata
files, plus the parts of the mapping that test does not pin down."""

import ipaddress
from pathlib import Path

import pytest
from google.protobuf import text_format

from seesaw.config import ConfigError, load_cluster_file, read_healthcheck_text
from seesaw.config.convert import cluster_from_proto, float32, named_healthchecks
from seesaw.config.files import read_text
from seesaw.config.model import (
    VIP,
    VLAN,
    AccessGrant,
    AccessRole,
    AccessType,
    Backend,
    HAState,
    Healthcheck,
    HealthcheckMode,
    HealthcheckType,
    Host,
    HostStatus,
    LBMode,
    Node,
    Protocol,
    Scheduler,
    VIPType,
    Vserver,
    VserverEntry,
)
from seesaw.pb import config_pb2

TESTDATA = Path(__file__).parents[2] / "data" / "compat" / "engine" / "config" / "testdata"

v4 = ipaddress.IPv4Interface
v6 = ipaddress.IPv6Interface


def load(name: str):
    return load_cluster_file(TESTDATA / name, "au-syd")


# TestHealthchecks
@pytest.mark.parametrize(
    ("name", "expect"),
    [
        ("healthcheck0.pb", Healthcheck(name="", type=HealthcheckType.ICMP_PING)),
        (
            "healthcheck1.pb",
            Healthcheck(
                name="",
                type=HealthcheckType.HTTP,
                mode=HealthcheckMode.DSR,
                interval=100.0,
                timeout=200.0,
                tls_verify=True,
                code=200,
                method="HEAD",
                port=99,
                send="foo",
                receive="bar",
                proxy=True,
            ),
        ),
        (
            "healthcheck2.pb",
            Healthcheck(
                name="",
                type=HealthcheckType.DNS,
                mode=HealthcheckMode.DSR,
                interval=2.0,
                timeout=1.0,
                method="A",
                port=53,
                send="www.example.com",
                receive="192.168.0.1",
            ),
        ),
    ],
)
def test_healthchecks(name, expect):
    path = TESTDATA / name
    assert read_healthcheck_text(read_text(path), str(path)) == expect


def test_minimal_healthcheck_gets_proto_defaults():
    hc = read_healthcheck_text("type: ICMP_PING", "hc.pb")
    assert (hc.interval, hc.timeout, hc.tls_verify, hc.mode) == (10.0, 5.0, True, HealthcheckMode.PLAIN)


# TestNodes
def node(hostname, ip, priority, state, enabled, status=HostStatus.PRODUCTION):
    return Node(
        host=Host(hostname, ipv4=v4(ip), status=status),
        priority=priority,
        state=state,
        anycast_enabled=enabled,
        bgp_enabled=enabled,
        vservers_enabled=enabled,
    )


@pytest.mark.parametrize(
    ("name", "expect"),
    [
        ("nodes0.pb", {}),
        (
            "nodes1.pb",
            {
                "seesaw1-1.example.com.": node("seesaw1-1.example.com.", "1.2.3.5/26", 255, HAState.UNKNOWN, True),
                "seesaw1-2.example.com.": node("seesaw1-2.example.com.", "1.2.3.6/26", 1, HAState.UNKNOWN, True),
            },
        ),
        (
            "nodes2.pb",
            {"seesaw1-1.example.com.": node("seesaw1-1.example.com.", "1.2.3.5/26", 255, HAState.DISABLED, True)},
        ),
        (
            "nodes3.pb",
            {
                "seesaw1-2.example.com.": node(
                    "seesaw1-2.example.com.", "1.2.3.6/26", 255, HAState.DISABLED, False, HostStatus.DISABLED
                )
            },
        ),
        (
            "nodes4.pb",
            {
                "seesaw1-1.example.com.": node(
                    "seesaw1-1.example.com.", "1.2.3.5/26", 255, HAState.DISABLED, False, HostStatus.DISABLED
                ),
                "seesaw1-2.example.com.": node("seesaw1-2.example.com.", "1.2.3.6/26", 1, HAState.UNKNOWN, True),
            },
        ),
    ],
)
def test_nodes(name, expect):
    assert load(name).nodes == expect


def test_node_priorities_follow_ipv4_order_not_file_order():
    pb = config_pb2.Cluster()
    pb.seesaw_vip.fqdn = "vip"
    pb.seesaw_vip.status = config_pb2.Host.PRODUCTION
    for name, ip in (("c", "10.0.0.30/24"), ("a", "10.0.0.4/24"), ("b", "10.0.0.200/24")):
        n = pb.node.add(fqdn=name, ipv4=ip, status=config_pb2.Host.PRODUCTION)
        assert n.fqdn == name
    nodes = cluster_from_proto(pb, "x").nodes
    assert {n: nodes[n].priority for n in nodes} == {"a": 255, "c": 2, "b": 1}


def test_building_node_gets_bgp_only():
    pb = config_pb2.Cluster()
    pb.seesaw_vip.fqdn = "vip"
    pb.seesaw_vip.status = config_pb2.Host.BUILDING
    pb.node.add(fqdn="n", ipv4="10.0.0.2/24", status=config_pb2.Host.BUILDING)
    n = cluster_from_proto(pb, "x").nodes["n"]
    assert (n.state, n.bgp_enabled, n.anycast_enabled, n.vservers_enabled) == (HAState.UNKNOWN, True, False, False)


# TestVIPSubnets / TestVIPSubnetFailures
def test_vip_subnets():
    assert load("vipsubnets0.pb").vip_subnets == {}
    assert load("vipsubnets1.pb").vip_subnets == {
        "192.168.9.0/24": ipaddress.ip_network("192.168.9.0/24"),
        "2015:cafe:9::/64": ipaddress.ip_network("2015:cafe:9::/64"),
    }


def test_duplicate_vip_subnet_is_refused():
    with pytest.raises(ConfigError) as err:
        load("vipsubnets2.pb")
    assert [p.field for p in err.value.errors] == ["dedicated_vip_subnet[1]"]


# TestVLANs
def test_vlans():
    assert load("vlans0.pb").vlans == {}
    vlans = load("vlans1.pb").vlans
    assert vlans == {
        114: VLAN(114, Host("seesaw-vlan114.example.com.", ipv4=v4("192.168.130.10/28"))),
        116: VLAN(116, Host("seesaw-vlan116.example.com.", ipv4=v4("192.168.130.100/29"))),
    }
    assert all(v.backend_count == {} and v.vip_count == {} for v in vlans.values())


def test_vlan_backend_and_vip_counts():
    vlans = load("vlans2.pb").vlans
    assert vlans == {
        100: VLAN(
            100, Host("seesaw1-vlan100.example.com.", ipv4=v4("192.168.100.0/24"), ipv6=v6("2015:100:cafe::10/64"))
        ),
        101: VLAN(
            101, Host("seesaw1-vlan101.example.com.", ipv4=v4("192.168.101.0/24"), ipv6=v6("2015:101:cafe::10/64"))
        ),
    }
    # backend_count/vip_count do not take part in ==, as in Seesaw's VLAN.Equal: compare them explicitly.
    assert (vlans[100].backend_count, vlans[100].vip_count) == ({4: 2, 6: 1}, {4: 1})
    assert (vlans[101].backend_count, vlans[101].vip_count) == ({4: 1, 6: 2}, {6: 1})


# TestVservers
def test_no_vservers():
    assert load("vservers0.pb").vservers == {}


def expected_vservers1() -> dict[str, Vserver]:
    prod = HostStatus.PRODUCTION
    return {
        "dns.resolver.anycast@au-syd": Vserver(
            name="dns.resolver.anycast@au-syd",
            host=Host("dns-anycast.example.com.", ipv4=v4("192.168.255.1/24"), status=prod),
            rp="foo",
            entries={
                "53/UDP": VserverEntry(
                    port=53,
                    protocol=Protocol.UDP,
                    scheduler=Scheduler.WLC,
                    mode=LBMode.DSR,
                    persistence=100,
                    one_packet=True,
                    high_watermark=0.8,
                    low_watermark=0.4,
                    healthchecks={
                        "DNS/53_0": Healthcheck(
                            name="DNS/53_0",
                            type=HealthcheckType.DNS,
                            mode=HealthcheckMode.DSR,
                            port=53,
                            interval=2.0,
                            timeout=1.0,
                            method="A",
                            send="www.example.com",
                            receive="192.168.0.1",
                        )
                    },
                ),
                "53/TCP": VserverEntry(port=53, protocol=Protocol.TCP, persistence=100),
            },
            backends={
                "dns1-1.example.com.": Backend(
                    Host("dns1-1.example.com.", ipv4=v4("192.168.36.2/26"), status=prod), weight=5
                ),
                "dns1-2.example.com.": Backend(
                    Host("dns1-2.example.com.", ipv4=v4("192.168.36.3/26"), status=prod), weight=4
                ),
            },
            healthchecks={
                "HTTP/16767_0": Healthcheck(
                    name="HTTP/16767_0",
                    type=HealthcheckType.HTTPS,
                    mode=HealthcheckMode.DSR,
                    port=16767,
                    tls_verify=False,
                    send="/healthz",
                    receive="Ok",
                    code=200,
                )
            },
            vips={"192.168.255.1 (Anycast)": VIP(ipaddress.ip_address("192.168.255.1"), VIPType.ANYCAST)},
        ),
        "dns.resolver@au-syd": Vserver(
            name="dns.resolver@au-syd",
            host=Host(
                "dns-vip1.example.com.",
                ipv4=v4("192.168.36.1/26"),
                ipv6=v6("2015:cafe:36::a800:1ff:ffee:dd01/64"),
                status=prod,
            ),
            rp="foo",
            entries={
                "53/UDP": VserverEntry(port=53, protocol=Protocol.UDP),
                "53/TCP": VserverEntry(port=53, protocol=Protocol.TCP),
            },
            vips={
                "192.168.36.1 (Dedicated)": VIP(ipaddress.ip_address("192.168.36.1"), VIPType.DEDICATED),
                "2015:cafe:36:0:a800:1ff:ffee:dd01 (Dedicated)": VIP(
                    ipaddress.ip_address("2015:cafe:36::a800:1ff:ffee:dd01"), VIPType.DEDICATED
                ),
            },
        ),
        "irc.server@au-syd": Vserver(
            name="irc.server@au-syd",
            host=Host("irc-anycast.example.com.", ipv4=v4("192.168.255.2/24"), status=prod),
            rp="irc-team@example.com",
            entries={
                "80/TCP": VserverEntry(port=80, protocol=Protocol.TCP),
                "6667/TCP": VserverEntry(port=6667, protocol=Protocol.TCP),
                "6697/TCP": VserverEntry(
                    port=6697,
                    protocol=Protocol.TCP,
                    healthchecks={
                        "TCP/6697_0": Healthcheck(
                            name="TCP/6697_0",
                            type=HealthcheckType.TCP_TLS,
                            port=6697,
                            interval=5.0,
                            send="ADMIN\r\n",
                            receive=":",
                            retries=2,
                        )
                    },
                ),
            },
            backends={
                "irc1-1.example.com.": Backend(
                    Host(
                        "irc1-1.example.com.",
                        ipv4=v4("192.168.36.4/26"),
                        ipv6=v6("2015:cafe:36::a800:1ff:ffee:dd04/64"),
                        status=prod,
                    )
                )
            },
            healthchecks={
                "TCP/6667_0": Healthcheck(
                    name="TCP/6667_0",
                    type=HealthcheckType.TCP,
                    port=6667,
                    interval=5.0,
                    tls_verify=False,
                    send="ADMIN\r\n",
                    receive=":",
                    retries=2,
                )
            },
            vips={"192.168.255.2 (Anycast)": VIP(ipaddress.ip_address("192.168.255.2"), VIPType.ANYCAST)},
            access_grants={
                "group:irc-admin": AccessGrant("irc-admin", AccessRole.ADMIN, AccessType.GROUP),
                "group:irc-oncall": AccessGrant("irc-oncall", AccessRole.OPS, AccessType.GROUP),
            },
        ),
    }


def test_vservers():
    got = load("vservers1.pb").vservers
    want = expected_vservers1()
    assert set(got) == set(want)
    for name in want:
        assert got[name] == want[name], name


def test_watermarks_are_what_the_operator_wrote():
    # proto float 0.8 widens to 0.800000011920929 in Python; Seesaw compared in float32.
    entry = load("vservers1.pb").vservers["dns.resolver.anycast@au-syd"].entries["53/UDP"]
    assert (entry.high_watermark, entry.low_watermark) == (0.8, 0.4)
    assert entry.high_watermark <= 4 / 5


def test_mh_scheduler_tun_mode_and_tun_healthcheck():
    vs = load("vservers2.pb").vservers["api.gateway1@as-hkg"]
    entry = vs.entries["443/TCP"]
    assert (entry.scheduler, entry.mode) == (Scheduler.MH, LBMode.TUN)
    assert vs.healthchecks["HTTP/8001_0"].mode is HealthcheckMode.TUN
    assert set(vs.vips) == {"192.168.36.1 (Unicast)", "2015:cafe:36:0:a800:1ff:ffee:dd01 (Unicast)"}


def test_high_watermark_below_low_is_raised_to_low():
    pb = text_format.Parse(
        'seesaw_vip { fqdn: "v" status: PRODUCTION } vserver { name: "a" rp: "r" '
        'entry_address { fqdn: "a" ipv4: "10.0.0.9/24" } '
        "vserver_entry { protocol: TCP port: 80 server_low_watermark: 0.3 } }",
        config_pb2.Cluster(),
    )
    entry = cluster_from_proto(pb, "x").vservers["a"].entries["80/TCP"]
    assert (entry.low_watermark, entry.high_watermark) == (0.3, 0.3)


def test_float32_shortest_repr():
    assert float32(0.800000011920929) == 0.8
    assert float32(0.30000001192092896) == 0.3
    assert float32(0.0) == 0.0
    assert float32(float("inf")) == float("inf")


def hc(type_, port=0, **kw):
    return config_pb2.Healthcheck(type=type_, port=port, **kw)


def test_healthcheck_names_count_per_type_and_port_after_seesaws_sort():
    H = config_pb2.Healthcheck
    checks = [
        hc(H.TCP, 80, send="b"),
        hc(H.HTTP, 80),
        hc(H.TCP, 80, send="a"),
        hc(H.TCP, 81),
        hc(H.DNS, 53, method="A", send="x"),
        hc(H.TCP_TLS, 443),
    ]
    named = [(c.name, c.type.name, c.send) for c in named_healthchecks(checks, 0)]
    assert named == [
        ("DNS/53_0", "DNS", "x"),
        ("HTTP/80_0", "HTTP", ""),
        ("TCP/80_0", "TCP", "a"),
        ("TCP/80_1", "TCP", "b"),
        ("TCP/81_0", "TCP", ""),
        ("TCP/443_0", "TCP_TLS", ""),
    ]


def test_entry_checks_default_to_entry_port_and_vserver_checks_to_zero():
    H = config_pb2.Healthcheck
    assert [c.name for c in named_healthchecks([hc(H.HTTP)], 8080)] == ["HTTP/8080_0"]
    assert [c.name for c in named_healthchecks([hc(H.ICMP_PING)], 0)] == ["ICMP_PING/0_0"]


def test_access_grants_metadata_and_warnings():
    pb = text_format.Parse(
        'seesaw_vip { fqdn: "v" status: PRODUCTION } '
        'vserver { name: "a" rp: "r" entry_address { fqdn: "a" ipv4: "10.0.0.9/24" } '
        'access_grant { grantee: "alice" role: OPS type: USER } warning: "zz" warning: "aa" } '
        'access_groups { name: "ops" member: "bob" member: "carol" } '
        'misconfigured_vserver { name: "b" error_message: "bad" } '
        'misconfigured_vserver { name: "a" error_message: "worse" } '
        'metadata { last_updated: 1447906527 attribute { name: "k" value: "v" } }',
        config_pb2.Cluster(),
    )
    c = cluster_from_proto(pb, "au-syd")
    assert c.site == "au-syd"
    assert c.vservers["a"].access_grants == {"user:alice": AccessGrant("alice", AccessRole.OPS, AccessType.USER)}
    assert c.vservers["a"].warnings == ("aa", "zz")
    assert c.access_groups == {"ops": ("bob", "carol")}
    assert c.warnings == ("a: worse", "b: bad")
    assert (c.metadata.last_updated, c.metadata.attributes) == (1447906527, (("k", "v"),))
    assert (c.bgp_local_asn, c.vmac) == (64512, "00:00:5E:00:01:01")


def test_backend_enabled_and_in_service_by_status():
    statuses = ["PRODUCTION", "TESTING", "BUILDING", "STANDBY", "FAILURE", "DISABLED", "PROPOSED"]
    backends = " ".join(
        f'backend {{ host {{ fqdn: "{s}" ipv4: "10.0.0.{i + 10}/24" status: {s} }} }}' for i, s in enumerate(statuses)
    )
    pb = text_format.Parse(
        'seesaw_vip { fqdn: "v" status: PRODUCTION } '
        f'vserver {{ name: "a" rp: "r" entry_address {{ fqdn: "a" ipv4: "10.0.0.9/24" status: TESTING }} {backends} }}',
        config_pb2.Cluster(),
    )
    vs = cluster_from_proto(pb, "x").vservers["a"]
    assert vs.enabled
    got = {name: (b.enabled, b.in_service) for name, b in vs.backends.items()}
    assert got == {
        "PRODUCTION": (True, True),
        "TESTING": (True, True),
        "BUILDING": (False, False),
        "STANDBY": (False, True),
        "FAILURE": (False, True),
        "DISABLED": (False, True),
        "PROPOSED": (False, False),
    }


def test_unset_status_reads_as_production_like_go():
    pb = text_format.Parse(
        'seesaw_vip { fqdn: "v" status: PRODUCTION } '
        'vserver { name: "a" rp: "r" entry_address { fqdn: "a" ipv4: "10.0.0.9/24" } '
        'backend { host { fqdn: "b" ipv4: "10.0.0.10/24" } } }',
        config_pb2.Cluster(),
    )
    vs = cluster_from_proto(pb, "x").vservers["a"]
    assert vs.enabled and vs.backends["b"].enabled and vs.backends["b"].in_service
    assert vs.host.status is HostStatus.UNSET


def test_convert_is_total_on_what_seesaw_tolerated():
    # Malformed CIDRs mean "no address" and duplicates keep the first, as in Seesaw.
    pb = text_format.Parse(
        'seesaw_vip { fqdn: "v" ipv4: "not-an-ip" } '
        'vserver { name: "a" rp: "r" entry_address { fqdn: "a" ipv4: "10.0.0.9" } } '
        'vserver { name: "a" rp: "second" entry_address { fqdn: "a2" ipv4: "10.0.0.8/24" } }',
        config_pb2.Cluster(),
    )
    c = cluster_from_proto(pb, "x")
    assert c.vip.ipv4 is None
    assert c.vservers["a"].rp == "r" and c.vservers["a"].vips == {}
