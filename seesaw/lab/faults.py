"""Faults to inject into a running lab's LB node, as they happen to a real one, and undoing them.

* `kill_suite`: SIGKILL the node's watchdog and every process of its session
  (the five daemons), seesaw-ha first: nothing says goodbye, and whatever
  the kernel holds (the LB interface, the VIPs, the dataplane) stays, as
  after a crash. `restart_suite` starts the watchdog again.
* `lose_engine`: SIGKILL the node's watchdog, then its engine: the engine
  is gone for good (nobody restarts it) while NCC, HA and the rest run on,
  as when an engine dies under a watchdog that is not there to restart it.
  `end_session` SIGKILLs what is left, for `restart_suite`.
* `cut_links`: the node's links (eth0, and eth1 for an LB node) lose their
  carrier: their ports on the lab's bridge go down, as when a cable or a
  switch port fails. The node keeps its addresses and routes and its
  processes keep running, cut off; `restore_links` gives the carrier back.
  (Setting the node's own interfaces down would also delete its routes, and
  a node that comes back without its default route cannot answer.)

Every call returns the time.monotonic() of the fault itself, for the client's
probe samples to be measured against (seesaw.lab.outage).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path

from seesaw.lab import netns, processes, state
from seesaw.lab.lab import Lab
from seesaw.lab.netns import LabError
from seesaw.lab.processes import Proc
from seesaw.lab.topology import Topology

FIRST = ("ha",)  # daemons killed before the rest: HA's silence is the fault


def session_pids(leader: Proc) -> list[int]:
    """Every live process in the session `leader` started (the watchdog's: it and the daemons it runs).

    Found by session id, so also once the leader itself is gone: the kernel keeps a pid that still names
    a session for as long as anything is in it.
    """
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[3]) == leader.pid and fields[0] not in ("Z", "X"):  # field 6: the session id
            found.append(int(entry.name))
    return found


def kill_session(leader: Proc, first: Sequence[int] = ()) -> float:
    """SIGKILL every process of `leader`'s session, `first` before the rest; when the first died. Waits for all."""
    if not processes.alive(leader):
        raise LabError(f"pid {leader.pid} is not the process that was started any more: nothing to kill")
    members = session_pids(leader)
    order = [pid for pid in first if pid in members] + [pid for pid in members if pid not in first]
    fault = time.monotonic()
    for pid in order:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10.0
    while session_pids(leader) or processes.alive(leader):
        if time.monotonic() > deadline:
            raise LabError(f"processes of session {leader.pid} outlived SIGKILL for 10 s")
        time.sleep(0.01)
    return fault


def kill_suite(lab: Lab, node: str) -> float:
    """SIGKILL `node`'s watchdog and daemons (HA first); when HA died. Waits until all are gone."""
    leader = lab.state.processes.get(node)
    if leader is None or not processes.alive(leader):
        raise LabError(f"{node}'s watchdog is not running: nothing to kill (restart it with restart_suite)")
    status = lab.nodes[node].status()
    return kill_session(leader, [int(status[d]["pid"]) for d in FIRST if status.get(d, {}).get("pid")])


def lose_engine(lab: Lab, node: str) -> float:
    """SIGKILL `node`'s watchdog, then its engine (the other daemons run on, unsupervised); when the engine died."""
    leader = lab.state.processes.get(node)
    if leader is None or not processes.alive(leader):
        raise LabError(f"{node}'s watchdog is not running: nothing to kill (restart it with restart_suite)")
    engine = lab.nodes[node].status().get("engine", {}).get("pid")
    if not engine:
        raise LabError(f"{node}'s watchdog reports no running engine: wait for the node to settle first")
    os.kill(leader.pid, signal.SIGKILL)
    while processes.alive(leader):
        time.sleep(0.005)
    fault = time.monotonic()
    os.kill(int(engine), signal.SIGKILL)
    return fault


def end_session(lab: Lab, node: str) -> None:
    """SIGKILL whatever is left of `node`'s session once its watchdog is gone (after `lose_engine`); waits."""
    leader = lab.state.processes.get(node)
    if leader is None:
        return
    if processes.alive(leader):
        raise LabError(f"{node}'s watchdog (pid {leader.pid}) still runs: use kill_suite")
    deadline = time.monotonic() + 10.0
    while remains := session_pids(leader):
        for pid in remains:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if time.monotonic() > deadline:
            raise LabError(f"processes of session {leader.pid} outlived SIGKILL for 10 s: {remains}")
        time.sleep(0.01)


def restart_suite(lab: Lab, node: str) -> Proc:
    """Start `node`'s watchdog again (after `kill_suite`), and record it; it returns serving on its own."""
    old = lab.state.processes.get(node)
    if old is not None and processes.alive(old):
        raise LabError(f"{node}'s watchdog (pid {old.pid}) still runs: kill it first")
    handle = lab.nodes[node]
    proc = processes.spawn(handle.argv(), handle.watchdog_log, handle.env())
    lab.state.processes[node] = proc
    state.save(lab.dir, lab.state)
    return proc


def ports(topo: Topology, node: str) -> tuple[str, ...]:
    """The bridge ports of `node`'s links, in the lab's LAN namespace (v-<node> for eth0, w-<node> for eth1)."""
    host = topo.host(node)
    return (f"v-{node}", f"w-{node}") if host.lb_mac else (f"v-{node}",)


def _set(topo: Topology, names: tuple[str, ...], wanted: str) -> float:
    """Set each link of `names` in the LAN namespace `wanted` (up or down) over netlink; when the first was."""
    from pyroute2 import IPRoute

    done = 0.0
    with netns.inside(topo.lan), IPRoute() as ipr:
        for name in names:
            index = ipr.link_lookup(ifname=name)
            if not index:
                raise LabError(f"the lab's bridge has no port {name}: is the lab up?")
            ipr.link("set", index=index[0], state=wanted)
            done = done or time.monotonic()
    return done


def cut_links(topo: Topology, node: str) -> float:
    """`node`'s links lose carrier (their bridge ports go down, as a switch port or cable fails); when."""
    return _set(topo, ports(topo, node), "down")


def restore_links(topo: Topology, node: str) -> float:
    """Give `node`'s links their carrier back; when."""
    return _set(topo, ports(topo, node), "up")
