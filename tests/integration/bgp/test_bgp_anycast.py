"""Anycast through a real BGP speaker: a Seesaw node's NCC drives FRR's bgpd, a BIRD router peers with it.

The router's RIB (and its kernel table) learns the anycast VIP's /32 while
the vserver is healthy, and traffic from the router's side reaches the
backend through it; it loses the route when the backend fails or the
vserver is disabled, and learns it again when they come back; `show bgp
neighbors` shows the session Established. A bgpd that restarts and forgets what NCC
typed is repaired by NCC's audit.
"""

from __future__ import annotations

import os
import re

import pytest
from bgp_lab import (
    ANYCAST_VIP,
    LB_IP,
    REMOTE_ASN,
    RTR_IP,
    SERVICE_ANYCAST,
    VSERVER,
    Lab,
    lab,
    missing,
    wait_for,
)

pytestmark = [pytest.mark.netns]


def _isolated() -> bool:
    return os.geteuid() == 0 and os.listdir("/sys/class/net") == ["lo"]


@pytest.fixture
def anycast_lab(tmp_path):
    if not _isolated():
        pytest.skip("needs root inside a private network namespace (run via scripts/run-tests integration)")
    why = missing()
    if why:
        pytest.skip(why)
    with lab(tmp_path) as the_lab:
        the_lab.start_backend()
        the_lab.start_bird()
        the_lab.start_frr()
        node = the_lab.start_node()
        node.wait(node.all_running, 60, "every Seesaw daemon running")
        yield the_lab


def _cli(the_lab: Lab, command: str) -> str:
    assert the_lab.node is not None
    done = the_lab.node.cli(command)
    assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
    return done.stdout


def _learned(the_lab: Lab, address: str, timeout: float = 30) -> None:
    wait_for(lambda: the_lab.router_learned(address), timeout, f"the router to learn {address}/32", the_lab.logs)


def _lost(the_lab: Lab, address: str, timeout: float = 30) -> None:
    wait_for(lambda: the_lab.router_lost(address), timeout, f"the router to lose {address}/32", the_lab.logs)


def test_router_learns_and_loses_the_anycast_vip(anycast_lab: Lab) -> None:
    the_lab = anycast_lab
    _learned(the_lab, ANYCAST_VIP, timeout=60)
    assert the_lab.router_learned(SERVICE_ANYCAST)  # Seesaw's service anycast address, always advertised
    assert the_lab.fetch(ANYCAST_VIP) == "be1\n"  # through the route BGP taught, the LB's NAT, the backend

    neighbors = _cli(the_lab, "show bgp neighbors")
    assert re.fullmatch(rf"BGP Neighbors\n\[  1\] {re.escape(RTR_IP)} \(Established, \d+s\)\n", neighbors), neighbors
    detail = _cli(the_lab, f"show bgp neighbors {RTR_IP}")
    assert f"ASN:                 {REMOTE_ASN}\n" in detail
    assert "Description:         rtr1.lab.\n" in detail
    assert f"Router ID:           {RTR_IP}\n" in detail

    # The backend fails: its check fails, the service and so the anycast VIP go down, the route goes.
    the_lab.stop("http")
    _lost(the_lab, ANYCAST_VIP)
    assert the_lab.router_learned(SERVICE_ANYCAST)
    the_lab.start_backend()
    _learned(the_lab, ANYCAST_VIP)

    # The operator disables the vserver: withdrawn; back to its config's state: advertised again.
    _cli(the_lab, f"override vserver state disabled {VSERVER}")
    _lost(the_lab, ANYCAST_VIP)
    assert "unreachable" in the_lab.fetch(ANYCAST_VIP)  # the router has no route to it any more
    _cli(the_lab, f"override vserver state default {VSERVER}")
    _learned(the_lab, ANYCAST_VIP)
    assert the_lab.fetch(ANYCAST_VIP) == "be1\n"


def test_restarted_bgpd_is_repaired_by_the_audit(anycast_lab: Lab) -> None:
    the_lab = anycast_lab
    _learned(the_lab, ANYCAST_VIP, timeout=60)
    the_lab.stop_bgpd()  # its config was only ever typed in by NCC: a new bgpd starts empty
    _lost(the_lab, ANYCAST_VIP)
    the_lab.start_bgpd()
    _learned(the_lab, ANYCAST_VIP, timeout=60)
    neighbors = _cli(the_lab, "show bgp neighbors")
    assert f"{RTR_IP} (Established" in neighbors, neighbors
    assert LB_IP not in neighbors
