"""The configs the lab writes are ordinary Seesaw configs: seesaw's own checks accept them as they are."""

from __future__ import annotations

import configparser

import pytest

from seesaw.config.check import check_config
from seesaw.lab import configs, topology


def written(tmp_path, topo, node):
    configs.write(topo, node, tmp_path / node.name, "nftables")
    return check_config(tmp_path / node.name / "seesaw.cfg", tmp_path / node.name / "cluster.pb")


@pytest.mark.parametrize("layout", sorted(topology.LAYOUTS))
def test_each_node_config_passes_config_check(tmp_path, layout):
    topo = topology.LAYOUTS[layout]()
    for node in topo.lbs:
        report = written(tmp_path, topo, node)
        assert report.ok and not report.warnings, [str(p) for p in report.problems]
        cluster = report.cluster.cluster
        assert set(cluster.vservers) == {v.name for v in topo.vservers}
        assert {n.host.ipv4.ip for n in cluster.nodes.values()} == {n.ip.ip for n in topo.lbs}


def test_pair_nodes_know_each_other_and_lb1_has_the_higher_priority(tmp_path):
    topo = topology.pair()
    lb1, lb2 = topo.lbs
    report = written(tmp_path, topo, lb1)
    settings = report.settings.settings
    assert (settings.node_ipv4, settings.peer_ipv4) == (lb1.ip.ip, lb2.ip.ip)
    assert (settings.dataplane, settings.use_vmac, settings.advert_interval_ms) == ("nftables", False, 100)
    priorities = {n.hostname: n.priority for n in report.cluster.cluster.nodes.values()}
    assert priorities[lb1.fqdn] > priorities[lb2.fqdn]


def test_vservers_carry_their_mode_and_checks(tmp_path):
    topo = topology.pair()
    cluster = written(tmp_path, topo, topo.lbs[0]).cluster.cluster
    nat = cluster.vservers["web-nat"]
    assert {str(e.mode.value) for e in nat.entries.values()} == {"NAT"}
    assert {b for b in nat.backends} == {h.fqdn for h in topo.backends}
    dsr = cluster.vservers["web-dsr"]
    assert sorted((e.protocol.name, e.port) for e in dsr.entries.values()) == [("TCP", 80), ("UDP", 53)]


def test_cluster_with_the_spare_backend_adds_it_to_every_vserver(tmp_path):
    topo = topology.pair()
    node = topo.lbs[0]
    configs.write(topo, node, tmp_path)
    (tmp_path / "cluster.pb").write_text(configs.cluster_pb(topo, (*topo.backends, *topo.spares)))
    report = check_config(tmp_path / "seesaw.cfg", tmp_path / "cluster.pb")
    assert report.ok, [str(p) for p in report.problems]
    for vserver in report.cluster.cluster.vservers.values():
        assert set(vserver.backends) == {"be1.lab.seesaw.", "be2.lab.seesaw.", "be3.lab.seesaw."}


def test_watchdog_cfg_runs_the_five_daemons_in_dependency_order(tmp_path):
    topo = topology.tutorial()
    configs.write(topo, topo.lbs[0], tmp_path)
    cfg = configparser.ConfigParser()
    cfg.read(tmp_path / "watchdog.cfg")
    services = [s for s in cfg.sections() if s != "default"]
    assert services == ["ncc", "engine", "ha", "healthcheck", "ecu"]
    assert {s: cfg[s].get("dependency") for s in services} == {
        "ncc": None,
        "engine": "ncc",
        "ha": "engine",
        "healthcheck": "engine",
        "ecu": "engine",
    }
