"""DSR-mode healthchecks through the VIP on the nftables dataplane, with the real daemons (issue 4 item 2).

Seesaw's first deployment (seesaw.lab.topology.tutorial: node01, test-vserver 192.168.37.200 TCP/80,
DSR, backend01/02 with the VIP on lo) run by its watchdog with NCC on nftables; its HTTP check is in
DSR mode, and a vserver-level PLAIN HTTP check is added. A DSR check connects from the LB to the VIP
with the backend's mark, and NCC routes that mark to the backend (nft_probe_plan.py): so it passes
only on a backend that answers for the VIP, while the PLAIN check (straight to the backend) does not
care.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from seesaw.lab import configs, netns, query, topology
from seesaw.lab.lab import Lab

pytestmark = [pytest.mark.netns, pytest.mark.slow]

VIP = "192.168.37.200"
PLAIN_CHECK = """  healthcheck: <
    type: HTTP
    interval: 1
    timeout: 1
    port: 80
    mode: PLAIN
    retries: 0
  >
"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    if reason := netns.unmet_needs():
        pytest.skip(reason)
    topo = topology.tutorial("dsrp-")
    running = Lab(Path(tmp_path_factory.mktemp("dsr-probe")), topo, dataplane="nftables")
    running.up()  # serving: both backends healthy, so both DSR checks pass from the start
    try:
        with_plain = configs.cluster_pb(topo).replace('  rp: "lab@seesaw"\n', f'  rp: "lab@seesaw"\n{PLAIN_CHECK}', 1)
        assert with_plain != configs.cluster_pb(topo)
        running.set_cluster(with_plain)
        assert all(running.reload().values())
        yield running
    finally:
        running.down()


def checks(lab: Lab) -> dict[tuple[str, str], str]:
    """(backend address, check mode) -> the check's last result, from `show checks`."""
    out = lab.nodes["node01"].cli("show checks").stdout
    found = {}
    for line in out.splitlines()[2:]:
        words = line.split()
        if len(words) > 4 and words[0].startswith("test-vserver/"):
            backend = words[0].split("/")[1].rpartition(":")[0]
            mode = words[2].partition("/")[2] or "PLAIN"  # HTTP/DSR, or HTTP for a PLAIN check
            found[(backend, mode)] = words[4]
    return found


def wait_checks(lab: Lab, wanted: dict[tuple[str, str], str], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while (seen := checks(lab)) != wanted:
        if time.monotonic() > deadline:
            raise AssertionError(f"checks are {seen}, not {wanted}\n" + lab.nodes["node01"].cli("show checks").stdout)
        time.sleep(0.2)


def test_the_node_routes_each_dsr_check_mark_to_its_backend(lab: Lab) -> None:
    assert query.ncc_status(lab.nodes["node01"].run_dir).dataplane == "nftables"
    rules = netns.ip(lab.topo.ns("node01"), "rule", "show").stdout
    assert rules.count("lookup 655") == 2 and "2:\tfrom all lookup local proto 84" in rules
    routes = netns.ip(lab.topo.ns("node01"), "route", "show", "table", "all", "proto", "84").stdout
    assert {line.split()[2] for line in routes.splitlines()} == {"192.168.37.71", "192.168.37.72"}


def test_a_backend_without_the_vip_fails_its_dsr_check_while_its_plain_check_passes(lab: Lab) -> None:
    backends = ("192.168.37.71", "192.168.37.72")
    everything_healthy = {(b, mode): "healthy" for b in backends for mode in ("DSR", "PLAIN")}
    wait_checks(lab, everything_healthy)
    backend02 = lab.topo.ns("backend02")
    netns.ip(backend02, "addr", "del", f"{VIP}/32", "dev", "lo")
    try:
        wait_checks(lab, {**everything_healthy, ("192.168.37.72", "DSR"): "unhealthy"})
        destinations = lab.nodes["node01"].cli("show destinations").stdout
        assert "192.168.37.72:80/TCP (enabled, unhealthy, inactive)" in destinations
        assert "192.168.37.71:80/TCP (enabled, healthy, active)" in destinations
    finally:
        netns.ip(backend02, "addr", "add", f"{VIP}/32", "dev", "lo")
    wait_checks(lab, everything_healthy)
