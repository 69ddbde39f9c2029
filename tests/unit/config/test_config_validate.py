"""Each validation rule, asserted as the exact line an operator reads:
`file:line:col: field: reason`."""

import textwrap

import pytest

from seesaw.config import ConfigError, read_cluster_text

# Lines 1-10 are a valid cluster; a vserver appended to it starts at line 11, its body at line 15.
BASE = """\
seesaw_vip {
  fqdn: "vip.example.com."
  ipv4: "192.168.10.1/24"
  status: PRODUCTION
}
node {
  fqdn: "seesaw1-1.example.com."
  ipv4: "192.168.10.2/24"
  status: PRODUCTION
}
"""


def vserver(body: str, name: str = "web", vip: str = "192.168.10.10/24") -> str:
    """A vserver whose `body` starts at line 5 of the block."""
    return (
        "vserver {\n"
        f'  name: "{name}"\n'
        '  rp: "web-team@example.com"\n'
        f'  entry_address {{ fqdn: "web.example.com." ipv4: "{vip}" status: PRODUCTION }}\n'
        + textwrap.indent(textwrap.dedent(body).strip("\n"), "  ")
        + "\n}\n"
    )


HEALTHY = """\
vserver_entry { protocol: TCP port: 80 healthcheck { type: HTTP send: "/" } }
backend { host { fqdn: "web1.example.com." ipv4: "192.168.10.20/24" status: PRODUCTION } }
"""


def problems(text: str) -> list[str]:
    try:
        parsed = read_cluster_text(text, "c.pb", "au-syd")
    except ConfigError as err:
        return [str(p) for p in err.problems]
    return [str(p) for p in parsed.warnings]


def test_base_is_clean():
    assert problems(BASE + vserver(HEALTHY)) == []


def test_seesaw_vip_without_status():
    text = 'seesaw_vip {\n  fqdn: "vip.example.com."\n}\n'
    assert problems(text) == [
        "c.pb:1:1: seesaw_vip.status: is not set (Seesaw v2 crashed on this): set `status: PRODUCTION` to run HA, "
        "or `status: DISABLED` to run without it"
    ]


def test_missing_required_fields_are_located_at_their_message():
    text = BASE + "vserver {\n" + '  name: "web"\n' + "}\n"
    assert problems(text) == [
        "c.pb:11:1: vserver[0].entry_address: is required but missing in vserver[0]: add `entry_address "
        '{ fqdn: "..." ipv4: "a.b.c.d/len" status: PRODUCTION }` (the VIP)',
        'c.pb:11:1: vserver[0].rp: is required but missing in vserver[0]: add `rp: "team@example.com"` '
        "(the responsible party)",
    ]


def test_missing_seesaw_vip_is_located_at_the_top():
    assert problems('node { fqdn: "n" ipv4: "10.0.0.1/24" }\n') == [
        "c.pb:1:1: seesaw_vip: is required but missing at the top level: add "
        '`seesaw_vip { fqdn: "..." ipv4: "a.b.c.d/len" status: PRODUCTION }`'
    ]


def test_syntax_error_names_the_field_and_lists_enum_values():
    text = BASE.replace("status: PRODUCTION\n}\nnode", "status: PRODUCTON\n}\nnode")
    assert problems(text) == [
        'c.pb:4:11: seesaw_vip.status: Enum type "seesaw.config.Host.Status" has no value named PRODUCTON; '
        "use one of PRODUCTION, TESTING, BUILDING, STANDBY, FAILURE, DISABLED, PROPOSED"
    ]


def test_unknown_field_suggests_the_close_one():
    text = BASE + vserver(HEALTHY.replace("protocol: TCP", "protocl: TCP"))
    assert problems(text) == [
        'c.pb:15:19: vserver[0].vserver_entry[0].protocl: Message type "seesaw.config.VserverEntry" has no field '
        "named "
        '"protocl"; did you mean protocol?'
    ]


def test_malformed_cidrs_are_refused():
    text = BASE.replace('"192.168.10.2/24"', '"192.168.10.2"') + 'dedicated_vip_subnet: "192.168.100.0/33"\n'
    assert problems(text) == [
        'c.pb:8:3: node[0].ipv4: "192.168.10.2" has no prefix length: write it with one, e.g. "192.168.10.2/24"',
        'c.pb:11:1: dedicated_vip_subnet[0]: "192.168.100.0/33" is not a valid CIDR address: '
        "'192.168.100.0/33' does not appear to be an IPv4 or IPv6 interface",
    ]


def test_address_of_the_wrong_family():
    text = BASE.replace('ipv4: "192.168.10.2/24"', 'ipv4: "2015:cafe::2/64"')
    assert problems(text)[0] == (
        'c.pb:8:3: node[0].ipv4: "2015:cafe::2/64" is an IPv6 address but this field takes IPv4'
    )


def test_duplicate_node_bgp_peer_group_vlan_subnet():
    text = (
        BASE
        + 'node {\n  fqdn: "seesaw1-1.example.com."\n  ipv4: "192.168.10.3/24"\n}\n'  # 11-14
        + 'bgp_peer { fqdn: "r1" }\nbgp_peer { fqdn: "r1" }\n'  # 15-16
        + 'access_groups { name: "ops" }\naccess_groups { name: "ops" }\n'  # 17-18
        + 'vlan { vlan_id: 5 host { fqdn: "v5" } }\nvlan { vlan_id: 5 host { fqdn: "v5b" } }\n'  # 19-20
        + 'dedicated_vip_subnet: "192.168.100.0/26"\ndedicated_vip_subnet: "192.168.100.1/26"\n'  # 21-22
    )
    assert problems(text) == [
        'c.pb:12:3: node[1].fqdn: duplicate node "seesaw1-1.example.com.": each node must be listed once; '
        "remove or rename one (first at line 7)",
        'c.pb:16:12: bgp_peer[1].fqdn: duplicate BGP peer "r1": each BGP peer must be listed once; '
        "remove or rename one (first at line 15)",
        'c.pb:18:17: access_groups[1].name: duplicate access group "ops": merge the members into one group '
        "(first at line 17)",
        "c.pb:20:8: vlan[1].vlan_id: duplicate VLAN 5: each VLAN ID may appear once (first at line 19)",
        "c.pb:22:1: dedicated_vip_subnet[1]: duplicate dedicated VIP subnet 192.168.100.0/26: list each subnet once "
        "(first at line 21)",
    ]


def test_vlan_id_range_and_node_without_ipv4():
    text = BASE + 'vlan { vlan_id: 4095 host { fqdn: "v" } }\nnode { fqdn: "n2" }\n'
    assert problems(text) == [
        "c.pb:11:8: vlan[0].vlan_id: must be between 1 and 4094 (got 4095)",
        'c.pb:12:1: node[1]: node "n2" has no ipv4: nodes are ordered by IPv4 address and elect a leader over '
        'IPv4; add `ipv4: "a.b.c.d/len"`',
    ]


def test_duplicate_vserver_entry_and_backend():
    text = (
        BASE
        + vserver(HEALTHY)
        + vserver(
            """\
            vserver_entry { protocol: TCP port: 80 healthcheck { type: HTTP send: "/" } }
            vserver_entry { protocol: TCP port: 80 }
            backend { host { fqdn: "a.example.com." ipv4: "192.168.10.21/24" } }
            backend { host { fqdn: "a.example.com." ipv4: "192.168.10.22/24" } }
            """,
            name="api",
            vip="192.168.10.11/24",
        )
        + vserver(HEALTHY, name="web")
    )
    # vserver blocks: lines 11-17, 18-26, 27-33.
    assert problems(text) == [
        'c.pb:23:33: vserver[1].vserver_entry[1].port: duplicate entry 80/TCP in vserver "api": merge the two '
        "vserver_entry blocks (first at line 22)",
        'c.pb:25:20: vserver[1].backend[1].host.fqdn: duplicate backend "a.example.com.": each backend must be '
        "listed once; remove or rename one (first at line 24)",
        'c.pb:28:3: vserver[2].name: duplicate vserver "web": vserver names must be unique; rename or remove one '
        "(first at line 12)",
        "c.pb:31:33: vserver[2].vserver_entry[0].port: 192.168.10.10 80/TCP is already served by another vserver: "
        "a VIP, port and protocol can belong to one vserver only (first at line 15)",
    ]


def test_vserver_vip_equal_to_cluster_vip_unicast_is_an_error():
    text = BASE + vserver(HEALTHY, vip="192.168.10.1/24")
    assert problems(text) == [
        "c.pb:14:44: vserver[0].entry_address.ipv4: 192.168.10.1 is the cluster VIP (seesaw_vip): both would be "
        "added to the LB interface and the second add fails; give the vserver an address of its own"
    ]


def test_vserver_vip_equal_to_cluster_vip_anycast_is_a_warning():
    text = BASE.replace("192.168.10.1/24", "192.168.255.1/24") + vserver(HEALTHY, vip="192.168.255.1/24")
    assert problems(text) == [
        "c.pb:14:44: vserver[0].entry_address.ipv4: warning: Anycast VIP 192.168.255.1 is also the cluster VIP "
        "(seesaw_vip): traffic for it is ambiguous; give the vserver an address of its own"
    ]


def test_vserver_vip_equal_to_a_node_address():
    text = BASE + vserver(HEALTHY, vip="192.168.10.2/24")
    assert problems(text) == [
        'c.pb:14:44: vserver[0].entry_address.ipv4: 192.168.10.2 is the address of node "seesaw1-1.example.com.": '
        "give the vserver an address of its own"
    ]


def test_vserver_without_vip_and_unreachable_unicast_vip():
    text = BASE + vserver(HEALTHY, vip="10.9.9.9/24").replace(' ipv4: "10.9.9.9/24"', "")
    text += vserver(HEALTHY, name="far", vip="10.9.9.9/24").replace("192.168.10.20", "10.9.9.20")
    assert problems(text) == [
        "c.pb:14:3: vserver[0].entry_address: has neither ipv4 nor ipv6: give the vserver its VIP, e.g. ipv4: "
        '"192.168.10.10/24"',
        "c.pb:21:44: vserver[1].entry_address.ipv4: warning: unicast VIP 10.9.9.9 is outside the cluster network "
        "and every VLAN: the LB interface has no network to add it to; use an address inside one, or list its "
        "subnet in dedicated_vip_subnet",
    ]


def test_dedicated_and_vlan_vips_are_reachable():
    text = (
        BASE
        + 'vlan { vlan_id: 7 host { fqdn: "v7" ipv4: "10.7.0.1/24" } }\n'
        + 'dedicated_vip_subnet: "10.8.0.0/24"\n'
        + vserver(HEALTHY, vip="10.7.0.10/24")
        + vserver(HEALTHY, name="ded", vip="10.8.0.10/32")
    )
    assert problems(text) == []


def test_entry_numbers():
    text = BASE + vserver(
        """\
        vserver_entry {
          protocol: UDP
          port: 0
          server_low_watermark: 1.5
          persistence: -1
          lthreshold: 10
          uthreshold: 5
          one_packet: true
          healthcheck { type: DNS method: "A" send: "a.example.com" }
        }
        vserver_entry { protocol: TCP port: 70000 one_packet: true healthcheck { type: TCP } }
        backend { host { fqdn: "b.example.com." ipv4: "192.168.10.20/24" } weight: -2 }
        """
    )
    assert problems(text) == [
        "c.pb:17:5: vserver[0].vserver_entry[0].port: must be between 1 and 65535 (got 0)",
        "c.pb:18:5: vserver[0].vserver_entry[0].server_low_watermark: must be a fraction between 0 and 1 of the "
        "backends (got 1.5)",
        "c.pb:19:5: vserver[0].vserver_entry[0].persistence: must not be negative (got -1)",
        "c.pb:20:5: vserver[0].vserver_entry[0].lthreshold: (10) must not exceed uthreshold (5): IPVS resumes a "
        "destination below lthreshold after stopping it at uthreshold",
        "c.pb:25:33: vserver[0].vserver_entry[1].port: must be between 1 and 65535 (got 70000)",
        "c.pb:25:45: vserver[0].vserver_entry[1].one_packet: warning: only affects UDP; it does nothing for a TCP "
        "entry",
        "c.pb:26:70: vserver[0].backend[0].weight: must not be negative (got -2)",
    ]


def test_healthcheck_intervals_timeouts_retries():
    text = BASE + vserver(
        """\
        vserver_entry { protocol: TCP port: 80 }
        backend { host { fqdn: "b.example.com." ipv4: "192.168.10.20/24" } }
        healthcheck {
          type: TCP
          port: 80
          interval: 0
          timeout: -3
          retries: -1
        }
        """
    )
    assert problems(text) == [
        "c.pb:20:5: vserver[0].healthcheck[0].interval: must be at least 1 second (got 0); the default is 10",
        "c.pb:21:5: vserver[0].healthcheck[0].timeout: must be at least 1 second (got -3); the default is 5",
        "c.pb:22:5: vserver[0].healthcheck[0].retries: must not be negative (got -1)",
    ]


def test_vserver_level_check_needs_a_port_but_icmp_does_not():
    text = BASE + vserver(HEALTHY + "healthcheck { type: HTTP }\nhealthcheck { type: ICMP_PING }\n")
    assert problems(text) == [
        "c.pb:17:3: vserver[0].healthcheck[0].port: is not set: a vserver-level HTTP check has no entry port to "
        "default to; set `port`"
    ]


def test_icmp_in_dsr_or_tun_mode():
    text = BASE + vserver(
        HEALTHY + "healthcheck { type: ICMP_PING mode: DSR }\nhealthcheck { type: ICMP_PING mode: TUN }\n"
    )
    assert problems(text) == [
        "c.pb:17:33: vserver[0].healthcheck[0].mode: ICMP_PING checks cannot run in DSR mode: remove `mode` "
        "(PLAIN) or use a TCP or HTTP check",
        "c.pb:18:33: vserver[0].healthcheck[1].mode: ICMP_PING checks cannot run in TUN mode: remove `mode` "
        "(PLAIN) or use a TCP or HTTP check",
    ]


def test_dns_checks_need_a_known_method_and_a_name():
    text = BASE + vserver(
        """\
        vserver_entry {
          protocol: UDP
          port: 53
          healthcheck { type: DNS send: "www.example.com" }
          healthcheck { type: DNS method: "AAAB" send: "www.example.com" }
          healthcheck { type: DNS method: "opt" send: "www.example.com" }
          healthcheck { type: DNS method: "mx" }
        }
        backend { host { fqdn: "b.example.com." ipv4: "192.168.10.20/24" } }
        """
    )
    assert problems(text) == [
        "c.pb:18:5: vserver[0].vserver_entry[0].healthcheck[0].method: is not set: a DNS check needs the query "
        'type, e.g. method: "A" (Seesaw silently never ran it)',
        'c.pb:19:29: vserver[0].vserver_entry[0].healthcheck[1].method: "AAAB" is not a DNS query type: use one '
        "such as A, AAAA, CNAME, MX, NS, SOA, TXT",
        'c.pb:20:29: vserver[0].vserver_entry[0].healthcheck[2].method: "opt" cannot be asked as a DNS question',
        "c.pb:21:5: vserver[0].vserver_entry[0].healthcheck[3].send: is not set: a DNS check needs the name to "
        'query, e.g. "www.example.com"',
    ]


def test_radius_send_format():
    text = BASE + vserver(
        HEALTHY
        + 'healthcheck { type: RADIUS port: 1812 send: "user:pass" }\n'
        + 'healthcheck { type: RADIUS port: 1812 send: "user:pass:secret" }\n'
    )
    assert problems(text) == [
        'c.pb:17:41: vserver[0].healthcheck[0].send: a RADIUS check sends "user:password:secret" (three fields, '
        "two colons); got 2 field(s)"
    ]


def test_http_code_and_proxy_mode():
    text = BASE + vserver(HEALTHY + "healthcheck { type: HTTP port: 8080 code: 999 proxy: true }\n")
    assert problems(text) == [
        "c.pb:17:39: vserver[0].healthcheck[0].code: must be an HTTP status (100..599) or 0 for any (got 999)",
        "c.pb:17:49: vserver[0].healthcheck[0].proxy: warning: proxy checks only work in DSR or TUN mode (the "
        "request must reach the backend via the VIP); set `mode: DSR`",
    ]


def test_https_next_to_http_on_one_port_gets_the_same_name():
    text = BASE + vserver(HEALTHY + "healthcheck { type: HTTPS port: 443 }\nhealthcheck { type: HTTP port: 443 }\n")
    assert problems(text) == [
        "c.pb:17:17: vserver[0].healthcheck[0].type: this HTTPS check would be named HTTP/443_0 like another check "
        "(Seesaw names HTTPS checks HTTP), so Seesaw would drop one of them; use one check, or different ports "
        "(first at line 18)"
    ]


def test_tcp_tls_next_to_tcp_on_the_entry_port():
    text = BASE + vserver(
        """\
        vserver_entry {
          protocol: TCP
          port: 6697
          healthcheck { type: TCP }
          healthcheck { type: TCP send: "x" }
          healthcheck { type: TCP_TLS port: 6697 }
        }
        backend { host { fqdn: "b" ipv4: "192.168.10.20/24" } }
        """
    )
    assert problems(text) == [
        "c.pb:20:19: vserver[0].vserver_entry[0].healthcheck[2].type: this TCP_TLS check would be named TCP/6697_0 "
        "like another check (Seesaw names TCP_TLS checks TCP), so Seesaw would drop one of them; use one check, or "
        "different ports (first at line 18)"
    ]


def test_vserver_with_backends_but_no_healthchecks():
    text = BASE + vserver(
        'vserver_entry { protocol: TCP port: 80 }\nbackend { host { fqdn: "b" ipv4: "192.168.10.20/24" } }\n'
    )
    assert problems(text) == [
        'c.pb:11:1: vserver[0]: warning: vserver "web" has backends but no healthchecks: backends are only brought '
        "up by passing checks, so it will never serve; add a `healthcheck`"
    ]


def test_backend_without_address_or_of_the_wrong_family():
    text = BASE + vserver(
        HEALTHY
        + 'backend { host { fqdn: "none.example.com." } }\n'
        + 'backend { host { fqdn: "v6.example.com." ipv6: "2015:cafe::20/64" } }\n'
    )
    assert problems(text) == [
        "c.pb:17:13: vserver[0].backend[1].host: has neither ipv4 nor ipv6: give the backend its address",
        'c.pb:18:13: vserver[0].backend[2].host: warning: backend "v6.example.com." has no IPv4 address, the '
        "family of the vserver's VIP: it will never receive traffic",
    ]


def test_access_grants():
    text = (
        BASE
        + 'access_groups { name: "web-admin" member: "alice" }\n'
        + vserver(
            HEALTHY
            + 'access_grant { grantee: "web-admin" role: ADMIN type: GROUP }\n'
            + 'access_grant { grantee: "web-oncall" role: OPS type: GROUP }\n'
            + 'access_grant { grantee: "web-admin" role: OPS type: GROUP }\n'
        )
    )
    assert problems(text) == [
        'c.pb:19:18: vserver[0].access_grant[1].grantee: warning: access group "web-oncall" is not defined: the '
        'grant gives access to nobody; add `access_groups { name: "web-oncall" member: ... }`',
        'c.pb:20:3: vserver[0].access_grant[2]: warning: duplicate grant to group "web-admin": only the first one '
        "counts (first at line 18)",
    ]


def test_fwm_entries_that_disagree():
    text = BASE + vserver(HEALTHY + "use_fwm: true\nvserver_entry { protocol: UDP port: 80 scheduler: RR }\n")
    assert problems(text) == [
        "c.pb:17:3: vserver[0].use_fwm: warning: the entries disagree on scheduler, mode or persistence, but a "
        "firewall-mark service has only one of each; make them agree"
    ]


def test_vmac_and_node_using_the_cluster_vip():
    text = BASE.replace('"192.168.10.2/24"', '"192.168.10.1/24"') + 'vmac: "00:00:5E:00:01"\n'
    assert problems(text) == [
        "c.pb:8:3: node[0].ipv4: 192.168.10.1 is also the cluster VIP (seesaw_vip): give the node an address of "
        "its own",
        'c.pb:11:1: vmac: "00:00:5E:00:01" is not a MAC address: write six hex pairs, e.g. 00:00:5E:00:01:01',
    ]


def test_all_problems_at_once_and_only_config_error():
    text = BASE + vserver(
        """\
        vserver_entry { protocol: TCP port: 0 healthcheck { type: TCP interval: 0 } }
        backend { host { fqdn: "b" ipv4: "nope" } }
        """
    )
    with pytest.raises(ConfigError) as err:
        read_cluster_text(text, "c.pb", "x")
    assert [p.field for p in err.value.errors] == [
        "vserver[0].vserver_entry[0].port",
        "vserver[0].vserver_entry[0].healthcheck[0].interval",
        "vserver[0].backend[0].host.ipv4",
    ]


def test_binary_problems_name_the_field_without_a_position():
    from seesaw.config import read_cluster_bytes
    from seesaw.pb import config_pb2

    pb = config_pb2.Cluster()
    pb.seesaw_vip.fqdn = "vip"
    pb.seesaw_vip.status = config_pb2.Host.PRODUCTION
    pb.dedicated_vip_subnet.extend(["10.0.0.0/24", "10.0.0.0/24"])
    with pytest.raises(ConfigError) as err:
        read_cluster_bytes(pb.SerializeToString(), "x", "https://cfg:10255/config/x")
    assert [str(p) for p in err.value.problems] == [
        "https://cfg:10255/config/x: dedicated_vip_subnet[1]: duplicate dedicated VIP subnet 10.0.0.0/24: list each "
        "subnet once (first at dedicated_vip_subnet[0])"
    ]
    with pytest.raises(ConfigError) as err:
        read_cluster_bytes(b"\xff\xff\xff", "x", "server")
    assert str(err.value).startswith("server: is not a binary Cluster message")
    # proto2 does not check UTF-8 on the wire: a string field may hold any bytes.
    with pytest.raises(ConfigError) as err:
        read_cluster_bytes(b"\n\x03\n\x01\xff", "x", "server")
    assert str(err.value) == "server: seesaw_vip.fqdn: is not UTF-8 text: check what the config server sent"
