"""Every Seesaw v2 config file we carry loads, and our shipped examples load
without a single warning."""

from pathlib import Path

import pytest

from seesaw.config import ConfigError, read_cluster_file, read_healthcheck_text, read_settings_file
from seesaw.config.files import read_text

ROOT = Path(__file__).parents[3]
COMPAT = ROOT / "tests" / "data" / "compat"
BARE_HEALTHCHECKS = {"healthcheck0.pb", "healthcheck1.pb", "healthcheck2.pb"}
REFUSED = {"vipsubnets2.pb"}
CLUSTER_FILES = sorted(
    p for p in [*COMPAT.rglob("*.pb"), *COMPAT.rglob("cluster.pb.example")] if p.name not in BARE_HEALTHCHECKS
)


def test_compat_files_are_there():
    assert len(CLUSTER_FILES) >= 20
    assert (COMPAT / "etc" / "seesaw" / "cluster.pb.example") in CLUSTER_FILES


@pytest.mark.parametrize("path", CLUSTER_FILES, ids=lambda p: str(p.relative_to(COMPAT)))
def test_every_compat_cluster_file_loads(path):
    if path.name in REFUSED:
        with pytest.raises(ConfigError):
            read_cluster_file(path, "au-syd")
        return
    parsed = read_cluster_file(path, "au-syd")
    assert all(not w.is_error for w in parsed.warnings)
    assert parsed.cluster.site == "au-syd"


@pytest.mark.parametrize("name", sorted(BARE_HEALTHCHECKS))
def test_bare_healthcheck_files_load(name):
    path = COMPAT / "engine" / "config" / "testdata" / name
    assert read_healthcheck_text(read_text(path), str(path)).name == ""


def test_seesaw_example_cluster_shape():
    c = read_cluster_file(COMPAT / "etc" / "seesaw" / "cluster.pb.example", "au-syd").cluster
    assert sorted(c.vservers) == [
        "dns.resolver@au-syd",
        "http.proxy@au-syd",
        "radius.server@au-syd",
        "syslog.server@au-syd",
        "windows.ad.dc@au-syd",
    ]
    assert sorted(c.vlans) == [511, 512, 513, 514, 515]
    assert {n: c.nodes[n].priority for n in c.nodes} == {"seesaw1-1.example.com.": 255, "seesaw1-2.example.com.": 1}
    assert c.bgp_remote_asn == 64513 and sorted(c.bgp_peers) == [
        "au-syd-router1.example.com.",
        "au-syd-router2.example.com.",
    ]
    radius = c.vservers["radius.server@au-syd"]
    assert sorted(radius.entries["1812/UDP"].healthchecks) == ["RADIUS/1812_0"]
    assert sorted(radius.healthchecks) == ["HTTP/11000_0"]


def test_seesaw_example_settings_load():
    s = read_settings_file(COMPAT / "etc" / "seesaw" / "seesaw.cfg.example")
    assert s.warnings == ()
    assert s.settings.cluster_name == "au-syd"
    assert str(s.settings.node_ipv4) == "192.168.10.2"
    assert s.settings.config_servers == (
        "seesaw-config1.example.com",
        "seesaw-config2.example.com",
        "seesaw-config3.example.com",
    )


def test_shipped_examples_have_no_problems_at_all():
    from seesaw.config import check_config

    report = check_config(ROOT / "etc" / "seesaw" / "seesaw.cfg", ROOT / "etc" / "seesaw" / "cluster.pb")
    assert report.problems == ()
    cluster = report.cluster.cluster
    assert cluster.vservers and all(
        vs.healthchecks or any(e.healthchecks for e in vs.entries.values()) for vs in cluster.vservers.values()
    )
    settings = report.settings.settings
    assert (settings.cluster_name, settings.anycast_enabled, settings.dataplane) == ("au-syd", False, "auto")
    assert str(cluster.vip.ipv4) == "192.168.10.1/24"
