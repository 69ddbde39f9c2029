"""What the doctor learns about this machine: one pass of I/O, then plain values for the checks.

`System.gather()` reads the network namespace it runs in through rtnetlink
(pyroute2; never by parsing `ip` output), /proc/sys and /sys/module, and
uses select.py's probes for IPVS and libnftables. Where a kernel module is
missing it tries `modprobe` once (ip_vs, nf_conntrack, dummy), as the fix
would, and records what modprobe said; `modprobe=False` only looks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from seesaw.ncc.kernel.host_snapshot import Snapshot, read_snapshot
from seesaw.ncc.select import CAP_NET_ADMIN, Probe, has_capability, probe_ipvs, probe_nftables

CONNTRACK_SYSCTL = ("net", "netfilter", "nf_conntrack_tcp_timeout_established")
MODPROBE_TIMEOUT = 20.0


@dataclass(frozen=True)
class Module:
    """A kernel feature that comes as a module: usable now, and what trying to load it said."""

    present: bool
    loaded_now: bool = False  # modprobe loaded it during this run
    modprobe_error: str = ""  # modprobe's complaint when it could not


@dataclass(frozen=True)
class Facts:
    uid: int
    net_admin: bool
    ipvs: Probe
    ipvs_module: Module
    conntrack: Module
    nft_binary: str | None
    nftables: Probe
    dummy: Module  # the `dummy` link kind
    snapshot: Snapshot  # links, addresses and the main table's default routes
    snapshot_error: str = ""


class System:
    def __init__(
        self,
        modprobe: bool = True,
        proc_sys: Path = Path("/proc/sys"),
        sys_module: Path = Path("/sys/module"),
        run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run,
    ) -> None:
        self.modprobe = modprobe
        self.proc_sys = proc_sys
        self.sys_module = sys_module
        self._run = run

    def gather(self) -> Facts:
        snapshot, snapshot_error = self._snapshot()
        ipvs = probe_ipvs()
        ipvs_module = Module(ipvs.ok)
        if not ipvs.ok:
            ipvs_module = self._load("ip_vs", probe=lambda: probe_ipvs().ok)
            ipvs = probe_ipvs() if ipvs_module.present else ipvs
        conntrack_sysctl = self.proc_sys.joinpath(*CONNTRACK_SYSCTL)
        conntrack = Module(conntrack_sysctl.exists())
        if not conntrack.present:
            conntrack = self._load("nf_conntrack", probe=conntrack_sysctl.exists)
        dummy = Module(self._dummy_kind(snapshot))
        if not dummy.present:
            dummy = self._load("dummy", probe=lambda: (self.sys_module / "dummy").exists())
        return Facts(
            uid=os.geteuid(),
            net_admin=has_capability(CAP_NET_ADMIN),
            ipvs=ipvs,
            ipvs_module=ipvs_module,
            conntrack=conntrack,
            nft_binary=shutil.which("nft"),
            nftables=probe_nftables(),
            dummy=dummy,
            snapshot=snapshot,
            snapshot_error=snapshot_error,
        )

    def _snapshot(self) -> tuple[Snapshot, str]:
        try:
            with IPRoute() as ipr:
                return read_snapshot(ipr), ""
        except (NetlinkError, OSError) as err:
            return Snapshot(), f"cannot read the network configuration through rtnetlink: {err}"

    def _dummy_kind(self, snapshot: Snapshot) -> bool:
        if any(link.kind == "dummy" for link in snapshot.links.values()):
            return True
        return (self.sys_module / "dummy").exists()

    def _load(self, module: str, probe: Callable[[], bool]) -> Module:
        """Try `modprobe module` (when allowed) and say whether `probe` then holds."""
        if not self.modprobe:
            return Module(False)
        if shutil.which("modprobe") is None:
            return Module(False, modprobe_error="modprobe is not installed (apt-get install kmod)")
        try:
            done = self._run(["modprobe", module], capture_output=True, text=True, timeout=MODPROBE_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as err:
            return Module(False, modprobe_error=f"modprobe {module}: {err}")
        if done.returncode != 0:
            said = (done.stderr or done.stdout).strip() or f"exit status {done.returncode}"
            return Module(probe(), modprobe_error=said)
        present = probe()
        return Module(present, loaded_now=present)
