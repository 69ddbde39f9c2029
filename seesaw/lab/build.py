"""A topology -> the commands that make its namespaces and links (pure), and running them.

The bridge `br0` lives in the lab's own `lan` namespace, so nothing touches
the host's interfaces. Each host gets `eth0`, a veth whose peer `v-<host>`
is a port of br0; an LB node also gets `eth1` (peer `w-<host>`), its LB
interface, left down: NCC brings it up on the master.
"""

from __future__ import annotations

from seesaw.lab import netns
from seesaw.lab.topology import Host, Topology

Command = tuple[str, ...]


def _host_commands(topo: Topology, host: Host) -> list[Command]:
    ns = topo.ns(host.name)
    ip = ("ip", "-n", ns)
    out: list[Command] = [("ip", "netns", "add", ns), (*ip, "link", "set", "lo", "up")]
    links = [("eth0", f"v-{host.name}", host.mac)]
    if host.lb_mac:
        links.append(("eth1", f"w-{host.name}", host.lb_mac))
    for name, peer, mac in links:
        out += [
            (*ip, "link", "add", name, "address", mac, "type", "veth", "peer", "name", peer, "netns", topo.lan),
            ("ip", "-n", topo.lan, "link", "set", peer, "master", "br0", "up"),
        ]
    for sysctl in host.sysctls:  # before the addresses: the ARP behaviour must hold from the first packet
        out.append(("ip", "netns", "exec", ns, "sysctl", "-qw", sysctl))
    out += [(*ip, "link", "set", "eth0", "up"), (*ip, "addr", "add", str(host.ip), "dev", "eth0")]
    out += [(*ip, "addr", "add", address, "dev", "lo") for address in host.loopback]
    out += [(*ip, *command) for command in host.setup]
    return out


def commands(topo: Topology) -> list[Command]:
    """Every command that builds `topo`, in order."""
    lan = ("ip", "-n", topo.lan)
    out: list[Command] = [
        ("ip", "netns", "add", topo.lan),
        (*lan, "link", "add", "br0", "type", "bridge"),
        (*lan, "link", "set", "br0", "up"),
    ]
    for host in topo.hosts:
        out += _host_commands(topo, host)
    return out


def build(topo: Topology) -> None:
    """Make the namespaces and links; LabError (and nothing left behind) if any step fails."""
    taken = [ns for ns in topo.namespaces if netns.exists(ns)]
    if taken:
        raise LabError(
            f"namespaces {', '.join(taken)} already exist: a lab is up (`seesaw lab down` removes it), "
            "or pick another --prefix"
        )
    try:
        for command in commands(topo):
            netns.run(command)
    except netns.LabError:
        destroy(topo)
        raise


def destroy(topo: Topology) -> list[str]:
    """Delete the lab's namespaces, by exact name; the ones that existed."""
    return [ns for ns in topo.namespaces if netns.delete(ns)]


LabError = netns.LabError
