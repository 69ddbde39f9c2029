"""Seesaw's classic first deployment (seesaw-observed.md), passing: the layout `seesaw.lab.topology.tutorial()`.

One node (node01, 192.168.37.76) with a node interface and an LB interface; cluster VIP .80;
`test-vserver` on 192.168.37.200 TCP/80, DSR, round robin, an HTTP healthcheck on port 80 in DSR
mode (it goes to the VIP with each backend's mark, so it proves the backend answers for the VIP);
backend01/02 (.71/.72) with the VIP on lo; a client at .172. Requests alternate between the
backends, and the CLI prints what the original printed (tests/unit/cli/golden/observed_*.txt are
its verbatim captures), byte for byte where the content does not depend on time.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_lab import running_lab

from seesaw.lab import topology, traffic
from seesaw.lab.lab import Lab

pytestmark = [pytest.mark.netns, pytest.mark.slow]

GOLDEN = Path(__file__).resolve().parents[2] / "unit" / "cli" / "golden"
VMAC = "00:00:5e:00:01:3c"  # VRID 60, as node01's LB interface had in the capture

EXACT = [
    ("show nodes", "observed_show_nodes.txt"),
    ("show backends", "observed_show_backends.txt"),
    ("show vservers", "observed_show_vservers.txt"),
    ("show vservers test-vserver", "observed_show_vservers.txt"),
    ("show destinations", "observed_show_destinations.txt"),
    ("show warnings", "observed_show_warnings.txt"),
    ("show vlans", "observed_show_vlans.txt"),
    ("config status", "observed_config_status.txt"),
]


@pytest.fixture(scope="module")
def tutorial(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(tmp_path_factory.mktemp("tutorial"), topology.tutorial("e2e-tut-")) as lab:
        yield lab


def cli(lab: Lab, command: str) -> str:
    result = lab.nodes["node01"].cli(command)
    assert (result.returncode, result.stderr) == (0, ""), command
    return result.stdout


def normalise_ha(text: str) -> str:
    """`show ha` without what depends on when it ran: durations, dates, advertisement counts."""
    text = re.sub(r"Duration:( +)\d+s \(since .*\)", r"Duration:\1<d>s (since <date>)", text)
    text = re.sub(r"Last Update:( +).*", r"Last Update:\1<date>", text)
    return re.sub(r"Advertisements Sent: \d+", "Advertisements Sent: <n>", text)


def test_requests_alternate_between_the_backends(tutorial: Lab):
    request = tutorial.client(traffic.request("http", "192.168.37.200", 80))
    answers = [request() for _ in range(10)]
    assert set(answers) == {"backend01", "backend02"}
    assert all(a != b for a, b in itertools.pairwise(answers)), answers


@pytest.mark.parametrize(("command", "golden"), EXACT)
def test_cli_prints_what_the_original_printed(tutorial: Lab, command: str, golden: str):
    assert cli(tutorial, command) == (GOLDEN / golden).read_text()


def test_show_ha_is_the_original_apart_from_times(tutorial: Lab):
    assert normalise_ha(cli(tutorial, "show ha")) == normalise_ha((GOLDEN / "observed_show_ha.txt").read_text())


def test_the_client_reaches_the_vip_at_the_vmac(tutorial: Lab):
    tutorial.client(traffic.request("http", "192.168.37.200", 80))()
    assert tutorial.neighbour("192.168.37.200") == VMAC


def test_the_healthchecks_run_in_dsr_mode_through_the_vip(tutorial: Lab):
    rows = [line.split() for line in cli(tutorial, "show checks").splitlines()[2:]]
    assert [(r[0], r[2], r[3], r[4]) for r in rows] == [
        ("test-vserver/192.168.37.71:80/TCP", "HTTP/DSR", "192.168.37.200:80", "healthy"),
        ("test-vserver/192.168.37.72:80/TCP", "HTTP/DSR", "192.168.37.200:80", "healthy"),
    ]
