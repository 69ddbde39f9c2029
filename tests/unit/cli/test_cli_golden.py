"""Every command's output, byte for byte, against the texts the original printed (golden/*.txt).

`observed_*` are verbatim captures of the Go Seesaw (seesaw-observed.md §3-§4); `reference_*` are the
layouts reconstructed from cli/show.go (seesaw.md §8.3), extended where the reference shows one case only;
`two_node_*` are the §4 captures; `new_*` are the commands the original did not have.
The CLI runs through its real main() against a real gRPC server on a Unix socket.
"""

from __future__ import annotations

import os
import subprocess
import sys

import cli_fake_engine as fake
import pytest

from seesaw import __version__

OBSERVED = [
    ("show vservers", "observed_show_vservers.txt"),
    ("show vservers test-vserver", "observed_show_vservers.txt"),
    ("sh vs", "observed_show_vservers.txt"),
    ("show backends", "observed_show_backends.txt"),
    ("show destinations", "observed_show_destinations.txt"),
    ("show nodes", "observed_show_nodes.txt"),
    ("show ha", "observed_show_ha.txt"),
    ("config status", "observed_config_status.txt"),
    ("show warnings", "observed_show_warnings.txt"),
    ("config source", "observed_config_source.txt"),
    ("show vlans", "observed_show_vlans.txt"),
    ("show bgp neighbors", "observed_show_bgp_neighbors.txt"),
    # `show checks` is new (the original had no such command): its layout is ours, on the same engine state.
    ("show checks", "new_show_checks.txt"),
    ("show checks backend", "new_show_checks.txt"),
    ("show checks nothing-like-this", "new_show_checks_nomatch.txt"),
]


@pytest.mark.parametrize(("command", "expected"), OBSERVED)
def test_observed_outputs(command, expected, serve_engine, cli, golden, utc_zone):
    engine = serve_engine(fake.observed())
    run = cli("--engine", str(engine.path), "-c", command, now=fake.OBSERVED_NOW)
    assert (run.status, run.err) == (0, "")
    assert run.out == golden(expected)


@pytest.mark.parametrize(
    ("command", "expected"), [("show ha", "two_node_show_ha.txt"), ("show nodes", "two_node_show_nodes.txt")]
)
def test_observed_two_node_backup(command, expected, serve_engine, cli, golden, utc_zone):
    engine = serve_engine(fake.two_node_backup())
    run = cli("--engine", str(engine.path), "-c", command, now=fake.TWO_NODE_NOW)
    assert (run.status, run.err) == (0, "")
    assert run.out == golden(expected)


REFERENCE = [
    ("show ha", "reference_show_ha.txt"),
    ("show nodes", "reference_show_nodes.txt"),
    ("show nodes seesaw1-1.example.com.", "reference_show_node_detail.txt"),
    ("show vservers", "reference_show_vservers.txt"),
    ("show vservers dns", "reference_show_vserver_dns.txt"),
    ("show vservers http.proxy@au-syd", "reference_show_vserver_proxy.txt"),
    ("show vservers r", "reference_show_vserver_radius.txt"),
    ("show backends", "reference_show_backends.txt"),
    ("show backends dns1-1", "reference_show_backend_dns1-1.txt"),
    ("show destinations", "reference_show_destinations.txt"),
    ("show destinations dns.resolver@au-syd/192.168.12.1:53/TCP", "reference_show_destination_detail.txt"),
    ("show destinations http", "reference_show_destination_proxy.txt"),
    ("show vlans", "reference_show_vlans.txt"),
    ("show vlans 511", "reference_show_vlan_511.txt"),
    ("show vlans 2015:cafe:11::1", "reference_show_vlan_511.txt"),
    ("show vlans 192.168.12.7", "reference_show_vlan_512.txt"),
    ("show bgp neighbors", "reference_show_bgp_neighbors.txt"),
    ("show bgp neighbors 192.168.10.253", "reference_show_bgp_neighbor.txt"),
    ("show warnings", "reference_show_warnings.txt"),
    ("config status", "reference_config_status.txt"),
    ("show version", "reference_show_version.txt"),
]


@pytest.mark.parametrize(("command", "expected"), REFERENCE)
def test_reference_layouts(command, expected, serve_engine, cli, golden, utc_zone):
    engine = serve_engine(fake.reference())
    run = cli("--engine", str(engine.path), "-c", command, now=fake.REFERENCE_NOW)
    assert (run.status, run.err) == (0, "")
    assert run.out == golden(expected).replace("0.1.0\n", f"{__version__}\n")


def test_exact_vserver_name_wins_over_prefix(serve_engine, cli, golden, utc_zone):
    """With vservers "web" and "web2", `show vservers web` is the detail of "web", not a list of both."""
    state = fake.observed()
    other = state.vservers.vservers.add()
    other.CopyFrom(state.vservers.vservers[0])
    other.name = "test-vserver2"
    engine = serve_engine(state)
    exact = cli("--engine", str(engine.path), "-c", "show vservers test-vserver")
    assert exact.out == golden("observed_show_vservers.txt")
    prefix = cli("--engine", str(engine.path), "-c", "show vservers test")
    assert prefix.out == "Vservers\n[  1] test-vserver\n[  2] test-vserver2\n"


def test_no_vservers(serve_engine, cli):
    state = fake.observed()
    state.vservers.Clear()
    engine = serve_engine(state)
    assert cli("--engine", str(engine.path), "-c", "show vservers").out == "No vservers found\n"
    assert cli("--engine", str(engine.path), "-c", "show vservers x").out == "No matching vservers\n"
    assert cli("--engine", str(engine.path), "-c", "show checks").out == "No checks found\n"


def test_times_follow_the_local_zone(serve_engine, cli, monkeypatch):
    """Go formats in the local zone: the same instant reads 13:59:03 EST in New York."""
    engine = serve_engine(fake.observed())
    monkeypatch.setenv("TZ", "America/New_York")
    import time

    time.tzset()
    try:
        run = cli("--engine", str(engine.path), "-c", "show ha", now=fake.OBSERVED_NOW)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert "  Duration:            16s (since Nov 26 13:59:03 EST)\n" in run.out
    assert "  Last Update:         Nov 26 13:59:20 EST\n" in run.out


def test_ha_duration_is_na_without_since(serve_engine, cli, utc_zone):
    state = fake.observed()
    state.ha.since_unix_ms = 0
    state.ha.last_update_unix_ms = 0
    engine = serve_engine(state)
    run = cli("--engine", str(engine.path), "-c", "show ha")
    assert "  Duration:            N/A\n" in run.out
    assert "  Last Update:         Jan 1 00:00:00 UTC\n" in run.out


def test_config_status_shows_a_refused_config(serve_engine, cli, utc_zone):
    state = fake.observed()
    state.config.last_error = "cluster.pb:12:3: vserver 'web': unknown field 'portt'"
    state.config.last_error_unix_ms = fake.utc(2026, 11, 26, 18, 0, 1) * 1000
    engine = serve_engine(state)
    run = cli("--engine", str(engine.path), "-c", "config status")
    assert run.out == (
        "Config Status\n"
        "  Last Update          Jan 1 00:00:00 UTC\n"
        "\n"
        "  Attributes:\n"
        "\n"
        "  Last Refused:        Nov 26 18:00:01 UTC\n"
        "    cluster.pb:12:3: vserver 'web': unknown field 'portt'\n"
    )


def test_subprocess_prints_the_same_bytes(serve_engine, golden):
    """Once as a real `python -m seesaw.cli` process: stdout, stderr and exit status."""
    engine = serve_engine(fake.observed())
    proc = subprocess.run(
        [sys.executable, "-m", "seesaw.cli", "--engine", str(engine.path), "-c", "show vservers"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "TZ": "UTC"},
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == golden("observed_show_vservers.txt")
    proc = subprocess.run(
        [sys.executable, "-m", "seesaw.cli", "--engine", str(engine.path), "show", "v"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", "Incomplete command.\n")
