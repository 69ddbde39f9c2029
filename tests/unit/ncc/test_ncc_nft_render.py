"""nftables rendering: what our tables look like, checked by nft itself; and reading nft's listings back."""

import ipaddress
import json
import os
import shutil
import subprocess

import pytest

from seesaw.ncc.kernel import nft_filter_render, nft_render
from seesaw.ncc.kernel.nft_ledger import Ledger
from seesaw.ncc.kernel.nft_parse import parse, parse_text
from seesaw.ncc.model import (
    FLAG_ONEPACKET,
    FLAG_PERSISTENT,
    FLAG_SCHED2,
    Destination,
    DestinationKey,
    Family,
    Forwarding,
    Protocol,
    Service,
    ServiceKey,
    VIPFilter,
)
from seesaw.ncc.steps import Step


def ip(text):
    return ipaddress.ip_address(text)


def svc(vip, port=80, scheduler="wrr", protocol=Protocol.TCP, flags=0):
    return Service(ServiceKey.ip(protocol, ip(vip), port), scheduler, flags)


def dst(service, address, port, forwarding=Forwarding.MASQ, weight=1):
    return Destination(DestinationKey(service.key, ip(address), port), forwarding, weight)


WEB = svc("192.0.2.1")
V6 = svc("2001:db8::1", 53, "sh", Protocol.UDP, FLAG_SCHED2)
DSR = svc("192.0.2.2", 443, "rr")
MARK = Service(ServiceKey.mark(Family.INET, 300), "wlc")
SPECS = [
    WEB,
    dst(WEB, "10.0.0.1", 8080, weight=2),
    V6,
    dst(V6, "2001:db8:1::1", 53),
    DSR,
    dst(DSR, "10.0.0.2", 443, Forwarding.ROUTE),
]

# `nft -j list table ip seesaw` after NftServices applied SPECS with the DSR backend on eth1
# (nft 1.0.6, rules left out).
LISTING = json.loads(
    '{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, '
    '{"table": {"family": "ip", "name": "seesaw", "handle": 1}}, {"map": {"family": "ip", "name": "svc", "table": '
    '"seesaw", "type": ["ipv4_addr", "inet_proto", "inet_service"], "handle": 1, "map": "verdict", "elem": [[{"elem": '
    '{"val": {"concat": ["192.0.2.1", "tcp", 80]}, "comment": "wrr flags=0x0 timeout=0"}}, {"goto": {"target": '
    '"rr_1"}}], [{"elem": {"val": {"concat": ["192.0.2.2", "tcp", 443]}, "comment": "rr flags=0x0 timeout=0"}}, '
    '{"accept": null}]]}}, {"map": {"family": "ip", "name": "msvc", "table": "seesaw", "type": "mark", "handle": 2, '
    '"map": "verdict"}}, {"set": {"family": "ip", "name": "dest", "table": "seesaw", "type": ["ipv4_addr", '
    '"inet_proto", "inet_service", "ipv4_addr", "inet_service"], "handle": 3, "elem": [{"elem": {"val": {"concat": '
    '["192.0.2.1", "tcp", 80, "10.0.0.1", 8080]}, "comment": "MASQ weight=2 upper=0 lower=0"}}, {"elem": {"val": '
    '{"concat": ["192.0.2.2", "tcp", 443, "10.0.0.2", 443]}, "comment": "ROUTE weight=1 upper=0 lower=0"}}]}}, '
    '{"set": {"family": "ip", "name": "mdest", "table": "seesaw", "type": ["mark", "ipv4_addr", "inet_service"], '
    '"handle": 4}}, {"map": {"family": "ip", "name": "slots", "table": "seesaw", "type": ["ipv4_addr", "inet_proto", '
    '"inet_service", "integer"], "handle": 5, "map": "ipv4_addr . inet_service", "elem": [[{"elem": {"val": {"concat": '
    '["192.0.2.1", "tcp", 80, 0]}, "counter": {"packets": 2, "bytes": 120}}}, {"concat": ["10.0.0.1", 8080]}]], '
    '"stmt": [{"counter": null}]}}, {"map": {"family": "ip", "name": "mslots", "table": "seesaw", '
    '"type": ["mark", "integer"], "handle": 6, "map": "ipv4_addr", "stmt": [{"counter": null}]}}, {"set": {"family": '
    '"ip", "name": "traffic", "table": "seesaw", "type": ["ipv4_addr", "inet_proto", "inet_service"], "handle": 7, '
    '"elem": [{"elem": {"val": {"concat": ["192.0.2.1", "tcp", 80]}, "counter": {"packets": 9, "bytes": 1500}}}, '
    '{"elem": {"val": {"concat": ["192.0.2.2", "tcp", 443]}, "counter": {"packets": 0, "bytes": 0}}}], '
    '"stmt": [{"counter": null}]}}, {"chain": {"family": "ip", "table": "seesaw", '
    '"name": "prerouting", "handle": 7, "type": "nat", "hook": "prerouting", "prio": -100, "policy": "accept"}}]}'
)

# `nft -t list table netdev seesaw_dsr_eth1` for the same state (maps and one chain shortened).
DSR_TEXT = """table netdev seesaw_dsr_eth1 {
	map svc4 {
		typeof ip daddr . meta l4proto . th dport : verdict
	}

	map ft4 {
		typeof ip saddr . th sport . ip daddr . th dport : meta mark
		size 1048576
		flags dynamic,timeout
		timeout 15m
	}

	chain ingress {
		type filter hook ingress device "eth1" priority filter; policy accept;
		ip daddr . meta l4proto . th dport vmap @svc4 comment "seesaw"
		ip6 daddr . meta l4proto . th dport vmap @svc6 comment "seesaw"
	}

	chain d4_tcp_rr_1 {
		ip saddr . th sport . ip daddr . th dport != @ft4 meta mark set ip daddr . meta l4proto . th dport . numgen inc mod 1 map @slots4 update @ft4 { ip saddr . th sport . ip daddr . th dport : meta mark } comment "seesaw"
		fwd ip to meta mark map @ids4 device "eth1" comment "seesaw"
		meta mark set 0x00000000
	}
}
"""  # noqa: E501


def test_parsed_listing_equals_what_render_writes():
    ledger = Ledger()
    ledger.commit(ledger.stage([Step.add("p", s) for s in SPECS], lambda a: "eth1"))
    ours = {k: v for k, v in ledger.held.items() if k[0] == "ip seesaw"}
    listing = parse(LISTING)
    assert listing.elements == ours
    assert listing.counters == {
        ("ip seesaw", "slots", "192.0.2.1 . 6 . 80 . 0"): (2, 120),
        ("ip seesaw", "traffic", "192.0.2.1 . 6 . 80"): (9, 1500),
        ("ip seesaw", "traffic", "192.0.2.2 . 6 . 443"): (0, 0),
    }


def test_parse_text_reads_maps_chains_devices_and_our_rules():
    listing = parse_text("netdev seesaw_dsr_eth1", DSR_TEXT)
    assert listing.sets["netdev seesaw_dsr_eth1"] == {"svc4", "ft4"}
    ingress = listing.chains[("netdev seesaw_dsr_eth1", "ingress")]
    assert (ingress.hook, ingress.device, ingress.rule_comments) == ("ingress", "eth1", ("seesaw", "seesaw"))
    assert listing.chains[("netdev seesaw_dsr_eth1", "d4_tcp_rr_1")].rule_comments == ("seesaw", "seesaw", None)


def test_registry_comments_round_trip():
    service = Service(ServiceKey.ip(Protocol.UDP, ip("192.0.2.1"), 53), "mh", FLAG_PERSISTENT | FLAG_SCHED2, 300)
    assert nft_render.parse_service_comment(service.key, nft_render.service_comment(service)) == service
    dest = Destination(DestinationKey(service.key, ip("10.0.0.1"), 53), Forwarding.ROUTE, 7, 100, 10)
    assert nft_render.parse_destination_comment(dest.key, nft_render.destination_comment(dest)) == dest
    assert nft_render.parse_service_comment(service.key, "hand-made") is None


def test_schedulers_pick_their_selector():
    chain = nft_render.nat_chain(Family.INET, False, nft_render.selector_kind(svc("192.0.2.1", scheduler="sh")), 3)
    assert chain.rules == (
        "meta l4proto tcp dnat ip to ip daddr . meta l4proto . th dport . jhash ip saddr mod 3 seed 0x5eed map @slots",
        "meta l4proto udp dnat ip to ip daddr . meta l4proto . th dport . jhash ip saddr mod 3 seed 0x5eed map @slots",
    )
    persistent = svc("192.0.2.1", scheduler="rr", flags=FLAG_PERSISTENT)
    assert nft_render.selector_kind(persistent) == "sh"
    one_packet = nft_render.dsr_chain("eth1", Family.INET, Protocol.UDP, "rr", 2, True)
    assert one_packet.name == "d4_udp_rr_2_1p" and "@fu4" not in " ".join(one_packet.rules)
    v6 = nft_render.dsr_chain("eth1", Family.INET6, Protocol.TCP, "rr", 2, False)
    assert v6.name == "d6_tcp_fh_2" and "jhash ip6 saddr . th sport . ip6 daddr . th dport mod 2" in v6.rules[0]


def test_a_pinned_dsr_flow_is_chosen_again_once_its_destination_left_the_service():
    chain = nft_render.dsr_chain("eth1", Family.INET, Protocol.UDP, "rr", 2, False)
    flow = "ip saddr . th sport . ip daddr . th dport"
    assert chain.rules[:4] == (
        f"meta mark set {flow} map @fu4",
        f"meta mark != 0 ip daddr . meta l4proto . th dport . meta mark != @live4 delete @fu4 {{ {flow} : meta mark }} "
        "meta mark set 0",
        "meta mark 0 meta mark set ip daddr . meta l4proto . th dport . numgen inc mod 2 map @slots4",
        f"update @fu4 {{ {flow} : meta mark }}",
    )
    assert "live4" in nft_render.dsr_tabledef("eth1").sets


def cold_script() -> str:
    """Everything a cold apply of a varied state writes: tables, chains, elements (DSR on lo)."""
    mark = Service(ServiceKey.mark(Family.INET6, 301), "rr")
    one_packet = svc("192.0.2.3", 53, "rr", Protocol.UDP, FLAG_ONEPACKET)
    specs = [
        *SPECS,
        svc("192.0.2.4", 80, "mh"),
        dst(svc("192.0.2.4", 80, "mh"), "10.0.0.5", 80),
        mark,
        Destination(DestinationKey(mark.key, ip("2001:db8:1::2"), 0), Forwarding.MASQ),
        one_packet,
        dst(one_packet, "10.0.0.3", 53, Forwarding.ROUTE),
    ]
    ledger = Ledger()
    staged = ledger.stage([Step.add("p", s) for s in specs], lambda a: "lo")
    assert all(r.ok for r in staged.results), [r.error for r in staged.results if not r.ok]
    filters = nft_filter_render.tabledef()
    lines = nft_render.table_script(filters)
    lines += [line for chain in filters.chains for line in nft_render.chain_script(chain, False)]
    elements = nft_filter_render.render(VIPFilter(ip("192.0.2.1"), frozenset({(Protocol.TCP, 80)}), 300, True))
    lines += nft_render.elements_script({}, elements)
    return "\n".join(staged.script + lines) + "\n"


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("nft") is None, reason="nft -c needs root and nftables")
def test_nft_accepts_what_we_render():
    """nft's check mode (-c) parses and validates the whole script, and changes nothing."""
    done = subprocess.run(["nft", "-c", "-f", "-"], input=cold_script(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_filter_elements_round_trip():
    spec = VIPFilter(ip("2001:db8::5"), frozenset({(Protocol.TCP, 443), (Protocol.UDP, 53)}), 300, True)
    elements = nft_filter_render.render(spec)
    assert ("inet seesaw_filter", "mark6", "2001:db8::5 . 6 . 443") in elements
    assert nft_filter_render.read(elements) == {spec.address: spec}


def test_parse_text_reads_elements_however_nft_lays_them_out():
    # nft indents with tabs, and continues a list of elements with tabs and five spaces
    text = "\n".join(
        [
            "table ip seesaw {",
            "\tmap svc {",
            "\t\ttypeof ip daddr . meta l4proto . th dport : verdict",
            '\t\telements = { 192.0.2.1 . tcp . 80 comment "wrr flags=0x0 timeout=0" : goto rr_2,',
            '\t\t\t     2001:db8::1 . udp . 53 comment "odd, but : fine" : accept }',
            "\t}",
            "",
            "\tset dest {",
            "\t\ttypeof ip daddr . meta l4proto . th dport . ip daddr . th dport",
            "\t\telements = { 192.0.2.1 . tcp . 80 . 10.0.0.1 . 80, 192.0.2.1 . tcp . 80 . 10.0.0.2 . 80 }",
            "\t}",
            "",
            "\tmap mslots {",
            "\t\ttypeof meta mark . numgen inc mod 1 : ip daddr",
            "\t\telements = { 0x0000012c . 0 : 10.0.0.3, 0x0000012c . 1 : 10.0.0.4 }",
            "\t}",
            "",
            "\tmap empty {",
            "\t\ttypeof meta mark : ip daddr",
            "\t}",
            "}",
            "",
        ]
    )
    listing = parse_text("ip seesaw", text)
    assert listing.sets == {"ip seesaw": {"svc", "dest", "mslots", "empty"}}
    assert listing.elements == {
        ("ip seesaw", "svc", "192.0.2.1 . 6 . 80"): ("goto rr_2", "wrr flags=0x0 timeout=0"),
        ("ip seesaw", "svc", "2001:db8::1 . 17 . 53"): ("accept", "odd, but : fine"),
        ("ip seesaw", "dest", "192.0.2.1 . 6 . 80 . 10.0.0.1 . 80"): (None, None),
        ("ip seesaw", "dest", "192.0.2.1 . 6 . 80 . 10.0.0.2 . 80"): (None, None),
        ("ip seesaw", "mslots", "300 . 0"): ("10.0.0.3", None),
        ("ip seesaw", "mslots", "300 . 1"): ("10.0.0.4", None),
    }
    assert (
        parse_text("ip seesaw", text, skip={"svc"})
        .elements.keys()
        .isdisjoint({("ip seesaw", "svc", "192.0.2.1 . 6 . 80")})
    )


def test_parse_text_takes_element_counters_apart_from_what_they_count():
    # as nft 1.0.6 prints counted maps and sets: the counter right after the key, before a comment or value
    text = "\n".join(
        [
            "table ip seesaw {",
            "\tmap slots {",
            "\t\ttypeof ip daddr . meta l4proto . th dport . numgen inc mod 1 : ip daddr . tcp dport",
            "\t\tcounter",
            "\t\telements = { 10.0.0.1 . tcp . 80 . 0 counter packets 3 bytes 180 : 192.168.0.1 . 80,",
            "\t\t\t     10.0.0.1 . tcp . 80 . 1 counter packets 0 bytes 0 : 192.168.0.2 . 80 }",
            "\t}",
            "",
            "\tset traffic {",
            "\t\ttypeof ip daddr . meta l4proto . th dport",
            "\t\tcounter",
            "\t\telements = { 10.0.0.1 . tcp . 80 counter packets 12 bytes 3456, "
            '10.0.0.2 . udp . 53 counter packets 1 bytes 2 comment "a, b" }',
            "\t}",
            "}",
            "",
        ]
    )
    listing = parse_text("ip seesaw", text)
    assert listing.elements == {
        ("ip seesaw", "slots", "10.0.0.1 . 6 . 80 . 0"): ("192.168.0.1 . 80", None),
        ("ip seesaw", "slots", "10.0.0.1 . 6 . 80 . 1"): ("192.168.0.2 . 80", None),
        ("ip seesaw", "traffic", "10.0.0.1 . 6 . 80"): (None, None),
        ("ip seesaw", "traffic", "10.0.0.2 . 17 . 53"): (None, "a, b"),
    }
    assert listing.counters == {
        ("ip seesaw", "slots", "10.0.0.1 . 6 . 80 . 0"): (3, 180),
        ("ip seesaw", "slots", "10.0.0.1 . 6 . 80 . 1"): (0, 0),
        ("ip seesaw", "traffic", "10.0.0.1 . 6 . 80"): (12, 3456),
        ("ip seesaw", "traffic", "10.0.0.2 . 17 . 53"): (1, 2),
    }
