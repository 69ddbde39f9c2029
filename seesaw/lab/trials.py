"""Failover trials on a pair of LB nodes, measured by the client: a fault, the takeover, and back to steady.

A `Pair` is either Seesaw's lab (`SeesawPair`, over seesaw.lab.lab.Lab) or
the keepalived baseline (seesaw.lab.keepalived.KeepalivedPair). Each trial
starts from a steady pair (one master, the other a ready backup, the client's
probe served through the master's MAC), injects its fault, waits until the
client is served through the other node's MAC, keeps measuring for `settle`
seconds, then undoes the fault (restarts the crashed node, gives the links
back) and returns what the probe saw (seesaw.lab.outage.Trial):

    sigkill    the master's whole HA software SIGKILLed (Seesaw: the watchdog and its five daemons)
    link       the master's links lose carrier (their bridge ports go down), the node itself untouched
    planned    the master hands over (Seesaw: `seesaw -c failover`; keepalived: stopped), measured from its
               priority-0 advert

`make_master` picks the master before a trial, so that trials can alternate
directions (with Seesaw's priorities, 255 and 1, a takeover by the second
node waits 99.6 ms longer: RFC 5798's skew). `busy_core` spins one CPU.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from seesaw.lab import faults, processes, query
from seesaw.lab.adverts import Advert, AdvertWatch
from seesaw.lab.lab import Lab
from seesaw.lab.netns import LabError
from seesaw.lab.outage import Trial, trial
from seesaw.lab.probe import Probe
from seesaw.lab.topology import Topology

STEADY_TIMEOUT = 60.0
TAKEOVER_TIMEOUT = 10.0
SETTLE = 0.5  # seconds measured after the client is first served by the new master
STEADY_WINDOW = 0.3  # seconds of successful requests through the master's MAC that make the client steady
GOODBYE_WAIT = 1.0  # seconds a hand-over's priority-0 advert may come after the request returned


class Pair(Protocol):
    topo: Topology

    def settled(self) -> str | None:
        """The master, if every node runs and the election is settled (one master, the rest ready backups)."""
        ...

    def crash(self, node: str) -> float:
        """SIGKILL `node`'s HA software; when."""
        ...

    def recover(self, node: str) -> None:
        """Start `node`'s HA software again after `crash`."""
        ...

    def hand_over(self, node: str) -> str:
        """Make master `node` hand over as an operator would (a priority-0 advert); what that said."""
        ...

    def logs(self) -> str: ...


@dataclass(frozen=True)
class Result:
    kind: str  # sigkill, link, planned
    old: str  # the master the fault hit
    new: str  # the node that should take over
    trial: Trial
    note: str = ""
    fault: float = 0.0  # the fault's time.monotonic() (for the wire's view of the takeover: adverts.takeover_path)

    def describe(self) -> str:
        return f"{self.kind} {self.old} -> {self.new}: {self.trial.describe()}{f' ({self.note})' if self.note else ''}"


class SeesawPair:
    """Seesaw's lab as a Pair."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.topo = lab.topo

    def settled(self) -> str | None:
        for name, node in self.lab.nodes.items():
            leader = self.lab.state.processes.get(name)
            if leader is None or not processes.alive(leader):
                return None
            services = node.status()
            members = faults.session_pids(leader)
            if not services or any(
                s.get("state") != "running" or s.get("pid") not in members for s in services.values()
            ):
                return None  # not (yet) running, or a status left by the watchdog before it was killed
        states = self.lab.ha_states()
        leaders = [name for name, state in states.items() if state == "LEADER"]
        if len(leaders) != 1 or any(state != "BACKUP" for name, state in states.items() if name != leaders[0]):
            return None
        # A ready backup sees its backends healthy: one just back from a link outage still has the checks that
        # timed out while it was cut off to live down, and would refuse the VIPs' traffic if it took over now.
        if any(query.unhealthy_destinations(node.run_dir) != [] for node in self.lab.nodes.values()):
            return None
        return leaders[0]

    def crash(self, node: str) -> float:
        return faults.kill_suite(self.lab, node)

    def recover(self, node: str) -> None:
        faults.restart_suite(self.lab, node)

    def hand_over(self, node: str) -> str:
        """`seesaw -c failover` on `node`: the real CLI."""
        run = self.lab.nodes[node].cli("failover")
        if run.returncode != 0:
            raise LabError(f"`seesaw -c failover` on {node} failed ({run.returncode}): {run.stdout}{run.stderr}")
        return run.stdout.strip()

    def logs(self) -> str:
        return self.lab.logs()


def mac(topo: Topology, node: str) -> str:
    """The MAC a client reaches `node`'s VIPs at (its LB interface's)."""
    return topo.host(node).lb_mac


def other(topo: Topology, node: str) -> str:
    (found,) = [h.name for h in topo.lbs if h.name != node]
    return found


def steady(pair: Pair, probe: Probe, timeout: float = STEADY_TIMEOUT, master_is: str | None = None) -> str:
    """Wait until the pair is settled (with `master_is` the master, if given) and the client is served through
    the master's MAC; the master."""
    deadline = time.monotonic() + timeout
    master = None
    while time.monotonic() < deadline:
        master = pair.settled()
        if master is not None and master_is in (None, master):
            now = time.monotonic()
            recent = probe.samples(now - STEADY_WINDOW - probe.timeout, now - probe.timeout)
            enough = len(recent) >= STEADY_WINDOW / probe.every / 2
            if enough and all(s.ok and s.mac == mac(pair.topo, master) for s in recent):
                return master
        time.sleep(0.05)
    wanted = f" with {master_is} the master" if master_is else ""
    raise LabError(
        f"the pair did not settle{wanted} within {timeout:.0f} s (master: {master}; last samples "
        f"{probe.samples(time.monotonic() - 0.1)}):\n{pair.logs()}"
    )


def _measure(probe: Probe, topo: Topology, new: str, fault: float, timeout: float, settle: float) -> Trial:
    """The trial from `fault` on, once the client was served through `new` (or `timeout` passed) plus `settle`."""
    try:
        probe.wait(lambda s: s.ok and s.mac == mac(topo, new) and s.start >= fault, timeout, f"answer through {new}")
    except TimeoutError:
        pass  # measured as it is: a trial without takeover
    time.sleep(settle)
    return trial(probe.samples(fault), fault, mac(topo, new), until=time.monotonic() - probe.timeout)


def sigkill(pair: Pair, probe: Probe, timeout: float = TAKEOVER_TIMEOUT, settle: float = SETTLE) -> Result:
    old = steady(pair, probe)
    new = other(pair.topo, old)
    fault = pair.crash(old)
    try:
        measured = _measure(probe, pair.topo, new, fault, timeout, settle)
    finally:
        pair.recover(old)
    return Result("sigkill", old, new, measured, fault=fault)


def link(pair: Pair, probe: Probe, timeout: float = TAKEOVER_TIMEOUT, settle: float = SETTLE) -> Result:
    old = steady(pair, probe)
    new = other(pair.topo, old)
    fault = faults.cut_links(pair.topo, old)
    try:
        measured = _measure(probe, pair.topo, new, fault, timeout, settle)
    finally:
        faults.restore_links(pair.topo, old)
    return Result("link", old, new, measured, fault=fault)


def planned(
    pair: Pair, probe: Probe, watch: AdvertWatch, timeout: float = TAKEOVER_TIMEOUT, settle: float = SETTLE
) -> Result:
    """The master hands over (`pair.hand_over`), measured from its priority-0 advert (from the request if none)."""
    old = steady(pair, probe)
    new = other(pair.topo, old)
    source = str(pair.topo.host(old).ip.ip)
    started = time.monotonic()
    pair.hand_over(old)
    returned = time.monotonic()
    # The request may return before the goodbye is on the wire (Seesaw's CLI returns once the engine took
    # it; HA sends it a moment later): give it, and the watch's thread, a moment to come.
    goodbye: list[Advert] = []
    deadline = returned + GOODBYE_WAIT
    while not goodbye and time.monotonic() < deadline:
        goodbye = [a for a in watch.adverts(started, source=source) if a.priority == 0]
        if not goodbye:
            time.sleep(0.005)
    fault = goodbye[0].at if goodbye else started
    measured = _measure(probe, pair.topo, new, fault, timeout, settle)
    note = f"hand-over took {(returned - started) * 1000:.0f} ms" + ("" if goodbye else "; no priority-0 advert seen")
    return Result("planned", old, new, measured, note, fault)


def make_master(pair: Pair, probe: Probe, node: str) -> None:
    """Make `node` the steady master (the other hands over if need be), so trials can alternate directions."""
    if steady(pair, probe) != node:
        pair.hand_over(other(pair.topo, node))
        steady(pair, probe, master_is=node)


@contextlib.contextmanager
def busy_core(core: int = 0) -> Iterator[subprocess.Popen[bytes]]:
    """A process spinning at 100 % on CPU `core` for the duration of the block."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        os.sched_setaffinity(spinner.pid, {core})
        yield spinner
    finally:
        spinner.kill()
        spinner.wait()
