"""Semantic checks of a parsed cluster.pb, all at once.

Seesaw v2 refused only a few things at load time (duplicate nodes, access
groups, BGP peers, VLAN IDs and dedicated subnets) and found the rest at
runtime, often by crashing or by leaving backends unhealthy for ever. Here
every rule runs before the config is accepted. Each finding names the field
path (`vserver[1].vserver_entry[0].port`) so `seesaw.config.cluster` can
place it at its line and column.

Errors refuse the config. Warnings are for what Seesaw accepted and that
still works, but probably not as meant (a GROUP grant to a group that does
not exist, a vserver without healthchecks that can never come up); they are
shown by `seesaw config check` and logged by the engine.

The rules, by where they apply (E = error, W = warning):

* addresses: every `ipv4`/`ipv6`/`dedicated_vip_subnet` must parse as an
  address with a prefix length of the right family (E: Seesaw silently
  dropped such addresses).
* cluster: `seesaw_vip.status` is set (E: Seesaw crashed); node, BGP peer
  and access group names, VLAN IDs and dedicated subnets are unique (E);
  nodes have a hostname and an IPv4 address (E); VLAN IDs are 1..4094 (E);
  `vmac` is a MAC address (E).
* vserver: unique, non-empty name (E); has a VIP (E); its VIP is not the
  cluster VIP (E when unicast: `ip addr add` fails, Seesaw issue #46; W for
  anycast/dedicated VIPs, which live on the dummy interface), nor a node's
  address (E); no two vservers serve the same VIP, port and protocol (E); a
  unicast VIP lies in the cluster's or a VLAN's network (W: whether NCC finds
  a network depends on the node); has healthchecks when it has backends (W).
* entry: port 1..65535 and unique per protocol within the vserver (E);
  watermarks within 0..1 (E); persistence and thresholds not negative, lower
  threshold below the upper (E); `one_packet` on TCP (W); FWM vservers whose
  entries disagree on scheduler, mode or persistence (W: Seesaw picks one at
  random).
* backend: unique, non-empty hostname and at least one address (E); weight
  not negative (E); no address of the VIP's family (W: never used).
* healthcheck: interval and timeout at least 1 s, retries not negative (E:
  0 crashed Seesaw or failed every check); port 0..65535, and set for
  vserver-level checks other than ICMP (E); ICMP only in PLAIN mode (E);
  DNS needs `send` and a known query type in `method` (E); RADIUS `send` is
  `user:password:secret` (E); HTTP `code` is 0 or 100..599 (E); an HTTPS
  check next to an HTTP one on the same port (or TCP_TLS next to TCP) gets
  the same generated name, so Seesaw would drop one (E); proxy checks in
  PLAIN mode (W: Seesaw only supports them in DSR/TUN).
* access: duplicate grants (W); GROUP grants to undefined groups (W).
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import dns.rdatatype

from seesaw.config import model
from seesaw.config.addresses import parse_cidr, parse_subnet
from seesaw.config.convert import indexed_healthchecks, vip_type
from seesaw.config.errors import Severity, quote
from seesaw.pb import config_pb2

_PB = config_pb2
_HC = config_pb2.Healthcheck
_MAC = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")


@dataclass(frozen=True)
class Finding:
    """One problem, by field path. `first` names the earlier field a
    duplicate clashes with; the locator turns it into a line number."""

    field: str
    reason: str
    severity: Severity = Severity.ERROR
    first: str = ""


def validate_cluster(pb: config_pb2.Cluster) -> list[Finding]:
    """Every finding for one cluster message, errors and warnings."""
    return _ClusterRules(pb).run()


def validate_healthcheck(pb: config_pb2.Healthcheck, path: str = "", default_port: int | None = None) -> list[Finding]:
    """Findings for one bare `Healthcheck` message (such as healthcheck0.pb).
    `default_port` None means the check's context (entry or vserver) is unknown."""
    rules = _ClusterRules(config_pb2.Cluster())
    rules.healthcheck(pb, path, default_port)
    return rules.findings


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


@dataclass(frozen=True)
class _Addresses:
    ipv4: ipaddress.IPv4Interface | None
    ipv6: ipaddress.IPv6Interface | None

    def all(self) -> list[model.IPInterface]:
        return [a for a in (self.ipv4, self.ipv6) if a is not None]


class _ClusterRules:
    def __init__(self, pb: config_pb2.Cluster) -> None:
        self.pb = pb
        self.findings: list[Finding] = []
        self.vip_subnets: dict[str, model.IPNetwork] = {}
        self.cluster_vip = _Addresses(None, None)

    def error(self, field: str, reason: str, first: str = "") -> None:
        self.findings.append(Finding(field, reason, Severity.ERROR, first))

    def warn(self, field: str, reason: str, first: str = "") -> None:
        self.findings.append(Finding(field, reason, Severity.WARNING, first))

    def run(self) -> list[Finding]:
        pb = self.pb
        if pb.HasField("seesaw_vip"):
            self.cluster_vip = self.host(pb.seesaw_vip, "seesaw_vip")
            if not pb.seesaw_vip.HasField("status"):
                self.error(
                    "seesaw_vip.status",
                    "is not set (Seesaw v2 crashed on this): set `status: PRODUCTION` to run HA, "
                    "or `status: DISABLED` to run without it",
                )
        self.nodes()
        self.unique_hosts(pb.bgp_peer, "bgp_peer", "BGP peer")
        for i, peer in enumerate(pb.bgp_peer):
            self.host(peer, f"bgp_peer[{i}]")
        self.subnets()
        self.vlans()
        self.access_groups()
        if pb.HasField("vmac") and not _MAC.match(pb.vmac):
            self.error("vmac", f"{quote(pb.vmac)} is not a MAC address: write six hex pairs, e.g. 00:00:5E:00:01:01")
        self.vservers()
        return self.findings

    # Hosts and addresses.
    def host(self, host: config_pb2.Host, path: str) -> _Addresses:
        found: dict[str, model.IPInterface] = {}
        for name, version in (("ipv4", 4), ("ipv6", 6)):
            if not host.HasField(name):
                continue
            try:
                found[name] = parse_cidr(getattr(host, name), version)
            except ValueError as err:
                self.error(f"{path}.{name}", str(err))
        ipv4, ipv6 = found.get("ipv4"), found.get("ipv6")
        return _Addresses(
            ipv4 if isinstance(ipv4, ipaddress.IPv4Interface) else None,
            ipv6 if isinstance(ipv6, ipaddress.IPv6Interface) else None,
        )

    def unique_hosts(self, hosts: Sequence[config_pb2.Host], path: str, what: str, inner: str = "") -> None:
        """Hostnames are keys: `<path>[i]<inner>.fqdn` must be unique."""
        seen: dict[str, int] = {}
        for i, host in enumerate(hosts):
            if host.fqdn in seen:
                self.error(
                    f"{path}[{i}]{inner}.fqdn",
                    f"duplicate {what} {quote(host.fqdn)}: each {what} must be listed once; remove or rename one",
                    first=f"{path}[{seen[host.fqdn]}]{inner}.fqdn",
                )
            else:
                seen[host.fqdn] = i

    def nodes(self) -> None:
        self.unique_hosts(self.pb.node, "node", "node")
        for i, node in enumerate(self.pb.node):
            path = f"node[{i}]"
            addresses = self.host(node, path)
            if node.HasField("fqdn") and not node.fqdn:
                self.error(f"{path}.fqdn", "is empty: give the node its hostname")
            if not node.HasField("ipv4"):
                self.error(
                    path,
                    f"node {quote(node.fqdn)} has no ipv4: nodes are ordered by IPv4 address and elect a leader over "
                    'IPv4; add `ipv4: "a.b.c.d/len"`',
                )
            for vip in self.cluster_vip.all():
                for own in addresses.all():
                    if own.ip == vip.ip:
                        self.error(
                            f"{path}.ipv{own.version}",
                            f"{own.ip} is also the cluster VIP (seesaw_vip): give the node an address of its own",
                        )

    def subnets(self) -> None:
        first: dict[str, int] = {}
        for i, cidr in enumerate(self.pb.dedicated_vip_subnet):
            path = f"dedicated_vip_subnet[{i}]"
            try:
                net = parse_subnet(cidr)
            except ValueError as err:
                self.error(path, str(err))
                continue
            key = str(net)
            if key in first:
                self.error(
                    path,
                    f"duplicate dedicated VIP subnet {key}: list each subnet once",
                    first=f"dedicated_vip_subnet[{first[key]}]",
                )
                continue
            first[key] = i
            self.vip_subnets[key] = net

    def vlans(self) -> None:
        first: dict[int, int] = {}
        for i, vlan in enumerate(self.pb.vlan):
            path = f"vlan[{i}]"
            self.host(vlan.host, f"{path}.host")
            if not 1 <= vlan.vlan_id <= 4094:
                self.error(f"{path}.vlan_id", f"must be between 1 and 4094 (got {vlan.vlan_id})")
            if vlan.vlan_id in first:
                self.error(
                    f"{path}.vlan_id",
                    f"duplicate VLAN {vlan.vlan_id}: each VLAN ID may appear once",
                    first=f"vlan[{first[vlan.vlan_id]}].vlan_id",
                )
            else:
                first[vlan.vlan_id] = i

    def access_groups(self) -> None:
        first: dict[str, int] = {}
        for i, group in enumerate(self.pb.access_groups):
            if group.name in first:
                self.error(
                    f"access_groups[{i}].name",
                    f"duplicate access group {quote(group.name)}: merge the members into one group",
                    first=f"access_groups[{first[group.name]}].name",
                )
            else:
                first[group.name] = i

    # Vservers.
    def networks(self, version: int) -> list[model.IPNetwork]:
        nets = [a.network for a in self.cluster_vip.all() if a.version == version]
        for vlan in self.pb.vlan:
            text = vlan.host.ipv4 if version == 4 else vlan.host.ipv6
            try:
                nets.append(parse_cidr(text, version).network)
            except ValueError:
                continue  # reported by vlans()
        return nets

    def vservers(self) -> None:
        first_name: dict[str, int] = {}
        served: dict[tuple[model.IPAddress, int, int], str] = {}
        node_addresses: dict[model.IPAddress, str] = {}
        for node in self.pb.node:
            for text, version in ((node.ipv4, 4), (node.ipv6, 6)):
                try:
                    node_addresses[parse_cidr(text, version).ip] = node.fqdn
                except ValueError:
                    continue
        for i, vs in enumerate(self.pb.vserver):
            path = f"vserver[{i}]"
            if vs.HasField("name") and not vs.name:
                self.error(f"{path}.name", "is empty: every vserver needs a unique name")
            elif vs.name in first_name:
                self.error(
                    f"{path}.name",
                    f"duplicate vserver {quote(vs.name)}: vserver names must be unique; rename or remove one",
                    first=f"vserver[{first_name[vs.name]}].name",
                )
            else:
                first_name[vs.name] = i
            vips = self.vserver_vips(vs, path, node_addresses)
            self.entries(vs, path, vips, served)
            self.backends(vs, path, vips)
            for j, hc in enumerate(vs.healthcheck):
                self.healthcheck(hc, f"{path}.healthcheck[{j}]", 0)
            self.name_clashes(vs.healthcheck, f"{path}.healthcheck", 0)
            self.grants(vs, path)
            has_checks = bool(vs.healthcheck) or any(e.healthcheck for e in vs.vserver_entry)
            if vs.vserver_entry and vs.backend and not has_checks:
                self.warn(
                    path,
                    f"vserver {quote(vs.name)} has backends but no healthchecks: backends are only brought up by "
                    "passing checks, so it will never serve; add a `healthcheck`",
                )

    def vserver_vips(
        self, vs: config_pb2.Vserver, path: str, node_addresses: dict[model.IPAddress, str]
    ) -> list[model.IPAddress]:
        host_path = f"{path}.entry_address"
        addresses = self.host(vs.entry_address, host_path)
        if (
            vs.HasField("entry_address")
            and not vs.entry_address.HasField("ipv4")
            and not vs.entry_address.HasField("ipv6")
        ):
            self.error(host_path, 'has neither ipv4 nor ipv6: give the vserver its VIP, e.g. ipv4: "192.168.10.10/24"')
        for vip in addresses.all():
            field = f"{host_path}.ipv{vip.version}"
            kind = vip_type(vip.ip, self.vip_subnets)
            if any(vip.ip == own.ip for own in self.cluster_vip.all()):
                if kind is model.VIPType.UNICAST:
                    self.error(
                        field,
                        f"{vip.ip} is the cluster VIP (seesaw_vip): both would be added to the LB interface and the "
                        "second add fails; give the vserver an address of its own",
                    )
                else:
                    self.warn(
                        field,
                        f"{kind} VIP {vip.ip} is also the cluster VIP (seesaw_vip): traffic for it is ambiguous; "
                        "give the vserver an address of its own",
                    )
            if vip.ip in node_addresses:
                self.error(
                    field,
                    f"{vip.ip} is the address of node {quote(node_addresses[vip.ip])}: "
                    "give the vserver an address of its own",
                )
            if kind is model.VIPType.UNICAST and not any(vip.ip in net for net in self.networks(vip.version)):
                self.warn(
                    field,
                    f"unicast VIP {vip.ip} is outside the cluster network and every VLAN: the LB interface has no "
                    "network to add it to; use an address inside one, or list its subnet in dedicated_vip_subnet",
                )
        return [vip.ip for vip in addresses.all()]

    def entries(
        self,
        vs: config_pb2.Vserver,
        path: str,
        vips: list[model.IPAddress],
        served: dict[tuple[model.IPAddress, int, int], str],
    ) -> None:
        first: dict[tuple[int, int], int] = {}
        for k, entry in enumerate(vs.vserver_entry):
            entry_path = f"{path}.vserver_entry[{k}]"
            proto = _PB.Protocol.Name(entry.protocol)
            if not 1 <= entry.port <= 65535:
                self.error(f"{entry_path}.port", f"must be between 1 and 65535 (got {entry.port})")
            key = (entry.port, entry.protocol)
            if key in first:
                self.error(
                    f"{entry_path}.port",
                    f"duplicate entry {entry.port}/{proto} in vserver {quote(vs.name)}: "
                    "merge the two vserver_entry blocks",
                    first=f"{path}.vserver_entry[{first[key]}].port",
                )
            else:
                first[key] = k
                for ip in vips:
                    other = served.setdefault((ip, entry.port, entry.protocol), f"{entry_path}.port")
                    if other != f"{entry_path}.port":
                        self.error(
                            f"{entry_path}.port",
                            f"{ip} {entry.port}/{proto} is already served by another vserver: a VIP, port and "
                            "protocol can belong to one vserver only",
                            first=other,
                        )
            self.entry_numbers(entry, entry_path)
            if entry.one_packet and entry.protocol == _PB.TCP:
                self.warn(f"{entry_path}.one_packet", "only affects UDP; it does nothing for a TCP entry")
            # An entry whose port is wrong was reported above; its checks have no port to default to.
            check_default = entry.port if 1 <= entry.port <= 65535 else None
            for j, hc in enumerate(entry.healthcheck):
                self.healthcheck(hc, f"{entry_path}.healthcheck[{j}]", check_default)
            self.name_clashes(entry.healthcheck, f"{entry_path}.healthcheck", entry.port)
        if vs.use_fwm and len(vs.vserver_entry) > 1:
            shapes = {(e.scheduler, e.mode, e.persistence) for e in vs.vserver_entry}
            if len(shapes) > 1:
                self.warn(
                    f"{path}.use_fwm",
                    "the entries disagree on scheduler, mode or persistence, but a firewall-mark service has only "
                    "one of each; make them agree",
                )

    def entry_numbers(self, entry: config_pb2.VserverEntry, path: str) -> None:
        for name in ("server_low_watermark", "server_high_watermark"):
            value = getattr(entry, name)
            if math.isnan(value) or not 0.0 <= value <= 1.0:
                self.error(f"{path}.{name}", f"must be a fraction between 0 and 1 of the backends (got {value:g})")
        for name in ("persistence", "lthreshold", "uthreshold"):
            value = getattr(entry, name)
            if value < 0:
                self.error(f"{path}.{name}", f"must not be negative (got {value})")
        if entry.uthreshold > 0 and entry.lthreshold > entry.uthreshold:
            self.error(
                f"{path}.lthreshold",
                f"({entry.lthreshold}) must not exceed uthreshold ({entry.uthreshold}): IPVS resumes a "
                "destination below lthreshold after stopping it at uthreshold",
            )

    def backends(self, vs: config_pb2.Vserver, path: str, vips: list[model.IPAddress]) -> None:
        self.unique_hosts([b.host for b in vs.backend], f"{path}.backend", "backend", inner=".host")
        vip_versions = {ip.version for ip in vips}
        for b, backend in enumerate(vs.backend):
            backend_path = f"{path}.backend[{b}]"
            addresses = self.host(backend.host, f"{backend_path}.host")
            if backend.host.HasField("fqdn") and not backend.host.fqdn:
                self.error(f"{backend_path}.host.fqdn", "is empty: backends are keyed by hostname")
            if backend.HasField("host") and not backend.host.HasField("ipv4") and not backend.host.HasField("ipv6"):
                self.error(f"{backend_path}.host", "has neither ipv4 nor ipv6: give the backend its address")
            elif addresses.all() and vip_versions and not vip_versions & {a.version for a in addresses.all()}:
                families = " and ".join(f"IPv{v}" for v in sorted(vip_versions))
                self.warn(
                    f"{backend_path}.host",
                    f"backend {quote(backend.host.fqdn)} has no {families} address, the family of the vserver's VIP: "
                    "it will never receive traffic",
                )
            if backend.weight < 0:
                self.error(f"{backend_path}.weight", f"must not be negative (got {backend.weight})")

    def grants(self, vs: config_pb2.Vserver, path: str) -> None:
        groups = {g.name for g in self.pb.access_groups}
        first: dict[tuple[int, str], int] = {}
        for g, grant in enumerate(vs.access_grant):
            grant_path = f"{path}.access_grant[{g}]"
            key = (grant.type, grant.grantee)
            if key in first:
                self.warn(
                    grant_path,
                    f"duplicate grant to {_PB.AccessGrant.Type.Name(grant.type).lower()} {quote(grant.grantee)}: "
                    "only the first one counts",
                    first=f"{path}.access_grant[{first[key]}]",
                )
            else:
                first[key] = g
            if grant.type == _PB.AccessGrant.GROUP and grant.grantee not in groups:
                self.warn(
                    f"{grant_path}.grantee",
                    f"access group {quote(grant.grantee)} is not defined: the grant gives access to nobody; "
                    f"add `access_groups {{ name: {quote(grant.grantee)} member: ... }}`",
                )

    # Healthchecks.
    def healthcheck(self, hc: config_pb2.Healthcheck, path: str, default_port: int | None) -> None:
        type_name = _HC.Type.Name(hc.type)
        if hc.interval <= 0:
            self.error(_join(path, "interval"), f"must be at least 1 second (got {hc.interval}); the default is 10")
        if hc.timeout <= 0:
            self.error(_join(path, "timeout"), f"must be at least 1 second (got {hc.timeout}); the default is 5")
        if hc.retries < 0:
            self.error(_join(path, "retries"), f"must not be negative (got {hc.retries})")
        if not 0 <= hc.port <= 65535:
            self.error(_join(path, "port"), f"must be between 1 and 65535 (got {hc.port})")
        elif hc.port == 0 and default_port == 0 and hc.type != _HC.ICMP_PING:
            self.error(
                _join(path, "port"),
                f"is not set: a vserver-level {type_name} check has no entry port to default to; set `port`",
            )
        if hc.type == _HC.ICMP_PING and hc.mode in (_HC.DSR, _HC.TUN):
            self.error(
                _join(path, "mode"),
                f"ICMP_PING checks cannot run in {_HC.Mode.Name(hc.mode)} mode: remove `mode` (PLAIN) or use a "
                "TCP or HTTP check",
            )
        if hc.type == _HC.DNS:
            self.dns(hc, path)
        if hc.type == _HC.RADIUS and len(hc.send.split(":")) != 3:
            self.error(
                _join(path, "send"),
                'a RADIUS check sends "user:password:secret" (three fields, two colons); '
                f"got {len(hc.send.split(':'))} field(s)",
            )
        if hc.type in (_HC.HTTP, _HC.HTTPS):
            if hc.code != 0 and not 100 <= hc.code <= 599:
                self.error(_join(path, "code"), f"must be an HTTP status (100..599) or 0 for any (got {hc.code})")
            if hc.proxy and hc.mode == _HC.PLAIN:
                self.warn(
                    _join(path, "proxy"),
                    "proxy checks only work in DSR or TUN mode (the request must reach the backend via the VIP); "
                    "set `mode: DSR`",
                )

    def dns(self, hc: config_pb2.Healthcheck, path: str) -> None:
        if not hc.method:
            self.error(
                _join(path, "method"),
                'is not set: a DNS check needs the query type, e.g. method: "A" (Seesaw silently never ran it)',
            )
        else:
            try:
                rdtype = dns.rdatatype.from_text(hc.method)
            except dns.rdatatype.UnknownRdatatype:
                self.error(
                    _join(path, "method"),
                    f"{quote(hc.method)} is not a DNS query type: use one such as A, AAAA, CNAME, MX, NS, SOA, TXT",
                )
            else:
                if dns.rdatatype.is_metatype(rdtype) and rdtype != dns.rdatatype.ANY:
                    self.error(_join(path, "method"), f"{quote(hc.method)} cannot be asked as a DNS question")
        if not hc.send:
            self.error(_join(path, "send"), 'is not set: a DNS check needs the name to query, e.g. "www.example.com"')

    def name_clashes(self, checks: Iterable[config_pb2.Healthcheck], path: str, default_port: int) -> None:
        """Seesaw names HTTPS checks HTTP and TCP_TLS checks TCP; a name given
        twice makes Seesaw keep only the first check of that name."""
        first: dict[str, int] = {}
        for index, hc in indexed_healthchecks(checks, default_port):
            if hc.name not in first:
                first[hc.name] = index
                continue
            self.error(
                f"{path}[{index}].type",
                f"this {hc.type.name} check would be named {hc.name} like another check (Seesaw names "
                f"{hc.type.name} checks {hc.type.display_name}), so Seesaw would drop one of them; use one check, "
                "or different ports",
                first=f"{path}[{first[hc.name]}].type",
            )
