"""Both files together (node_check) and `seesaw config check` (run_config_check)."""

import io
import shutil
from pathlib import Path

import pytest

from seesaw.config import check_config, read_cluster_text, run_config_check
from seesaw.pb import config_pb2

ROOT = Path(__file__).parents[3]
EXAMPLES = ROOT / "etc" / "seesaw"

CLUSTER = """\
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
node {
  fqdn: "seesaw1-2.example.com."
  ipv4: "192.168.10.3/24"
  status: PRODUCTION
}
"""
CFG = """\
[cluster]
name = au-syd
node_ipv4 = 192.168.10.2
peer_ipv4 = 192.168.10.3
vip_ipv4 = 192.168.10.1
"""


def write(tmp_path: Path, cfg: str = CFG, cluster: str = CLUSTER) -> Path:
    (tmp_path / "seesaw.cfg").write_text(cfg)
    (tmp_path / "cluster.pb").write_text(cluster)
    return tmp_path


def run(argv_file, config_dir) -> tuple[int, list[str]]:
    out = io.StringIO()
    status = run_config_check(argv_file, config_dir, out)
    return status, out.getvalue().splitlines()


def test_consistent_files_pass(tmp_path):
    write(tmp_path)
    status, lines = run(None, tmp_path)
    assert status == 0
    assert lines == [
        f"config OK: {tmp_path}/seesaw.cfg, {tmp_path}/cluster.pb (0 warnings); cluster.pb: 2 nodes, 0 vservers, "
        "0 VLANs"
    ]


def test_node_not_in_cluster_pb(tmp_path):
    write(tmp_path, CFG.replace("node_ipv4 = 192.168.10.2", "node_ipv4 = 192.168.10.9"))
    status, lines = run(None, tmp_path)
    assert status == 1
    assert lines == [
        f"{tmp_path}/seesaw.cfg:3:1: cluster.node_ipv4: node 192.168.10.9 is not among cluster.pb's nodes "
        '(192.168.10.2, 192.168.10.3): add it as `node { fqdn: "..." ipv4: "192.168.10.9/<len>" status: '
        "PRODUCTION }` or fix node_ipv4 in seesaw.cfg",
        f"config refused: 1 error, 0 warnings in {tmp_path}/seesaw.cfg, {tmp_path}/cluster.pb",
    ]


def test_cluster_vip_must_agree_and_lie_in_the_node_network(tmp_path):
    cfg = CFG.replace("vip_ipv4 = 192.168.10.1", "vip_ipv4 = 10.0.0.1") + "node_ipv6 = 2015:cafe::2\n"
    cluster = CLUSTER.replace(
        'fqdn: "seesaw1-2.example.com."', 'fqdn: "seesaw1-2.example.com."\n  ipv6: "2015:cafe::2/64"'
    )
    write(tmp_path, cfg, cluster)
    status, lines = run(None, tmp_path)
    assert status == 1
    assert lines[:-1] == [
        f"{tmp_path}/seesaw.cfg:5:1: cluster.vip_ipv4: 10.0.0.1 differs from cluster.pb's seesaw_vip 192.168.10.1: "
        "make them the same",
        f"{tmp_path}/seesaw.cfg:5:1: cluster.vip_ipv4: 10.0.0.1 is outside this node's network 192.168.10.0/24 "
        "(node seesaw1-1.example.com. in cluster.pb): the cluster VIP must be an address of the node's own subnet",
        f"{tmp_path}/seesaw.cfg:6:1: cluster.node_ipv6: 2015:cafe::2 belongs to node seesaw1-2.example.com. in "
        "cluster.pb, but node_ipv4 is seesaw1-1.example.com.'s: both must name the same node",
    ]


def test_one_sided_vip_and_unknown_peer_are_warnings(tmp_path):
    cfg = CFG.replace("vip_ipv4 = 192.168.10.1", "vip_ipv6 = 2015:cafe::1").replace("192.168.10.3", "192.168.10.4")
    write(tmp_path, cfg)
    status, lines = run(None, tmp_path)
    assert status == 0
    assert lines == [
        f"{tmp_path}/cluster.pb:1:1: seesaw_vip.ipv6: warning: is not set, but seesaw.cfg has vip_ipv6 = "
        '2015:cafe::1: add `ipv6: "2015:cafe::1/<len>"` to seesaw_vip',
        f"{tmp_path}/seesaw.cfg:1:1: cluster.vip_ipv4: warning: is not set, but cluster.pb's seesaw_vip is "
        "192.168.10.1: set vip_ipv4 = 192.168.10.1 so that the leader brings the cluster VIP up",
        f"{tmp_path}/seesaw.cfg:4:1: cluster.peer_ipv4: warning: peer 192.168.10.4 is not among cluster.pb's nodes "
        "(192.168.10.2, 192.168.10.3): config sync with the peer will not work; set it to the other node's address",
        f"config OK: {tmp_path}/seesaw.cfg, {tmp_path}/cluster.pb (3 warnings); cluster.pb: 2 nodes, 0 vservers, "
        "0 VLANs",
    ]


def test_disabled_node_and_unadvertised_anycast(tmp_path):
    cluster = CLUSTER.replace(
        'status: PRODUCTION\n}\nnode {\n  fqdn: "seesaw1-2', 'status: DISABLED\n}\nnode {\n  fqdn: "seesaw1-2'
    )
    cluster += (
        'vserver { name: "dns" rp: "r" entry_address { fqdn: "dns" ipv4: "192.168.255.1/24" } '
        "vserver_entry { protocol: UDP port: 53 } }\n"
    )
    write(tmp_path, CFG, cluster)
    status, lines = run(None, tmp_path)
    assert status == 0
    assert lines[:-1] == [
        f"{tmp_path}/cluster.pb:9:3: node[0].status: warning: this node (seesaw1-1.example.com.) is disabled here "
        "(its status differs from seesaw_vip's, or HA is off): it will neither lead nor serve vservers",
        f"{tmp_path}/cluster.pb:16:59: vserver[0].entry_address.ipv4: warning: anycast VIP 192.168.255.1 is never "
        f"advertised: seesaw.cfg ({tmp_path}/seesaw.cfg) has anycast_enabled = false; enable anycast there, or use "
        "a unicast VIP",
    ]


def test_errors_in_both_files_are_all_reported_and_cross_checks_skipped(tmp_path):
    write(tmp_path, CFG + "vrid = 0\n", CLUSTER + 'vlan { vlan_id: 0 host { fqdn: "v" } }\n')
    status, lines = run(None, tmp_path)
    assert status == 1
    assert lines == [
        f"{tmp_path}/cluster.pb:16:8: vlan[0].vlan_id: must be between 1 and 4094 (got 0)",
        f"{tmp_path}/seesaw.cfg:6:1: cluster.vrid: 0 is out of range: use a number between 1 and 255",
        f"config refused: 2 errors, 0 warnings in {tmp_path}/seesaw.cfg, {tmp_path}/cluster.pb",
    ]


def test_missing_files(tmp_path):
    status, lines = run(None, tmp_path)
    assert status == 1
    assert lines == [
        f"{tmp_path}/cluster.pb: cannot read the file: No such file or directory",
        f"{tmp_path}/seesaw.cfg: cannot read the file: No such file or directory",
        f"config refused: 2 errors, 0 warnings in {tmp_path}/seesaw.cfg, {tmp_path}/cluster.pb",
    ]


def test_file_argument_is_detected_by_name_or_content(tmp_path):
    write(tmp_path)
    assert run(str(tmp_path / "cluster.pb"), Path("/nonexistent"))[1][-1].startswith(
        f"config OK: {tmp_path}/cluster.pb "
    )
    assert run(str(tmp_path / "seesaw.cfg"), Path("/nonexistent"))[1] == [
        f"config OK: {tmp_path}/seesaw.cfg (0 warnings)"
    ]
    shutil.copy(tmp_path / "seesaw.cfg", tmp_path / "node-a")
    shutil.copy(tmp_path / "cluster.pb", tmp_path / "cluster-text")
    assert run(str(tmp_path / "node-a"), Path("/nonexistent"))[1] == [f"config OK: {tmp_path}/node-a (0 warnings)"]
    assert run(str(tmp_path / "cluster-text"), Path("/nonexistent"))[1][-1].startswith(
        f"config OK: {tmp_path}/cluster-text "
    )
    assert run(str(tmp_path), Path("/nonexistent"))[0] == 0


def test_binary_cluster_is_read_as_such(tmp_path):
    write(tmp_path)
    pb = read_cluster_text(CLUSTER, "c.pb", "au-syd").proto
    (tmp_path / "cluster.pb").write_bytes(pb.SerializeToString())
    status, lines = run(None, tmp_path)
    assert (status, lines[-1].split(";")[1]) == (0, " cluster.pb: 2 nodes, 0 vservers, 0 VLANs")


def test_watchdog_cfg_is_named_for_what_it_is():
    status, lines = run(str(ROOT / "tests" / "data" / "compat" / "etc" / "seesaw" / "watchdog.cfg"), Path("/x"))
    assert status == 1 and "watchdog" in lines[0]


def test_shipped_examples_pass_without_warnings():
    status, lines = run(None, EXAMPLES)
    assert status == 0
    assert lines == [
        f"config OK: {EXAMPLES}/seesaw.cfg, {EXAMPLES}/cluster.pb (0 warnings); cluster.pb: 2 nodes, 5 vservers, "
        "5 VLANs"
    ]


def test_check_config_report():
    report = check_config(EXAMPLES / "seesaw.cfg", None)
    assert report.ok and report.cluster is None and report.settings.settings.cluster_name == "au-syd"
    assert isinstance(check_config(None, EXAMPLES / "cluster.pb").cluster.proto, config_pb2.Cluster)


@pytest.mark.parametrize("argv_file", [None, "."])
def test_exit_status_is_1_on_a_broken_cluster(tmp_path, monkeypatch, argv_file):
    write(tmp_path, cluster="seesaw_vip {")
    monkeypatch.chdir(tmp_path)
    status, lines = run(argv_file, tmp_path)
    assert status == 1
    assert lines[0].endswith('cluster.pb:1:12: seesaw_vip: Expected "}".')
