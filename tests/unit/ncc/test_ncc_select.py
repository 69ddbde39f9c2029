"""Choosing the dataplane: explicit choices, auto with its reasons, and refusals that say what to do."""

import ctypes.util
from pathlib import Path

import pytest

from seesaw.ncc.select import (
    CAP_NET_ADMIN,
    DataplaneUnavailable,
    Probe,
    has_capability,
    probe_ipvs,
    probe_nftables,
    select,
)
from seesaw.ncc.sim import SimDataplane

IPVS_OK = Probe(True, 'the generic netlink family "IPVS" resolves')
IPVS_MISSING = Probe(False, 'the kernel has no generic netlink family "IPVS"')
NFT_OK = Probe(True, "libnftables.so.1 is usable")
NFT_MISSING = Probe(False, "libnftables is not installed")


def probes(ipvs: Probe, nftables: Probe) -> dict:
    return {"ipvs": lambda: ipvs, "nftables": lambda: nftables}


def choose(backend, implementations=None, ipvs=IPVS_MISSING, nftables=NFT_MISSING, root=True):
    return select(
        backend,
        "--dataplane",
        implementations={"sim": SimDataplane} if implementations is None else implementations,
        probes=probes(ipvs, nftables),
        net_admin=lambda: root,
    )


def test_sim_is_chosen_only_when_asked_for():
    selection = choose("sim")
    assert isinstance(selection.dataplane, SimDataplane)
    assert "selected by --dataplane" in selection.reason


@pytest.mark.parametrize("backend", ["ipvs", "nftables"])
def test_a_backend_this_build_lacks_is_refused_by_name(backend):
    with pytest.raises(DataplaneUnavailable) as err:
        choose(backend, ipvs=IPVS_OK, nftables=NFT_OK)
    label = {"ipvs": "IPVS", "nftables": "nftables"}[backend]
    assert str(err.value) == (
        f"dataplane {backend!r} selected (--dataplane) but this build has no {label} dataplane yet; "
        "set [dataplane] backend = sim in seesaw.cfg to run without a kernel dataplane"
    )


def test_unknown_backend():
    with pytest.raises(DataplaneUnavailable, match=r"unknown dataplane 'lvs'.*auto, ipvs, nftables, sim"):
        choose("lvs")


def test_auto_without_any_kernel_dataplane_explains_and_never_falls_back_to_sim():
    with pytest.raises(DataplaneUnavailable) as err:
        choose("auto")
    message = str(err.value)
    assert "no kernel dataplane is usable for backend = auto" in message
    assert "modprobe ip_vs" in message
    assert "apt-get install nftables libnftables1" in message
    assert "backend = sim" in message


def test_auto_says_when_the_kernel_has_ipvs_but_this_build_does_not():
    with pytest.raises(DataplaneUnavailable, match='IPVS" resolves, but this build has no IPVS dataplane yet'):
        choose("auto", ipvs=IPVS_OK)


def test_auto_prefers_ipvs():
    ipvs, nft = SimDataplane(), SimDataplane()
    implementations = {"ipvs": lambda: ipvs, "nftables": lambda: nft}
    selection = choose("auto", implementations, ipvs=IPVS_OK, nftables=NFT_OK)
    assert selection.dataplane is ipvs
    assert selection.reason.startswith("auto (--dataplane): ipvs, because the generic netlink family")


def test_auto_falls_back_to_nftables_and_says_why():
    nft = SimDataplane()
    selection = choose("auto", {"ipvs": SimDataplane, "nftables": lambda: nft}, nftables=NFT_OK)
    assert selection.dataplane is nft
    assert "nftables, because libnftables.so.1 is usable" in selection.reason
    assert "ipvs: the kernel has no generic netlink family" in selection.reason


def test_an_explicit_kernel_backend_the_machine_cannot_run():
    with pytest.raises(DataplaneUnavailable) as err:
        choose("ipvs", {"ipvs": SimDataplane})
    assert "selected (--dataplane) but the kernel has no generic netlink family" in str(err.value)
    assert "modprobe ip_vs" in str(err.value)


@pytest.mark.parametrize("backend", ["ipvs", "auto"])
def test_kernel_backends_need_cap_net_admin(backend):
    with pytest.raises(DataplaneUnavailable) as err:
        choose(backend, {"ipvs": SimDataplane}, ipvs=IPVS_OK, root=False)
    assert "needs CAP_NET_ADMIN" in str(err.value)
    assert "run seesaw-ncc as root" in str(err.value)


def test_sim_needs_no_privilege():
    assert choose("sim", root=False).dataplane.name == "sim"


def test_has_capability_reads_the_effective_set(tmp_path):
    status = tmp_path / "status"
    status.write_text("Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t0000000000001000\n")
    assert has_capability(CAP_NET_ADMIN, status)
    status.write_text("CapEff:\t0000000000002000\n")
    assert not has_capability(CAP_NET_ADMIN, status)


def test_the_ipvs_probe_matches_the_kernel():
    probe = probe_ipvs()
    assert probe.ok == Path("/proc/net/ip_vs").exists(), probe.detail


def test_the_nftables_probe_names_what_is_missing():
    probe = probe_nftables()
    if ctypes.util.find_library("nftables") is None:
        assert not probe.ok and probe.detail == "libnftables is not installed"
    else:
        assert probe.ok or "binding" in probe.detail or "not usable" in probe.detail
