"""Read bgpd's neighbour reports into `model.Neighbor`s, sorted by address.

* `from_json`: FRR's `show bgp neighbors json` (the form NCC asks for first).
* `from_text`: the text of `show ip bgp neighbors`, as Quagga (which has no
  JSON) and FRR print it. Ported from Seesaw's quagga/bgp.go, whose test data
  it reads the same, except that the "Route Refresh" statistics row is read
  too (Seesaw's `\\w+` never matched its space).
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import replace
from typing import Any

from seesaw.ncc.bgp.model import IPAddress, MessageStats, Neighbor, SessionState


class NeighborReportError(ValueError):
    """bgpd's report could not be read."""


def _sorted(neighbors: list[Neighbor]) -> list[Neighbor]:
    return sorted(neighbors, key=lambda n: (n.address.version, n.address))


def _address(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


# -- JSON ----------------------------------------------------------------------------------------------------------

_JSON_STATS = {
    "opens": "opens",
    "notifications": "notifications",
    "updates": "updates",
    "keepalives": "keepalives",
    "route_refresh": "routeRefresh",
    "capability": "capability",
    "total": "total",
}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _json_stats(raw: Any) -> MessageStats:
    if not isinstance(raw, dict):
        return MessageStats()
    pairs = {name: (_int(raw.get(f"{key}Sent")), _int(raw.get(f"{key}Recv"))) for name, key in _JSON_STATS.items()}
    return MessageStats(**pairs)


def from_json(text: str) -> list[Neighbor]:
    """FRR's `show bgp neighbors json`: an object keyed by neighbour (address, or interface name)."""
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as err:
        raise NeighborReportError(f"not JSON: {err}") from err
    if not isinstance(data, dict):
        raise NeighborReportError("not a JSON object of neighbours")
    neighbors = []
    for name, raw in data.items():
        if not isinstance(raw, dict):
            continue
        address = _address(name) or _address(str(raw.get("hostForeign", "")))
        if address is None:
            continue  # an unnumbered neighbour that is not connected: there is no address to show
        state = SessionState.by_name(str(raw.get("bgpState", "")))
        uptime_ms = _int(raw.get("bgpTimerUpMsec")) if state is SessionState.ESTABLISHED else 0
        neighbors.append(
            Neighbor(
                address=address,
                asn=_int(raw.get("remoteAs")),
                local_asn=_int(raw.get("localAs")),
                router_id=str(raw.get("remoteRouterId", "")),
                description=str(raw.get("nbrDesc", "")),
                state=state,
                uptime_s=uptime_ms // 1000,
                peer_group=str(raw.get("peerGroup", "")),
                stats=_json_stats(raw.get("messageStats")),
            )
        )
    return _sorted(neighbors)


# -- text ----------------------------------------------------------------------------------------------------------

_NEIGHBOR = re.compile(r"^BGP neighbor is ([0-9A-Fa-f.:]+), remote AS (\d+), local AS (\d+),")
_DESCRIPTION = re.compile(r"^ Description: (.*)$")
_STATE = re.compile(r"^  BGP state = (\w+)(?:[^,]*)(?:, up for ([0-9ywdhm:]+))?")
_VERSION = re.compile(r"^  BGP version (\d), remote router ID ([0-9A-Fa-f.:]+)")
_PEER_GROUP = re.compile(r"^ Member of peer-group (\S+) for session parameters")
_STATS = re.compile(r"^    ([A-Za-z ]+?): +(\d+) +(\d+)$")
_TEXT_STATS = {
    "Opens": "opens",
    "Notifications": "notifications",
    "Updates": "updates",
    "Keepalives": "keepalives",
    "Route Refresh": "route_refresh",
    "Capability": "capability",
    "Total": "total",
}
_UPTIME_FORMS = (
    (re.compile(r"^(\d+):(\d+):(\d+)$"), (3600, 60, 1)),  # 07:05:56
    (re.compile(r"^(\d+)d(\d+)h(\d+)m$"), (86400, 3600, 60)),  # 2d23h12m
    (re.compile(r"^(\d+)w(\d+)d(\d+)h$"), (7 * 86400, 86400, 3600)),  # 03w5d13h
    (re.compile(r"^(\d+)y(\d+)w(\d+)d$"), (365 * 86400, 7 * 86400, 86400)),  # 1y02w3d (FRR, after a year)
)


def parse_uptime(text: str) -> int:
    """Seconds in one of bgpd's uptime forms; 0 for "never", "<error>", "" and anything else."""
    for pattern, units in _UPTIME_FORMS:
        match = pattern.match(text)
        if match:
            return sum(int(value) * unit for value, unit in zip(match.groups(), units, strict=True))
    return 0


def from_text(text: str) -> list[Neighbor]:
    """`show ip bgp neighbors` as text."""
    neighbors: list[Neighbor] = []
    current: Neighbor | None = None
    stats: dict[str, tuple[int, int]] | None = None

    def finish() -> None:
        if current is not None:
            neighbors.append(replace(current, stats=MessageStats(**stats)) if stats else current)

    for line in text.splitlines():
        match = _NEIGHBOR.match(line)
        if match:
            finish()
            address = _address(match.group(1))
            current = None if address is None else Neighbor(address, int(match.group(2)), int(match.group(3)))
            stats = None
            continue
        if current is None:
            continue
        if stats is not None and (match := _STATS.match(line)) and match.group(1) in _TEXT_STATS:
            stats[_TEXT_STATS[match.group(1)]] = (int(match.group(2)), int(match.group(3)))
            continue
        if (match := _DESCRIPTION.match(line)) is not None:
            current = replace(current, description=match.group(1))
        elif (match := _STATE.match(line)) is not None:
            state = SessionState.by_name(match.group(1))
            current = replace(current, state=state, uptime_s=parse_uptime(match.group(2) or ""))
        elif (match := _VERSION.match(line)) is not None:
            current = replace(current, router_id=match.group(2))
        elif (match := _PEER_GROUP.match(line)) is not None:
            current = replace(current, peer_group=match.group(1))
        elif line.strip() == "Message statistics:":
            stats = {}
    finish()
    return _sorted(neighbors)
