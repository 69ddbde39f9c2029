"""What the doctor learns about this machine: one pass of I/O, then plain values for the checks.

`System.gather()` reads the network namespace it runs in through rtnetlink
(NCC's host_rtnl; never by parsing `ip` output), /proc/sys and /sys/module, and
uses select.py's probes for IPVS and libnftables. Where a kernel module is
missing it tries `modprobe` once (ip_vs, nf_conntrack, dummy), as the fix
would, and records what modprobe said; `modprobe=False` only looks.

Asked for a VTY socket (`gather(bgpd_vty=...)`), it also looks at the BGP
speaker anycast needs, FRR's bgpd: installed (<frr_libexec>/bgpd), enabled
(`bgpd=yes` in /etc/frr/daemons), and answering on that socket the way NCC
talks to it (connect, `enable`; seesaw.ncc.bgp).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from seesaw.ncc.bgp import vty
from seesaw.ncc.kernel.host_rtnl import Rtnl
from seesaw.ncc.kernel.host_snapshot import Snapshot, read_snapshot
from seesaw.ncc.select import CAP_NET_ADMIN, Probe, has_capability, probe_ipvs, probe_nftables

CONNTRACK_SYSCTL = ("net", "netfilter", "nf_conntrack_tcp_timeout_established")
MODPROBE_TIMEOUT = 20.0
VTY_TIMEOUT = 3.0
FRR_LIBEXEC = Path("/usr/lib/frr")
FRR_DAEMONS = Path("/etc/frr/daemons")
_DAEMONS_BGPD = re.compile(r"^\s*bgpd\s*=\s*\"?(\w+)\"?\s*(?:#.*)?$", re.MULTILINE)


@dataclass(frozen=True)
class Module:
    """A kernel feature that comes as a module: usable now, and what trying to load it said."""

    present: bool
    loaded_now: bool = False  # modprobe loaded it during this run
    modprobe_error: str = ""  # modprobe's complaint when it could not


@dataclass(frozen=True)
class BGPSpeaker:
    """FRR's bgpd as NCC would reach it."""

    vty: Path  # the VTY socket NCC talks to
    installed: bool  # the bgpd program is there
    daemons: Path  # FRR's list of daemons to start
    enabled: bool | None  # `bgpd=yes` in it; None: no such file
    error: str = ""  # why the VTY did not answer `enable` ("" when it did)

    @property
    def usable(self) -> bool:
        return not self.error


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
    bgp: BGPSpeaker | None = None  # None: not looked at


class System:
    def __init__(
        self,
        modprobe: bool = True,
        proc_sys: Path = Path("/proc/sys"),
        sys_module: Path = Path("/sys/module"),
        run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run,
        frr_libexec: Path = FRR_LIBEXEC,
        frr_daemons: Path = FRR_DAEMONS,
    ) -> None:
        self.modprobe = modprobe
        self.proc_sys = proc_sys
        self.sys_module = sys_module
        self._run = run
        self.frr_libexec = frr_libexec
        self.frr_daemons = frr_daemons

    def gather(self, bgpd_vty: Path | None = None) -> Facts:
        """The facts of this host; those of the BGP speaker too when given the VTY socket NCC uses."""
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
            bgp=self._bgp(bgpd_vty) if bgpd_vty is not None else None,
        )

    def _bgp(self, path: Path) -> BGPSpeaker:
        installed = os.access(self.frr_libexec / "bgpd", os.X_OK)
        try:
            found = _DAEMONS_BGPD.findall(self.frr_daemons.read_text(errors="replace"))
            enabled: bool | None = bool(found) and found[-1].lower() == "yes"
        except OSError:
            enabled = None
        return BGPSpeaker(path, installed, self.frr_daemons, enabled, probe_vty(path))

    def _snapshot(self) -> tuple[Snapshot, str]:
        try:
            with Rtnl() as rtnl:
                return read_snapshot(rtnl), ""
        except OSError as err:
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


def probe_vty(path: Path, timeout: float = VTY_TIMEOUT) -> str:
    """Connect to a daemon's VTY socket and ask for `enable`, as NCC does: "" if it answered yes, else why not."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(vty.encode("enable"))
            decoder = vty.Decoder()
            replies: list[vty.Reply] = []
            while not replies:
                data = sock.recv(4096)
                if not data:
                    return f"bgpd at {path} closed the connection before answering `enable`"
                replies = decoder.feed(data)
    except FileNotFoundError:
        return f"there is no VTY socket at {path}"
    except ConnectionRefusedError:
        return f"nothing listens at {path} (a stale socket: bgpd stopped)"
    except (ConnectionResetError, BrokenPipeError):
        return f"bgpd at {path} closed the connection before answering `enable`"
    except TimeoutError:
        return f"bgpd at {path} did not answer `enable` within {timeout:g} s"
    except OSError as err:
        return f"cannot talk to bgpd at {path}: {err.strerror or err}"
    reply = replies[0]
    return "" if reply.ok else f"bgpd at {path} refused `enable`: {reply.describe()}"
