"""The whole suite under its watchdog: five real daemons, one node, sim dataplane.

SIGKILL each child in turn; the watchdog restarts it and the suite serves
again (the CLI answers, HA is LEADER, the vservers are back).
"""

import os
import signal
import time
from pathlib import Path

import pytest

from seesaw.lab.node import Node, make_interfaces, prepare_config

EXAMPLES = Path(__file__).resolve().parents[3] / "etc" / "seesaw"
SERVICES = ("ncc", "engine", "ha", "healthcheck", "ecu")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def node(tmp_path, netns):
    node = Node(tmp_path / "node", netns=netns)
    cfg = prepare_config(EXAMPLES, node.config_dir, {"dataplane": {"backend": "sim"}})
    make_interfaces(cfg, netns)
    node.start()
    yield node
    node.stop()


def _vservers(node: Node) -> str:
    result = node.cli("show vservers")
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_suite_serves_and_survives_sigkill_of_each_child(node):
    node.wait_leader(timeout=60)
    assert set(node.status()) == set(SERVICES)
    before = _vservers(node)
    assert "dns.resolver@au-syd" in before and "[  5]" in before

    for name in SERVICES:
        old = node.status()[name]
        old_pid = int(old["pid"])
        os.kill(old_pid, signal.SIGKILL)
        node.wait(
            lambda old_pid=old_pid, name=name: (
                int(node.status()[name].get("pid") or 0) not in (0, old_pid) and node.all_running()
            ),
            timeout=60,
            what=f"{name} restarted and every service SERVING",
        )
        assert not _alive(old_pid)
        assert int(node.status()[name]["restarts"]) >= int(old.get("restarts", 0)) + 1
        node.wait_leader(timeout=60)
        assert _vservers(node) == before, f"after restarting {name}"


def test_sigterm_stops_every_child(node):
    node.wait_leader(timeout=60)
    pids = [int(s["pid"]) for s in node.status().values()]
    started = time.monotonic()
    assert node.stop() == 0
    assert time.monotonic() - started < 30
    assert not [pid for pid in pids if _alive(pid)]
    result = node.cli("show vservers")
    assert result.returncode == 1
    assert "Failed to connect to engine" in result.stderr
