"""A running lab: build it, start its backends and nodes, show it, drive traffic, fail over, take it down.

`Lab(lab_dir, topology)` is the whole surface. `up()` builds the namespaces
(build.py), starts each backend's servers (backend.py) and each LB node's
watchdog with its own config, run and log dirs under the lab dir (node.py),
records every pid in state.json, and returns once the lab serves: one
master, and every service of every vserver answering the client from every
backend. `Lab.open(lab_dir)` finds a running lab again from state.json.
"""

from __future__ import annotations

import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from seesaw.lab import build, configs, netns, processes, query, state, traffic
from seesaw.lab.netns import LabError
from seesaw.lab.node import Node
from seesaw.lab.processes import Proc
from seesaw.lab.topology import LAYOUTS, Entry, Topology, VServer

UP_TIMEOUT = 60.0
FAILOVER_TIMEOUT = 15.0
GARP_WAIT = 3.0  # seconds a failover waits for the client's neighbour entry to move


@dataclass(frozen=True)
class Service:
    """One vserver entry as the client reaches it."""

    vserver: VServer
    entry: Entry

    @property
    def kind(self) -> str:
        return "dns" if self.entry.protocol == "UDP" else "http"

    @property
    def label(self) -> str:
        return f"{self.vserver.name} {self.entry.protocol}/{self.entry.port} ({self.vserver.mode})"

    def request(self, timeout: float = 1.0) -> traffic.Request:
        return traffic.request(self.kind, str(self.vserver.vip.ip), self.entry.port, timeout)


@dataclass(frozen=True)
class Failover:
    old: str
    new: str
    seconds: float
    neighbour_before: str | None  # the client's neighbour entry (MAC) for the first VIP
    neighbour_after: str | None


class Lab:
    def __init__(self, lab_dir: Path, topo: Topology, dataplane: str = "auto") -> None:
        self.dir = lab_dir
        self.topo = topo
        self.dataplane = dataplane
        self.nodes = {h.name: Node(lab_dir / h.name, netns=topo.ns(h.name)) for h in topo.lbs}
        self.state = state.LabState(topo.name, topo.prefix, dataplane)

    @classmethod
    def open(cls, lab_dir: Path) -> Lab:
        """The lab recorded in `lab_dir`; LabError if there is none."""
        found = state.load(lab_dir)
        if found is None:
            raise LabError(f"no lab is up in {lab_dir}: start one with `seesaw lab up`")
        lab = cls(lab_dir, LAYOUTS[found.layout](found.prefix), found.dataplane)
        lab.state = found
        return lab

    # -------------------------------------------------------------- facts

    @property
    def services(self) -> list[Service]:
        return [Service(v, e) for v in self.topo.vservers for e in v.entries]

    def running(self) -> dict[str, bool]:
        """Each recorded process: whether it still runs."""
        return {name: processes.alive(proc) for name, proc in self.state.processes.items()}

    def ha_states(self) -> dict[str, str | None]:
        return {name: query.ha_state(node.run_dir) for name, node in self.nodes.items()}

    def master(self) -> str | None:
        leaders = [name for name, ha in self.ha_states().items() if ha == "LEADER"]
        return leaders[0] if len(leaders) == 1 else None

    def client(self, req: traffic.Request) -> traffic.Request:
        """`req`, made from the client's namespace."""
        return traffic.in_namespace(self.topo.ns(self.topo.client.name), req)

    def neighbour(self, address: str) -> str | None:
        """The client's neighbour entry (MAC) for `address`, if it has one."""
        from pyroute2 import IPRoute

        with netns.inside(self.topo.ns(self.topo.client.name)), IPRoute() as ipr:
            for message in ipr.get_neighbours(family=socket.AF_INET):
                if message.get("NDA_DST") == address and message.get("NDA_LLADDR"):
                    return str(message.get("NDA_LLADDR"))
        return None

    # ----------------------------------------------------------------- up

    def up(self, timeout: float = UP_TIMEOUT, progress: Callable[[str], None] = lambda _: None) -> None:
        """Build and start the lab, then wait until it serves; LabError (and nothing left running) if it cannot."""
        build.build(self.topo)
        state.save(self.dir, self.state)  # from here on `down` can clean up
        try:
            progress(f"namespaces: {', '.join(self.topo.namespaces)}")
            for backend in (*self.topo.backends, *self.topo.spares):
                self.start_backend(backend.name)
            for name, node in self.nodes.items():
                configs.write(self.topo, self.topo.host(name), node.config_dir, self.dataplane)
                self.state.processes[name] = processes.spawn(node.argv(), node.watchdog_log, node.env())
            state.save(self.dir, self.state)
            progress(f"watchdogs started on {', '.join(self.nodes)}; waiting for them to serve")
            self.wait_serving(timeout)
        except BaseException:
            self.down()
            raise

    def start_backend(self, name: str) -> Proc:
        """Start backend `name`'s servers (again), and record them."""
        address = str(self.topo.host(name).ip.ip)
        args = [f"--{kind}={port}" for kind, ports in sorted(self.topo.ports.items()) for port in ports]
        argv = ["ip", "netns", "exec", self.topo.ns(name), sys.executable, "-m", "seesaw.lab.backend", name, address]
        proc = processes.spawn([*argv, *args], self.dir / name / "servers.log")
        self.state.processes[name] = proc
        state.save(self.dir, self.state)
        return proc

    def kill_backend(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill backend `name`'s servers (as a crash would: SIGKILL by default) and wait until they are gone."""
        proc = self.state.processes[name]
        processes.signal_proc(proc, sig)
        deadline = time.monotonic() + 10.0
        while processes.alive(proc):
            if time.monotonic() > deadline:
                raise LabError(f"{name}'s servers (pid {proc.pid}) did not exit on signal {sig}")
            time.sleep(0.01)

    def set_cluster(self, text: str) -> None:
        """Write `text` as every node's cluster.pb (a reload makes the engines take it)."""
        for node in self.nodes.values():
            tmp = node.config_dir / "cluster.pb.tmp"
            tmp.write_text(text)
            tmp.replace(node.config_dir / "cluster.pb")

    def reload(self) -> dict[str, str]:
        """`config reload` on every node; each engine's reply."""
        return {name: query.reload(node.run_dir) for name, node in self.nodes.items()}

    def wait_serving(self, timeout: float = UP_TIMEOUT) -> None:
        """Until one node is master and every service answers from every backend; TimeoutError says what is missing."""
        deadline = time.monotonic() + timeout
        missing = "the nodes' daemons"
        while time.monotonic() < deadline:
            dead = [name for name, ok in self.running().items() if not ok]
            if dead:
                raise LabError(f"{', '.join(dead)} exited; see the logs under {self.dir}\n" + self.logs())
            missing = self._missing()
            if missing is None:
                return
            time.sleep(0.2)
        raise TimeoutError(f"the lab did not serve within {timeout:.0f} s: still waiting for {missing}\n" + self.logs())

    def _missing(self) -> str | None:
        """What the lab lacks before it serves, or None."""
        for name, node in self.nodes.items():
            if not node.all_running():
                return f"every daemon of {name} to run"
        if self.master() is None:
            return "one node to be LEADER"
        if self.dataplane == "sim":
            return None
        everyone = {b.name for b in self.topo.backends}
        for service in self.services:
            seen = traffic.tally(self.client(service.request(0.5)), 2 * len(everyone))
            if set(seen.backends) != everyone:
                return f"{service.label} to answer from {', '.join(sorted(everyone))} (got {dict(seen.backends)})"
        return None

    # ----------------------------------------------------------- commands

    def status(self) -> str:
        """Each node's dataplane, `show ha`, `show vservers` and `show destinations`, as the CLI prints them."""
        parts = []
        for name, node in self.nodes.items():
            ncc = query.ncc_status(node.run_dir)
            parts.append(f"=== {name}  (namespace {self.topo.ns(name)}, run dir {node.run_dir})")
            parts.append(f"dataplane: {ncc.dataplane}; {ncc.reason}" if ncc else "dataplane: (NCC does not answer)")
            for command in ("show ha", "show vservers", "show destinations"):
                result = node.cli(command)
                parts.append(f'$ seesaw -c "{command}"\n{result.stdout}{result.stderr}'.rstrip("\n"))
            parts.append("")
        return "\n".join(parts)

    def traffic(self, count: int, vserver: str | None = None) -> str:
        """`count` requests to each service (of `vserver`, or of all), and where they went."""
        chosen = [s for s in self.services if vserver is None or s.vserver.name == vserver]
        if not chosen:
            self.topo.vserver(vserver or "")  # raises KeyError naming the vservers there are
        lines = []
        for service in chosen:
            result = traffic.tally(self.client(service.request()), count)
            lines.append(f"{service.label} at {service.vserver.vip.ip}: {result.total} requests")
            lines.extend(result.lines())
        return "\n".join(lines)

    def failover(self, timeout: float = FAILOVER_TIMEOUT) -> Failover:
        """Ask the master to hand over; wait until another node is master."""
        old = self.master()
        if old is None:
            raise LabError(f"no single master to fail over from (HA states: {self.ha_states()})")
        if len(self.nodes) < 2:
            raise LabError(f"{old} is the only node of this lab: there is nobody to fail over to")
        vip = str(self.topo.vservers[0].vip.ip)
        before = self.neighbour(vip)
        started = time.monotonic()
        query.failover(self.nodes[old].run_dir)
        while time.monotonic() - started < timeout:
            new = self.master()
            if new is not None and new != old:
                seconds = time.monotonic() - started
                return Failover(old, new, seconds, before, self._moved(vip, before))
            time.sleep(0.05)
        raise LabError(f"no other node became master within {timeout:.0f} s (HA states: {self.ha_states()})")

    def _moved(self, address: str, before: str | None, timeout: float = GARP_WAIT) -> str | None:
        """The client's neighbour entry for `address` once the new master's gratuitous ARP changed it.

        Nothing is sent meanwhile, so only the GARP can change it. A client without an entry gets none
        from a GARP (arp_accept is off): then there is nothing to wait for.
        """
        deadline = time.monotonic() + timeout
        while before is not None and time.monotonic() < deadline:
            now = self.neighbour(address)
            if now != before:
                return now
            time.sleep(0.02)
        return self.neighbour(address)

    def logs(self, tail: int = 1500) -> str:
        return "\n".join(node.logs(tail) for node in self.nodes.values())

    # --------------------------------------------------------------- down

    def down(self) -> list[str]:
        """Stop every recorded process, then delete the namespaces by name; what was done, one line each."""
        done = []
        # Watchdogs first (each stops its daemons in order), then the backends.
        order = sorted(self.state.processes, key=lambda name: name not in self.nodes)
        for name in order:
            proc = self.state.processes[name]
            if processes.alive(proc):
                killed = processes.stop(proc, timeout=30.0 if name in self.nodes else 5.0)
                done.append(f"stopped {name} (pid {proc.pid}{', killed' if killed else ''})")
        done += [f"deleted namespace {ns}" for ns in build.destroy(self.topo)]
        state.remove(self.dir)
        return done
