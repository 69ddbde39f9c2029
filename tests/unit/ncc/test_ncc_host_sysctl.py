"""The LB sysctls, written against a tmp dir standing in for /proc/sys."""

import logging
from pathlib import Path

import pytest

from seesaw.ncc.dataplane import DataplaneError
from seesaw.ncc.kernel.host_sysctl import GLOBAL, SysctlWriter, interface_sysctls, lb_sysctls


def make_tree(root: Path, names: list[str], value: str = "0") -> None:
    """Files for sysctls given as path components joined by '/' (interface names may hold dots)."""
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value + "\n")


def read(root: Path, name: str) -> str:
    return (root / name).read_text().strip()


def full_tree(root: Path, interfaces: list[str], conntrack: bool = True, init_netns: bool = True) -> None:
    names = ["net/ipv4/ip_forward", "net/ipv4/vs/conntrack", "net/ipv4/vs/expire_nodest_conn"]
    if conntrack:
        names.append("net/netfilter/nf_conntrack_tcp_timeout_established")
    if init_netns:
        names += [f"net/ipv4/neigh/default/gc_thresh{i}" for i in (1, 2, 3)]
    for iface in ["all", "default", *interfaces]:
        names += [f"net/ipv4/conf/{iface}/{k}" for k in ("accept_local", "arp_filter", "arp_ignore", "arp_announce")]
        names += [f"net/ipv4/conf/{iface}/{k}" for k in ("arp_notify", "rp_filter", "send_redirects")]
        v6 = ("autoconf", "accept_dad", "dad_transmits", "keep_addr_on_down")
        names += [f"net/ipv6/conf/{iface}/{k}" for k in v6]
    make_tree(root, names)


def test_every_value_of_seesaw_is_written_and_only_once(tmp_path):
    full_tree(tmp_path, ["eth0", "lb-1"])
    writer = SysctlWriter(tmp_path)
    first = writer.apply(lb_sysctls("eth0", "lb-1"))
    assert read(tmp_path, "net/ipv4/neigh/default/gc_thresh3") == "4096"
    assert read(tmp_path, "net/ipv4/ip_forward") == "1"
    assert read(tmp_path, "net/netfilter/nf_conntrack_tcp_timeout_established") == "900"
    assert read(tmp_path, "net/ipv4/conf/lb-1/arp_ignore") == "1"
    assert read(tmp_path, "net/ipv4/conf/eth0/rp_filter") == "2"
    assert read(tmp_path, "net/ipv4/conf/all/send_redirects") == "0"
    assert read(tmp_path, "net/ipv6/conf/lb-1/keep_addr_on_down") == "1"
    # only the LB interface keeps IPv6 addresses on down
    assert read(tmp_path, "net/ipv6/conf/eth0/keep_addr_on_down") == "0"
    assert "net.ipv4.ip_forward" in first.written and not first.skipped
    # re-applying what is in place writes nothing
    assert writer.apply(lb_sysctls("eth0", "lb-1")).written == ()


def test_a_vlan_name_with_a_dot_is_one_path_component(tmp_path):
    full_tree(tmp_path, ["eth1.100"])
    SysctlWriter(tmp_path).apply(interface_sysctls("eth1.100", keep_ipv6_on_down=True))
    assert read(tmp_path, "net/ipv4/conf/eth1.100/arp_announce") == "2"
    assert not (tmp_path / "net/ipv4/conf/eth1").exists()


def test_outside_the_init_netns_gc_thresh_is_skipped_not_fatal(tmp_path, caplog):
    # Seesaw v2 died here: "open /proc/sys/net/ipv4/neigh/default/gc_thresh1: no such file or directory" (P8)
    full_tree(tmp_path, ["eth0", "eth1"], init_netns=False)
    with caplog.at_level(logging.DEBUG, logger="seesaw.ncc.host"):
        outcome = SysctlWriter(tmp_path).apply(GLOBAL)
    assert set(outcome.skipped) == {f"net.ipv4.neigh.default.gc_thresh{i}" for i in (1, 2, 3)}
    assert outcome.warnings == ()
    assert "exists only in the initial network namespace" in caplog.text


def test_without_nf_conntrack_a_warning_names_the_fix(tmp_path, caplog):
    full_tree(tmp_path, ["eth0", "eth1"], conntrack=False)
    with caplog.at_level(logging.WARNING, logger="seesaw.ncc.host"):
        outcome = SysctlWriter(tmp_path).apply(GLOBAL)
    (warning,) = outcome.warnings
    assert "net.netfilter.nf_conntrack_tcp_timeout_established not set" in warning
    assert "modprobe nf_conntrack" in warning and "/etc/modules-load.d/seesaw.conf" in warning
    assert warning in caplog.text
    assert read(tmp_path, "net/ipv4/ip_forward") == "1"  # the rest still happened


def test_without_ip_vs_and_ipv6_their_sysctls_are_skipped(tmp_path):
    full_tree(tmp_path, ["eth0", "eth1"])
    for gone in ("net/ipv4/vs", "net/ipv6"):
        for path in sorted((tmp_path / gone).rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        (tmp_path / gone).rmdir()
    outcome = SysctlWriter(tmp_path).apply(lb_sysctls("eth0", "eth1"))
    assert "net.ipv4.vs.conntrack" in outcome.skipped
    assert "net.ipv6.conf.eth1.accept_dad" in outcome.skipped
    assert outcome.warnings == ()


def test_a_missing_interface_is_an_error_that_says_what_to_do(tmp_path):
    full_tree(tmp_path, ["eth0"])
    with pytest.raises(DataplaneError) as err:
        SysctlWriter(tmp_path).apply(interface_sysctls("eth9"))
    assert "net.ipv4.conf.eth9.accept_local does not exist" in str(err.value)
    assert "seesaw doctor" in str(err.value)
