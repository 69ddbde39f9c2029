"""cluster.pb message -> `seesaw.config.model`, exactly as Seesaw v2 maps it.

This is a port of `protoToCluster` (engine/config/config.go) and its helpers,
kept a pure, total function: it never raises on a message that protobuf
accepted. Where Seesaw silently tolerated something (a CIDR that does not
parse, a duplicate vserver name) this does what Seesaw did (no address; the
first one wins); refusing such configs is `seesaw.config.validate`'s job,
which runs before this in `seesaw.config.cluster`.

The mapping, in Seesaw's own order:

* nodes: HA is enabled for the cluster iff `seesaw_vip.status` is
  PRODUCTION, TESTING or BUILDING; a node starts UNKNOWN, or DISABLED when HA
  is off or its status differs from the VIP's; BUILDING enables BGP only,
  TESTING/PRODUCTION enable anycast, BGP and vservers. Priorities: nodes
  sorted by IPv4, the lowest gets 255 and the others `count - index`.
* vservers: enabled iff the entry address is PRODUCTION or TESTING; one VIP
  per address family, Anycast (hard-coded ranges), Dedicated (inside a
  `dedicated_vip_subnet`) or Unicast, keyed `"<ip> (<Type>)"`; backends
  enabled iff PRODUCTION/TESTING and in service unless PROPOSED/BUILDING;
  a high watermark below the low one is raised to it.
* healthchecks: proto defaults (10 s, 5 s, tls_verify, PLAIN), entry-level
  checks default to the entry's port, and each gets the name
  `<TYPE>/<port>_<n>` after Seesaw's sort (HTTPS shows as HTTP, TCP_TLS as
  TCP).
* VLANs count the distinct backend and VIP addresses of all vservers that
  fall inside them, per address family.

An unset enum field reads as its first value, as Go's `GetStatus()` does: a
host without `status` counts as PRODUCTION.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import struct
from collections.abc import Iterable, Mapping

from seesaw.config import model
from seesaw.config.addresses import parse_cidr_or_none, parse_subnet_or_none
from seesaw.pb import config_pb2

_PB = config_pb2
_HA_STATUSES = (_PB.Host.PRODUCTION, _PB.Host.TESTING, _PB.Host.BUILDING)
_ENABLED_STATUSES = (_PB.Host.PRODUCTION, _PB.Host.TESTING)
_OUT_OF_SERVICE_STATUSES = (_PB.Host.PROPOSED, _PB.Host.BUILDING)

# Seesaw sorts healthchecks by its own HealthcheckType, whose order is
# alphabetical by name (common/seesaw/seesaw.go); GRPC, our extension, takes
# its alphabetical place.
_TYPE_SORT_ORDER: dict[model.HealthcheckType, int] = {
    t: i for i, t in enumerate(sorted(model.HealthcheckType, key=lambda t: t.name))
}


def float32(value: float) -> float:
    """The shortest decimal that reads back as the same 32-bit float.

    Watermarks are proto `float`; Python widens them to double (0.8 becomes
    0.800000011920929), which would make `4/5 >= high_watermark` false where
    Seesaw's float32 arithmetic finds it true. The operator wrote 0.8: use it.
    """
    try:
        packed = struct.pack("<f", value)
    except (OverflowError, struct.error):
        return value
    for digits in range(1, 10):
        candidate = float(f"{value:.{digits}g}")
        try:
            if struct.pack("<f", candidate) == packed:
                return candidate
        except (OverflowError, struct.error):
            break
    return value


def host_from_proto(pb: config_pb2.Host) -> model.Host:
    ipv4 = parse_cidr_or_none(pb.ipv4, 4) if pb.HasField("ipv4") else None
    ipv6 = parse_cidr_or_none(pb.ipv6, 6) if pb.HasField("ipv6") else None
    status = model.HostStatus(pb.status) if pb.HasField("status") else model.HostStatus.UNSET
    return model.Host(
        hostname=pb.fqdn,
        ipv4=ipv4 if isinstance(ipv4, ipaddress.IPv4Interface) else None,
        ipv6=ipv6 if isinstance(ipv6, ipaddress.IPv6Interface) else None,
        status=status,
    )


def healthcheck_from_proto(pb: config_pb2.Healthcheck, default_port: int = 0, name: str = "") -> model.Healthcheck:
    """One check, unnamed unless `name` is given (Seesaw's `protoToHealthcheck`)."""
    return model.Healthcheck(
        name=name,
        type=model.HealthcheckType(pb.type),
        mode=model.HealthcheckMode(pb.mode),
        port=(pb.port & 0xFFFF) or default_port,  # Seesaw: uint16(port), 0 means the default
        interval=float(pb.interval),
        timeout=float(pb.timeout),
        retries=pb.retries,
        send=pb.send,
        receive=pb.receive,
        code=pb.code,
        method=pb.method,
        proxy=pb.proxy,
        tls_verify=pb.tls_verify,
        host_header=pb.host_header,
    )


def _check_sort_key(hc: model.Healthcheck) -> tuple[int, int, str, str, str, int, bool, bool, float, float]:
    return (
        _TYPE_SORT_ORDER[hc.type],
        hc.port,
        hc.send,
        hc.receive,
        hc.method,
        hc.code,
        hc.proxy,
        hc.tls_verify,
        hc.interval,
        hc.timeout,
    )


def named_healthchecks(pbs: Iterable[config_pb2.Healthcheck], default_port: int) -> list[model.Healthcheck]:
    """Seesaw's `protosToHealthchecks`: sorted, then named `<TYPE>/<port>_<n>`,
    where n counts checks of the same type and port. Names may repeat (an HTTP
    and an HTTPS check on one port are both `HTTP/<port>_0`); the caller keeps
    the first, as Seesaw did."""
    return [hc for _, hc in indexed_healthchecks(pbs, default_port)]


def indexed_healthchecks(
    pbs: Iterable[config_pb2.Healthcheck], default_port: int
) -> list[tuple[int, model.Healthcheck]]:
    """`named_healthchecks`, each with its index in `pbs`."""
    checks = sorted(
        ((i, healthcheck_from_proto(pb, default_port)) for i, pb in enumerate(pbs)),
        key=lambda item: _check_sort_key(item[1]),
    )
    named: list[tuple[int, model.Healthcheck]] = []
    last: tuple[model.HealthcheckType, int] | None = None
    counter = 0
    for index, hc in checks:
        if last == (hc.type, hc.port):
            counter += 1
        else:
            counter = 0
            last = (hc.type, hc.port)
        named.append((index, dataclasses.replace(hc, name=f"{hc.type.display_name}/{hc.port}_{counter}")))
    return named


def _first_by_key(items: Iterable[tuple[str, model.Healthcheck]]) -> dict[str, model.Healthcheck]:
    out: dict[str, model.Healthcheck] = {}
    for key, item in items:
        out.setdefault(key, item)
    return out


def healthchecks_by_name(pbs: Iterable[config_pb2.Healthcheck], default_port: int) -> dict[str, model.Healthcheck]:
    return _first_by_key((hc.name, hc) for hc in named_healthchecks(pbs, default_port))


def vip_type(ip: model.IPAddress, vip_subnets: Mapping[str, model.IPNetwork]) -> model.VIPType:
    """Seesaw's `NewVIP`: anycast ranges first, then dedicated subnets."""
    if any(ip in net for net in model.ANYCAST_RANGES):
        return model.VIPType.ANYCAST
    if any(ip in net for net in vip_subnets.values()):
        return model.VIPType.DEDICATED
    return model.VIPType.UNICAST


def _nodes(pb: config_pb2.Cluster) -> dict[str, model.Node]:
    vip_status = pb.seesaw_vip.status
    ha_enabled = vip_status in _HA_STATUSES
    unprioritised: list[tuple[model.Host, model.HAState, int]] = []
    seen: set[str] = set()
    for node_pb in pb.node:
        if node_pb.fqdn in seen:
            continue
        seen.add(node_pb.fqdn)
        state = model.HAState.UNKNOWN
        if not ha_enabled or node_pb.status != vip_status:
            state = model.HAState.DISABLED
        unprioritised.append((host_from_proto(node_pb), state, node_pb.status))

    def ipv4_bytes(entry: tuple[model.Host, model.HAState, int]) -> bytes:
        ipv4 = entry[0].ipv4
        return ipv4.ip.packed if ipv4 is not None else b""

    ordered = sorted(unprioritised, key=ipv4_bytes)
    by_name: dict[str, model.Node] = {}
    for index, (host, state, status) in enumerate(ordered):
        serving = status in _ENABLED_STATUSES
        by_name[host.hostname] = model.Node(
            host=host,
            priority=255 if index == 0 else (len(ordered) - index) & 0xFF,
            state=state,
            anycast_enabled=serving,
            bgp_enabled=serving or status == _PB.Host.BUILDING,
            vservers_enabled=serving,
        )
    return {node_pb.fqdn: by_name[node_pb.fqdn] for node_pb in pb.node if node_pb.fqdn in by_name}


def _vip_subnets(pb: config_pb2.Cluster) -> dict[str, model.IPNetwork]:
    subnets: dict[str, model.IPNetwork] = {}
    for cidr in pb.dedicated_vip_subnet:
        net = parse_subnet_or_none(cidr)
        if net is not None:
            subnets.setdefault(str(net), net)
    return subnets


def _vlans(pb: config_pb2.Cluster) -> dict[int, model.VLAN]:
    vips: set[model.IPAddress] = set()
    backends: set[model.IPAddress] = set()
    for vs in pb.vserver:
        vips.update(a.ip for a in host_from_proto(vs.entry_address).addresses())
        for backend in vs.backend:
            backends.update(a.ip for a in host_from_proto(backend.host).addresses())
    vlans: dict[int, model.VLAN] = {}
    for vlan_pb in pb.vlan:
        if vlan_pb.vlan_id in vlans:
            continue
        host = host_from_proto(vlan_pb.host)
        vlans[vlan_pb.vlan_id] = model.VLAN(
            vlan_id=vlan_pb.vlan_id,
            host=host,
            backend_count=_count_by_version(host, backends),
            vip_count=_count_by_version(host, vips),
        )
    return vlans


def _count_by_version(host: model.Host, ips: set[model.IPAddress]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for iface in host.addresses():
        inside = sum(1 for ip in ips if ip in iface.network)
        if inside:
            counts[iface.version] = inside
    return counts


def _entry(entry_pb: config_pb2.VserverEntry) -> model.VserverEntry:
    port = entry_pb.port & 0xFFFF  # Seesaw: uint16(port)
    low = float32(entry_pb.server_low_watermark)
    high = float32(entry_pb.server_high_watermark)
    return model.VserverEntry(
        port=port,
        protocol=model.Protocol[_PB.Protocol.Name(entry_pb.protocol)],
        scheduler=model.Scheduler[_PB.VserverEntry.Scheduler.Name(entry_pb.scheduler)],
        mode=model.LBMode[_PB.VserverEntry.Mode.Name(entry_pb.mode)],
        persistence=entry_pb.persistence,
        one_packet=entry_pb.one_packet,
        high_watermark=max(high, low),
        low_watermark=low,
        lthreshold=entry_pb.lthreshold,
        uthreshold=entry_pb.uthreshold,
        quiescent=entry_pb.quiescent,
        healthchecks=healthchecks_by_name(entry_pb.healthcheck, port),
    )


def _backend(backend_pb: config_pb2.Backend) -> model.Backend:
    status = backend_pb.host.status
    return model.Backend(
        host=host_from_proto(backend_pb.host),
        weight=backend_pb.weight,
        enabled=status in _ENABLED_STATUSES,
        in_service=status not in _OUT_OF_SERVICE_STATUSES,
    )


def _access_grant(grant_pb: config_pb2.AccessGrant) -> model.AccessGrant:
    return model.AccessGrant(
        grantee=grant_pb.grantee,
        role=model.AccessRole(grant_pb.role),
        type=model.AccessType(grant_pb.type),
    )


def _vserver(vs: config_pb2.Vserver, vip_subnets: Mapping[str, model.IPNetwork]) -> model.Vserver:
    host = host_from_proto(vs.entry_address)
    vips: dict[str, model.VIP] = {}
    for iface in host.addresses():
        vip = model.VIP(ip=iface.ip, type=vip_type(iface.ip, vip_subnets))
        vips.setdefault(str(vip), vip)
    entries: dict[str, model.VserverEntry] = {}
    for entry_pb in vs.vserver_entry:
        entry = _entry(entry_pb)
        entries.setdefault(entry.key, entry)
    backends: dict[str, model.Backend] = {}
    for backend_pb in vs.backend:
        backend = _backend(backend_pb)
        backends.setdefault(backend.hostname, backend)
    grants: dict[str, model.AccessGrant] = {}
    for grant_pb in vs.access_grant:
        grant = _access_grant(grant_pb)
        grants.setdefault(grant.key, grant)
    return model.Vserver(
        name=vs.name,
        host=host,
        rp=vs.rp,
        enabled=vs.entry_address.status in _ENABLED_STATUSES,
        use_fwm=vs.use_fwm,
        entries=entries,
        backends=backends,
        healthchecks=healthchecks_by_name(vs.healthcheck, 0),
        vips=vips,
        access_grants=grants,
        warnings=tuple(sorted(vs.warning)),
    )


def cluster_from_proto(pb: config_pb2.Cluster, site: str) -> model.Cluster:
    """The whole cluster, resolved (Seesaw's `protoToCluster`)."""
    bgp_peers: dict[str, model.Host] = {}
    for peer_pb in pb.bgp_peer:
        bgp_peers.setdefault(peer_pb.fqdn, host_from_proto(peer_pb))
    access_groups: dict[str, tuple[str, ...]] = {}
    for group_pb in pb.access_groups:
        access_groups.setdefault(group_pb.name, tuple(group_pb.member))
    metadata = model.Metadata()
    if pb.HasField("metadata"):
        metadata = model.Metadata(
            last_updated=pb.metadata.last_updated,
            attributes=tuple((a.name, a.value) for a in pb.metadata.attribute),
        )
    vip_subnets = _vip_subnets(pb)
    vservers: dict[str, model.Vserver] = {}
    for vs in pb.vserver:
        if vs.name not in vservers:
            vservers[vs.name] = _vserver(vs, vip_subnets)
    return model.Cluster(
        site=site,
        vip=host_from_proto(pb.seesaw_vip),
        nodes=_nodes(pb),
        vservers=vservers,
        vlans=_vlans(pb),
        vip_subnets=vip_subnets,
        bgp_local_asn=pb.bgp_local_asn,
        bgp_remote_asn=pb.bgp_remote_asn,
        bgp_peers=bgp_peers,
        access_groups=access_groups,
        metadata=metadata,
        warnings=tuple(sorted(f"{m.name}: {m.error_message}" for m in pb.misconfigured_vserver)),
        vmac=pb.vmac,
    )
