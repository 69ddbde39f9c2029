"""Each trap of Seesaw v2's first run, recreated in a network namespace, and what `seesaw doctor` says about it.

The doctor runs as `python -m seesaw.preflight` inside the namespace (what `seesaw doctor` calls), against a
config dir made for the test. References: seesaw.md 4.8, seesaw-observed.md 5.
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from pyroute2 import netns as pyroute2_netns

from seesaw.ncc.select import probe_ipvs

pytestmark = [pytest.mark.netns, pytest.mark.skipif(os.geteuid() != 0, reason="needs root in a network namespace")]

CLUSTER = """
seesaw_vip { fqdn: "vip." ipv4: "10.0.0.10/24" status: PRODUCTION }
node { fqdn: "lb1." ipv4: "10.0.0.2/24" status: PRODUCTION }
node { fqdn: "lb2." ipv4: "10.0.0.3/24" status: PRODUCTION }
"""


def seesaw_cfg(node="eth0", lb="eth1", vip="10.0.0.10", backend="auto"):
    return f"""
[cluster]
name = test
node_ipv4 = 10.0.0.2
vip_ipv4 = {vip}
[interface]
node = {node}
lb = {lb}
[dataplane]
backend = {backend}
"""


def sh(*commands):
    for command in commands:
        subprocess.run(command, shell=True, check=True, capture_output=True, text=True)


@pytest.fixture
def node_ns():
    name = f"doc-{uuid.uuid4().hex[:6]}"
    pyroute2_netns.create(name)
    try:
        yield name
    finally:
        pyroute2_netns.remove(name)


def build(ns, node="eth0", lb="eth1", default=True, node_bridge=False):
    """A node with its node NIC (10.0.0.2/24; a bridge when asked) and LB NIC, and a default route."""
    if node_bridge:
        sh(f"ip -n {ns} link add {node} type bridge")
    else:
        sh(f"ip -n {ns} link add {node} type veth peer name {node}-peer")
    sh(
        f"ip -n {ns} link add {lb} type veth peer name {lb}-peer",
        f"ip -n {ns} link set lo up",
        f"ip -n {ns} link set {node} up",
        f"ip -n {ns} addr add 10.0.0.2/24 dev {node}",
    )
    if default:
        sh(f"ip -n {ns} route add default via 10.0.0.1 dev {node}")


def doctor(ns, tmp_path: Path, cfg: str, mask: str = ""):
    (tmp_path / "seesaw.cfg").write_text(cfg)
    (tmp_path / "cluster.pb").write_text(CLUSTER)
    run = f"{sys.executable} -m seesaw.preflight --config-dir {tmp_path}"
    if mask:  # hide a /proc/sys directory, as a kernel without the module would
        run = f"unshare --mount --propagation private sh -c 'mount -t tmpfs tmpfs {mask} && exec {run}'"
    done = subprocess.run(f"ip netns exec {ns} {run}", shell=True, capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout


def block(report: str, check: str) -> str:
    """The line of `check` and its fix lines."""
    lines = report.splitlines()
    start = next(i for i, line in enumerate(lines) if line[6:].startswith(f"{check}:"))
    end = start + 1
    while end < len(lines) and lines[end].startswith("      fix:"):
        end += 1
    return "\n".join(lines[start:end])


def test_p1_ip_vs_missing(node_ns, tmp_path):
    if probe_ipvs().ok:
        pytest.skip("this kernel has IPVS; the trap needs one without (this project's dev host has none)")
    build(node_ns)
    status, report = doctor(node_ns, tmp_path, seesaw_cfg(backend="ipvs"))
    text = block(report, "ip_vs")
    assert text.startswith('FAIL  ip_vs: the kernel has no generic netlink family "IPVS"')
    assert "seesaw.cfg asks for backend = ipvs" in text
    assert "fix: modprobe ip_vs" in text
    assert "fix: echo ip_vs >> /etc/modules-load.d/seesaw.conf" in text
    assert status == 1
    # with backend = auto it is only a warning: nftables serves
    status, report = doctor(node_ns, tmp_path, seesaw_cfg())
    assert block(report, "ip_vs").startswith("warn  ip_vs:")
    assert block(report, "dataplane").startswith("ok    dataplane: nftables: auto")
    assert status == 0


def test_p2_nf_conntrack_missing(node_ns, tmp_path):
    build(node_ns)
    status, report = doctor(node_ns, tmp_path, seesaw_cfg(), mask="/proc/sys/net/netfilter")
    text = block(report, "nf_conntrack")
    assert text.startswith("warn  nf_conntrack: not loaded")
    assert "nf_conntrack_tcp_timeout_established" in text
    assert "fix: modprobe nf_conntrack" in text and "not nf_conntrack_ipv4" in text
    assert status == 0


def test_issue_107_interface_names_that_do_not_exist(node_ns, tmp_path):
    build(node_ns, node="enp0s3", lb="lb-1")
    status, report = doctor(node_ns, tmp_path, seesaw_cfg(node="enp0s4", lb="eth1"))
    text = block(report, "interfaces")
    assert text.startswith("FAIL  interfaces: [interface] node = enp0s4 does not exist here (did you mean enp0s3?)")
    assert "[interface] lb = eth1 does not exist here" in text
    assert "this host has enp0s3, enp0s3-peer, lb-1, lb-1-peer, lo" in text
    assert "fix: set `node = enp0s3` in [interface] of seesaw.cfg" in text
    assert status == 1


def test_p6_cluster_vip_outside_the_node_subnet(node_ns, tmp_path):
    build(node_ns)
    cfg = seesaw_cfg(vip="10.1.0.10")
    status, report = doctor(node_ns, tmp_path, cfg)
    text = block(report, "cluster VIP")
    assert text.startswith(
        "FAIL  cluster VIP: 10.1.0.10 is outside the node network 10.0.0.0/24 (eth0 has 10.0.0.2/24)"
    )
    assert "fix: pick a cluster VIP inside 10.0.0.0/24" in text
    assert status == 1


def test_p4_no_default_route(node_ns, tmp_path):
    build(node_ns, default=False)
    status, report = doctor(node_ns, tmp_path, seesaw_cfg())
    text = block(report, "default route")
    assert text.startswith("FAIL  default route: no IPv4 default route")
    assert "fix: ip route add default via <gateway> dev eth0" in text
    assert status == 1


def test_p4_p9_odd_interface_names_are_fine(node_ns, tmp_path):
    # Seesaw v2: `lb-1` fatal at init (P9); no default route found through `br-x` (P4)
    build(node_ns, node="br-x", lb="lb-1", node_bridge=True)
    status, report = doctor(node_ns, tmp_path, seesaw_cfg(node="br-x", lb="lb-1"))
    assert block(report, "interfaces") == "ok    interfaces: node br-x and lb lb-1 exist"
    assert block(report, "default route") == "ok    default route: via 10.0.0.1 dev br-x"
    assert block(report, "node") == "ok    node: 10.0.0.2 is lb1. in cluster.pb, on br-x"
    assert status == 0


def test_p3_dummy0_missing(node_ns, tmp_path):
    build(node_ns)
    status, report = doctor(node_ns, tmp_path, seesaw_cfg())
    text = block(report, "dummy")
    if Path("/sys/module/dummy").exists():
        assert text == "ok    dummy: dummy0 is missing and NCC creates it (Seesaw v2 required it to exist)"
    else:
        assert text.startswith("warn  dummy: the kernel has no dummy link kind")
        assert "anycast and dedicated VIPs go on lo instead" in text
        assert "fix: modprobe dummy" in text and "fix: echo dummy >> /etc/modules-load.d/seesaw.conf" in text
    assert status == 0
