"""Smoke test of the UML guest: the real `ip_vs` module answers pyroute2, per network namespace.

Runs only inside scripts/run-in-uml (tests/kernel/conftest.py skips it elsewhere). What a dataplane test can rely
on: `pyroute2.IPVS()` binds the IPVS generic-netlink family, a service with one NAT destination can be added, dumped
(as ipvsadm sees it too) and deleted in a fresh netns, and the guest's root namespace does not see it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from pyroute2 import IPVS, IPVSDest, IPVSService

VIP, VPORT = "10.99.0.200", 80
BACKEND, BPORT, WEIGHT = "10.99.1.11", 8080, 3
IP_VS_CONN_F_MASQ = 0  # the NAT forwarding method, "Masq" in ipvsadm


def _services(ipvs: IPVS) -> list[tuple[int, str, int, str]]:
    found = []
    for message in ipvs.service("dump"):
        attrs = message.get("IPVS_CMD_ATTR_SERVICE")
        found.append(
            (
                attrs.get("IPVS_SVC_ATTR_PROTOCOL"),
                attrs.get("IPVS_SVC_ATTR_ADDR"),
                attrs.get("IPVS_SVC_ATTR_PORT"),
                attrs.get("IPVS_SVC_ATTR_SCHED_NAME"),
            )
        )
    return found


def _destinations(ipvs: IPVS, service: IPVSService) -> list[tuple[str, int, int, int]]:
    found = []
    for message in ipvs.dest("dump", service=service):
        # the raw attribute: pyroute2 0.9.7's IPVSDest.from_message() always reports fwd_method=3
        attrs = message.get("IPVS_CMD_ATTR_DEST")
        found.append(
            (
                attrs.get("IPVS_DEST_ATTR_ADDR"),
                attrs.get("IPVS_DEST_ATTR_PORT"),
                attrs.get("IPVS_DEST_ATTR_FWD_METHOD"),
                attrs.get("IPVS_DEST_ATTR_WEIGHT"),
            )
        )
    return found


def _ipvsadm_table(netns: str) -> list[list[str]]:
    """`ipvsadm -Ln` in `netns`, as the words of each service and destination line (headers dropped)."""
    out = subprocess.run(["ip", "netns", "exec", netns, "ipvsadm", "-Ln"], capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    assert lines[0].startswith("IP Virtual Server version"), out.stdout
    return [line.split() for line in lines[3:]]


def test_ip_vs_is_loaded_and_its_netlink_family_answers() -> None:
    assert Path("/proc/net/ip_vs").exists(), "the runner preloads ip_vs; see the guest console with run-in-uml -v"
    with IPVS() as ipvs:
        assert _services(ipvs) == []


def test_service_with_one_destination_round_trips_in_a_fresh_netns(netns: str) -> None:
    service = IPVSService(addr=VIP, port=VPORT, protocol=socket.IPPROTO_TCP, sched_name="rr")
    with IPVS(netns=netns) as ipvs:
        ipvs.service("add", service=service)
        ipvs.dest(
            "add",
            service=service,
            dest=IPVSDest(addr=BACKEND, port=BPORT, weight=WEIGHT, fwd_method=IP_VS_CONN_F_MASQ),
        )

        assert _services(ipvs) == [(socket.IPPROTO_TCP, VIP, VPORT, "rr")]
        assert _destinations(ipvs, service) == [(BACKEND, BPORT, IP_VS_CONN_F_MASQ, WEIGHT)]
        if shutil.which("ipvsadm"):
            assert _ipvsadm_table(netns) == [
                ["TCP", f"{VIP}:{VPORT}", "rr"],
                ["->", f"{BACKEND}:{BPORT}", "Masq", str(WEIGHT), "0", "0"],
            ]
        with IPVS() as root:
            assert _services(root) == [], "IPVS state is per network namespace"

        ipvs.service("del", service=service)
        assert _services(ipvs) == []
        if shutil.which("ipvsadm"):
            assert _ipvsadm_table(netns) == []


def test_ipvsadm_is_there_for_the_comparison() -> None:
    if shutil.which("ipvsadm") is None:
        pytest.skip("ipvsadm is not installed (scripts/system-deps installs it); the pyroute2 checks ran alone")
    version = subprocess.run(["ipvsadm", "--version"], capture_output=True, text=True, check=True)
    assert "ipvsadm" in version.stdout
