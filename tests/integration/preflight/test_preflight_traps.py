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

from seesaw.lab import frr
from seesaw.ncc.select import probe_ipvs

pytestmark = [pytest.mark.netns, pytest.mark.skipif(os.geteuid() != 0, reason="needs root in a network namespace")]

CLUSTER = """
seesaw_vip { fqdn: "vip." ipv4: "10.0.0.10/24" status: PRODUCTION }
node { fqdn: "lb1." ipv4: "10.0.0.2/24" status: PRODUCTION }
node { fqdn: "lb2." ipv4: "10.0.0.3/24" status: PRODUCTION }
"""


def seesaw_cfg(node="eth0", lb="eth1", vip="10.0.0.10", backend="auto", anycast=False):
    return f"""
[cluster]
name = test
node_ipv4 = 10.0.0.2
vip_ipv4 = {vip}
anycast_enabled = {str(anycast).lower()}
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


def doctor(ns, tmp_path: Path, cfg: str, mask: str = "", setup: str = "", cluster: str = CLUSTER):
    """The doctor's exit status and report; `mask` hides a directory, `setup` runs first (both in a private mount
    namespace: what they change is gone with the doctor)."""
    (tmp_path / "seesaw.cfg").write_text(cfg)
    (tmp_path / "cluster.pb").write_text(cluster)
    run = f"{sys.executable} -m seesaw.preflight --config-dir {tmp_path}"
    if mask:  # hide a /proc/sys directory, as a kernel without the module would
        setup = f"mount -t tmpfs tmpfs {mask}" + (f" && {setup}" if setup else "")
    if setup:
        run = f"unshare --mount --propagation private sh -c '{setup} && exec {run}'"
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


ANYCAST_VSERVER = """
vserver {
  name: "dns@test"
  entry_address { fqdn: "dns." ipv4: "192.168.255.1/32" status: PRODUCTION }
  rp: "ops"
  vserver_entry { protocol: UDP port: 53 scheduler: RR }
}
"""


def frr_as_packaged(bgpd: str) -> str:
    """Shell: this host's /etc/frr replaced by one whose daemons file says `bgpd=<bgpd>`."""
    return f'mount -t tmpfs tmpfs /etc/frr && printf "zebra=yes\\nbgpd={bgpd}\\n" > /etc/frr/daemons'


def test_anycast_without_a_bgp_speaker(node_ns, tmp_path):
    # Seesaw v2 made a first start without its BGP speaker fatal; the doctor says which part is missing, and how.
    build(node_ns)
    cluster = CLUSTER + ANYCAST_VSERVER
    (tmp_path / "watchdog.cfg").write_text(f"[ncc]\nbinary = seesaw-ncc\nargs = --bgpd-vty {tmp_path}/bgpd.vty\n")
    cfg = seesaw_cfg(anycast=True)
    status, report = doctor(node_ns, tmp_path, cfg, mask="/usr/lib/frr", cluster=cluster, setup=frr_as_packaged("no"))
    assert block(report, "anycast") == (
        "FAIL  anycast: anycast_enabled = true in seesaw.cfg but no BGP speaker is usable: FRR's bgpd is not "
        "installed; the anycast VIPs (192.168.255.1) and service anycast addresses are never advertised\n"
        "      fix: apt-get install frr\n"
        "      fix: set `bgpd=yes` in /etc/frr/daemons\n"
        "      fix: systemctl restart frr   (journalctl -u frr says why bgpd did not start)"
    )
    assert status == 1
    if frr.missing():
        pytest.skip(f"the other cases need FRR installed: {frr.missing()}")
    status, report = doctor(node_ns, tmp_path, cfg, cluster=cluster, setup=frr_as_packaged("no"))
    assert block(report, "anycast").splitlines()[1:] == [
        "      fix: sed -i 's/^bgpd=.*/bgpd=yes/' /etc/frr/daemons",
        "      fix: systemctl restart frr   (journalctl -u frr says why bgpd did not start)",
    ]
    assert "bgpd is not enabled in /etc/frr/daemons (FRR starts it only with bgpd=yes)" in report
    assert status == 1
    status, report = doctor(node_ns, tmp_path, cfg, cluster=cluster, setup=frr_as_packaged("yes"))
    assert f"bgpd is enabled but does not answer: there is no VTY socket at {tmp_path}/bgpd.vty" in block(
        report, "anycast"
    )
    assert status == 1
    # bgpd running (here: FRR's own bgpd, standalone, its VTY socket where watchdog.cfg points NCC)
    with frr.running(standalone=True) as bgpd:
        (tmp_path / "watchdog.cfg").write_text(f"[ncc]\nbinary = seesaw-ncc\nargs = --bgpd-vty {bgpd.bgpd_vty}\n")
        status, report = doctor(node_ns, tmp_path, cfg, cluster=cluster, setup=frr_as_packaged("yes"))
    assert block(report, "anycast") == (
        f"ok    anycast: bgpd answers at {bgpd.bgpd_vty}: NCC can advertise the anycast VIPs"
    )
    # anycast VIPs in cluster.pb with anycast off: a warning, not a failure
    status, report = doctor(node_ns, tmp_path, seesaw_cfg(), cluster=cluster, setup=frr_as_packaged("yes"))
    assert block(report, "anycast").startswith(
        "warn  anycast: cluster.pb has anycast VIPs (192.168.255.1) but anycast_enabled = false"
    )
    # nothing anycast: nothing to say but that
    status, report = doctor(node_ns, tmp_path, seesaw_cfg())
    assert block(report, "anycast") == (
        "ok    anycast: off (anycast_enabled = false in [cluster] of seesaw.cfg): no BGP speaker needed"
    )
