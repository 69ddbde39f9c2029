"""keepalived (the Debian package) in a lab node's namespace: the VRRPv3 baseline and interop peer.

`config(...)` is a keepalived.conf for one VRRPv3 instance: adverts on the
node interface, the VIPs on the LB interface, as a Seesaw node holds them.
`Keepalived` runs one instance (`keepalived --dont-fork --vrrp`) in its own
session, so `kill()` can SIGKILL it (parent and VRRP child) as a crash would,
and `stop()` lets it say goodbye (a priority-0 advert) as a planned handover.

`KeepalivedPair` is the baseline of the failover figures: the lab's topology
with keepalived instead of Seesaw on every LB node, each node also serving
plain HTTP on port 80 (answering with its own name) so that the client's
probe through the VIP measures the same thing as through Seesaw. The
instances get Seesaw's priorities (the lowest node address 255, the next 1;
keepalived allows 254 at most, which changes the master-down interval by
0.4 ms at a 100 ms interval) and do not preempt, as Seesaw by default.
"""

from __future__ import annotations

import re
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from seesaw.lab import build, faults, netns, processes
from seesaw.lab.netns import LabError
from seesaw.lab.processes import Proc
from seesaw.lab.topology import Topology

VRID = 60  # Seesaw's default [cluster] vrid
HTTP_PORT = 80
# The LB nodes answer ARP for a VIP only on the interface holding it, as NCC sets them up.
SYSCTLS = tuple(
    f"net.ipv4.conf.{conf}.{key}={value}"
    for conf in ("all", "eth0", "eth1")
    for key, value in (("arp_ignore", 1), ("arp_announce", 2))
)


def config(
    name: str,
    priority: int,
    interval_ms: int,
    addresses: Sequence[str],
    excluded: Sequence[str] = (),
    vrid: int = VRID,
    advert_link: str = "eth0",
    vip_link: str = "eth1",
) -> str:
    """keepalived.conf for one VRRPv3 instance; `addresses` go in the adverts, `excluded` are held but not sent."""
    vips = "".join(f"        {a} dev {vip_link}\n" for a in addresses)
    others = "".join(f"        {a} dev {vip_link}\n" for a in excluded)
    excluded_block = f"    virtual_ipaddress_excluded {{\n{others}    }}\n" if excluded else ""
    return (
        f"# keepalived.conf of {name} (written by seesaw.lab.keepalived)\n"
        "global_defs {\n"
        f"    router_id {name}\n"
        "    vrrp_version 3\n"
        "}\n"
        "vrrp_instance seesaw {\n"
        "    state BACKUP\n"
        "    nopreempt\n"
        f"    interface {advert_link}\n"
        f"    virtual_router_id {vrid}\n"
        f"    priority {min(priority, 254)}\n"
        f"    advert_int {interval_ms / 1000:g}\n"
        f"    virtual_ipaddress {{\n{vips}    }}\n"
        f"{excluded_block}"
        "}\n"
    )


def installed() -> bool:
    return shutil.which("keepalived") is not None


class Keepalived:
    """One keepalived instance in namespace `ns`, with its files in `directory`."""

    def __init__(self, ns: str, directory: Path, conf: str) -> None:
        self.ns = ns
        self.dir = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.conf_path = directory / "keepalived.conf"
        self.conf_path.write_text(conf)
        self.log_path = directory / "keepalived.log"
        self.proc: Proc | None = None

    def argv(self) -> list[str]:
        return [
            "ip", "netns", "exec", self.ns, "keepalived", "--dont-fork", "--log-console", "--vrrp",
            f"--use-file={self.conf_path}", f"--pid={self.dir / 'keepalived.pid'}",
            f"--vrrp_pid={self.dir / 'vrrp.pid'}",
        ]  # fmt: skip

    def start(self) -> Proc:
        if not installed():
            raise LabError("keepalived is not installed: apt-get install -y keepalived (scripts/system-deps does)")
        if self.running():
            raise LabError(f"keepalived in {self.ns} already runs (pid {self.proc.pid if self.proc else '?'})")
        for stale in ("keepalived.pid", "vrrp.pid"):  # left by a killed instance, they would stop this one
            (self.dir / stale).unlink(missing_ok=True)
        self.proc = processes.spawn(self.argv(), self.log_path)
        return self.proc

    def running(self) -> bool:
        return self.proc is not None and processes.alive(self.proc)

    def kill(self) -> float:
        """SIGKILL every keepalived process of this instance (the VRRP child first); when the child died."""
        if self.proc is None or not processes.alive(self.proc):
            raise LabError(f"keepalived in {self.ns} is not running: nothing to kill")
        return faults.kill_session(self.proc, first=_children(self.proc.pid))

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (the master hands over with a priority-0 advert and drops its VIPs); SIGKILL after `timeout`."""
        if self.proc is not None:
            processes.stop(self.proc, timeout)

    def state(self) -> str | None:
        """The VRRP state the instance last logged since it started (MASTER, BACKUP, FAULT), if any."""
        text = self.log().rsplit("Starting Keepalived", 1)[-1]
        found = re.findall(r"Entering (\w+) STATE", text)
        return found[-1] if found else None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""


def prepare_node(topo: Topology, name: str, directory: Path) -> Proc:
    """Make LB node `name` ready for keepalived: ARP as NCC sets it, eth1 up, and an HTTP server on port 80.

    The server answers every request with the node's name, on any address: on the VIPs once they are here.
    """
    ns = topo.ns(name)
    for sysctl in SYSCTLS:
        netns.exec_in(ns, "sysctl", "-qw", sysctl)
    netns.ip(ns, "link", "set", "eth1", "up")
    argv = ["ip", "netns", "exec", ns, sys.executable, "-m", "seesaw.lab.backend", name, str(topo.host(name).ip.ip)]
    return processes.spawn([*argv, f"--http={HTTP_PORT}"], directory / "http.log")


def seesaw_priorities(topo: Topology, top: int = 255) -> dict[str, int]:
    """Each LB node's priority as Seesaw gives it ([ha] priorities): `top` for the lowest address, then
    the number of nodes less one, .. 1 (Seesaw's), or `top` - 1, `top` - 2, .. (adjacent)."""
    ordered = sorted(topo.lbs, key=lambda h: h.ip.ip)
    if topo.ha_priorities == "adjacent":
        return {h.name: top - i for i, h in enumerate(ordered)}
    return {h.name: top if i == 0 else len(ordered) - i for i, h in enumerate(ordered)}


def keepalived_priorities(topo: Topology) -> dict[str, int]:
    """Seesaw's priorities in keepalived's range (254 at most unless it owns the addresses): 254, 1 or 254, 253."""
    return seesaw_priorities(topo, top=254)


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class KeepalivedPair:
    """The lab's namespaces with keepalived and a plain HTTP server on each LB node (no Seesaw, no backends)."""

    def __init__(self, directory: Path, topo: Topology, interval_ms: int | None = None) -> None:
        self.dir = directory
        self.topo = topo
        self.interval_ms = interval_ms or topo.advert_interval_ms
        self.vips = [str(v.vip) for v in topo.vservers]
        self.priority = keepalived_priorities(topo)
        self.instances = {
            h.name: Keepalived(
                topo.ns(h.name),
                directory / h.name,
                config(h.name, self.priority[h.name], self.interval_ms, [str(topo.cluster_vip)], self.vips),
            )
            for h in topo.lbs
        }
        self.servers: dict[str, Proc] = {}

    def up(self, timeout: float = 30.0) -> None:
        """Build the namespaces, start the servers and keepalived; return once one node holds the VIPs."""
        build.build(self.topo)
        try:
            for host in self.topo.lbs:
                self.servers[host.name] = prepare_node(self.topo, host.name, self.dir / host.name)
            for instance in self.instances.values():
                instance.start()
            self.wait_master(timeout)
        except BaseException:
            self.down()
            raise

    def holders(self) -> list[str]:
        """The nodes whose LB interface holds the first vserver VIP."""
        vip = self.vips[0].split("/")[0]
        return [h.name for h in self.topo.lbs if f" {vip}/" in netns.ip(self.topo.ns(h.name), "-br", "addr").stdout]

    def master(self) -> str | None:
        holders = self.holders()
        return holders[0] if len(holders) == 1 else None

    def wait_master(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, instance in self.instances.items():
                if not instance.running():
                    raise LabError(f"keepalived on {name} exited:\n{instance.log()[-2000:]}")
            master = self.master()
            if master is not None:
                return master
            time.sleep(0.05)
        raise TimeoutError(f"no single keepalived master within {timeout:.0f} s (holding the VIP: {self.holders()})")

    def settled(self) -> str | None:
        """The master, if every instance runs, one holds the VIPs and every other is BACKUP since it last started."""
        if not all(i.running() for i in self.instances.values()):
            return None
        master = self.master()
        if master is None:
            return None
        for name, instance in self.instances.items():
            if name != master and instance.state() != "BACKUP":
                return None
        return master

    def crash(self, name: str) -> float:
        return self.instances[name].kill()

    def recover(self, name: str) -> None:
        """Start node `name`'s keepalived again after a kill (it drops the VIPs the killed one left)."""
        self.instances[name].start()

    def hand_over(self, name: str) -> str:
        """Stop master `name`'s keepalived (a priority-0 advert, the VIPs dropped), then start it again as BACKUP."""
        self.instances[name].stop()
        self.instances[name].start()
        return f"keepalived on {name} restarted"

    def logs(self) -> str:
        return "\n".join(f"--- keepalived on {n}\n{i.log()[-3000:]}" for n, i in self.instances.items())

    def down(self) -> None:
        for instance in self.instances.values():
            instance.stop(5.0)
        for proc in self.servers.values():
            processes.stop(proc, 5.0)
        build.destroy(self.topo)
