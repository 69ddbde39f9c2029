"""Pure: the counters of our nftables tables -> each service's and destination's stats, as IPVS reports them.

Which elements are counted, and why, is in nft_render.py:

* a service's packets and bytes (IPVS's "in": client to service) are the counter of its
  `traffic` element (NAT), or of its `traffic4`/`traffic6` element in its DSR table;
* a connection is counted where its destination is chosen: the slot maps (`slots`,
  `mslots` for NAT, whose nat hooks see only a connection's first packet; `slots4` for
  IPv4 DSR, looked up once per new flow), so a destination's connections add up the
  counters of the slots holding it, and a service's add up all of its slots.

nftables keeps no rates: the cps/pps/bps fields stay 0, and so do the "out" fields (NAT
replies are not counted; DSR replies never pass the LB).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from seesaw.ncc.kernel import nft_render as r
from seesaw.ncc.kernel.nft_parse import Counter
from seesaw.ncc.model import DestinationKey, Forwarding, IPAddress, Kind, Ref, ServiceKey, Stats

_SLOT_MAPS = frozenset({"slots", "mslots", "slots4"})  # slots6 is looked up per packet: not connections
_TRAFFIC = frozenset({r.TRAFFIC, f"{r.TRAFFIC}4", f"{r.TRAFFIC}6"})  # NAT's; a DSR table's


def collect(
    services: Mapping[ServiceKey, r.ServiceState],
    elements: Mapping[ServiceKey, r.Elements],
    id_of: Callable[[str, IPAddress], int | None],
    counters: Mapping[r.ElemKey, Counter],
) -> dict[Ref, Stats]:
    """Stats of every service in `services` and of each of its destinations.

    `elements` are the elements our tables hold, by service; `id_of(device, address)` is a DSR
    backend's id on a device (None if it has none); `counters` are the counters read with them.
    """
    stats: dict[Ref, Stats] = {}
    for key, state in services.items():
        held = elements.get(key)
        if not held:
            continue
        targets = _targets(state, id_of)
        packets = octets = connections = 0
        chosen: dict[DestinationKey, int] = {}
        for elem, (value, _) in held.items():
            counter = counters.get(elem)
            if counter is None:
                continue
            name = elem[1]
            if name in _TRAFFIC:
                packets += counter[0]
                octets += counter[1]
            elif name in _SLOT_MAPS:
                connections += counter[0]
                dest = targets.get(value) if value is not None else None
                if dest is not None:
                    chosen[dest] = chosen.get(dest, 0) + counter[0]
        stats[(Kind.SERVICE, key)] = Stats(connections=connections, packets_in=packets, bytes_in=octets)
        for dest in state.dests:
            stats[(Kind.DESTINATION, dest)] = Stats(connections=chosen.get(dest, 0))
    return stats


def _targets(state: r.ServiceState, id_of: Callable[[str, IPAddress], int | None]) -> dict[str, DestinationKey]:
    """The value a slot of `state` holds for each of its destinations, as nft prints it."""
    key = state.spec.key
    targets: dict[str, DestinationKey] = {}
    for dest in state.dests:
        address = r.address_text(dest.address)
        if state.device is not None and state.forwarding is Forwarding.ROUTE:  # DSR: the backend's id on the device
            number = id_of(state.device, dest.address)
            if number is not None:
                targets[str(number)] = dest
        elif key.fwmark:
            targets[address] = dest
        else:
            targets[f"{address} . {dest.port}"] = dest
    return targets
