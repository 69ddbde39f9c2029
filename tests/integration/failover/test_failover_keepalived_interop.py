"""A Seesaw node and a keepalived VRRPv3 node (the Debian package, started here) in one lab: they elect one
master and fail over to each other, and the client follows.

lb1 runs the whole Seesaw suite with RFC 5798 adverts ([ha] format = rfc5798, priority 255 as the lowest
node address, 100 ms); lb2 runs keepalived on the same VRID and interval with priority 100, the cluster VIP
as its advertised address (our adverts carry it) and the vserver VIPs held without being advertised, plus
a plain HTTP server that answers with its name. The client's probe loop through the DSR VIP sees who
serves it: be1/be2 behind Seesaw, or "lb2".
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from failover_lab import http_vip, require_lab

from seesaw.lab import keepalived, processes, topology, trials
from seesaw.lab.keepalived import Keepalived
from seesaw.lab.lab import Lab
from seesaw.lab.probe import Probe, Sample

pytestmark = [pytest.mark.netns, pytest.mark.slow]

THEIR_PRIORITY = 100
MASTER_DOWN = 3 * 0.1 + (256 - THEIR_PRIORITY) * 0.1 / 256  # keepalived's, at 100 ms adverts


@pytest.fixture
def mixed(tmp_path: Path) -> Iterator[tuple[Lab, Keepalived]]:
    require_lab()
    if not keepalived.installed():
        pytest.skip("keepalived is not installed (scripts/system-deps installs it)")
    topo = dataclasses.replace(topology.pair("ix-"), advert_format="rfc5798")
    lab = Lab(tmp_path / "lab", topo)
    del lab.nodes["lb2"]  # lb2 runs keepalived, not Seesaw
    lab.up()
    server = None
    theirs = Keepalived(
        topo.ns("lb2"),
        tmp_path / "keepalived",
        keepalived.config(
            "lb2", THEIR_PRIORITY, topo.advert_interval_ms, [str(topo.cluster_vip)], [str(v.vip) for v in topo.vservers]
        ),
    )
    try:
        server = keepalived.prepare_node(topo, "lb2", tmp_path / "keepalived")
        theirs.start()
        yield lab, theirs
    finally:
        theirs.stop()
        if server is not None:
            processes.stop(server)
        print(f"--- keepalived\n{theirs.log()}")
        lab.down()


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f} s waiting for {what}"
        time.sleep(0.02)


def through(lab: Lab, node: str, answered_by: set[str]) -> Callable[[Sample], bool]:
    """A sample answered by one of `answered_by`, sent to `node`'s MAC."""
    mac = trials.mac(lab.topo, node)
    return lambda s: s.ok and s.mac == mac and s.backend in answered_by


def test_seesaw_and_keepalived_elect_one_master_and_fail_over_to_each_other(mixed: tuple[Lab, Keepalived]):
    lab, theirs = mixed
    ours = lab.nodes["lb1"]
    backends = {b.name for b in lab.topo.backends}
    address, port = http_vip(lab.topo)
    with Probe(lab.topo.ns(lab.topo.client.name), address, port) as probe:
        # One master: ours (255). keepalived (100) hears it and stays BACKUP well past its master-down interval.
        wait_for(lambda: theirs.state() == "BACKUP", 10, "keepalived to start as BACKUP")
        time.sleep(5 * MASTER_DOWN)
        assert theirs.state() == "BACKUP" and "MASTER" not in theirs.log(), theirs.log()
        assert lab.ha_states() == {"lb1": "LEADER"}
        probe.wait(through(lab, "lb1", backends), 5, "an answer through lb1 from a backend")
        shown = ours.cli("show ha").stdout
        assert int(shown.split("Advertisements Rcvd:", 1)[1].split()[0]) == 0  # a backup keepalived is silent

        # ours hands over: keepalived takes the VIPs, the client's neighbour entry moves, lb2 answers.
        run = ours.cli("failover")
        assert run.returncode == 0, run.stdout + run.stderr
        probe.wait(through(lab, "lb2", {"lb2"}), 5, "an answer from keepalived's lb2")
        wait_for(lambda: lab.ha_states()["lb1"] == "BACKUP", 5, "ours to be BACKUP")
        assert theirs.state() == "MASTER"
        time.sleep(5 * 0.1)
        assert lab.ha_states()["lb1"] == "BACKUP"  # ours follows keepalived's adverts: no takeover back
        assert lab.neighbour(address) == trials.mac(lab.topo, "lb2")

        # keepalived stops (its priority-0 advert): ours takes over and the client comes back to the backends.
        theirs.stop()
        probe.wait(through(lab, "lb1", backends), 5, "an answer through lb1 from a backend again")
        assert lab.ha_states() == {"lb1": "LEADER"}
        shown = ours.cli("show ha").stdout
        assert int(shown.split("Advertisements Rcvd:", 1)[1].split()[0]) > 0, shown
    assert not [line for line in theirs.log().splitlines() if "not valid" in line or "invalid" in line]
