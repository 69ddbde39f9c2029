"""`seesaw lab up|status|traffic|failover|shell|down` and `make run`, run as a user runs them (the real CLI).

Each test makes its own lab dir; the lab's namespaces are named (private to this run, which
scripts/run-tests runs under unshare) or, with --unshare, hidden in a namespace of their own.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from seesaw.lab import netns, processes
from seesaw.lab.processes import Proc
from seesaw.ncc.select import probe_ipvs

pytestmark = [pytest.mark.netns, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
MAC_OF = {"lb1": "02:99:00:00:00:11", "lb2": "02:99:00:00:00:12"}  # the nodes' LB interfaces (topology.pair)


@pytest.fixture
def lab_dir(tmp_path: Path) -> Path:
    if reason := netns.unmet_needs():
        pytest.skip(reason)
    return tmp_path / "lab"


def seesaw(lab_dir: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SEESAW_LAB_DIR=str(lab_dir))
    cmd = [sys.executable, "-m", "seesaw.cli", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def recorded(lab_dir: Path) -> list[Proc]:
    data = json.loads((lab_dir / "state.json").read_text())
    holder = [Proc.from_json(data["holder"])] if data.get("holder") else []
    return [Proc.from_json(p) for p in data["processes"].values()] + holder


def lab_namespaces() -> list[str]:
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    return [line.split()[0] for line in listing.splitlines() if line.startswith("sslab-")]


def ha_states(status: str) -> dict[str, str]:
    """Node -> HA state, from `seesaw lab status`."""
    return dict(re.findall(r"^=== (\w+) .*?State:\s+(\w+)", status, flags=re.S | re.M))


def shares(traffic: str) -> dict[str, dict[str, int]]:
    """Service -> backend -> count, from `seesaw lab traffic`."""
    out: dict[str, dict[str, int]] = {}
    service = ""
    for line in traffic.splitlines():
        if not line.startswith(" "):
            service = line.split(" at ")[0]
            out[service] = {}
        else:
            name, count = line.split()[:2]
            out[service][name] = int(count)
    return out


def test_up_status_traffic_failover_shell_down(lab_dir: Path):
    up = ok(seesaw(lab_dir, "lab", "up"))
    seconds = float(re.search(r"serving in named network namespaces after ([\d.]+) s", up).group(1))
    assert seconds < 20
    try:
        assert "already up" in ok(seesaw(lab_dir, "lab", "up"))
        status = ok(seesaw(lab_dir, "lab", "status"))
        states = ha_states(status)
        assert sorted(states.values()) == ["BACKUP", "LEADER"]
        master = next(n for n, s in states.items() if s == "LEADER")
        other = next(n for n in states if n != master)
        dataplane = "ipvs" if probe_ipvs().ok else "nftables"
        assert status.count(f"dataplane: {dataplane};") == 2
        assert status.count("[  1] web-dsr") == 2 and status.count("[  2] web-nat") == 2
        assert status.count("(enabled, healthy, active)") == 12  # 6 destinations on each node

        even = {"be1": 10, "be2": 10}
        expected = {"web-dsr TCP/80 (DSR)": even, "web-dsr UDP/53 (DSR)": even, "web-nat TCP/8080 (NAT)": even}
        assert shares(ok(seesaw(lab_dir, "lab", "traffic", "-n", "20"))) == expected

        failover = ok(seesaw(lab_dir, "lab", "failover"))
        assert f"{master} -> {other}:" in failover
        assert f"10.99.1.200: {MAC_OF[master]} -> {MAC_OF[other]}" in failover  # GARP moved the client's entry
        assert ha_states(ok(seesaw(lab_dir, "lab", "status"))) == {master: "BACKUP", other: "LEADER"}
        assert shares(ok(seesaw(lab_dir, "lab", "traffic", "-n", "20"))) == expected
        assert "State:               LEADER" in ok(seesaw(lab_dir, "lab", "shell", other, "-c", "show ha"))
        pids = recorded(lab_dir)
        assert all(processes.alive(p) for p in pids)
    finally:
        down = ok(seesaw(lab_dir, "lab", "down"))
    assert "deleted namespace sslab-lan" in down
    assert lab_namespaces() == []
    assert not [p for p in pids if processes.alive(p)]
    gone = seesaw(lab_dir, "lab", "status")
    assert gone.returncode == 1 and "no lab is up" in gone.stderr


def test_up_unshare_hides_the_lab_in_its_own_namespace(lab_dir: Path):
    ok(seesaw(lab_dir, "lab", "up", "--unshare"))
    try:
        pids = recorded(lab_dir)
        assert lab_namespaces() == []  # they exist, but only inside the holder's mount namespace
        assert shares(ok(seesaw(lab_dir, "lab", "traffic", "-n", "4")))["web-nat TCP/8080 (NAT)"] == {
            "be1": 2,
            "be2": 2,
        }
    finally:
        down = ok(seesaw(lab_dir, "lab", "down"))
    assert "stopped the namespace holder" in down
    assert not [p for p in pids if processes.alive(p)]


def test_make_run_serves_within_20_seconds(lab_dir: Path):
    env = dict(os.environ, SEESAW_LAB_DIR=str(lab_dir))
    # -o: the venv is built and the system packages are in (`make test` saw to both): this namespace has no network
    cmd = ["make", "-s", "-C", str(ROOT), "-o", ".venv/.installed-stamp", "-o", "system-deps", "run"]
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180, check=False)
    try:
        assert run.returncode == 0, run.stdout + run.stderr
        seconds = float(re.search(r"The lab served traffic ([\d.]+) s after `make run` started", run.stdout).group(1))
        print(f"make run: serving after {seconds:.1f} s")
        assert seconds < 20
        assert 'seesaw -c "show ha"' in run.stdout and "web-nat TCP/8080 (NAT)" in run.stdout
        assert "lab failover" in run.stdout and "lab shell lb1" in run.stdout and "lab down" in run.stdout
    finally:
        ok(seesaw(lab_dir, "lab", "down"))
