"""Pure: VIP filters -> the elements of `table inet seesaw_filter`, and back.

Seesaw's iptables init flushed the host's whole filter, mangle, raw and nat
tables. We keep to one table of our own and never touch another:

    table inet seesaw_filter
      set vip4, vip6          the filtered VIPs; the comment keeps "fwmark=<m> nat=<0|1>"
      set port4, port6        vip . l4proto . port: the vserver's ports, accepted
      map mark4, mark6        vip . l4proto . port : mark, for fwmark vservers
      chain mangle            prerouting, priority mangle: `meta mark set ... map @mark4`
      chain mangle_out        output (type route), so the LB's own traffic to the VIP is marked too
      chain input             priority filter: the vserver's ports accept; ICMP and ICMPv6 accept
                              (ping, PMTU, neighbour discovery); anything else to the VIP: reject

Marks are set before NAT (mangle -150 runs before dstnat -100), so the services
part's `meta mark vmap @msvc` sees them.

Conntrack stays on for every VIP. Seesaw turned it off for everything
(NOTRACK in raw) and back on only for the cluster VIP and NAT vservers. Here NAT
needs it; DSR packets are forwarded in the netdev ingress hook, before conntrack
ever sees them, so they cost no entries; and NOTRACK on the rest would break a
host firewall that accepts replies by `ct state established`, which is the very
damage Seesaw's init did. The `nat` flag is therefore kept (and read back) but
changes no rule.

An `accept` here only ends our chain: another table's chain can still drop the
packet, and our `reject` only applies to packets for a VIP. Nothing else on the
host is filtered.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from seesaw.ncc.kernel.nft_render import Chain, Elements, ElemKey, TableDef
from seesaw.ncc.model import Family, IPAddress, Protocol, VIPFilter

TABLE = "inet seesaw_filter"
IP = {Family.INET: "ip", Family.INET6: "ip6"}
V = {Family.INET: "4", Family.INET6: "6"}
ICMP = {Family.INET: "icmp", Family.INET6: "ipv6-icmp"}


def tabledef() -> TableDef:
    sets: dict[str, str] = {}
    marks, accepts, icmps, rejects = [], [], [], []
    for family in Family:
        ip, v = IP[family], V[family]
        sets[f"vip{v}"] = f"set vip{v} {{ typeof {ip} daddr; }}"
        sets[f"port{v}"] = f"set port{v} {{ typeof {ip} daddr . meta l4proto . th dport; }}"
        sets[f"mark{v}"] = f"map mark{v} {{ typeof {ip} daddr . meta l4proto . th dport : meta mark; }}"
        marks.append(f"meta mark set {ip} daddr . meta l4proto . th dport map @mark{v}")
        accepts.append(f"{ip} daddr . meta l4proto . th dport @port{v} accept")
        icmps.append(f"{ip} daddr @vip{v} meta l4proto {ICMP[family]} accept")
        rejects.append(f"{ip} daddr @vip{v} reject")
    chains = (
        Chain(TABLE, "mangle", "type filter hook prerouting priority mangle; policy accept;", tuple(marks)),
        Chain(TABLE, "mangle_out", "type route hook output priority mangle; policy accept;", tuple(marks)),
        Chain(TABLE, "input", "type filter hook input priority filter; policy accept;", (*accepts, *icmps, *rejects)),
    )
    return TableDef(TABLE, sets, chains)


def comment(spec: VIPFilter) -> str:
    return f"fwmark={spec.fwmark} nat={int(spec.nat)}"


def render(spec: VIPFilter) -> Elements:
    family = Family.of(spec.address)
    v = V[family]
    out: Elements = {(TABLE, f"vip{v}", str(spec.address)): (None, comment(spec))}
    for protocol, port in spec.ports:
        key = f"{spec.address} . {int(protocol)} . {port}"
        out[(TABLE, f"port{v}", key)] = (None, None)
        if spec.fwmark:
            out[(TABLE, f"mark{v}", key)] = (str(spec.fwmark), None)
    return out


def owner(elem: ElemKey) -> IPAddress | None:
    """The VIP an element of our table belongs to."""
    try:
        return ipaddress.ip_address(elem[2].split(" . ")[0])
    except ValueError:
        return None


def read(elements: Elements) -> dict[IPAddress, VIPFilter]:
    """The filters our table's elements describe (as their registry says; see `render` to check them)."""
    ports: dict[IPAddress, set[tuple[Protocol, int]]] = {}
    for (_, name, key), _value in elements.items():
        if name.startswith("port"):
            address, protocol, port = key.split(" . ")
            try:
                ports.setdefault(ipaddress.ip_address(address), set()).add((Protocol(int(protocol)), int(port)))
            except ValueError:
                continue
    out = {}
    for (_, name, key), (_, note) in elements.items():
        if not name.startswith("vip"):
            continue
        fields = dict(item.partition("=")[::2] for item in (note or "").split())
        try:
            address = ipaddress.ip_address(key)
            spec = VIPFilter(address, frozenset(ports.get(address, ())), int(fields["fwmark"]), fields["nat"] == "1")
        except (KeyError, ValueError):
            continue
        out[address] = spec
    return out


def owned(elements: Iterable[ElemKey]) -> dict[IPAddress, set[ElemKey]]:
    by_vip: dict[IPAddress, set[ElemKey]] = {}
    for elem in elements:
        address = owner(elem)
        if address is not None:
            by_vip.setdefault(address, set()).add(elem)
    return by_vip
