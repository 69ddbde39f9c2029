"""The anycast lab: a Seesaw node whose NCC drives FRR, a BIRD router that peers with it, a backend.

    lan   a bridge: the one L2 segment, 10.99.7.0/24
    lb    the Seesaw node: eth0 10.99.7.2 (node NIC), eth1 (LB NIC, cluster VIP 10.99.7.10);
          FRR's zebra and bgpd (AS 64512), run as the frr user from a private directory
    rtr   the router: eth0 10.99.7.1, BIRD 2 (AS 64513) exporting what it learns into its kernel table;
          without graceful restart, so a lost session drops its routes at once. Its client address
          10.99.9.1 (on lo, off the backends' subnet, so replies go back through the LB) sends the traffic
    be1   the backend: eth0 10.99.7.11, an HTTP server on port 80

The anycast vserver `web@lab` (192.168.255.1, TCP/80, a TCP check on be1)
is what the router must learn and lose. Every process is started in the
foreground and stopped by its PID; FRR never sees the system's /etc/frr or its
service.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from seesaw.lab import frr
from seesaw.lab.node import Node

ANYCAST_VIP = "192.168.255.1"
SERVICE_ANYCAST = "192.168.255.254"
LB_IP = "10.99.7.2"
RTR_IP = "10.99.7.1"
BE_IP = "10.99.7.11"
CLUSTER_VIP = "10.99.7.10"
CLIENT_IP = "10.99.9.1"
LOCAL_ASN = 64512
REMOTE_ASN = 64513
VSERVER = "web@lab"

SEESAW_CFG = f"""\
[cluster]
name = lab
anycast_enabled = true
node_ipv4 = {LB_IP}
peer_ipv4 = 10.99.7.3
vip_ipv4 = {CLUSTER_VIP}

[interface]
node = eth0
lb = eth1

[dataplane]
backend = nftables
"""

CLUSTER_PB = f"""\
seesaw_vip: < fqdn: "seesaw-vip.lab." ipv4: "{CLUSTER_VIP}/24" status: PRODUCTION >
node: < fqdn: "lb1.lab." ipv4: "{LB_IP}/24" status: PRODUCTION >
bgp_local_asn: {LOCAL_ASN}
bgp_remote_asn: {REMOTE_ASN}
bgp_peer: < fqdn: "rtr1.lab." ipv4: "{RTR_IP}/24" >
vserver: <
  name: "{VSERVER}"
  entry_address: < fqdn: "web.lab." ipv4: "{ANYCAST_VIP}/24" status: PRODUCTION >
  rp: "lab@example.com"
  vserver_entry: <
    protocol: TCP
    port: 80
    scheduler: RR
    mode: NAT
    healthcheck: < type: TCP interval: 1 timeout: 1 port: 80 retries: 0 >
  >
  backend: < host: < fqdn: "be1.lab." ipv4: "{BE_IP}/24" status: PRODUCTION > weight: 1 >
>
"""

WATCHDOG_CFG = """\
[default]
restart_delay = 200ms
max_backoff = 5s

[ncc]
binary = seesaw-ncc
args = --bgpd-vty {vty} --audit-interval 2

[engine]
binary = seesaw-engine
dependency = ncc

[ha]
binary = seesaw-ha
dependency = engine

[healthcheck]
binary = seesaw-healthcheck
dependency = engine

[ecu]
binary = seesaw-ecu
dependency = engine
"""

BIRD_CONF = f"""\
router id {RTR_IP};
protocol device {{ }}
protocol kernel {{ ipv4 {{ export all; import none; }}; }}
protocol bgp lb1 {{
  local {RTR_IP} as {REMOTE_ASN};
  neighbor {LB_IP} as {LOCAL_ASN};
  hold time 9;
  connect retry time 1;
  graceful restart off;
  ipv4 {{ import all; export none; }};
}}
"""


def sh(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, text=True)


def missing() -> str:
    """Why the lab cannot run here ("" if it can)."""
    if shutil.which("bird") is None or shutil.which("birdc") is None:
        return "needs BIRD 2 (apt-get install bird2; scripts/system-deps)"
    return frr.missing()


def wait_for(condition: Callable[[], object], timeout: float, what: str, logs: Callable[[], str] = str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}\n{logs()}")
        time.sleep(0.2)


@dataclass
class Lab:
    tag: str
    work: Path
    frr_dir: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    node: Node | None = None
    routing: frr.FRR | None = None  # zebra + bgpd in lb

    @property
    def lb(self) -> str:
        return f"lb-{self.tag}"

    @property
    def rtr(self) -> str:
        return f"rtr-{self.tag}"

    @property
    def be1(self) -> str:
        return f"be1-{self.tag}"

    @property
    def lan(self) -> str:
        return f"lan-{self.tag}"

    @property
    def bgpd_vty(self) -> Path:
        return self.frr_dir / "bgpd.vty"

    def stop_bgpd(self) -> None:
        assert self.routing is not None
        self.routing.stop_bgpd()

    def start_bgpd(self) -> None:
        assert self.routing is not None
        self.routing.start_bgpd()

    @property
    def bird_ctl(self) -> Path:
        return self.work / "bird.ctl"

    # -------------------------------------------------------------- processes

    def spawn(self, name: str, netns: str, *argv: str) -> None:
        with (self.work / f"{name}.out").open("ab") as out:
            self.processes[name] = subprocess.Popen(
                ["ip", "netns", "exec", netns, *argv], stdout=out, stderr=subprocess.STDOUT
            )

    def stop(self, name: str) -> None:
        frr.terminate(self.processes.pop(name, None))

    def start_frr(self) -> None:
        self.routing = frr.FRR(self.frr_dir, netns=self.lb)
        self.routing.start()

    def start_bird(self) -> None:
        conf = self.work / "bird.conf"
        conf.write_text(BIRD_CONF)
        pid = self.work / "bird.pid"
        self.spawn("bird", self.rtr, "bird", "-f", "-c", str(conf), "-s", str(self.bird_ctl), "-P", str(pid))
        wait_for(self.bird_ctl.exists, 20, "BIRD's control socket", self.logs)

    def start_backend(self) -> None:
        www = self.work / "www"
        www.mkdir(exist_ok=True)
        (www / "index.html").write_text("be1\n")
        self.spawn(
            "http", self.be1, "timeout", "600", sys.executable, "-m", "http.server", "80",
            "--bind", BE_IP, "--directory", str(www),
        )  # fmt: skip

    def start_node(self) -> Node:
        node = Node(self.work / "node", netns=self.lb)
        node.config_dir.mkdir(parents=True)
        (node.config_dir / "seesaw.cfg").write_text(SEESAW_CFG)
        (node.config_dir / "cluster.pb").write_text(CLUSTER_PB)
        (node.config_dir / "watchdog.cfg").write_text(WATCHDOG_CFG.format(vty=self.bgpd_vty))
        node.start()
        self.node = node
        return node

    # ---------------------------------------------------------------- queries

    def router_routes(self) -> str:
        """BIRD's RIB (`show route`)."""
        done = subprocess.run(["birdc", "-s", str(self.bird_ctl), "show", "route"], capture_output=True, text=True)
        return done.stdout

    def router_holds(self, address: str) -> tuple[bool, bool]:
        """Whether BIRD's RIB, and the router's kernel table, hold address/32 via the LB (learned over BGP)."""
        rib = f"{address}/32" in self.router_routes()
        done = subprocess.run(["ip", "-n", self.rtr, "route", "show", f"{address}/32"], capture_output=True, text=True)
        fib = f"via {LB_IP}" in done.stdout and "proto bird" in done.stdout
        return rib, fib

    def router_learned(self, address: str) -> bool:
        return all(self.router_holds(address))

    def router_lost(self, address: str) -> bool:
        return not any(self.router_holds(address))

    def fetch(self, address: str) -> str:
        """GET / from `address`:80 from the router's client address: the body, or the error."""
        code = (
            "import socket, sys\n"
            f"s = socket.create_connection(({address!r}, 80), timeout=3, source_address=({CLIENT_IP!r}, 0))\n"
            "s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n')\n"
            "data = b''\n"
            "while chunk := s.recv(4096):\n"
            "    data += chunk\n"
            "sys.stdout.write(data.decode().partition('\\r\\n\\r\\n')[2])\n"
        )
        done = subprocess.run(
            ["ip", "netns", "exec", self.rtr, sys.executable, "-c", code], capture_output=True, text=True, timeout=10
        )
        return done.stdout if done.returncode == 0 else f"error: {done.stderr.strip().splitlines()[-1:]}"

    def logs(self) -> str:
        parts = []
        for path in [*sorted(self.frr_dir.glob("*.log")), *sorted(self.work.glob("*.out"))]:
            with contextlib.suppress(OSError):
                parts.append(f"--- {path}\n{path.read_text(errors='replace')[-3000:]}")
        if self.node is not None:
            parts.append(self.node.logs(3000))
        return "\n".join(parts)


def _namespaces(lab: Lab) -> None:
    for ns in (lab.lan, lab.lb, lab.rtr, lab.be1):
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "-n", lab.lan, "link", "add", "br0", "type", "bridge")
    sh("ip", "-n", lab.lan, "link", "set", "br0", "up")
    ports = [
        (lab.lb, "eth0", "v-lb0"),
        (lab.lb, "eth1", "v-lb1"),
        (lab.rtr, "eth0", "v-rtr"),
        (lab.be1, "eth0", "v-be1"),
    ]
    for ns, name, port in ports:
        sh("ip", "-n", ns, "link", "add", name, "type", "veth", "peer", "name", port, "netns", lab.lan)
        sh("ip", "-n", lab.lan, "link", "set", port, "master", "br0", "up")
        sh("ip", "-n", ns, "link", "set", name, "up")
    sh("ip", "-n", lab.lb, "addr", "add", f"{LB_IP}/24", "dev", "eth0")
    sh("ip", "-n", lab.lb, "route", "add", "default", "via", RTR_IP)
    sh("ip", "-n", lab.rtr, "addr", "add", f"{RTR_IP}/24", "dev", "eth0")
    sh("ip", "-n", lab.rtr, "addr", "add", f"{CLIENT_IP}/32", "dev", "lo")
    sh("ip", "-n", lab.be1, "addr", "add", f"{BE_IP}/24", "dev", "eth0")
    sh("ip", "-n", lab.be1, "route", "add", "default", "via", LB_IP)


@contextlib.contextmanager
def lab(work: Path) -> Iterator[Lab]:
    """The namespaces and the FRR directory; the caller starts what it needs. Everything goes on exit."""
    the_lab = Lab(uuid.uuid4().hex[:6], work, frr.private_directory())
    try:
        _namespaces(the_lab)
        yield the_lab
    finally:
        if the_lab.node is not None:
            the_lab.node.stop()
        if the_lab.routing is not None:
            the_lab.routing.stop()
        for name in list(the_lab.processes):
            the_lab.stop(name)
        for ns in (the_lab.lan, the_lab.lb, the_lab.rtr, the_lab.be1):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        shutil.rmtree(the_lab.frr_dir, ignore_errors=True)
