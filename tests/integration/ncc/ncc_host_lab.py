"""A small LB-host lab for the host part's integration tests, in private network namespaces.

    lan      a bridge: the one L2 segment
    client   eth0 10.0.0.50/24 (and the gateway 10.0.0.1) on the segment
    node     the LB node: its node NIC (10.0.0.2/24, default route via 10.0.0.1) and its LB NIC, both on the
             segment; any names (`lb-1`, `enp0s3`, a bridge `br-x` as node NIC)

The tests run NCC's host part inside `node` with `inside(lab.node)` (setns for this thread: rtnetlink,
/proc/sys and packet sockets all follow). Set-up uses `ip`; every check reads back through netlink.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pyroute2 import IPRoute
from pyroute2 import netns as pyroute2_netns

from seesaw.common.clock import FakeClock
from seesaw.ncc.kernel.composite import KernelDataplane
from seesaw.ncc.kernel.host import HostNetwork
from seesaw.ncc.model import LBInterface, Partition
from seesaw.ncc.reconciler import Outcome, Reconciler

NODE_IP = ipaddress.IPv4Interface("10.0.0.2/24")
CLUSTER_VIP = ipaddress.IPv4Address("10.0.0.10")
GATEWAY = "10.0.0.1"
CLIENT_IP = "10.0.0.50"


def sh(*commands: str) -> None:
    for command in commands:
        subprocess.run(command, shell=True, check=True, capture_output=True, text=True)


@contextlib.contextmanager
def inside(ns: str) -> Iterator[None]:
    pyroute2_netns.pushns(ns)
    try:
        yield
    finally:
        pyroute2_netns.popns()


@dataclass
class Lab:
    node: str
    client: str
    lan: str
    lb_name: str
    node_name: str

    def lb(self, **changes: object) -> LBInterface:
        base: dict[str, object] = dict(
            name=self.lb_name,
            node_interface=self.node_name,
            dummy_interface="dummy0",
            node_ipv4=NODE_IP,
            cluster_vip_ipv4=CLUSTER_VIP,
            vrid=60,
            use_vmac=True,
            routing_table=2,
            up=False,
        )
        base.update(changes)
        return LBInterface(**base)  # type: ignore[arg-type]

    def link(self, ns: str, name: str) -> dict:
        with IPRoute(netns=ns) as ipr:
            (message,) = ipr.get_links(ifname=name)
            return {
                "up": bool(message["flags"] & 1),
                "mac": message.get("IFLA_ADDRESS"),
                "alias": message.get("IFLA_IFALIAS"),
                "carrier_changes": message.get("IFLA_CARRIER_CHANGES"),
            }

    def addresses(self, ns: str, name: str) -> set[str]:
        with IPRoute(netns=ns) as ipr:
            index = ipr.link_lookup(ifname=name)[0]
            return {f"{m.get('IFA_ADDRESS')}/{m['prefixlen']}" for m in ipr.get_addr(index=index) if m["scope"] == 0}

    def rules(self, table: int) -> set[tuple[str | None, str | None]]:
        with IPRoute(netns=self.node) as ipr:
            return {
                (m.get("FRA_SRC"), m.get("FRA_DST")) for m in ipr.get_rules(family=2) if m.get("FRA_TABLE") == table
            }

    def table(self, table: int) -> set[tuple[str, str | None, str]]:
        """(dst/len, gateway, device) of the routes in `table`."""
        with IPRoute(netns=self.node) as ipr:
            names = {m["index"]: m.get("IFLA_IFNAME") for m in ipr.get_links()}
            return {
                (f"{m.get('RTA_DST') or '0.0.0.0'}/{m['dst_len']}", m.get("RTA_GATEWAY"), names[m.get("RTA_OIF")])
                for m in ipr.get_routes(family=2, table=table)
                if m.get("RTA_TABLE") == table
            }

    def client_reaches(self, address: str, port: int = 8080) -> bool:
        """Whether the client completes a TCP handshake with a listener on `address` in the node."""
        with inside(self.node), socket.socket() as listener:
            listener.bind((address, port))
            listener.listen()
            code = f"import socket; socket.create_connection(({address!r}, {port}), timeout=2).close()"
            done = subprocess.run(["ip", "netns", "exec", self.client, sys.executable, "-c", code], capture_output=True)
            return done.returncode == 0

    def client_neighbour(self, address: str) -> str | None:
        with IPRoute(netns=self.client) as ipr:
            for message in ipr.get_neighbours(family=2):
                if message.get("NDA_DST") == address:
                    return message.get("NDA_LLADDR")
        return None


@contextlib.contextmanager
def lab(lb_name: str = "lb-1", node_name: str = "node0", node_bridge: bool = False) -> Iterator[Lab]:
    tag = uuid.uuid4().hex[:6]
    the_lab = Lab(f"node-{tag}", f"client-{tag}", f"lan-{tag}", lb_name, node_name)
    node, client, lan = the_lab.node, the_lab.client, the_lab.lan
    for ns in (node, client, lan):
        pyroute2_netns.create(ns)
    try:
        sh(
            f"ip -n {lan} link add br0 type bridge",
            f"ip -n {lan} link set br0 up",
            f"ip -n {client} link add eth0 type veth peer name v-client netns {lan}",
            f"ip -n {node} link add {lb_name} type veth peer name v-lb netns {lan}",
        )
        if node_bridge:
            sh(
                f"ip -n {node} link add {node_name} type bridge",
                f"ip -n {node} link add nic0 type veth peer name v-node netns {lan}",
                f"ip -n {node} link set nic0 master {node_name}",
                f"ip -n {node} link set nic0 up",
            )
        else:
            sh(f"ip -n {node} link add {node_name} type veth peer name v-node netns {lan}")
        for port in ("v-client", "v-lb", "v-node"):
            sh(f"ip -n {lan} link set {port} master br0", f"ip -n {lan} link set {port} up")
        sh(
            f"ip -n {client} link set eth0 up",
            f"ip -n {client} link set lo up",
            f"ip -n {client} addr add {CLIENT_IP}/24 dev eth0",
            f"ip -n {client} addr add {GATEWAY}/24 dev eth0",
            f"ip -n {node} link set lo up",
            f"ip -n {node} link set {node_name} up",
            f"ip -n {node} addr add {NODE_IP} dev {node_name}",
            f"ip -n {node} route add default via {GATEWAY} dev {node_name}",
        )
        yield the_lab
    finally:
        for ns in (node, client, lan):
            pyroute2_netns.remove(ns)


class Node:
    """NCC's core (reconciler) over a kernel dataplane holding just the host part, run inside the lab's node."""

    def __init__(self, ns: str) -> None:
        self.ns = ns
        self.dataplane = KernelDataplane("host", [HostNetwork()])
        self.reconciler = Reconciler("host", "test", FakeClock())
        with inside(ns):
            self.reconciler.observe(self.dataplane.read())

    def apply(self, request: object) -> Outcome:
        with inside(self.ns):
            plan = self.reconciler.plan(request)  # type: ignore[arg-type]
            results = self.dataplane.apply(plan.steps)
        return self.reconciler.commit(plan, results)

    def audit(self) -> int:
        with inside(self.ns):
            self.reconciler.observe(self.dataplane.read())
            plan = self.reconciler.plan_audit()
            results = self.dataplane.apply(plan.steps)
        self.reconciler.commit_audit(plan, results)
        return sum(r.ok for r in results)

    def restarted(self) -> Node:
        """A new NCC core on the same kernel, given back the desired state it kept (the journal)."""
        other = Node(self.ns)
        kept = self.reconciler.desired.snapshot()
        other.reconciler.restore([Partition.of(name, specs) for name, specs in kept.items()])
        return other


def wait_for(condition: Callable[[], object], timeout: float = 2.0) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)
