"""The sysctls a load balancer needs (reference seesaw.md section 4.2), written through /proc/sys.

Seesaw v2 wrote every one of them unconditionally and died on the first that
was missing. Here each sysctl says when it may be absent and what that means:

* `net.ipv4.neigh.default.gc_thresh*` exist only in the initial network
  namespace (Seesaw's trap P8): skipped with a debug note elsewhere.
* `net.ipv4.vs.*` exist only while ip_vs is loaded: skipped (the nftables
  dataplane has no use for them).
* `net.netfilter.nf_conntrack_*` exist only while nf_conntrack is loaded:
  skipped with a warning that says `modprobe nf_conntrack`.
* IPv6 sysctls exist only when IPv6 is enabled: skipped.

A value already in place is not written again, so re-applying an unchanged
LB interface costs no write. Interface names may hold dots (VLANs), so paths
are built from components, never by splitting a dotted name.
"""

from __future__ import annotations

import enum
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from seesaw.ncc.dataplane import DataplaneError

log = logging.getLogger("seesaw.ncc.host")

PROC_SYS = Path("/proc/sys")
_READ_SIZE = 4096  # a sysctl's value is a line or a few numbers


class Absent(enum.Enum):
    """What a missing sysctl means."""

    REQUIRED = "required"  # an error
    NETNS = "netns"  # exists only in the initial network namespace: debug note
    IPVS = "ipvs"  # needs ip_vs loaded: debug note
    CONNTRACK = "conntrack"  # needs nf_conntrack loaded: warning naming the fix
    IPV6 = "ipv6"  # IPv6 disabled: debug note


@dataclass(frozen=True)
class Sysctl:
    path: tuple[str, ...]  # components under /proc/sys
    value: str
    absent: Absent = Absent.REQUIRED

    @property
    def name(self) -> str:
        return ".".join(self.path)


GLOBAL: tuple[Sysctl, ...] = (
    # a bigger neighbour cache
    Sysctl(("net", "ipv4", "neigh", "default", "gc_thresh1"), "1024", Absent.NETNS),
    Sysctl(("net", "ipv4", "neigh", "default", "gc_thresh2"), "2048", Absent.NETNS),
    Sysctl(("net", "ipv4", "neigh", "default", "gc_thresh3"), "4096", Absent.NETNS),
    # NAT needs forwarding, and IPVS's conntrack integration
    Sysctl(("net", "ipv4", "ip_forward"), "1"),
    Sysctl(("net", "ipv4", "vs", "conntrack"), "1", Absent.IPVS),
    # established TCP in conntrack as long as in IPVS (15 minutes, not five days)
    Sysctl(("net", "netfilter", "nf_conntrack_tcp_timeout_established"), "900", Absent.CONNTRACK),
    # drop a connection whose backend is gone on its next packet
    Sysctl(("net", "ipv4", "vs", "expire_nodest_conn"), "1", Absent.IPVS),
)

_IPV4_INTERFACE = (
    ("accept_local", "1"),  # traffic from a local source, for VIPs hosted here
    ("arp_filter", "1"),  # answer ARP only on the interface that owns the address
    ("arp_ignore", "1"),
    ("arp_announce", "2"),
    ("arp_notify", "1"),  # gratuitous ARP when the link comes up
    ("rp_filter", "2"),  # loose reverse path filtering
    ("send_redirects", "0"),  # ip_forward turns redirects on; LB traffic leaves where it came in
)
_IPV6_INTERFACE = (
    ("autoconf", "0"),  # addresses at fixed offsets, no SLAAC
    ("accept_dad", "0"),  # VIPs usable at once: no duplicate address detection
    ("dad_transmits", "0"),
)
# LB and VLAN interfaces only: the kernel drops IPv6 addresses on link down unless told not to.
_KEEP_IPV6 = ("keep_addr_on_down", "1")


def interface_sysctls(interface: str, keep_ipv6_on_down: bool = False) -> list[Sysctl]:
    """The per-interface sysctls of `interface` ("all", "default" or a link name)."""
    out = [Sysctl(("net", "ipv4", "conf", interface, key), value) for key, value in _IPV4_INTERFACE]
    v6 = [*_IPV6_INTERFACE, _KEEP_IPV6] if keep_ipv6_on_down else list(_IPV6_INTERFACE)
    out.extend(Sysctl(("net", "ipv6", "conf", interface, key), value, Absent.IPV6) for key, value in v6)
    return out


def lb_sysctls(node_interface: str, lb_interface: str) -> list[Sysctl]:
    """Everything LB interface set-up writes: global ones, then all/default/node/LB interface ones."""
    out = list(GLOBAL)
    for interface in ("all", "default", node_interface):
        if interface:
            out.extend(interface_sysctls(interface))
    out.extend(interface_sysctls(lb_interface, keep_ipv6_on_down=True))
    return out


@dataclass(frozen=True)
class Outcome:
    written: tuple[str, ...]  # names whose value changed
    skipped: tuple[str, ...]  # names absent here, for a reason that allows it
    warnings: tuple[str, ...]  # what an operator should fix (already logged)


class SysctlWriter:
    """Reads and writes sysctls under `root` (/proc/sys; a tmp dir in tests)."""

    def __init__(self, root: Path = PROC_SYS) -> None:
        self.root = root
        self._root = str(root)
        self._warned: set[str] = set()

    def read(self, path: Sequence[str]) -> str | None:
        # os.open on a joined string, not pathlib: an LB interface brought up reads ~50 of these, during a
        # takeover (pathlib's objects cost more than the read itself)
        try:
            fd = os.open(os.path.join(self._root, *path), os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            return os.read(fd, _READ_SIZE).decode(errors="replace").strip()
        finally:
            os.close(fd)

    def apply(self, sysctls: Iterable[Sysctl]) -> Outcome:
        """Set each sysctl that differs; DataplaneError on a required one that is missing or refused."""
        written: list[str] = []
        skipped: list[str] = []
        warnings: list[str] = []
        for ctl in sysctls:
            current = self.read(ctl.path)
            if current is None:
                self._absent(ctl, skipped, warnings)
                continue
            if current.split() == ctl.value.split():
                continue
            try:
                self.root.joinpath(*ctl.path).write_text(ctl.value + "\n")
            except OSError as err:
                raise DataplaneError(f"cannot set {ctl.name} = {ctl.value}: {err.strerror or err}", err.errno) from err
            written.append(ctl.name)
        return Outcome(tuple(written), tuple(skipped), tuple(warnings))

    def _absent(self, ctl: Sysctl, skipped: list[str], warnings: list[str]) -> None:
        if ctl.absent is Absent.REQUIRED:
            raise DataplaneError(
                f"sysctl {ctl.name} does not exist ({self.root.joinpath(*ctl.path)}): "
                "is the interface there and is this a Linux network namespace? run `seesaw doctor`",
                2,
            )
        skipped.append(ctl.name)
        if ctl.absent is Absent.CONNTRACK:
            message = (
                f"sysctl {ctl.name} not set: nf_conntrack is not loaded; "
                "run `modprobe nf_conntrack` and list it in /etc/modules-load.d/seesaw.conf"
            )
            warnings.append(message)
            if message not in self._warned:
                self._warned.add(message)
                log.warning("%s", message)
        elif ctl.absent is Absent.NETNS:
            log.debug("sysctl %s skipped: it exists only in the initial network namespace", ctl.name)
        elif ctl.absent is Absent.IPVS:
            log.debug("sysctl %s skipped: ip_vs is not loaded", ctl.name)
        else:
            log.debug("sysctl %s skipped: IPv6 is disabled here", ctl.name)
