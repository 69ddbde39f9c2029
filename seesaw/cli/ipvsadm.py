"""`show ipvs`: what NCC has programmed, laid out as `ipvsadm -Ln` prints it. Pure.

ipvsadm's layout (ipvsadm.c, print_service_entry): a service line is the
protocol (`TCP`, `UDP`, `FWM`), two spaces, `address:port` (IPv6 in
brackets) or the mark, a space and the scheduler, then ` persistent N` and
` ops` when set; a destination line is `  -> ` and the columns `%-28s %-7s
%-6d %-10u %-10u` (address, forwarding, weight, active and inactive
connections). Services come sorted by VIP (IPv4 first), protocol and port,
fwmark services last (the kernel lists them in hash order).
After the table, one line sums up NCC: the dataplane and its counters.
"""

from __future__ import annotations

import ipaddress

from seesaw.pb import common_pb2, engine_pb2, ncc_pb2

HEADER = (
    "IP Virtual Server version 1.2.1 (size=4096)\n"
    "Prot LocalAddress:Port Scheduler Flags\n"
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
)
FLAG_PERSISTENT = 0x1  # IP_VS_SVC_F_PERSISTENT
FLAG_ONEPACKET = 0x4  # IP_VS_SVC_F_ONEPACKET
FORWARDING = {
    common_pb2.FWD_MASQ: "Masq",
    common_pb2.FWD_LOCAL: "Local",
    common_pb2.FWD_TUNNEL: "Tunnel",
    common_pb2.FWD_ROUTE: "Route",
    common_pb2.FWD_BYPASS: "Bypass",
}
PROTOCOLS = {common_pb2.IPPROTO_TCP: "TCP", common_pb2.IPPROTO_UDP: "UDP"}


def endpoint(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _address_key(address: str) -> tuple[int, int]:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return (9, 0)
    return (ip.version, int(ip))


def _service_key(entry: ncc_pb2.ServiceStats) -> tuple[int, int, tuple[int, int], int, int]:
    """Fwmark services last; the others by VIP (IPv4 first), then protocol and port."""
    svc = entry.service
    return (1 if svc.fwmark else 0, svc.fwmark, _address_key(svc.address), svc.protocol, svc.port)


def service_line(svc: ncc_pb2.Service) -> str:
    if svc.fwmark:
        family = " IPv6" if svc.family == common_pb2.AF_INET6 else ""
        line = f"FWM  {svc.fwmark}{family} {svc.scheduler}"
    else:
        line = f"{PROTOCOLS.get(svc.protocol, str(svc.protocol))}  {endpoint(svc.address, svc.port)} {svc.scheduler}"
    if svc.flags & FLAG_PERSISTENT:
        line += f" persistent {svc.timeout}"
    if svc.flags & FLAG_ONEPACKET:
        line += " ops"
    return line + "\n"


def destination_line(entry: ncc_pb2.DestinationStats) -> str:
    dst = entry.destination
    forward = FORWARDING.get(dst.forwarding, str(dst.forwarding))
    return (
        f"  -> {endpoint(dst.address, dst.port):<28} {forward:<7} {dst.weight:<6} "
        f"{entry.stats.active_connections:<10} {entry.stats.inactive_connections:<10}\n"
    )


def table(state: ncc_pb2.DataplaneState) -> str:
    lines = [HEADER]
    for entry in sorted(state.services, key=_service_key):
        lines.append(service_line(entry.service))
        dests = sorted(entry.destinations, key=lambda d: (_address_key(d.destination.address), d.destination.port))
        lines.extend(destination_line(d) for d in dests)
    return "".join(lines)


def summary(view: engine_pb2.DataplaneView) -> str:
    status = view.status
    name = status.dataplane or view.state.dataplane or "unknown"
    return (
        f"Dataplane {name}: NCC generation {status.generation}, {status.writes_total} writes, "
        f"{status.drift_repairs_total} drift repairs, {status.apply_errors_total} apply errors\n"
    )


def dataplane(view: engine_pb2.DataplaneView) -> str:
    """The whole `show ipvs` text; raises nothing: an unreachable NCC is the caller's to report."""
    return table(view.state) + "\n" + summary(view)
