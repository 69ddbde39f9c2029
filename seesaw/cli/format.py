"""Text (and JSON) renderings of engine replies, byte for byte as Seesaw prints them.

Pure functions: engine messages (already selected by `seesaw.cli.select`) in,
text out; the current time is a parameter. The layout rules are those of
Seesaw's cli/show.go:

* a value line is a 2-space indent, the label padded to 20 characters, a space
  and the value (`label(l, 2, 22) + " " + value`);
* timestamps use Go's `Jan 2 15:04:05 MST` layout in the local time zone (Go's
  zero time, "Jan 1 00:00:00 UTC", when unset), durations Go's `2h13m5s`;
* lists number their rows with `[%3d]` or `[%4d]` as the original does.

Every function returns whole lines, each ending in a newline.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from google.protobuf.message import Message

from seesaw.cli.select import Backend, Check
from seesaw.pb import common_pb2, engine_pb2, ha_pb2, healthcheck_pb2

NOT_CONFIGURED = "<not configured>"
GO_ZERO_TIME = "Jan 1 00:00:00 UTC"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_PROTOCOLS = {1: "ICMP", 6: "TCP", 17: "UDP", 58: "ICMPv6"}
_FAMILIES = {common_pb2.AF_INET: "IPv4", common_pb2.AF_INET6: "IPv6"}


# -- Go's building blocks ---------------------------------------------------------------------------------------------


def label(text: str, indent: int, width: int) -> str:
    """Seesaw's label(): `indent` spaces, the text, padded with spaces to `width` characters."""
    return " " * indent + text + " " * max(0, width - indent - len(text))


def value_line(name: str, value: object) -> str:
    """Seesaw's printVal: `  <name padded to 20> <value>`."""
    return f"{label(name, 2, 22)} {go_value(value)}\n"


def go_value(value: object) -> str:
    """A value as Go's %v prints it (booleans as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def go_duration(seconds: int) -> str:
    """A whole number of seconds as Go's time.Duration prints it: 0s, 16s, 1m0s, 2h13m5s."""
    sign = "-" if seconds < 0 else ""
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{sign}{minutes}m{secs}s"
    return f"{sign}{secs}s"


def go_millis(millis: int) -> str:
    """Whole milliseconds as Go's time.Duration prints them: 350ms, 1.5s, 2m0.25s."""
    if abs(millis) < 1000:
        return f"{millis}ms"
    seconds, rest = divmod(abs(millis), 1000)
    fraction = f".{rest:03d}".rstrip("0").rstrip(".")
    whole = go_duration(seconds if millis > 0 else -seconds)
    return f"{whole[:-1]}{fraction}s"


def go_timestamp(unix_seconds: float) -> str:
    """Go's `Jan 2 15:04:05 MST` in the local time zone; Go's zero time if unset."""
    if not unix_seconds:
        return GO_ZERO_TIME
    tm = time.localtime(unix_seconds)
    return f"{_MONTHS[tm.tm_mon - 1]} {tm.tm_mday} {tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d} {tm.tm_zone}"


def status_summary(enabled: bool, healthy: bool, active: bool) -> str:
    """`disabled`, or `enabled, healthy|unhealthy, active|inactive`."""
    if not enabled:
        return "disabled"
    return f"enabled, {'healthy' if healthy else 'unhealthy'}, {'active' if active else 'inactive'}"


def printable(cidr: str) -> str:
    return cidr or NOT_CONFIGURED


def enum_name(value: int, enum: Any, prefix: str) -> str:
    """An enum value's name without its prefix (HA_LEADER -> LEADER); the number if unknown."""
    try:
        name: str = enum.Name(value)
    except ValueError:
        return str(value)
    return name.removeprefix(prefix)


def override_name(state: int) -> str:
    return enum_name(state, common_pb2.OverrideState, "OVERRIDE_").lower()


# -- show vservers ----------------------------------------------------------------------------------------------------


def vservers(selected: Sequence[engine_pb2.Vserver], filtered: bool) -> str:
    """The list (several), the detail view (exactly one) or the not-found line (none)."""
    if not selected:
        return "No matching vservers\n" if filtered else "No vservers found\n"
    if len(selected) == 1:
        return vserver_detail(selected[0])
    rows = [f"[{i:3d}] {v.name}{'' if v.enabled else ' (disabled)'}\n" for i, v in enumerate(selected, 1)]
    return "Vservers\n" + "".join(rows)


def _service_key(service: engine_pb2.Service) -> tuple[int, int, int]:
    return (service.family, service.protocol, service.port)


def service_header(service: engine_pb2.Service) -> str:
    family = _FAMILIES.get(service.family, f"AF({service.family})")
    protocol = _PROTOCOLS.get(service.protocol, f"IP({service.protocol})")
    config = [service.mode, f"{service.scheduler} scheduler"]
    if service.one_packet:
        config.append("one-packet mode")
    if service.persistence > 0:
        config.append(f"{service.persistence}s persistence")
    return f"{label(f'{family} {protocol}/{service.port}', 4, 18)} ({', '.join(config)})"


def vserver_detail(vserver: engine_pb2.Vserver) -> str:
    status = (
        f"{'enabled' if vserver.enabled else 'disabled'} (override state {override_name(vserver.override)}; "
        f"config state {'enabled' if vserver.config_enabled else 'disabled'})"
    )
    out = [
        "Vserver\n",
        value_line("Name:", vserver.name),
        value_line("Hostname:", vserver.hostname),
        value_line("Status:", status),
        value_line("IPv4 Address:", printable(vserver.ipv4)),
        value_line("IPv6 Address:", printable(vserver.ipv6)),
        "\n",
        "  Services:\n",
    ]
    for service in sorted(vserver.services, key=_service_key):
        watermarks = (
            f"Low {service.low_watermark:.2f}, High {service.high_watermark:.2f}, "
            f"Currently {service.current_watermark:.2f}"
        )
        out.append(f"\n{service_header(service)}\n")
        out.append(f"{label('State:', 8, 20)} {status_summary(service.enabled, service.healthy, service.active)}\n")
        out.append(f"{label('Watermarks:', 8, 20)} {watermarks}\n")
    if vserver.warnings:
        out.append("\n  Warnings:\n")
        out.extend(f"    - {warning}\n" for warning in vserver.warnings)
    return "".join(out)


# -- show backends / destinations -------------------------------------------------------------------------------------


def _vserver_enabled(by_name: Mapping[str, engine_pb2.Vserver], name: str) -> bool | None:
    vserver = by_name.get(name)
    return None if vserver is None else vserver.enabled


def destination_summary(dest: engine_pb2.Destination, by_name: Mapping[str, engine_pb2.Vserver]) -> str:
    """`<name> (<status>)`, the status being `vserver disabled` when its vserver is."""
    status = status_summary(dest.enabled, dest.healthy, dest.active)
    if _vserver_enabled(by_name, dest.vserver) is False:
        status = "vserver disabled"
    return f"{dest.name} ({status})"


def backend_summary(backend: Backend, by_name: Mapping[str, engine_pb2.Vserver]) -> str:
    """The hostname, with ` (disabled)` or ` (partially disabled)` as Seesaw decides them."""
    disabled_dests = sum(1 for d in backend.destinations if not d.enabled)
    known = {d.vserver for d in backend.destinations if d.vserver in by_name}
    disabled_vservers = {name for name in known if not by_name[name].enabled}
    status = ""
    if len(disabled_vservers) == len(known) or disabled_dests == len(backend.destinations):
        status = " (disabled)"
    elif disabled_vservers or disabled_dests:
        status = " (partially disabled)"
    return f"{backend.hostname}{status}"


def backends(selected: Sequence[Backend], by_name: Mapping[str, engine_pb2.Vserver], now: float) -> str:
    """The list, or for one backend its destinations and (new) the checks deciding them."""
    if len(selected) == 1:
        backend = selected[0]
        rows = [f"  [{i:3d}] {destination_summary(d, by_name)}\n" for i, d in enumerate(backend.destinations, 1)]
        checks_rows = [Check(d, c) for d in backend.destinations for c in d.checks]
        return (
            f"Backend\n  Hostname: {backend.hostname}\n  Destinations:\n"
            + "".join(rows)
            + check_block(checks_rows, now, with_destination=True)
        )
    rows = [f"[{i:4d}] {backend_summary(b, by_name)}\n" for i, b in enumerate(selected, 1)]
    return "Backends\n" + "".join(rows)


def destinations(
    selected: Sequence[engine_pb2.Destination], by_name: Mapping[str, engine_pb2.Vserver], now: float
) -> str:
    """The list, or for one destination its state and (new) its checks."""
    if len(selected) == 1:
        dest = selected[0]
        vserver = dest.vserver + (" (disabled)" if _vserver_enabled(by_name, dest.vserver) is False else "")
        return "".join(
            [
                "Destination\n",
                value_line("Name:", dest.name),
                value_line("Vserver:", vserver),
                value_line("Backend:", dest.backend),
                value_line("Enabled:", dest.enabled),
                value_line("Healthy:", dest.healthy),
                value_line("Active:", dest.active),
                "\n",
                check_block([Check(dest, c) for c in dest.checks], now, with_destination=False),
            ]
        )
    rows = [f"[{i:4d}] {destination_summary(d, by_name)}\n" for i, d in enumerate(selected, 1)]
    return "Destinations\n" + "".join(rows)


# -- show checks (new) ------------------------------------------------------------------------------------------------


def latency(microseconds: int) -> str:
    if microseconds < 1000:
        return f"{microseconds}us"
    if microseconds < 1_000_000:
        return f"{microseconds / 1000:.1f}ms"
    return f"{microseconds / 1_000_000:.2f}s"


def check_target(check: engine_pb2.CheckState) -> str:
    if not check.target:
        return "-"
    host = f"[{check.target}]" if ":" in check.target else check.target
    return f"{host}:{check.port}" if check.port else host


def _check_row(row: Check, now: float) -> list[str]:
    check = row.check
    kind = enum_name(check.type, healthcheck_pb2.CheckType, "CHECK_")
    mode = enum_name(check.mode, healthcheck_pb2.CheckMode, "MODE_")
    if mode != "PLAIN":
        kind = f"{kind}/{mode}"
    result = enum_name(check.state, common_pb2.HealthState, "HEALTH_").lower()
    if check.checked_unix_ms:
        age = f"{go_duration(int(now - check.checked_unix_ms / 1000))} ago"
        took = latency(check.latency_us)
    else:
        age, took = "never", "-"
    return [row.destination.name, check.name, kind, check_target(check), result, took, age, check.message]


CHECK_COLUMNS = ("DESTINATION", "CHECK", "TYPE", "TARGET", "RESULT", "LATENCY", "CHECKED", "MESSAGE")


def _table(table: Sequence[Sequence[str]], right: set[int], indent: str = "") -> str:
    """Columns padded to their widest cell (those in `right` aligned right), two spaces apart; the last one
    (free text) is not padded."""
    widths = [max(len(line[col]) for line in table) for col in range(len(table[0]))]
    lines = []
    for line in table:
        cells = [
            cell.rjust(widths[col]) if col in right else cell.ljust(widths[col]) for col, cell in enumerate(line[:-1])
        ]
        lines.append((indent + "  ".join(cells) + "  " + line[-1]).rstrip() + "\n")
    return "".join(lines)


def checks(rows: Sequence[Check], filtered: bool, now: float) -> str:
    """A table of every check: its destination, last result, latency, age and message."""
    if not rows:
        return "No matching checks\n" if filtered else "No checks found\n"
    table = [list(CHECK_COLUMNS)] + [_check_row(row, now) for row in rows]
    return "Checks\n" + _table(table, {CHECK_COLUMNS.index("LATENCY")})


def check_block(rows: Sequence[Check], now: float, with_destination: bool) -> str:
    """The `Checks:` block of a destination's or a backend's detail: `show checks`'s table, indented (without
    the destination column for a single destination), or `none`."""
    if not rows:
        return value_line("Checks:", "none")
    skip = 0 if with_destination else 1
    table = [list(CHECK_COLUMNS[skip:])] + [_check_row(row, now)[skip:] for row in rows]
    return "  Checks:\n" + _table(table, {CHECK_COLUMNS.index("LATENCY") - skip}, indent="    ")


# -- show nodes / ha / version ----------------------------------------------------------------------------------------


def nodes(selected: Sequence[engine_pb2.Node]) -> str:
    rows = [
        f"[{i}] {n.hostname} {'disabled' if n.state == common_pb2.HA_DISABLED else 'enabled'}\n"
        for i, n in enumerate(selected, 1)
    ]
    return "Nodes\n" + "".join(rows)


def node_detail(cluster: engine_pb2.ClusterStatus, node: engine_pb2.Node) -> str:
    return "".join(
        [
            "Node\n",
            value_line("Hostname:", node.hostname),
            value_line("Site:", cluster.site),
            value_line("IPv4 Address:", printable(node.ipv4)),
            value_line("IPv6 Address:", printable(node.ipv6)),
            value_line("HA Enabled:", node.state != common_pb2.HA_DISABLED),
            value_line("Anycast Enabled:", node.anycast_enabled),
            value_line("BGP Enabled:", node.bgp_enabled),
            value_line("Vservers Enabled:", node.vservers_enabled),
        ]
    )


def ha_state_name(state: int) -> str:
    return enum_name(state, common_pb2.HaState, "HA_")


def ha_status(status: ha_pb2.HAStatus, now: float) -> str:
    duration = "N/A"
    if status.since_unix_ms:
        since = status.since_unix_ms / 1000
        duration = f"{go_duration(int(now - since))} (since {go_timestamp(since)})"
    return "".join(
        [
            "HA Status\n",
            value_line("State:", ha_state_name(status.state)),
            value_line("Duration:", duration),
            value_line("Transitions:", status.transitions),
            value_line("Advertisements Sent:", status.adverts_sent),
            value_line("Advertisements Rcvd:", status.adverts_received),
            value_line("Last Update:", go_timestamp(status.last_update_unix_ms / 1000)),
            # New (not in Seesaw): how long the last takeover took, from the old master's last advert.
            value_line("Last Takeover:", go_millis(status.last_takeover_ms)) if status.last_takeover_ms else "",
        ]
    )


def version(reply: engine_pb2.Version, cli_version: str) -> str:
    return "".join(
        [
            "Version\n",
            value_line("Version:", reply.version or "unknown"),
            value_line("Engine Version:", reply.engine_version),
            value_line("Dataplane:", reply.dataplane or "unknown"),
            value_line("CLI Version:", cli_version),
        ]
    )


# -- show vlans / bgp neighbors / warnings ----------------------------------------------------------------------------


def vlans(selected: Sequence[engine_pb2.VLAN]) -> str:
    return "VLANs\n" + "".join(f"[{i:3d}] VLAN ID {v.id} - {v.hostname}\n" for i, v in enumerate(selected, 1))


def vlan_detail(vlan: engine_pb2.VLAN) -> str:
    return "".join(
        [
            "VLAN\n",
            value_line("ID:", vlan.id),
            value_line("Hostname:", vlan.hostname),
            value_line("IPv4 Address:", printable(vlan.ipv4)),
            value_line("IPv6 Address:", printable(vlan.ipv6)),
            value_line("IPv4 Backend Count:", vlan.backends_ipv4),
            value_line("IPv6 Backend Count:", vlan.backends_ipv6),
            value_line("IPv4 VIP Count:", vlan.vips_ipv4),
            value_line("IPv6 VIP Count:", vlan.vips_ipv6),
        ]
    )


def bgp_neighbors(neighbors: Sequence[engine_pb2.BGPNeighbor]) -> str:
    rows = [f"[{i:3d}] {n.address} ({n.state}, {go_duration(n.uptime_s)})\n" for i, n in enumerate(neighbors, 1)]
    return "BGP Neighbors\n" + "".join(rows)


def bgp_neighbor(neighbor: engine_pb2.BGPNeighbor) -> str:
    return "".join(
        [
            "BGP Neighbor\n",
            value_line("IP Address:", neighbor.address),
            value_line("Router ID:", neighbor.router_id),
            value_line("ASN:", neighbor.asn),
            value_line("Description:", neighbor.description),
            value_line("BGP State:", neighbor.state),
            value_line("Duration:", go_duration(neighbor.uptime_s)),
        ]
    )


def warnings(status: engine_pb2.ConfigStatus) -> str:
    if not status.warnings:
        return "No warnings.\n"
    rows = [f"[{i:3d}] {w}\n" for i, w in enumerate(status.warnings, 1)]
    return f"There are {len(status.warnings)} warnings:\n\n" + "".join(rows)


# -- config -----------------------------------------------------------------------------------------------------------


def config_status(status: engine_pb2.ConfigStatus) -> str:
    """Seesaw's layout, quirks included ("Last Update" has no colon; attributes are padded twice).

    A refused config (new: the original kept no record of one) is shown after
    the attributes, and only when there is one.
    """
    out = [
        "Config Status\n",
        value_line("Last Update", go_timestamp(status.last_update_unix)),
        "\n",
        "  Attributes:\n",
    ]
    out.extend(value_line(label(a.name, 4, 18), a.value) for a in status.attributes)
    if status.last_error:
        out.append("\n")
        out.append(value_line("Last Refused:", go_timestamp(status.last_error_unix_ms / 1000)))
        out.extend(f"    {line}\n" for line in status.last_error.splitlines())
    return "".join(out)


def config_source(reply: engine_pb2.ConfigSourceReply, requested: str) -> str:
    if not requested:
        return f"Config source is {reply.source}\n"
    return f"Config source is {reply.source or requested} (was {reply.previous})\n"


def config_diff(diff: engine_pb2.ConfigDiff) -> str:
    """`config diff`: what a reload would change (new: the original had no preview)."""
    out = [f"Config diff against {diff.origin or diff.source or 'the config source'}\n"]
    if not diff.changed:
        out.append("  No changes: a reload would change nothing.\n")
    elif diff.metadata_only:
        out.append("  Only the metadata changed.\n")
    if diff.running_last_updated or diff.candidate_last_updated:
        out.append(value_line("Running Updated:", go_timestamp(diff.running_last_updated)))
        out.append(value_line("Candidate Updated:", go_timestamp(diff.candidate_last_updated)))
    marks = {
        engine_pb2.VserverChange.ADDED: "+",
        engine_pb2.VserverChange.REMOVED: "-",
        engine_pb2.VserverChange.CHANGED: "~",
    }
    if diff.vservers:
        out.append("\n  Vservers:\n")
        for change in sorted(diff.vservers, key=lambda c: c.name):
            out.append(f"    {marks.get(change.kind, '?')} {change.name}\n")
            out.extend(f"        {detail}\n" for detail in change.details)
    if diff.cluster:
        out.append("\n  Cluster:\n")
        out.extend(f"    ~ {line}\n" for line in diff.cluster)
    if diff.refusals:
        out.append("\n  A reload would be refused ('config reload force' would take it):\n")
        out.extend(f"    - {line}\n" for line in diff.refusals)
    if diff.steps > 1:
        out.append(
            f"\n  It would take {diff.steps} steps of at most {diff.step_limit} vserver creations or deletions.\n"
        )
    return "".join(out)


def whoami(caller: Any) -> str:
    """`whoami`: the user the engine sees (an engine Caller or the ECU's WhoAmIReply), and its role."""
    out = [
        "Caller\n",
        value_line("User:", caller.user),
        value_line("Role:", caller.role or "none"),
        value_line("Groups:", ", ".join(caller.groups) or "-"),
        value_line("Granted Vservers:", ", ".join(caller.granted_vservers) or "-"),
    ]
    if caller.via:
        out.append(value_line("Via:", caller.via))
    return "".join(out)


def reply_message(message: str) -> str:
    """An engine's free-text reply (override, reload, failover), if it sent one."""
    return "".join(f"{line}\n" for line in message.splitlines())


# -- JSON -------------------------------------------------------------------------------------------------------------


def to_jsonable(value: Message | Mapping[str, Any] | Sequence[Any]) -> Any:
    """Messages become dicts (proto field names, defaults included); containers are walked."""
    if isinstance(value, Message):
        from google.protobuf import json_format

        return json_format.MessageToDict(
            value,
            always_print_fields_with_no_presence=True,
            preserving_proto_field_name=True,
            unquote_int64_if_possible=True,
        )
    if isinstance(value, Mapping):
        return {key: to_jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(item) for item in value]
    return value


def to_json(value: Message | Mapping[str, Any] | Sequence[Any]) -> str:
    """JSON with a stable key order (sorted), indented, one trailing newline."""
    import json  # only --json needs it: the CLI must start fast

    return json.dumps(to_jsonable(value), indent=2, sort_keys=True) + "\n"
