"""The doctor's checks and report on given facts: each trap of Seesaw's first run, its message and its fix."""

import ipaddress
import socket
from pathlib import Path

import pytest

from seesaw.config.cluster import read_cluster_text
from seesaw.config.seesaw_cfg import parse_settings_text
from seesaw.ncc.kernel.host_snapshot import MAIN_TABLE, Address, Link, Nexthop, Route, Snapshot
from seesaw.ncc.select import Probe
from seesaw.preflight import checks
from seesaw.preflight.doctor import diagnose, startup_checks
from seesaw.preflight.facts import Facts, Module
from seesaw.preflight.result import Status, fail, failed, format_report, ok, warn

IPVS_OK = Probe(True, 'the generic netlink family "IPVS" resolves')
IPVS_MISSING = Probe(False, 'the kernel has no generic netlink family "IPVS" (ip_vs is not loaded or built)')
NFT_OK = Probe(True, "libnftables.so.1 is usable")
NOT_FOUND = "modprobe: FATAL: Module ip_vs not found in directory /lib/modules/6.18.44"

CFG = """
[cluster]
name = test
node_ipv4 = 10.0.0.2
vip_ipv4 = 10.0.0.10
[interface]
node = enp0s3
lb = lb-1
"""
CLUSTER = """
seesaw_vip { fqdn: "vip." ipv4: "10.0.0.10/24" status: PRODUCTION }
node { fqdn: "lb1." ipv4: "10.0.0.2/24" status: PRODUCTION }
node { fqdn: "lb2." ipv4: "10.0.0.3/24" status: PRODUCTION }
"""


def settings(text=CFG, **overrides):
    for key, value in overrides.items():
        text = text.replace(f"{key} = ", f"{key} = {value} #")
    return parse_settings_text(text, "seesaw.cfg").settings


def cluster(text=CLUSTER):
    return read_cluster_text(text, "cluster.pb", "test").cluster


def host(default_via="10.0.0.1", node_name="enp0s3", node_addr="10.0.0.2/24", dummy=False):
    links = {1: Link(1, "lo", up=True), 2: Link(2, node_name, up=True), 3: Link(3, "lb-1")}
    if dummy:
        links[4] = Link(4, "dummy0", "dummy", True)
    routes = []
    if default_via:
        hops = tuple(Nexthop(ipaddress.ip_address(gw), 2) for gw in default_via.split(","))
        routes.append(Route(socket.AF_INET, MAIN_TABLE, ipaddress.ip_network("0.0.0.0/0"), hops))
    return Snapshot(links, [Address(2, ipaddress.ip_interface(node_addr))], routes=routes)


def facts(snapshot=None, ipvs=IPVS_OK, modprobe_error="", conntrack=True, dummy_kind=True, uid=0, nft=True):
    return Facts(
        uid=uid,
        net_admin=uid == 0,
        ipvs=ipvs,
        ipvs_module=Module(ipvs.ok, modprobe_error=modprobe_error),
        conntrack=Module(
            conntrack, modprobe_error="" if conntrack else "modprobe: FATAL: Module nf_conntrack not found"
        ),
        nft_binary="/usr/sbin/nft" if nft else None,
        nftables=NFT_OK if nft else Probe(False, "libnftables is not installed"),
        dummy=Module(dummy_kind),
        snapshot=snapshot or host(),
    )


def test_the_report_has_one_line_per_check_then_its_fixes_and_a_verdict():
    text = format_report(
        [
            ok("privileges", "running as root"),
            fail("ip_vs", "missing", "modprobe ip_vs", "echo ip_vs >> /etc/modules-load.d/seesaw.conf"),
            warn("dummy", "lo instead", "modprobe dummy"),
        ]
    )
    assert text == (
        "ok    privileges: running as root\n"
        "FAIL  ip_vs: missing\n"
        "      fix: modprobe ip_vs\n"
        "      fix: echo ip_vs >> /etc/modules-load.d/seesaw.conf\n"
        "warn  dummy: lo instead\n"
        "      fix: modprobe dummy\n"
        "1 check(s) FAILED, 1 warning(s): fix the FAIL lines above before starting Seesaw\n"
    )
    assert format_report([ok("a", "b")]).endswith("all checks passed\n")


def test_a_healthy_host_passes_every_check(tmp_path: Path):
    (tmp_path / "seesaw.cfg").write_text(CFG)
    (tmp_path / "cluster.pb").write_text(CLUSTER)
    results = diagnose(tmp_path, facts(host(dummy=True)))
    assert [r.status for r in results] == [Status.OK] * len(results), format_report(results)
    assert [r.check for r in results] == [
        "config",
        "privileges",
        "ip_vs",
        "nf_conntrack",
        "nftables",
        "dataplane",
        "interfaces",
        "node",
        "cluster VIP",
        "default route",
        "dummy",
    ]


def test_p1_ip_vs_missing_names_modprobe_modules_load_and_the_way_out():
    result = checks.ip_vs(facts(ipvs=IPVS_MISSING, modprobe_error=NOT_FOUND), "auto")
    assert result.status is Status.WARN  # nftables can serve
    assert NOT_FOUND in result.detail
    assert result.fixes[:2] == (
        "modprobe ip_vs",
        "echo ip_vs >> /etc/modules-load.d/seesaw.conf   (load it at every boot)",
    )
    assert "set `backend = nftables`" in result.fixes[2]
    assert checks.ip_vs(facts(ipvs=IPVS_MISSING), "ipvs").status is Status.FAIL


def test_p2_nf_conntrack_missing_names_the_module_not_the_obsolete_one():
    result = checks.nf_conntrack(facts(conntrack=False))
    assert result.status is Status.WARN
    assert "nf_conntrack_tcp_timeout_established" in result.detail
    assert result.fixes[0] == "modprobe nf_conntrack"
    assert "not nf_conntrack_ipv4" in result.fixes[1]


def test_p3_no_dummy_kind_falls_back_to_lo_and_says_how_to_get_dummy0():
    result = checks.dummy(facts(dummy_kind=False), settings())
    assert result.status is Status.WARN
    assert "anycast and dedicated VIPs go on lo" in result.detail
    assert result.fixes == ("modprobe dummy", "echo dummy >> /etc/modules-load.d/seesaw.conf   (load it at every boot)")
    created = checks.dummy(facts(dummy_kind=True), settings())
    assert created.status is Status.OK and "dummy0 is missing and NCC creates it" in created.detail


@pytest.mark.parametrize(
    "snapshot, shown",
    [
        (host(node_name="br-x"), "via 10.0.0.1 dev br-x"),
        (host(default_via="10.0.0.1,10.0.0.254"), "via 10.0.0.1 dev enp0s3 and via 10.0.0.254 dev enp0s3 (ECMP)"),
    ],
)
def test_p4_default_routes_of_any_interface_name(snapshot, shown):
    node = "br-x" if "br-x" in shown else "enp0s3"
    result = checks.default_route(facts(snapshot), settings(node=node))
    assert (result.status, result.detail) == (Status.OK, shown)


def test_p4_no_default_route_fails_with_the_command():
    result = checks.default_route(facts(host(default_via="")), settings())
    assert result.status is Status.FAIL
    assert result.fixes[0].startswith("ip route add default via <gateway> dev enp0s3")


def test_issue_107_a_missing_interface_lists_what_exists_and_the_closest_name():
    result = checks.interfaces(facts(host(node_name="enp0s31f6")), settings())
    assert result.status is Status.FAIL
    assert "[interface] node = enp0s3 does not exist here (did you mean enp0s31f6?)" in result.detail
    assert "this host has enp0s31f6, lb-1, lo" in result.detail
    assert result.fixes == ("set `node = enp0s31f6` in [interface] of seesaw.cfg",)


def test_issue_36_a_node_missing_from_cluster_pb():
    result = checks.node(facts(host(node_addr="10.0.0.7/24")), settings(node_ipv4="10.0.0.7"), cluster())
    assert result.status is Status.FAIL
    assert "10.0.0.7 is not among cluster.pb's nodes (10.0.0.2, 10.0.0.3)" in result.detail
    assert 'add `node { fqdn: "<this host>" ipv4: "10.0.0.7/<len>" status: PRODUCTION }`' in result.fixes[0]


def test_the_node_address_must_be_on_the_node_interface():
    result = checks.node(facts(host(node_addr="10.0.0.3/24")), settings(), cluster())
    assert result.status is Status.FAIL
    assert "10.0.0.2 (lb1. in cluster.pb) is not an address of enp0s3 (it has 10.0.0.3/24)" in result.detail


def test_p6_cluster_vip_outside_the_node_subnet():
    result = checks.cluster_vip(facts(), settings(vip_ipv4="10.1.0.10"), cluster())
    assert result.status is Status.FAIL
    assert "10.1.0.10 is outside the node network 10.0.0.0/24 (enp0s3 has 10.0.0.2/24)" in result.detail
    assert "pick a cluster VIP inside 10.0.0.0/24" in result.fixes[0]


def test_without_privileges_and_nftables():
    assert checks.privileges(facts(uid=1000)).status is Status.FAIL
    result = checks.nftables(facts(nft=False), "nftables")
    assert result.status is Status.FAIL and "the nft command is not installed" in result.detail
    assert "apt-get install nftables libnftables1 python3-nftables" in result.fixes[0]


def test_the_dataplane_check_says_what_auto_picks_and_why():
    result = checks.dataplane(facts(ipvs=IPVS_MISSING), "auto", "seesaw.cfg")
    assert result.status is Status.OK
    assert result.detail.startswith("nftables: auto (seesaw.cfg): nftables, because libnftables.so.1 is usable")
    refused = checks.dataplane(facts(ipvs=IPVS_MISSING), "ipvs", "seesaw.cfg")
    assert refused.status is Status.FAIL and "modprobe ip_vs" in refused.detail


def test_a_config_that_does_not_load_is_one_fail_with_its_location(tmp_path: Path):
    (tmp_path / "seesaw.cfg").write_text(CFG.replace("node_ipv4 = 10.0.0.2", "node_ipv4 = 10.0.0"))
    results = diagnose(tmp_path, facts())
    (config,) = [r for r in results if r.check == "config"]
    assert config.status is Status.FAIL and "seesaw.cfg:4:1: cluster.node_ipv4" in config.detail
    assert config.fixes == (f"seesaw config check {tmp_path / 'seesaw.cfg'}",)
    assert "interfaces" not in {r.check for r in results}


def test_ncc_start_without_seesaw_cfg_only_warns(tmp_path: Path):
    results = diagnose(tmp_path, facts(), required=False, backend="nftables")
    assert results[0].status is Status.WARN and "the host checks are skipped" in results[0].detail
    assert all(r.status is not Status.FAIL for r in results)


class Given:
    """Facts gathered earlier (what System.gather() returns), for startup_checks."""

    def __init__(self, given):
        self.given = given

    def gather(self):
        return self.given


def test_ncc_start_logs_every_check_and_a_fail_carries_its_fix(tmp_path: Path, caplog):
    (tmp_path / "seesaw.cfg").write_text(CFG)
    (tmp_path / "cluster.pb").write_text(CLUSTER)
    with caplog.at_level("INFO", logger="seesaw.preflight"):
        results = startup_checks(tmp_path, "ipvs", "seesaw.cfg", system=Given(facts(ipvs=IPVS_MISSING)))
    assert [r.check for r in failed(results)] == ["ip_vs", "dataplane"]
    assert "preflight FAIL  ip_vs:" in caplog.text and "fix: modprobe ip_vs" in caplog.text
    assert "preflight ok    interfaces: node enp0s3 and lb lb-1 exist" in caplog.text
    assert startup_checks(tmp_path, "sim", system=Given(facts(ipvs=IPVS_MISSING))) == []
