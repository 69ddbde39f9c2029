"""Smoke test of the qemu guest: the LB host's kernel pieces exist together in Debian's stock kernel.

Runs only inside scripts/run-in-vm (tests/kernel/conftest.py skips it elsewhere). What an LB-host test can rely on:
`ip_vs` loads and autoloads its schedulers, nftables takes netdev and inet tables, and pyroute2 makes a dummy link
with an 802.1Q VLAN on top, all in a fresh network namespace.
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest
from pyroute2 import IPVS, IPRoute, IPVSService


def _loaded_modules() -> set[str]:
    return {line.split()[0] for line in Path("/proc/modules").read_text().splitlines()}


def test_ip_vs_loads() -> None:
    subprocess.run(["modprobe", "ip_vs"], check=True, capture_output=True)
    assert "ip_vs" in _loaded_modules()
    assert Path("/proc/net/ip_vs").exists()


def test_ipvs_autoloads_a_scheduler_that_was_not_preloaded(netns: str) -> None:
    # the runner preloads the common schedulers; lblcr is not among them, so the kernel must request it
    assert "ip_vs_lblcr" not in _loaded_modules()
    service = IPVSService(addr="10.99.0.200", port=443, protocol=socket.IPPROTO_TCP, sched_name="lblcr")
    with IPVS(netns=netns) as ipvs:
        ipvs.service("add", service=service)
        (message,) = ipvs.service("dump")
        assert message.get("IPVS_CMD_ATTR_SERVICE").get("IPVS_SVC_ATTR_SCHED_NAME") == "lblcr"
        ipvs.service("del", service=service)
    assert "ip_vs_lblcr" in _loaded_modules()


@pytest.mark.parametrize("family", ["netdev", "inet"])
def test_nftables_takes_a_table_of_family(netns: str, family: str) -> None:
    nft = ["ip", "netns", "exec", netns, "nft"]
    subprocess.run([*nft, "add", "table", family, "t"], check=True, capture_output=True, text=True)
    listed = subprocess.run([*nft, "list", "tables"], check=True, capture_output=True, text=True)
    assert listed.stdout.splitlines() == [f"table {family} t"]


def test_pyroute2_makes_a_dummy_link_with_a_vlan_on_it(netns: str) -> None:
    with IPRoute(netns=netns) as ipr:
        ipr.link("add", ifname="d0", kind="dummy")
        (dummy,) = ipr.link_lookup(ifname="d0")
        ipr.link("add", ifname="d0.100", kind="vlan", link=dummy, vlan_id=100)

        (link,) = ipr.get_links(dummy)
        assert link.get("IFLA_LINKINFO").get("IFLA_INFO_KIND") == "dummy"
        (vlan,) = ipr.get_links(ifname="d0.100")
        info = vlan.get("IFLA_LINKINFO")
        assert info.get("IFLA_INFO_KIND") == "vlan"
        assert info.get("IFLA_INFO_DATA").get("IFLA_VLAN_ID") == 100
        assert vlan.get("IFLA_LINK") == dummy
